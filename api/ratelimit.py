"""Per-tenant token buckets for writes (submit, cancel, feedback), answered with 429 + Retry-After.

The buckets live in PostgreSQL (table ``rate_limits``, migration 0005), so a tenant's limit holds
across every API process. Taking a token is one statement: an upsert that refills the bucket by the
time since it was last counted (capped at the burst), takes one token if there is one, and returns
what it did; the row lock it takes orders concurrent requests of one tenant, whichever process
they reach. The statement is sent on its own, outside any transaction of ours, so PostgreSQL runs it
(with the ``SET LOCAL`` before it) as one implicit transaction: one round trip, and its commit does
not wait for the WAL to reach the disk (``synchronous_commit off``) - a crash can forget the last few
takes, which only hands a tenant a few tokens back. Its cost per write: benchmarks/bench_api.py --rate.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_REFILL = "least(:burst, r.tokens + greatest(0, extract(epoch FROM now() - r.updated_at)) * :rate)"
TAKE = text(f"""
    SET LOCAL synchronous_commit TO off;
    INSERT INTO rate_limits AS r (tenant_id, tokens, allowed, updated_at)
    VALUES (:tenant, :burst - 1, true, now())
    ON CONFLICT (tenant_id) DO UPDATE SET
        tokens = CASE WHEN {_REFILL} >= 1 THEN {_REFILL} - 1 ELSE {_REFILL} END,
        allowed = {_REFILL} >= 1,
        updated_at = greatest(r.updated_at, now())
    RETURNING tokens, allowed
""")


class RateLimiter:
    """The API's port onto the shared buckets."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, tenant: str, rate_per_s: float, burst: int) -> float:
        """Take one token; return 0 if allowed, else the seconds until one is available."""
        if rate_per_s <= 0:
            return 0.0
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            tokens, allowed = connection.execute(TAKE, {"tenant": tenant, "rate": rate_per_s,
                                                        "burst": max(1, burst)}).one()
        return 0.0 if allowed else (1.0 - tokens) / rate_per_s
