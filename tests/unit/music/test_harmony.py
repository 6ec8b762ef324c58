"""Harmony stage: chords cover every bar, cadences close sections, choruses share chords, smooth leading."""

import pytest

from music.genres import blend
from music.plan import total_beats
from music.theory import movement, parse_roman
from tests.unit.music.symbolic_songs import SONGS, song


@pytest.mark.parametrize("name", list(SONGS))
def test_chords_cover_every_bar(name):
    ctx = song(name)
    chords = [c for s in ctx.harmony.sections for c in s.chords]
    assert chords[0].start_beat == 0
    for a, b in zip(chords, chords[1:]):
        assert abs(a.start_beat + a.beats - b.start_beat) < 1e-9
    assert abs(chords[-1].start_beat + chords[-1].beats - total_beats(ctx.plan)) < 1e-9
    assert [s.section for s in ctx.harmony.sections] == [f.name for f in ctx.plan.form]


def test_cadences_and_repeated_choruses():
    ctx = song("pop-happy")
    sections = {s.section: s for s in ctx.harmony.sections}
    last = ctx.harmony.sections[-1]
    assert last.cadence == "authentic"
    tonic = parse_roman("i" if ctx.plan.mode in ("minor", "dorian") else "I", ctx.plan.key)[1]
    assert last.chords[-1].root == tonic
    choruses = [s for name, s in sections.items() if name.startswith("chorus")]
    assert len({tuple(c.symbol for c in s.chords) for s in choruses}) == 1
    for f, s in zip(ctx.plan.form, ctx.harmony.sections):
        if s.cadence == "half":
            assert s.chords[-1].root == (parse_roman("V", ctx.plan.key)[1])


def _root_position(chord):
    pcs = sorted({(p - chord.root) % 12 for p in chord.pitches})
    return [48 + chord.root + pc for pc in pcs]


def test_smooth_voice_leading():
    for name in SONGS:
        chords = [c for s in song(name).harmony.sections for c in s.chords]
        moves = [movement(a.pitches, b.pitches) for a, b in zip(chords, chords[1:])]
        naive = [movement(_root_position(a), _root_position(b)) for a, b in zip(chords, chords[1:])]
        assert sum(moves) / len(moves) <= 5.0, name
        assert sum(moves) <= 0.6 * sum(naive), name


def test_vocabulary_comes_from_the_blend():
    ctx = song("pop-funk")
    b = blend(ctx.plan.genres, ctx.plan.seed)
    family = "minor" if ctx.plan.mode in ("minor", "dorian") else "major"
    allowed = {parse_roman(n, ctx.plan.key)[0] for p, _ in b.progressions[family] for n in p}
    allowed |= {parse_roman(n, ctx.plan.key)[0] for n in ("I", "i", "V", "V7", "IV", "iv", "Imaj7", "i7")}
    assert {c.symbol for s in ctx.harmony.sections for c in s.chords} <= allowed
