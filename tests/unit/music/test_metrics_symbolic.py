"""Symbolic quality metrics on the fixed-seed songs, and that each metric notices what it measures."""

import pytest

from composition.models import LyricLine, LyricsSection, SectionLyrics
from music.metrics_symbolic import (
    melody_in_key,
    planned_energy,
    rhyme_adherence,
    stress_on_strong_beats,
    syllable_alignment,
    symbolic_metrics,
)
from music.phonetics import line_syllables
from tests.unit.music.symbolic_songs import INSTRUMENTAL, SUNG, song, user_song


@pytest.mark.parametrize("name", SUNG)
def test_sung_songs_meet_the_bar(name):
    m = symbolic_metrics(song(name))
    assert m.melody_in_key >= 0.95
    assert m.syllable_alignment == 1.0
    assert m.stress_on_strong_beats >= 0.90
    assert m.rhyme_adherence >= 0.90
    assert m.duration_error <= 0.05


@pytest.mark.parametrize("name", INSTRUMENTAL)
def test_instrumental_songs(name):
    m = symbolic_metrics(song(name))
    assert m.melody_in_key >= 0.95 and m.duration_error <= 0.05
    assert m.syllable_alignment is None and m.stress_on_strong_beats is None and m.rhyme_adherence is None


def test_user_lyrics_song():
    m = symbolic_metrics(user_song())
    assert m.syllable_alignment == 1.0 and m.stress_on_strong_beats >= 0.9 and m.melody_in_key >= 0.95


def test_metrics_notice_faults():
    ctx = song("pop-happy")
    notes = ctx.melody.notes
    dropped = ctx.melody.model_copy(update={"notes": notes[1:]})
    assert syllable_alignment(ctx.lyrics, dropped) < 1.0
    shifted = ctx.melody.model_copy(update={"notes": [n.model_copy(update={"start_beat": n.start_beat + 0.5}) for n in notes]})
    assert stress_on_strong_beats(ctx.plan, ctx.lyrics, shifted) < 0.2
    sharp = ctx.melody.model_copy(update={"notes": [n.model_copy(update={"pitch": n.pitch + 1}) for n in notes]})
    assert melody_in_key(ctx.plan, sharp) < 0.8
    bad = LyricsSection(source="user", sections=[SectionLyrics(section="verse1", rhyme_scheme="AA", lines=[
        LyricLine(text=t, syllables=line_syllables(t), rhyme="A") for t in ("into the night", "under the stone")])])
    assert rhyme_adherence(bad) == 0.0


def test_planned_energy_spans_the_song():
    ctx = song("folk-lofi")
    spans = planned_energy(ctx.plan)
    assert [s.section for s in spans] == [f.name for f in ctx.plan.form]
    assert spans[0].start_s == 0 and abs(spans[-1].end_s - ctx.plan.duration_s) < 0.01
    assert all(a.end_s == b.start_s for a, b in zip(spans, spans[1:]))
