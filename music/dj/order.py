"""The playing order of a set.

``given`` keeps the request's order. ``auto`` finds the order of least cost, where a step between two
songs costs mostly its Camelot distance past 1 (a clash), then the distance itself, then the tempo
step (percent), and each position costs the song's distance from an energy arc (a rise to a peak at
two thirds of the set, then a fall). Up to 12 songs the order is exact (dynamic programming over
subsets, with the position known from the subset's size); past that, a greedy start improved by
2-opt moves.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from composition.sets import SetOrderSection, TrackAnalysis
from music.dj.camelot import distance

CLASH = 100.0  # per Camelot step past 1
STEP = 10.0  # per Camelot step
TEMPO = 0.5  # per percent of tempo change
ARC = 20.0  # per unit of energy off the arc
EXACT_UP_TO = 12


def mean_energy(track: TrackAnalysis) -> float:
    return float(np.mean(track.energy)) if track.energy else 0.5


def arc(position: int, count: int, low: float, high: float) -> float:
    """The energy the set aims at in ``position`` of ``count``: up to ``high`` at two thirds, then down."""
    if count <= 1:
        return high
    x = position / (count - 1)
    peak = 2 / 3
    shape = x / peak if x <= peak else 1 - 0.5 * (x - peak) / (1 - peak)
    return low + (high - low) * shape


def tempo_step_pct(a: TrackAnalysis, b: TrackAnalysis) -> float:
    return 100.0 * abs(b.tempo_bpm - a.tempo_bpm) / a.tempo_bpm


def pair_cost(a: TrackAnalysis, b: TrackAnalysis) -> float:
    d = distance(a.camelot, b.camelot)
    return CLASH * max(0, d - 1) + STEP * d + TEMPO * tempo_step_pct(a, b)


def cost(tracks: Sequence[TrackAnalysis], order: Sequence[int]) -> float:
    energies = [mean_energy(t) for t in tracks]
    low, high = min(energies), max(energies)
    total = sum(pair_cost(tracks[i], tracks[j]) for i, j in itertools.pairwise(order))
    return total + ARC * sum(abs(energies[i] - arc(p, len(order), low, high)) for p, i in enumerate(order))


def _exact(tracks: Sequence[TrackAnalysis]) -> list[int]:
    n = len(tracks)
    energies = [mean_energy(t) for t in tracks]
    low, high = min(energies), max(energies)
    place = [[ARC * abs(energies[i] - arc(p, n, low, high)) for i in range(n)] for p in range(n)]
    step = [[pair_cost(tracks[i], tracks[j]) for j in range(n)] for i in range(n)]
    best: dict[tuple[int, int], tuple[float, int]] = {(1 << i, i): (place[0][i], -1) for i in range(n)}
    for mask in sorted(range(1, 1 << n), key=int.bit_count):
        position = mask.bit_count()
        for last in range(n):
            here = best.get((mask, last))
            if here is None:
                continue
            for nxt in range(n):
                if mask & (1 << nxt):
                    continue
                key = (mask | (1 << nxt), nxt)
                value = here[0] + step[last][nxt] + place[position][nxt]
                if key not in best or value < best[key][0]:
                    best[key] = (value, last)
    full = (1 << n) - 1
    last = min(range(n), key=lambda i: best[(full, i)][0])
    order, mask = [], full
    while last != -1:
        order.append(last)
        last, mask = best[(mask, last)][1], mask & ~(1 << last)
    return order[::-1]


def _heuristic(tracks: Sequence[TrackAnalysis]) -> list[int]:
    n = len(tracks)
    start = min(range(n), key=lambda i: mean_energy(tracks[i]))
    order, left = [start], set(range(n)) - {start}
    while left:
        nxt = min(left, key=lambda j: pair_cost(tracks[order[-1]], tracks[j]))
        order.append(nxt)
        left.remove(nxt)
    improved = True
    while improved:
        improved = False
        for i, j in itertools.combinations(range(n), 2):
            candidate = order[:i] + order[i:j + 1][::-1] + order[j + 1:]
            if cost(tracks, candidate) < cost(tracks, order) - 1e-9:
                order, improved = candidate, True
    return order


def order_tracks(tracks: Sequence[TrackAnalysis], mode: str) -> SetOrderSection:
    """The playing order (indices into ``tracks``) with each adjacent pair's key distance and tempo step."""
    if mode == "given":
        order = list(range(len(tracks)))
    elif len(tracks) <= EXACT_UP_TO:
        order = _exact(tracks)
    else:
        order = _heuristic(tracks)
    pairs = list(itertools.pairwise(order))
    return SetOrderSection(order=order,
                           camelot_distances=[distance(tracks[i].camelot, tracks[j].camelot) for i, j in pairs],
                           tempo_steps_bpm=[round(tracks[j].tempo_bpm - tracks[i].tempo_bpm, 3) for i, j in pairs])
