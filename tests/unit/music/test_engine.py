"""The in-process engine: stage order, instrumental skips, speed, skipping stages without providers."""

from composition.models import StageName
from music.engine import SYMBOLIC_STAGES, compose, stages_for
from music.registry import ProviderRegistry, default_registry
from tests.unit.music.symbolic_songs import request, store


def test_stage_order_and_instrumental_skips():
    assert [s.value for s in stages_for(request("pop-happy"))] == [
        "plan", "harmony", "lyrics", "melody", "arrangement", "vocals", "render", "master"]
    assert StageName.LYRICS not in stages_for(request("house-instrumental"))
    assert StageName.VOCALS not in stages_for(request("house-instrumental"))


def test_the_symbolic_stages_of_a_three_minute_song_run_on_the_built_in_providers():
    # (how fast they are is benchmarks/bench_engine.py's to say, not a test's)
    result = compose(request("rock-short", duration_s=180, seed=77), store(), "speed", registry=default_registry(),
                     only=SYMBOLIC_STAGES)
    assert set(result.providers) == {s.value for s in SYMBOLIC_STAGES}


def test_stages_without_providers_are_skipped():
    full = default_registry()
    registry = ProviderRegistry()
    for stage in SYMBOLIC_STAGES:
        for provider in full.providers_for(stage):
            registry.register(provider)
    result = compose(request("folk-lofi"), store(), "skip", registry=registry)
    assert result.skipped == ["vocals", "render", "master"]
    assert result.context.arrangement is not None


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composition.models import GENRES, CompositionRequest, GenreWeight, Mood
from music.metrics_symbolic import symbolic_metrics


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    genres=st.lists(st.sampled_from(GENRES), min_size=1, max_size=3, unique=True),
    valence=st.floats(-1, 1), arousal=st.floats(0, 1), duration=st.floats(15, 90),
    seed=st.integers(0, 2**31 - 1), instrumental=st.booleans(),
)
def test_any_request_meets_the_symbolic_bar(genres, valence, arousal, duration, seed, instrumental):
    weights = [round(1 / len(genres), 6)] * len(genres)
    weights[-1] = round(1 - sum(weights[:-1]), 6)
    req = CompositionRequest(mood=Mood(valence=valence, arousal=arousal), duration_s=duration, seed=seed,
                             genres=[GenreWeight(genre=g, weight=w) for g, w in zip(genres, weights)],
                             theme="the last train home", instrumental=instrumental)
    m = symbolic_metrics(compose(req, store(), "prop", only=SYMBOLIC_STAGES).context)
    assert m.melody_in_key >= 0.95 and m.duration_error <= 0.05
    if not instrumental:
        assert m.syllable_alignment == 1.0 and m.stress_on_strong_beats >= 0.9 and m.rhyme_adherence >= 0.9
