"""`cadenza up` watches the servers it started (each Kafka node, PostgreSQL, S3Proxy) the way the
supervisor watches its processes: a server that dies is noticed (its pid is checked through /proc, so a
zombie is dead - and reaped here, since we are its parent), restarted in the background with backoff,
and given up on after a limit. Each death is logged once, and each return once."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.stack import LocalService

MAX_RESTARTS = 5
"""Restarts of one server in a row (without a healthy minute between them) before the stack gives up."""
HEALTHY_S = 60.0
"""A server that has run this long since its last restart starts counting its restarts from zero again."""


@dataclass
class Watched:
    service: LocalService
    restarts: int = 0
    died_at: float | None = None
    last_start: float = field(default_factory=time.monotonic)
    restarting: threading.Thread | None = None
    failed: str | None = None


class ServiceWatch:
    """Call :meth:`check` from the supervising loop; it never blocks (restarts run in threads)."""

    def __init__(self, services: list[LocalService], *, max_restarts: int = MAX_RESTARTS,
                 backoff_s: Callable[[int], float] = lambda n: min(30.0, 2.0 ** (n - 1)),
                 say: Callable[[str], None] | None = None) -> None:
        self.watched = [Watched(s) for s in services]
        self.max_restarts = max_restarts
        self.backoff_s = backoff_s
        self.say = say or (lambda line: (sys.stderr.write(line + "\n"), sys.stderr.flush()))
        self.stopping = threading.Event()

    def check(self) -> str | None:
        """Look at every server once; return why the stack should stop (a server gone for good), else None."""
        for w in self.watched:
            if w.failed:
                return w.failed
            if w.restarting is not None and w.restarting.is_alive():
                continue
            w.restarting = None
            if w.service.pid() is not None:
                if w.died_at is None and time.monotonic() - w.last_start > HEALTHY_S:
                    w.restarts = 0
                continue
            if w.restarts >= self.max_restarts:
                w.failed = f"{w.service.name} died again after {w.restarts} restarts; giving up"
                self.say(w.failed)
                return w.failed
            w.restarts += 1
            if w.died_at is None:
                w.died_at = time.monotonic()
                self.say(f"{w.service.name} is not running; restarting it ({w.restarts}/{self.max_restarts})")
            w.restarting = threading.Thread(target=self._restart, args=(w,), name=f"restart {w.service.name}",
                                            daemon=True)
            w.restarting.start()
        return None

    def _restart(self, w: Watched) -> None:
        if self.stopping.wait(self.backoff_s(w.restarts)):
            return
        try:
            w.service.start()
        except Exception as exc:  # noqa: BLE001 - the next check tries again, up to the limit
            self.say(f"{w.service.name}: restart {w.restarts}/{self.max_restarts} failed: {exc}")
            return
        w.last_start = time.monotonic()
        if w.died_at is not None:
            self.say(f"{w.service.name} is back after {time.monotonic() - w.died_at:.1f} s")
            w.died_at = None

    def stop(self) -> None:
        """Stop restarting (the stack is shutting down); waits for a restart under way to finish."""
        self.stopping.set()
        for w in self.watched:
            if w.restarting is not None:
                w.restarting.join(120)
