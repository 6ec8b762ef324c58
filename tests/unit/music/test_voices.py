"""Four voices: each melody lies in its voice's range; a voice's timbre is data (a target envelope
plugs in); the backing vocal follows the genre; the sung-onset metric measures what it says; a held vowel keeps its onset's speed and the
legato pitch arrives with the vowel."""

from __future__ import annotations

import numpy as np
import pytest

from composition.models import VOICES, CompositionRequest, GenreWeight, Mood, Syllable
from music.engine import SYMBOLIC_STAGES, compose
from music.metrics_audio import note_onsets_s
from music.vocals import VOICE_PROFILES, sung_notes, vocal_style
from music.vocals.backing import backing_kind, backing_notes
from music.vocals.style import SungNote, VoiceProfile, scale_from_formants
from music.vocals.world import (
    GLIDE_LEAD,
    HOP_S,
    VOWEL_END,
    VOWEL_ONSET,
    Analysis,
    Placement,
    _f0_frames,
    shape_timbre,
    vowel_map,
)
from music.voices import VOICE_RANGES
from storage.local import LocalArtifactStore


def _song(tmp_path, voice: str, genres: dict[str, float]):
    request = CompositionRequest(mood=Mood.from_label("happy"), theme="a summer road trip", duration_s=45, seed=2,
                                 voice=voice, genres=[GenreWeight(genre=g, weight=w) for g, w in genres.items()])
    return compose(request, LocalArtifactStore(tmp_path), voice, only=SYMBOLIC_STAGES).context


def test_every_voice_has_a_profile_and_the_melody_sits_in_its_range(tmp_path):
    assert set(VOICE_PROFILES) == set(VOICES) == set(VOICE_RANGES) and len(VOICES) >= 4
    means = {}
    for voice in VOICES:
        ctx = _song(tmp_path, voice, {"pop": 1.0})
        low, high = VOICE_RANGES[voice]
        pitches = [n.pitch for n in ctx.melody.notes]
        assert low <= min(pitches) and max(pitches) <= high, voice
        means[voice] = np.mean(pitches)
    assert means["soprano"] > means["alto"] > means["tenor"] > means["baritone"]


def test_voice_timbre_and_vibrato_are_profile_data():
    soprano, baritone = VOICE_PROFILES["soprano"], VOICE_PROFILES["baritone"]
    assert soprano.formant_scale > VOICE_PROFILES["alto"].formant_scale > VOICE_PROFILES["tenor"].formant_scale \
        > baritone.formant_scale
    pop = [GenreWeight(genre="pop", weight=1.0)]
    for voice in (soprano, baritone):  # the profile scales the genre's vibrato
        assert vocal_style(pop, voice).vibrato_cents == pytest.approx(vocal_style(pop).vibrato_cents * voice.vibrato_depth)
    assert soprano.breath_from_hz < baritone.breath_from_hz  # a high voice's breath fills in its sparse harmonics
    assert scale_from_formants((550.0, 1650.0, 2750.0)) == pytest.approx(1.1)
    with pytest.raises(ValueError, match="positive formant"):
        scale_from_formants(())


def test_a_target_envelope_plugs_in(tmp_path):
    """A profile carrying a target long-term envelope (as one measured from a user's recording
    would) pulls the speaker's average envelope towards it."""
    rate, bins, frames = 16000, 257, 40
    freqs = np.arange(bins) * rate / (2 * (bins - 1))
    flat = Analysis(f0=np.full(frames, 200.0), sp=np.ones((frames, bins), np.float32),
                    ap=np.zeros((frames, bins), np.float32), rate=rate)
    target = ((300.0, 0.0), (1000.0, 0.0), (3000.0, -10.0), (8000.0, -10.0))
    shaped = shape_timbre(flat, 1.0, 0.0, target)
    level = 10 * np.log10(shaped.sp.mean(axis=0))
    assert level[np.searchsorted(freqs, 4000)] - level[np.searchsorted(freqs, 700)] == pytest.approx(-10.0, abs=1.0)
    profile = VoiceProfile("mine", 55, 72, formant_scale=scale_from_formants((560.0, 1700.0, 2800.0)), tilt=1.2,
                           breath=0.1, envelope=target)
    assert profile.envelope == target and hash(profile)  # hashable: the singers cache per voice


def test_formant_warp_moves_the_envelope():
    rate, bins = 16000, 513
    freqs = np.arange(bins) * rate / (2 * (bins - 1))
    peak = np.exp(-((freqs - 1000.0) / 100.0) ** 2)[None, :].astype(np.float32) + 1e-6
    analysis = Analysis(f0=np.array([200.0]), sp=peak, ap=np.zeros_like(peak), rate=rate)
    for warp in (0.9, 1.2):
        moved = shape_timbre(analysis, warp, 0.0).sp[0]
        assert freqs[np.argmax(moved)] == pytest.approx(1000.0 * warp, abs=20.0)


