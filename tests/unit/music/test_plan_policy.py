"""The planner honours a learned tempo policy and is unchanged without one."""

import pytest

from composition.feedback_policy import arm_bounds, arm_of
from composition.models import CompositionContext
from music import policy
from music.genres import blend
from music.plan import RulesPlanner, make_plan
from storage.local import LocalArtifactStore
from tests.unit.music.symbolic_songs import request

ALL_FAST = {"slow": 0.0, "mid": 0.0, "fast": 1.0}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("genres", [{"pop": 1.0}, {"ballad": 1.0}, {"funk": 0.6, "lofi": 0.4}])
def test_all_mass_on_one_arm_lands_in_that_third(seed, genres):
    for arm, mood in (("fast", "sad"), ("slow", "euphoric")):
        plan = make_plan(request("pop-happy", seed=seed, genres=genres, mood=mood), {arm: 1.0})
        tempo_range = blend(plan.genres, plan.seed).tempo
        lo, hi = arm_bounds(arm, tempo_range)
        assert lo - 1e-3 <= plan.tempo_bpm <= hi + 1e-3
        assert arm_of(plan.tempo_bpm, tempo_range) == arm or plan.tempo_bpm in (round(lo, 3), round(hi, 3))


def test_policy_draw_is_deterministic_and_none_or_empty_changes_nothing():
    req = request("pop-happy", seed=3)
    mixed = {"slow": 0.2, "mid": 0.3, "fast": 0.5}
    assert make_plan(req, mixed) == make_plan(req, mixed)
    assert make_plan(req, None) == make_plan(req) == make_plan(req, {})


def test_the_rules_planner_reads_the_dominant_genres_policy(tmp_path):
    req = request("pop-happy", seed=5, genres={"pop": 0.7, "funk": 0.3}, mood="sad")
    ctx = CompositionContext(request=req)
    store = LocalArtifactStore(str(tmp_path))
    assert RulesPlanner().run(ctx, store, "x") == make_plan(req)
    with policy.use({"tempo:pop": ALL_FAST, "tempo:funk": {"slow": 1.0}}):
        planned = RulesPlanner().run(ctx, store, "x")
    assert planned == make_plan(req, ALL_FAST) != make_plan(req)
    assert policy.current() == {}
