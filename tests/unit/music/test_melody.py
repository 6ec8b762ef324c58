"""Melody stage: one note per syllable, stress on strong beats, chord tones there, voice range, hook."""

import pytest

from music.harmony import chord_at
from music.theory import is_strong_beat
from music.voices import LEAD_RANGE, VOICE_RANGES
from tests.unit.music.symbolic_songs import INSTRUMENTAL, SUNG, song


@pytest.mark.parametrize("name", SUNG)
def test_notes_within_voice_range_and_chord_tones_on_strong_beats(name):
    ctx = song(name)
    low, high = VOICE_RANGES[ctx.plan.voice]
    assert (ctx.melody.low, ctx.melody.high) == (low, high) and ctx.melody.sung
    strong = [n for n in ctx.melody.notes if is_strong_beat(n.start_beat, ctx.plan.beats_per_bar)]
    assert strong
    for n in ctx.melody.notes:
        assert low <= n.pitch <= high
    tones = sum(n.pitch % 12 in {p % 12 for p in chord_at(ctx.harmony, n.start_beat).pitches} for n in strong)
    assert tones / len(strong) >= 0.95


def test_chorus_hook_repeats():
    ctx = song("pop-happy")
    starts = {}
    beat = 0.0
    for s in ctx.plan.form:
        starts[s.name] = beat
        beat += s.bars * ctx.plan.beats_per_bar
    tunes = {}
    for n in ctx.melody.notes:
        if n.section.startswith("chorus"):
            tunes.setdefault(n.section, []).append((n.pitch, round(n.start_beat - starts[n.section], 6), n.beats))
    assert len(tunes) >= 2 and len({tuple(t) for t in tunes.values()}) == 1


@pytest.mark.parametrize("name", INSTRUMENTAL)
def test_instrumental_gets_a_lead_line(name):
    melody = song(name).melody
    assert not melody.sung and len(melody.notes) > 32
    assert (melody.low, melody.high) == LEAD_RANGE
    assert all(n.line == -1 and n.syllable == -1 for n in melody.notes)


def test_notes_do_not_overlap():
    for name in SUNG + INSTRUMENTAL:
        notes = sorted(song(name).melody.notes, key=lambda n: n.start_beat)
        for a, b in zip(notes, notes[1:]):
            assert a.start_beat + a.beats <= b.start_beat + 1e-6, name
