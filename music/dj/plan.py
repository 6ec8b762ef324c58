"""Where each transition of a set goes, and how fast the set plays.

The set plays at one tempo: the request's ``target_bpm``, else the median of the songs' tempos (each
folded by half or double time towards it). Every song is stretched to it, so beats stay together
through a whole overlap once one downbeat of each song is placed on the other's. A transition starts
on a phrase boundary of the outgoing song - the last one (a section's start, or a whole number of
overlaps into a section) that leaves the overlap's bars before its end - and the incoming song's first
downbeat lands there. The overlap is
``transition_bars`` bars, fewer for songs too short to hold two overlaps and their own middle (a
phrase of 1, 2, 4, 8 or 16 bars); the bass changes hands at the downbeat halfway through.

Times named ``*_start_s`` are in the song's own (unstretched) seconds; ``overlap_s`` and
``eq_swap_s`` (after the overlap's start) are in the set's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from composition.sets import SetOrderSection, SetRequest, SetTrack, SetTransitionsSection, TrackAnalysis, Transition

PHRASES = (16, 8, 4, 2, 1)


def fold(tempo: float, towards: float) -> float:
    """``tempo`` at half, single or double time, whichever is nearest ``towards``."""
    return min((tempo * f for f in (0.5, 1.0, 2.0)), key=lambda t: abs(np.log(towards / t)))


def set_tempo(analyses: Sequence[TrackAnalysis], target_bpm: float | None) -> float:
    if target_bpm is not None:
        return float(target_bpm)
    median = float(np.median([a.tempo_bpm for a in analyses]))
    return float(np.median([fold(a.tempo_bpm, median) for a in analyses]))


def stretch_ratio(analysis: TrackAnalysis, tempo_bpm: float) -> float:
    """How much faster the song plays in the set (pedalboard's ``stretch_factor``: 1.1 is 10 % faster)."""
    return tempo_bpm / fold(analysis.tempo_bpm, tempo_bpm)


def bar_s(analysis: TrackAnalysis, track: SetTrack) -> float:
    """One bar in the song's own seconds."""
    return track.beats_per_bar * 60.0 / analysis.tempo_bpm


def bars_of(analysis: TrackAnalysis, track: SetTrack) -> int:
    """How many bars the song has: its form's, else as many as its audio holds."""
    if track.form:
        return sum(s.bars for s in track.form)
    return max(1, int((analysis.duration_s - analysis.downbeats_s[0]) / bar_s(analysis, track)))


def phrase_starts(track: SetTrack, total: int, bars: int) -> list[int]:
    """The bars where a phrase of ``bars`` starts: each section's start and every ``bars`` into it (every
    ``bars`` from the start for a song without a form)."""
    if not track.form:
        return list(range(0, total, bars))
    starts = [0, *itertools.accumulate(s.bars for s in track.form)]
    return [bar for start, end in itertools.pairwise(starts) for bar in range(start, end, bars)]


def overlap_bars(requested: int, songs: Sequence[int]) -> int:
    """``requested`` bars, or the longest phrase that fits three times into the shortest song."""
    room = max(1, min(songs) // 3)
    return requested if requested <= room else next(p for p in PHRASES if p <= room)


@dataclass(frozen=True)
class Placement:
    """Where one song sits in the set: set time = ``offset_s`` + own time / ``ratio``."""

    offset_s: float
    ratio: float
    play_from_s: float  # own time: where it starts sounding
    play_to_s: float  # own time: where it has faded out


def anchor_s(analysis: TrackAnalysis, track: SetTrack, bar: int) -> float:
    """The downbeat of ``bar`` (0-based) in the song's own seconds."""
    return analysis.downbeats_s[0] + bar * bar_s(analysis, track)


def plan_transitions(request: SetRequest, analyses: Sequence[TrackAnalysis], order: SetOrderSection) -> SetTransitionsSection:
    tempo = set_tempo(analyses, request.target_bpm)
    tracks = [request.tracks[i] for i in order.order]
    found = [analyses[i] for i in order.order]
    totals = [bars_of(a, t) for a, t in zip(found, tracks)]
    bars = overlap_bars(request.transition_bars, totals)
    transitions = []
    for position, ((a, ta), (b, tb)) in enumerate(itertools.pairwise(zip(found, tracks))):
        total = totals[position]
        latest = total - bars
        earliest = min(latest, bars)  # after the song's own incoming overlap
        candidates = [k for k in phrase_starts(ta, total, bars) if earliest <= k <= latest]
        out_bar = max(candidates) if candidates else latest
        ratio_a = stretch_ratio(a, tempo)
        overlap = bars * bar_s(a, ta) / ratio_a
        transitions.append(Transition(
            out_index=position, out_start_s=max(0.0, anchor_s(a, ta, out_bar)),
            in_start_s=max(0.0, anchor_s(b, tb, 0)), overlap_s=overlap, stretch_ratio=stretch_ratio(b, tempo),
            eq_swap_s=(bars // 2) * bar_s(a, ta) / ratio_a))
    return SetTransitionsSection(transitions=transitions, tempo_bpm=tempo)


def placements(request: SetRequest, analyses: Sequence[TrackAnalysis], order: SetOrderSection,
               plan: SetTransitionsSection) -> list[Placement]:
    """Each song's place in the set, in playing order: every incoming first downbeat on the outgoing
    song's transition downbeat (the exact downbeats, not the clamped ones the plan shows)."""
    tracks = [request.tracks[i] for i in order.order]
    found = [analyses[i] for i in order.order]
    ratios = [stretch_ratio(a, plan.tempo_bpm) for a in found]
    offsets, starts = [0.0], [0.0]
    ends = []
    for t, b, tb in zip(plan.transitions, found[1:], tracks[1:]):
        cue = offsets[-1] + t.out_start_s / ratios[len(offsets) - 1]
        ends.append(t.out_start_s + t.overlap_s * ratios[len(offsets) - 1])
        anchor = anchor_s(b, tb, 0)
        offsets.append(cue - anchor / ratios[len(offsets)])
        starts.append(max(0.0, anchor))
    ends.append(found[-1].duration_s)
    return [Placement(o, r, s, e) for o, r, s, e in zip(offsets, ratios, starts, ends)]