def test_backing_follows_the_genre(tmp_path):
    assert backing_kind([GenreWeight(genre="pop", weight=1.0)]) == "harmony"
    assert backing_kind([GenreWeight(genre="rock", weight=0.6), GenreWeight(genre="pop", weight=0.4)]) == "double"
    assert backing_kind([GenreWeight(genre="funk", weight=0.7), GenreWeight(genre="pop", weight=0.3)]) == "none"
    ctx = _song(tmp_path, "alto", {"pop": 1.0})
    notes = sung_notes(ctx)
    voice = VOICE_PROFILES["alto"]
    harmony = backing_notes(notes, ctx.plan, voice, "harmony")
    choruses = {s.name for s in ctx.plan.form if s.kind == "chorus"}
    lead = [n for n in notes if n.line_key[0] in choruses]
    assert harmony and len(harmony) == len(lead)
    for h, n in zip(harmony, lead):
        assert (h.pitch - n.pitch) in (3, 4) or (n.pitch - h.pitch) in (8, 9)  # a third above or a sixth below
        assert h.pitch <= voice.high + 2 and h.syllable == n.syllable
    double = backing_notes(notes, ctx.plan, voice, "double")
    assert [d.pitch for d in double] == [n.pitch for n in lead]
    assert all(d.start_s > n.start_s for d, n in zip(double, lead))
    assert backing_notes(notes, ctx.plan, voice, "none") == []


def test_onset_metric_finds_vowels_after_consonants_and_rests():
    rate = 44100
    t = np.arange(int(3.0 * rate)) / rate
    notes = [(69, 0.5, 1.0), (72, 1.0, 1.5), (72, 2.0, 2.5)]
    audio = np.zeros_like(t)
    for pitch, start, end in notes:  # each note's tone starts 20 ms late, after a noise "consonant"
        f = 440 * 2 ** ((pitch - 69) / 12)
        tone = (t >= start + 0.02) & (t < end - 0.02)
        audio[tone] = 0.5 * np.sin(2 * np.pi * f * t[tone])
        burst = (t >= start - 0.05) & (t < start + 0.02)
        audio[burst] = 0.05 * np.random.default_rng(0).standard_normal(burst.sum())
    onsets = note_onsets_s(audio, rate, notes)
    assert all(o is not None and abs(o - (n[1] + 0.02)) <= 0.015 for o, n in zip(onsets, notes))


def test_onset_metric_stays_on_time_late_in_a_song():
    """At 44.1 kHz a 5 ms frame is 220.5 samples; the level frames must not drift from the pitch
    track's (a hop rounded to 220 samples put them 115 ms late at 50 s)."""
    rate = 44100
    t = np.arange(int(62.0 * rate)) / rate
    notes = [(69, start, start + 0.5) for start in (5.0, 30.0, 60.0)]
    audio = np.zeros_like(t)
    for pitch, start, end in notes:  # a quiet tone at the pitch, then the loud vowel on the note
        lead = (t >= start - 0.06) & (t < start)
        audio[lead] = 0.02 * np.sin(2 * np.pi * 440 * t[lead])
        tone = (t >= start) & (t < end)
        audio[tone] = 0.5 * np.sin(2 * np.pi * 440 * t[tone])
    onsets = note_onsets_s(audio, rate, notes)
    assert all(o is not None and abs(o - n[1]) <= 0.01 for o, n in zip(onsets, notes))


def test_a_held_vowel_keeps_its_onset_at_spoken_speed():
    """The consonant-vowel transition (the vowel's first quarter) is played at its spoken speed on a
    long note, the steady part is stretched, the end glides late; a note no longer than the spoken
    vowel is compressed evenly."""
    spoken = 20
    held = vowel_map(200, spoken)
    assert np.all(np.diff(held) > 0) and 0 < held[0] and held[-1] < 1
    onset_frames = int(np.argmax(held >= VOWEL_ONSET))
    assert abs(onset_frames - VOWEL_ONSET * spoken) <= 1  # 5 frames spoken -> 5 frames sung
    assert held[int(0.7 * 200)] < 1 - VOWEL_END + 0.01  # still in the steady part at 70%
    short = vowel_map(10, spoken)
    assert np.allclose(np.diff(short), 0.1)


def test_legato_pitch_arrives_with_the_vowel():
    """A legato note's onset consonants start at the previous pitch; the glide to the new pitch ends
    as the vowel starts, so the note is heard where its vowel is."""
    style = vocal_style([GenreWeight(genre="pop", weight=1.0)])
    prev = SungNote(0, 60, 0.0, 0.5, 100, Syllable(text="la", word="la", stress=1, phonemes=["L", "AA1"]), False)
    note = SungNote(1, 64, 0.5, 1.0, 100, Syllable(text="ma", word="ma", stress=1, phonemes=["M", "AA1"]), False)
    at = Placement(lead_in=90, vowel=100, coda=190, end=200)
    f0 = _f0_frames(note, prev, at, style)
    cents = 1200 * np.log2(f0 / (440 * 2 ** ((64 - 69) / 12)))
    assert cents[0] <= -390  # the consonant's start: the previous note's pitch
    lead = int(GLIDE_LEAD * style.portamento_s / HOP_S)
    assert np.all(cents[:10 - lead] <= -390)
    arrived = 10 + int(np.ceil((1 - GLIDE_LEAD) * style.portamento_s / HOP_S))
    assert np.all(np.abs(cents[arrived:10 + 40]) < 1)
