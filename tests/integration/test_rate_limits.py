"""The write-rate buckets in PostgreSQL: one bucket per tenant whichever API process asks, exact
under concurrency (the upsert's row lock orders the takes), refilled by the time passed."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.ratelimit import RateLimiter
from infra.database import make_engine, make_session_factory
from tenancy.keys import create_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def limiters(database_url: str):
    """Two limiters with engines of their own, as two API processes have."""
    engines = [make_engine(database_url, pool_size=8, max_overflow=0) for _ in range(2)]
    yield [RateLimiter(engine) for engine in engines]
    for engine in engines:
        engine.dispose()


def test_concurrent_takes_from_two_processes_share_one_bucket(limiters, database_url: str) -> None:
    tenant = f"rl-{uuid.uuid4().hex[:8]}"
    create_tenant(make_session_factory(make_engine(database_url, pool_size=1)), tenant, rate_per_s=0.01, burst=5)
    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(lambda i: limiters[i % 2].acquire(tenant, 0.01, 5), range(40)))
    assert sum(w == 0 for w in waits) == 5  # the burst, not 5 per process
    assert all(w > 50 for w in waits if w)  # the next token is ~100 s away at 0.01/s


def test_the_bucket_refills_with_time_up_to_the_burst(limiters, database_url: str) -> None:
    tenant = f"rl-{uuid.uuid4().hex[:8]}"
    create_tenant(make_session_factory(make_engine(database_url, pool_size=1)), tenant, rate_per_s=4, burst=2)
    a, b = limiters
    assert [a.acquire(tenant, 4, 2), b.acquire(tenant, 4, 2)] == [0, 0]
    wait = a.acquire(tenant, 4, 2)
    assert 0 < wait <= 0.25
    time.sleep(wait + 0.05)
    assert b.acquire(tenant, 4, 2) == 0
    time.sleep(2)  # far more than the burst's worth of refill
    assert [a.acquire(tenant, 4, 2) for _ in range(3)].count(0) == 2
