"""Vocals stage, flite singer: flite speaks each whole line, its phones are aligned to the
syllables, WORLD sings every syllable on its note, in each of the four voices.

The singing tests need the flite program and are skipped without it; the alignment tests are pure.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from composition.models import VOICES, LyricLine, Syllable
from music.audio import read_audio
from music.errors import StageError
from music.metrics_audio import (
    pitch_track,
    vocal_onset_error_ms,
    vocal_pitch_error_cents,
)
from music.vocals import providers, sung_notes
from music.vocals.align import Phone, align, parse_flite_segments, syllable_spans
from music.vocals.flite import FliteWorldSinger, flite_available, line_text, spoken_line
from storage.local import LocalArtifactStore
from tests.unit.music.audio_songs import tiny_context

needs_flite = pytest.mark.skipif(not flite_available(), reason="flite is not installed")


@pytest.fixture()
def store(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")


def _sing(store, namespace, **song):
    ctx = tiny_context(store, namespace, **song)
    section = FliteWorldSinger().run(ctx, store, namespace)
    audio, rate = read_audio(store, section.audio)
    return ctx, section, audio[:, 0], rate


@needs_flite
@pytest.mark.parametrize("voice", VOICES)
def test_sings_every_voice_on_pitch_and_on_time(store, voice):
    ctx, section, audio, rate = _sing(store, f"s-{voice}", voice=voice)
    assert section.voice == voice and section.audio.name == "vocals.wav"
    notes = [(n.pitch, n.start_s, n.end_s) for n in sung_notes(ctx)]
    assert vocal_pitch_error_cents(audio, rate, notes) <= 15.0
    onset_ms, heard = vocal_onset_error_ms(audio, rate, notes)
    assert onset_ms <= 30.0 and heard >= 0.6
    for pitch, start, end in notes:  # every note sounds through its middle
        middle = audio[int((start + 0.4 * (end - start)) * rate):int((start + 0.6 * (end - start)) * rate)]
        assert np.abs(middle).max() > 0.01


@needs_flite
def test_vocals_are_deterministic(store):
    first = _sing(store, "a", genres={"funk": 1.0})[1].audio.sha256
    spoken_line.cache_clear()  # speak every line again: flite itself must be deterministic
    assert _sing(store, "b", genres={"funk": 1.0})[1].audio.sha256 == first


@needs_flite
def test_voices_differ_in_timbre_not_only_pitch(store):
    tenor, baritone = _sing(store, "t", voice="tenor"), _sing(store, "b", voice="baritone")
    f0 = [np.median(f[f > 0]) for f in (pitch_track(tenor[2], tenor[3])[1], pitch_track(baritone[2], baritone[3])[1])]
    assert abs(1200 * np.log2(f0[0] / f0[1])) < 20  # the same notes ...
    assert formant_shift(baritone[2], tenor[2], tenor[3]) == pytest.approx(0.93, abs=0.03)  # a longer tract


def formant_shift(audio: np.ndarray, reference: np.ndarray, rate: int) -> float:
    """The frequency ratio that best lines up ``audio``'s long-term spectrum (300 Hz - 4 kHz, on a
    log-frequency axis) with ``reference``'s."""
    from scipy.signal import welch

    grid = np.geomspace(300, 4000, 400)
    curves = []
    for x in (audio, reference):
        freqs, power = welch(x, rate, nperseg=256)  # 170 Hz bands: the envelope, not the harmonics
        curve = np.interp(np.log(grid), np.log(freqs[1:]), 10 * np.log10(power[1:] + 1e-20))
        curves.append(curve - curve.mean())
    ratios = np.arange(0.8, 1.2, 0.005)
    scores = [np.corrcoef(np.interp(np.log(grid), np.log(grid * r), curves[1]), curves[0])[0, 1] for r in ratios]
    return float(ratios[int(np.argmax(scores))])


@needs_flite
def test_pop_chorus_gets_a_harmony_and_funk_none(store):
    ctx = tiny_context(store, "p", genres={"pop": 1.0})
    section = FliteWorldSinger().run(ctx, store, "p")
    assert section.backing is not None and section.backing.name == "backing.wav"
    backing, rate = read_audio(store, section.backing)
    chorus = [n for n in sung_notes(ctx) if n.line_key[0] == "chorus1"]
    times, f0 = pitch_track(backing[:, 0], rate)
    for note in chorus[:3]:  # a third above the lead: 3 or 4 semitones
        mask = (times > note.start_s + 0.2 * (note.end_s - note.start_s)) & (times < note.end_s - 0.1) & (f0 > 0)
        interval = 12 * np.log2(np.median(f0[mask]) / (440 * 2 ** ((note.pitch - 69) / 12)))
        assert 2.7 < interval < 4.3
    verse_end = max(n.end_s for n in sung_notes(ctx) if n.line_key[0] == "verse1")
    assert np.abs(backing[: int((verse_end - 0.2) * rate), 0]).max() < 1e-4  # the verse stays a single voice
    assert FliteWorldSinger().run(tiny_context(store, "f", genres={"funk": 1.0}), store, "f").backing is None


def test_parse_flite_segments():
    phones = parse_flite_segments("pau:0.164 hh:0.317 ow:0.428 ax:0.5 pau:0.6 \n")
    assert [p.symbol for p in phones] == ["PAU", "HH", "OW", "AH", "PAU"]
    assert phones[1] == Phone("HH", 0.164, 0.317)
    with pytest.raises(ValueError, match="no end time"):
        parse_flite_segments("hh:x")


def test_alignment_maps_another_pronunciation_onto_our_syllables():
    # ours: "close" as CMUdict's verb (Z), flite says the adjective (S) and reduces "and" to "ax n"
    ours = [["K", "L", "OW1", "Z"], ["AE1", "N", "D"]]
    spoken = [Phone("PAU", 0, 0.1), Phone("K", 0.1, 0.18), Phone("L", 0.18, 0.25), Phone("OW", 0.25, 0.4),
              Phone("S", 0.4, 0.5), Phone("AH", 0.5, 0.55), Phone("N", 0.55, 0.6), Phone("PAU", 0.6, 0.7)]
    spans = syllable_spans(ours, spoken)
    assert [(s.start_s, s.vowel_start_s, s.vowel_end_s, s.end_s) for s in spans] == [
        (0.1, 0.25, 0.4, 0.5), (0.5, 0.5, 0.55, 0.6)]
    assert align(["K", "AE", "T"], ["K", "AE", "T"]) == [0, 1, 2]


def test_a_syllable_without_spoken_phones_is_reported():
    assert syllable_spans([["HH", "AY1"], ["OW1"]], [Phone("HH", 0, 0.1), Phone("AY", 0.1, 0.3)]) is None


def test_line_text_falls_back_to_the_words():
    line = LyricLine(text="...", rhyme="A", syllables=[Syllable(text="to", word="today", stress=0),
                                                       Syllable(text="day", word="today", stress=1),
                                                       Syllable(text="we", word="we", stress=1)])
    assert line_text(line) == "today we"


def test_registered_first_when_flite_is_installed(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: f"/usr/bin/{name}")
    assert [p.name for p in providers()][0] == "flite"


def test_missing_flite_at_run_time_lets_the_router_fall_back(store, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(StageError) as error:
        FliteWorldSinger().run(tiny_context(store, "m"), store, "m")
    assert error.value.code == "flite_missing" and error.value.retryable
