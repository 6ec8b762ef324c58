"""Where transitions go (pure: analyses without audio)."""

from __future__ import annotations

from composition.models import FormSection
from composition.sets import SetOrderSection, SetRequest, TrackAnalysis
from music.dj.plan import overlap_bars, phrase_starts, placements, plan_transitions, set_tempo
from tests.unit.music.dj.tracks import set_track


def form(*bars: int) -> list[FormSection]:
    kinds = ["intro", "verse", "chorus", "outro"]
    return [FormSection(name=f"s{i}", kind=kinds[min(i, 3)], bars=b, energy=0.5, vocals=False) for i, b in enumerate(bars)]


def analysis(track, tempo: float, first: float = 0.0) -> TrackAnalysis:
    return TrackAnalysis(composition_id=track.composition_id, tempo_bpm=tempo, key=track.key, mode=track.mode,
                         camelot="8B", downbeats_s=[first + i * 240 / tempo for i in range(4)], duration_s=track.duration_s)


def test_phrases_start_at_sections_and_every_overlap_into_them():
    track = set_track(120, "C", "major", 30, "a").model_copy(update={"form": form(1, 4, 8, 2)})
    assert phrase_starts(track, 15, 4) == [0, 1, 5, 9, 13]


def test_a_short_song_gets_a_shorter_phrase_of_overlap():
    assert overlap_bars(8, [30, 40]) == 8 and overlap_bars(8, [15, 40]) == 4 and overlap_bars(8, [5]) == 1


def test_the_set_tempo_is_the_median_with_half_and_double_time_folded():
    tracks = [set_track(t, "C", "major", 30, str(t)) for t in (124, 62, 128)]
    assert set_tempo([analysis(t, t.tempo_bpm) for t in tracks], None) == 124
    assert set_tempo([analysis(t, t.tempo_bpm) for t in tracks], 100.0) == 100


def test_the_outgoing_song_leaves_on_its_last_phrase_and_the_next_lands_on_its_downbeat():
    a = set_track(120, "C", "major", 30, "a").model_copy(update={"form": form(1, 4, 8, 2)})
    b = set_track(126, "A", "minor", 30, "b").model_copy(update={"form": form(2, 4, 6, 3)})
    found = [analysis(a, 120, first=0.01), analysis(b, 126, first=-0.004)]
    request = SetRequest(tracks=[a, b], transition_bars=4, order="given")
    order = SetOrderSection(order=[0, 1])
    plan = plan_transitions(request, found, order)
    (t,) = plan.transitions
    assert plan.tempo_bpm == 123  # the median of 120 and 126
    assert abs(t.out_start_s - (0.01 + 9 * 2.0)) < 1e-9  # bar 9: the last phrase start leaving 4 bars
    assert abs(t.overlap_s - 4 * 2.0 / (123 / 120)) < 1e-9 and abs(t.eq_swap_s - t.overlap_s / 2) < 1e-9
    first, second = placements(request, found, order, plan)
    cue = first.offset_s + t.out_start_s / first.ratio
    assert abs(second.offset_s + found[1].downbeats_s[0] / second.ratio - cue) < 1e-9  # downbeat on downbeat
