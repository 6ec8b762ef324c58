"""Admission: new work is refused up front while the pipeline's backlog is deeper than it can finish.

The backlog is the number of songs accepted and not finished, across every tenant (the read model's
accepted and running compositions, plus submissions the projector has not shown yet). Past
``max_backlog`` a submission or revision is ``Backlogged`` (429): accepting it would only queue work
behind more than the stages can finish in time, and a song must never fail because the platform was
busy. The count is shared by every API process (it is read from PostgreSQL) and taken at most every
``check_s`` per process, so a burst of posts costs one query a second, not one each.

``Retry-After`` comes from a measurement: the songs finished in the last five minutes give the
pipeline's rate, and the excess over the limit divided by it is when there will be room again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from composition.errors import Busy
from readmodel.models import ACTIVE

RATE_WINDOW_S = 300

_BACKLOG = text("""
    SELECT (SELECT count(*) FROM compositions WHERE status = ANY(:active))
         + (SELECT count(*) FROM submissions s
             WHERE s.created_at > now() - interval '1 hour'
               AND NOT EXISTS (SELECT 1 FROM compositions c WHERE c.id = s.id))
""")
_FINISHED = text("SELECT count(*) FROM compositions WHERE finished_at > now() - make_interval(secs => :window)")


class Backlogged(Busy):
    def __init__(self, backlog: int, limit: int, retry_after_s: float) -> None:
        super().__init__(f"the pipeline has {backlog} songs in progress, more than it takes ({limit}); "
                         f"try again in {math.ceil(retry_after_s)} s", kind="backlogged", retry_after_s=retry_after_s)
        self.backlog = backlog
        self.limit = limit


class Admission:
    """``check()`` raises Backlogged while the backlog is at or past ``max_backlog`` (0: no limit)."""

    def __init__(self, sessions: sessionmaker[Session], max_backlog: int, *, check_s: float = 1.0,
                 fallback_retry_after_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = sessions
        self.max_backlog = max_backlog
        self.check_s = check_s
        self.fallback_retry_after_s = fallback_retry_after_s
        self.clock = clock
        self._lock = threading.Lock()
        self._taken_at = -math.inf
        self._backlog = 0
        self._retry_after_s = fallback_retry_after_s

    def check(self) -> None:
        if self.max_backlog <= 0:
            return
        backlog, retry_after_s = self._measure()
        if backlog >= self.max_backlog:
            raise Backlogged(backlog, self.max_backlog, retry_after_s)

    def _measure(self) -> tuple[int, float]:
        with self._lock:
            now = self.clock()
            if now - self._taken_at >= self.check_s:
                self._backlog, self._retry_after_s = self._count()
                self._taken_at = now
            return self._backlog, self._retry_after_s

    def admitted(self) -> None:
        """One more song accepted by this process since the last count (it counts until the next one)."""
        with self._lock:
            self._backlog += 1

    def _count(self) -> tuple[int, float]:
        with self.sessions() as session:
            backlog = int(session.execute(_BACKLOG, {"active": list(ACTIVE)}).scalar_one())
            retry_after_s = self.fallback_retry_after_s
            if backlog >= self.max_backlog:
                finished = int(session.execute(_FINISHED, {"window": RATE_WINDOW_S}).scalar_one())
                if finished:
                    rate = finished / RATE_WINDOW_S
                    retry_after_s = (backlog - self.max_backlog + 1) / rate
        return backlog, min(max(retry_after_s, 1.0), 600.0)
