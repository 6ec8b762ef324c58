"""The provider registry (order, names, capabilities, the catalog the saga chooses from) and the
offline engine's walk along a chain."""

import pytest

from composition.models import (
    SONG_STAGES,
    CompositionContext,
    HarmonySection,
    StageName,
)
from composition.providers import ProviderInfo
from music.engine import ChainExhausted, run_stage
from music.errors import StageError
from music.registry import ProviderRegistry, default_registry
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


CTX = CompositionContext(request=request("pop-happy"))


def _registry(*providers):
    registry = ProviderRegistry()
    for p in providers:
        registry.register(p)
    return registry


def test_chain_is_registration_order_and_names_are_unique():
    registry = _registry(Fake("a"), Fake("b"), Fake("c"))
    assert registry.chain(StageName.HARMONY) == ["a", "b", "c"] and registry.chain("plan") == []
    with pytest.raises(ValueError):
        registry.register(Fake("a"))


def test_capabilities_filter_the_chain_and_the_catalog_carries_them():
    registry = _registry(Fake("pop-only", capabilities={"genres:pop"}), Fake("any"))
    assert registry.chain("harmony", CTX.request) == ["pop-only", "any"]
    assert registry.chain("harmony", request("pop-funk")) == ["any"]
    assert registry.catalog()[StageName.HARMONY] == (
        ProviderInfo(stage=StageName.HARMONY, name="pop-only", capabilities=frozenset({"genres:pop"})),
        ProviderInfo(stage=StageName.HARMONY, name="any"))


def test_the_offline_engine_falls_back_on_retryable_failures_and_stops_on_permanent_ones():
    bad, good = Fake("bad", fail=RuntimeError("boom")), Fake("good")
    registry = _registry(good, bad)
    assert run_stage(registry, StageName.HARMONY, CTX, store(), "ns", hint="bad")[0] == "good"
    assert bad.calls == 1 and good.calls == 1
    permanent = _registry(Fake("first", fail=StageError("lyrics_too_long", "too long", retryable=False)), Fake("second"))
    with pytest.raises(StageError) as err:
        run_stage(permanent, StageName.HARMONY, CTX, store(), "ns")
    assert err.value.code == "lyrics_too_long"
    exhausted = _registry(Fake("a", fail=RuntimeError("down")), Fake("b", fail=StageError("busy", "later", True)))
    with pytest.raises(ChainExhausted) as err:
        run_stage(exhausted, StageName.HARMONY, CTX, store(), "ns")
    assert set(err.value.errors) == {"a", "b"} and err.value.retryable and "later" in str(err.value)


def test_a_wrong_section_type_counts_as_a_failure():
    class Wrong(Fake):
        def run(self, ctx, store, namespace):
            return "not a section"
    assert run_stage(_registry(Wrong("wrong"), Fake("right")), StageName.HARMONY, CTX, store(), "ns")[0] == "right"


def test_default_registry_has_every_stage_and_a_user_lyrics_lyricist():
    registry = default_registry()
    for stage in SONG_STAGES:
        providers = registry.providers_for(stage)
        assert providers and all(isinstance(p, StageProvider) for p in providers), stage
    lyricist = registry.providers_for("lyrics")[0]
    assert lyricist.name in registry.chain("lyrics", user_request())


def test_base_compensation_deletes_artifacts():
    artifact = store().put("comp", "x.bin", b"abc", "application/octet-stream")
    assert Fake("a").compensate([artifact], store()) == [artifact.uri]
    assert Fake("a").compensate([artifact], store()) == []
