"""The in-process engine: stage order, instrumental skips, speed, skipping stages without providers."""

import time

from composition.models import StageName
from music.engine import SYMBOLIC_STAGES, compose, stages_for
from music.providers import ProviderRegistry, ProviderRouter, default_registry
from tests.unit.music.symbolic_songs import request, store


def test_stage_order_and_instrumental_skips():
    assert [s.value for s in stages_for(request("pop-happy"))] == [
        "plan", "harmony", "lyrics", "melody", "arrangement", "vocals", "render", "master"]
    assert StageName.LYRICS not in stages_for(request("house-instrumental"))
    assert StageName.VOCALS not in stages_for(request("house-instrumental"))


def test_symbolic_stages_of_a_three_minute_song_are_fast():
    router = ProviderRouter(default_registry())
    compose(request("pop-happy", seed=99, duration_s=20), store(), "warm", router=router, only=SYMBOLIC_STAGES)
    started = time.perf_counter()
    result = compose(request("rock-short", duration_s=180, seed=77), store(), "speed", router=router, only=SYMBOLIC_STAGES)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, result.timings_s
    assert set(result.providers) == {s.value for s in SYMBOLIC_STAGES}


def test_stages_without_providers_are_skipped():
    full = default_registry()
    registry = ProviderRegistry()
    for stage in SYMBOLIC_STAGES:
        for provider in full.providers_for(stage):
            registry.register(provider)
    result = compose(request("folk-lofi"), store(), "skip", router=ProviderRouter(registry))
    assert result.skipped == ["vocals", "render", "master"]
    assert result.context.arrangement is not None
