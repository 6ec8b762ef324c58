"""The loop of a polling process (the outbox relay, the projector): run a step until stopped, and
while the step fails transiently, wait with exponential backoff and log the outage as one line when
it starts, a count while it lasts (at most every ``report_s``) and one line when it ends."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from composition.retry import Backoff
from infra.error_policy import is_transient


class PollingLoop:
    def __init__(self, step: Callable[[], int], *, name: str, log: logging.Logger, idle_s: float = 0.1,
                 backoff: Backoff | None = None, report_s: float = 30.0,
                 on_failure: Callable[[BaseException], None] | None = None) -> None:
        self.step = step
        self.name = name
        self.log = log
        self.idle_s = idle_s
        self.backoff = backoff or Backoff(base_s=0.5, cap_s=10.0, jitter=0.0)
        self.report_s = report_s
        self.on_failure = on_failure
        self.stopped = threading.Event()

    def run(self) -> None:
        """Loop until :meth:`stop`. A step returns how much it did (0: idle, wait ``idle_s``); an error that is
        not transient propagates (the process ends and its supervisor restarts it)."""
        failures, outage_started, last_report = 0, 0.0, 0.0
        while not self.stopped.is_set():
            try:
                done = self.step()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if self.on_failure:
                    self.on_failure(exc)
                now = time.monotonic()
                failures += 1
                if failures == 1:
                    outage_started = last_report = now
                    self.log.warning("%s: outage began: %s", self.name, exc)
                elif now - last_report >= self.report_s:
                    last_report = now
                    self.log.warning("%s: outage goes on, %d failed attempts in %.0f s; last: %s",
                                     self.name, failures, now - outage_started, exc)
                self.stopped.wait(self.backoff.delay_s(failures))
                continue
            if failures:
                self.log.warning("%s: outage ended after %.1f s (%d failed attempts)", self.name,
                                 time.monotonic() - outage_started, failures)
                failures = 0
            if not done:
                self.stopped.wait(self.idle_s)

    def stop(self, *_args: object) -> None:
        self.stopped.set()
