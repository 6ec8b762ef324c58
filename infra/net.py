"""Small network checks shared by the local services."""

from __future__ import annotations

import socket


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for a test's own short-lived server)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_closed(host: str, port: int, timeout: float = 5.0) -> bool:
    """Wait until nothing listens on host:port (a killed server's sockets close a moment after it
    is reported dead); False if something still does after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while port_open(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
