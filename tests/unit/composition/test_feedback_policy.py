"""The feedback learner: arms, running means, and a distribution that stays a distribution."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from composition.feedback_policy import (
    ARMS,
    FLOOR,
    arm_bounds,
    arm_of,
    samples,
    update,
    weights,
)

ratings = st.lists(st.tuples(st.sampled_from(ARMS), st.integers(1, 5)), max_size=60)


def learn(history):
    stats = {}
    for arm, rating in history:
        stats = update(stats, "pop", arm, rating)
    return stats


def test_arm_of_splits_the_range_in_thirds():
    assert [arm_of(t, (96, 124)) for t in (96, 105, 106, 114, 115, 124)] == ["slow", "slow", "mid", "mid", "fast", "fast"]
    assert arm_of(120, (96, 124)) == "fast"
    assert arm_of(60, (96, 124)) == "slow" and arm_of(200, (96, 124)) == "fast"
    for arm in ARMS:
        lo, hi = arm_bounds(arm, (96, 124))
        assert arm_of((lo + hi) / 2, (96, 124)) == arm


def test_update_keeps_count_and_mean_without_mutating():
    stats = update({}, "pop", "fast", 5)
    again = update(stats, "pop", "fast", 2)
    assert stats["pop"]["fast"] == {"n": 1, "mean": 5.0}
    assert again["pop"]["fast"] == {"n": 2, "mean": 3.5}
    assert samples(again["pop"]) == 2
    with pytest.raises(ValueError):
        update({}, "pop", "presto", 5)


def test_no_ratings_is_uniform_and_one_rating_does_not_dominate():
    assert all(w == pytest.approx(1 / 3) for w in weights({}).values())
    one = weights(update({}, "pop", "fast", 5)["pop"])
    assert one["fast"] > one["mid"] == one["slow"]
    assert one["fast"] < 0.6
    many = weights(learn([("fast", 5)] * 10)["pop"])
    assert many["fast"] > 0.8 and min(many.values()) >= FLOOR


@given(ratings)
def test_weights_are_a_distribution_with_a_floor(history):
    w = weights(learn(history).get("pop", {}))
    assert set(w) == set(ARMS)
    assert math.isclose(sum(w.values()), 1.0, abs_tol=1e-9)
    assert all(v >= FLOOR - 1e-12 for v in w.values())


@given(ratings, st.sampled_from(ARMS), st.integers(1, 10))
def test_more_high_ratings_never_lower_an_arms_weight(history, arm, extra):
    before = weights(learn(history).get("pop", {}))[arm]
    after = weights(learn(history + [(arm, 5)] * extra)["pop"])[arm]
    assert after >= before - 1e-12
