"""The feedback learner: listeners' ratings per (genre, tempo arm) into a sampling distribution.

A bandit over the planner's tempo choice. The arms are the thirds of a genre's tempo range ("slow",
"mid", "fast"). ``update`` keeps a count and a mean rating per arm; ``weights`` turns them into the
probabilities the planner draws an arm from: a softmax over each arm's mean shrunk towards the neutral
rating (so one rating does not dominate), mixed with a floor so every arm keeps being explored.
Pure: no I/O, plain dicts in and out (they travel as JSON in a table and as PolicyUpdated.weights).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

ARMS: tuple[str, ...] = ("slow", "mid", "fast")
NEUTRAL = 3.0  # the middle of the 1-5 rating scale
PRIOR = 3.0  # pseudo-ratings at NEUTRAL that every arm starts with
TEMPERATURE = 0.5  # softmax temperature, in rating points
FLOOR = 0.05  # every arm's minimum probability

Stats = dict[str, dict[str, dict[str, float]]]
"""``{genre: {arm: {"n": count, "mean": mean rating}}}``."""


def policy_name(genre: str) -> str:
    """The name a genre's tempo policy has on the compacted policy topic and in the planner."""
    return f"tempo:{genre}"


def arm_bounds(arm: str, tempo_range: tuple[float, float]) -> tuple[float, float]:
    """The tempo interval (bpm) of one arm: its third of ``tempo_range``."""
    lo, hi = tempo_range
    k = ARMS.index(arm)
    step = (hi - lo) / len(ARMS)
    return lo + k * step, lo + (k + 1) * step


def arm_of(tempo_bpm: float, tempo_range: tuple[float, float]) -> str:
    """The arm a tempo falls in; tempos outside the range count as its nearest third."""
    lo, hi = tempo_range
    if hi <= lo:
        return "mid"
    position = (tempo_bpm - lo) / (hi - lo)
    return ARMS[min(len(ARMS) - 1, max(0, math.floor(position * len(ARMS))))]


def update(stats: Stats, genre: str, arm: str, rating: float) -> Stats:
    """``stats`` with one more rating of ``arm`` for ``genre`` (a new dict; the input is not changed)."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; arms: {', '.join(ARMS)}")
    per_genre = {a: dict(s) for a, s in stats.get(genre, {}).items()}
    old = per_genre.get(arm, {"n": 0, "mean": 0.0})
    n = int(old["n"]) + 1
    per_genre[arm] = {"n": n, "mean": old["mean"] + (float(rating) - old["mean"]) / n}
    return {**stats, genre: per_genre}


def samples(stats_for_genre: Mapping[str, Mapping[str, float]]) -> int:
    """How many ratings a genre's stats hold."""
    return sum(int(s["n"]) for s in stats_for_genre.values())


def shrunk_mean(arm_stats: Mapping[str, float] | None) -> float:
    """The arm's mean rating pulled towards NEUTRAL by PRIOR pseudo-ratings."""
    n = int(arm_stats["n"]) if arm_stats else 0
    mean = float(arm_stats["mean"]) if arm_stats else NEUTRAL
    return (n * mean + PRIOR * NEUTRAL) / (n + PRIOR)


def weights(stats_for_genre: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The probability of drawing each arm: sums to 1, every arm at least FLOOR."""
    logits = {arm: (shrunk_mean(stats_for_genre.get(arm)) - NEUTRAL) / TEMPERATURE for arm in ARMS}
    top = max(logits.values())
    exp = {arm: math.exp(x - top) for arm, x in logits.items()}
    total = sum(exp.values())
    return {arm: FLOOR + (1 - FLOOR * len(ARMS)) * e / total for arm, e in exp.items()}
