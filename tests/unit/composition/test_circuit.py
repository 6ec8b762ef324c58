"""The circuit breaker the saga keeps per (stage, provider)."""

from datetime import timedelta

from composition.circuit import CircuitBreaker
from composition.models import StageName
from tests.unit.composition.saga_fakes import T0, Driver, saga_policy

S = StageName


def test_opens_after_repeated_failures_half_opens_after_the_cooldown_and_closes_on_success():
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10)
    breaker.record(S.RENDER, "flaky", False, T0)
    assert breaker.state(S.RENDER, "flaky", T0) == "closed"
    breaker.record(S.RENDER, "flaky", False, T0)
    assert breaker.skipped(T0) == {(S.RENDER, "flaky")}
    assert breaker.state(S.RENDER, "flaky", T0 + timedelta(seconds=10)) == "half-open"
    assert breaker.skipped(T0 + timedelta(seconds=10)) == frozenset()
    breaker.record(S.RENDER, "flaky", True, T0 + timedelta(seconds=11))
    assert breaker.state(S.RENDER, "flaky", T0 + timedelta(seconds=11)) == "closed"


def test_a_failed_trial_reopens_it():
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=5)
    breaker.record(S.PLAN, "p", False, T0)
    breaker.record(S.PLAN, "p", False, T0 + timedelta(seconds=6))
    assert breaker.state(S.PLAN, "p", T0 + timedelta(seconds=7)) == "open"


def test_the_saga_skips_a_provider_whose_circuit_is_open():
    policy = saga_policy({S.PLAN: ("primary", "backup")}, open_circuits=frozenset({(S.PLAN, "primary")}))
    d = Driver(policy=policy)
    d.start()
    assert d.last_request(S.PLAN).provider_hint == "backup"
