"""Per-tenant token buckets for writes (submit, cancel, feedback), answered with 429 + Retry-After.

The buckets live in the API process: with several API processes each enforces the limit on its
own share of the traffic (a shared limit would need the database or Redis on every request).
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # tenant -> (tokens, last refill)
        self._lock = threading.Lock()

    def acquire(self, tenant: str, rate_per_s: float, burst: int) -> float:
        """Take one token; return 0 if allowed, else the seconds until one is available."""
        if rate_per_s <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(tenant, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate_per_s)
            if tokens >= 1.0:
                self._buckets[tenant] = (tokens - 1.0, now)
                return 0.0
            self._buckets[tenant] = (tokens, now)
            return (1.0 - tokens) / rate_per_s
