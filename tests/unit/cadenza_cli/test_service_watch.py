"""`cadenza up`'s watch over its servers: a dead one is restarted with backoff, logged once when it
dies and once when it is back, and given up on after the limit (servers stand in as plain callables)."""

from __future__ import annotations

import time

from cadenza_cli.service_watch import ServiceWatch
from infra.stack import LocalService


class Server:
    def __init__(self, fail_starts: int = 0) -> None:
        self.running, self.starts, self.fail_starts = True, 0, fail_starts

    def pid(self) -> int | None:
        return 4242 if self.running else None

    def start(self) -> None:
        self.starts += 1
        if self.starts <= self.fail_starts:
            raise RuntimeError("port taken")
        self.running = True

    def service(self, name: str) -> LocalService:
        return LocalService(name, self.pid, self.start, lambda: None)


def run(watch: ServiceWatch, until, timeout: float = 5.0) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        gone = watch.check()
        if gone or until():
            return gone
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_a_dead_server_is_restarted_and_logged_once_each_way() -> None:
    server, said = Server(fail_starts=1), []
    watch = ServiceWatch([server.service("kafka")], backoff_s=lambda n: 0.01, say=said.append)
    assert watch.check() is None and server.starts == 0  # alive: nothing to do
    server.running = False
    assert run(watch, lambda: server.running) is None
    assert server.starts == 2  # the first restart failed, the second worked
    assert said[0] == "kafka is not running; restarting it (1/5)"
    assert said[1].startswith("kafka: restart 1/5 failed: port taken")
    assert said[2].startswith("kafka is back after ") and len(said) == 3


def test_a_server_that_keeps_dying_is_given_up_on_after_the_limit() -> None:
    server, said = Server(fail_starts=100), []
    watch = ServiceWatch([server.service("postgres")], max_restarts=3, backoff_s=lambda n: 0.01, say=said.append)
    server.running = False
    gone = run(watch, lambda: False)
    assert gone == "postgres died again after 3 restarts; giving up" and server.starts == 3
    assert watch.check() == gone
