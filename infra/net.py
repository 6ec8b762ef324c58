"""Small network checks shared by the local services."""

from __future__ import annotations

import socket


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


LOW, HIGH = 20_000, 32_000
"""Where :func:`free_ports` looks: below Linux's ephemeral range (32768-60999), so no outgoing
connection takes a port between the moment it is found free and the moment its server binds it."""


_given: set[int] = set()


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_ports(count: int, host: str = "127.0.0.1") -> int:
    """The first of ``count`` consecutive TCP ports nobody listens on right now (for a test's own
    servers: ``up --metrics-base-port`` takes one port per process from its base up)."""
    import random

    for _ in range(200):
        first = random.randrange(LOW, HIGH - count)
        ports = range(first, first + count)
        if not _given.intersection(ports) and all(_bindable(host, port) for port in ports):
            _given.update(ports)  # not again to this process, whose server may not have bound it yet
            return first
    raise RuntimeError(f"no {count} consecutive free ports between {LOW} and {HIGH} on {host}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for a test's own short-lived server)."""
    return free_ports(1, host)


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
