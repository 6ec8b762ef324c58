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
