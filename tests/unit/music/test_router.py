"""Provider registry and router: chain order, hints, fallback, permanent errors, circuit breaker."""

import pytest

from composition.models import CompositionContext, HarmonySection, StageName
from music.errors import StageError
from music.registry import ProviderRegistry, default_registry
from music.router import ProviderChainExhausted, ProviderRouter, RoutingPolicy
from music.stage import BaseProvider, StageProvider
from tests.unit.music.symbolic_songs import request, store, user_request


class Fake(BaseProvider):
    stage = StageName.HARMONY
    version = "1"

    def __init__(self, name, fail=None, capabilities=frozenset()):
        self.name, self.fail, self.capabilities, self.calls = name, fail, frozenset(capabilities), 0

    def run(self, ctx, store, namespace):
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return HarmonySection(sections=[])


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


CTX = CompositionContext(request=request("pop-happy"))


def _router(*providers, **policy):
    registry = ProviderRegistry()
    for p in providers:
        registry.register(p)
    clock = Clock()
    return ProviderRouter(registry, RoutingPolicy(**policy), clock=clock), clock


def test_chain_follows_policy_then_registration():
    router, _ = _router(Fake("a"), Fake("b"), Fake("c"), order={StageName.HARMONY: ["c"]})
    assert router.chain(StageName.HARMONY) == ["c", "a", "b"]
    assert router.chain("plan") == []


def test_duplicate_names_rejected():
    registry = ProviderRegistry()
    registry.register(Fake("a"))
    with pytest.raises(ValueError):
        registry.register(Fake("a"))


def test_hint_starts_the_chain_and_failures_fall_back():
    bad, good = Fake("bad", fail=RuntimeError("boom")), Fake("good")
    router, _ = _router(good, bad)
    assert router.run("harmony", CTX, store(), "ns", hint="bad")[0] == "good"
    assert bad.calls == 1 and good.calls == 1
    assert router.run("harmony", CTX, store(), "ns")[0] == "good"
    assert bad.calls == 1


def test_permanent_error_stops_the_chain():
    first = Fake("first", fail=StageError("lyrics_too_long", "too long", retryable=False))
    second = Fake("second")
    router, _ = _router(first, second)
    with pytest.raises(StageError) as err:
        router.run("harmony", CTX, store(), "ns")
    assert err.value.code == "lyrics_too_long" and second.calls == 0


def test_exhausted_chain_names_every_error():
    router, _ = _router(Fake("a", fail=RuntimeError("down")), Fake("b", fail=StageError("busy", "later", True)))
    with pytest.raises(ProviderChainExhausted) as err:
        router.run("harmony", CTX, store(), "ns")
    assert set(err.value.errors) == {"a", "b"} and err.value.retryable
    assert "down" in str(err.value) and "later" in str(err.value)


def test_circuit_opens_after_repeated_failures_and_half_opens_after_cooldown():
    flaky, backup = Fake("flaky", fail=RuntimeError("x")), Fake("backup")
    router, clock = _router(flaky, backup, failure_threshold=2, cooldown_s=10)
    for _ in range(2):
        router.run("harmony", CTX, store(), "ns")
    assert router.circuit_state("harmony", "flaky") == "open"
    router.run("harmony", CTX, store(), "ns")
    assert flaky.calls == 2  # skipped while open
    clock.now = 10.0
    assert router.circuit_state("harmony", "flaky") == "half-open"
    flaky.fail = None
    assert router.run("harmony", CTX, store(), "ns")[0] == "flaky"
    assert router.circuit_state("harmony", "flaky") == "closed"


def test_failed_trial_reopens_the_circuit():
    flaky = Fake("flaky", fail=RuntimeError("x"))
    router, clock = _router(flaky, Fake("backup"), failure_threshold=1, cooldown_s=5)
    router.run("harmony", CTX, store(), "ns")
    clock.now = 6
    router.run("harmony", CTX, store(), "ns")
    assert flaky.calls == 2 and router.circuit_state("harmony", "flaky") == "open"


def test_all_circuits_open_is_retryable_exhaustion():
    router, _ = _router(Fake("only", fail=RuntimeError("x")), failure_threshold=1)
    with pytest.raises(ProviderChainExhausted):
        router.run("harmony", CTX, store(), "ns")
    with pytest.raises(ProviderChainExhausted) as err:
        router.run("harmony", CTX, store(), "ns")
    assert err.value.errors["only"].code == "circuit_open" and err.value.retryable


def test_wrong_section_type_counts_as_failure():
    class Wrong(Fake):
        def run(self, ctx, store, namespace):
            return "not a section"
    router, _ = _router(Wrong("wrong"), Fake("right"))
    assert router.run("harmony", CTX, store(), "ns")[0] == "right"


def test_capabilities_filter_the_chain():
    pop_only = Fake("pop-only", capabilities={"genres:pop"})
    anything = Fake("any")
    router, _ = _router(pop_only, anything)
    assert router.chain("harmony", CTX) == ["pop-only", "any"]
    funk = CompositionContext(request=request("pop-funk"))
    assert router.chain("harmony", funk) == ["any"]


def test_default_registry_has_every_symbolic_stage():
    registry = default_registry()
    for stage in ("plan", "harmony", "lyrics", "melody", "arrangement"):
        providers = registry.providers_for(stage)
        assert providers and all(isinstance(p, StageProvider) for p in providers)
    lyricist = registry.providers_for("lyrics")[0]
    router = ProviderRouter(registry)
    assert router.chain("lyrics", CompositionContext(request=user_request())) == [lyricist.name]


def test_base_compensation_deletes_artifacts():
    artifact = store().put("comp", "x.bin", b"abc", "application/octet-stream")
    assert Fake("a").compensate([artifact], store()) == [artifact.uri]
    assert Fake("a").compensate([artifact], store()) == []
