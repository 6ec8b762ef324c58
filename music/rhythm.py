"""Where a sung line's syllables fall in time, so stressed syllables land on strong beats.

A line owns a window of ``slots`` strong beats (``spacing`` beats apart: 2 in 4/4, a bar in 3/4).
Each stressed syllable opens a foot that starts on a strong beat; the unstressed syllables after it
run up to the next foot. Unstressed syllables before the first stress are a pickup at the end of the
first slot. The planner (user lyrics), the lyric writer (fit checks) and the melody share this.
"""

from __future__ import annotations

import math

MAX_PER_SLOT = 4  # syllables a slot holds at eighth-note pace in 4/4


def feet(stresses: list[int]) -> tuple[int, list[list[int]]]:
    """``(pickup count, feet)``: each foot lists syllable indices, starting at a primary stress."""
    strong = [i for i, s in enumerate(stresses) if s == 1] or [0]
    bounds = strong + [len(stresses)]
    return strong[0], [list(range(a, b)) for a, b in zip(bounds, bounds[1:])]


def slots_needed(stresses: list[int]) -> int:
    """Fewest strong-beat slots the line fits in at eighth-note pace (pickup slot included)."""
    pickups, groups = feet(stresses)
    return (1 if pickups else 0) + sum(max(1, math.ceil(len(f) / MAX_PER_SLOT)) for f in groups)


def _allocate(groups: list[list[int]], available: int) -> list[int]:
    alloc = [1] * len(groups)
    extra = available - len(groups)
    while extra > 0 and max(len(f) / a for f, a in zip(groups, alloc)) > 2:
        densest = max(range(len(groups)), key=lambda k: (len(groups[k]) / alloc[k], k))
        alloc[densest] += 1
        extra -= 1
    k = 0
    while extra > 0:
        alloc[k % len(groups)] += 1
        extra -= 1
        k += 1
    return alloc


def _unit(count: int, span: float) -> float:
    for unit in (1.0, 0.5, 0.25):
        if count * unit <= span - unit + 1e-9:
            return unit
    return span / (count + 1)


def layout_line(stresses: list[int], slots: int, spacing: float, breath: float = 0.5) -> list[tuple[float, float]] | None:
    """``(onset, beats)`` per syllable relative to the window start, or None if the line cannot fit."""
    if not stresses:
        return []
    pickups, groups = feet(stresses)
    first = 1 if pickups else 0
    available = slots - first
    if len(groups) > available:
        return None
    onsets: list[float] = []
    if pickups:
        unit = 0.5 if pickups * 0.5 <= spacing else spacing / pickups
        onsets += [spacing - (pickups - j) * unit for j in range(pickups)]
    start = first * spacing
    for group, alloc in zip(groups, _allocate(groups, available)):
        span = alloc * spacing
        rest = len(group) - 1
        unit = _unit(rest, span) if rest else span
        onsets.append(start)
        onsets += [start + span - (rest - j) * unit for j in range(rest)]
        start += span
    end = slots * spacing
    durations = [b - a for a, b in zip(onsets, onsets[1:])]
    durations.append(max(min(end - onsets[-1] - breath, 4 * spacing), min(0.5, end - onsets[-1])))
    return list(zip(onsets, durations))


def fits(stresses: list[int], slots: int) -> bool:
    """Whether a generated line fits its window at eighth-note pace or slower."""
    return slots_needed(stresses) <= slots
