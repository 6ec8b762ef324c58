"""Sung word error rate: scoring, the sung text, and - where the recogniser (the asr extra) and flite
are installed - a short song with a user's own lyrics per voice understood to WER <= 0.10."""

from __future__ import annotations

import numpy as np
import pytest

from composition.models import VOICES, CompositionRequest, GenreWeight, Mood
from music import intelligibility as asr
from music.audio import SAMPLE_RATE
from music.engine import SYMBOLIC_STAGES, compose
from music.vocals import VOICE_PROFILES, sung_notes, vocal_duration_s, vocal_style
from music.vocals.flite import flite_available, sing_flite
from storage.local import LocalArtifactStore

needs_recogniser = pytest.mark.skipif(not (asr.recogniser_available() and flite_available()),
                                      reason="needs the asr extra (faster-whisper + whisper tiny.en) and flite")

LYRICS = """I walked along the river when the morning light was new
The water carried every word I never said to you

And all the bridges that we burned are shining in the rain
I keep the little things you gave and call them by your name
"""


def test_word_error_rate_counts_edits_on_normalised_words():
    assert asr.word_error_rate("Hold on, hold on!", "hold on hold on") == 0.0
    assert asr.word_error_rate("I don't know", "i dont know") == 0.0
    assert asr.word_error_rate("a b c d", "a x c") == pytest.approx(0.5)  # one substitution, one deletion
    assert asr.word_error_rate("a b", "a b c d") == pytest.approx(1.0)  # two insertions
    with pytest.raises(ValueError, match="reference"):
        asr.word_error_rate("...", "words")


def test_normalise():
    assert asr.normalise("Rock-and-roll, DON’T stop 2 times") == ["rock", "and", "roll", "dont", "stop", "2", "times"]


def test_sung_text_repeats_a_line_each_time_it_is_sung(tmp_path):
    request = CompositionRequest(mood=Mood.from_label("calm"), theme="home", duration_s=40, seed=1,
                                 genres=[GenreWeight(genre="ballad", weight=1.0)], lyrics=LYRICS)
    ctx = compose(request, LocalArtifactStore(tmp_path), "t", only=SYMBOLIC_STAGES).context
    text = asr.sung_text(sung_notes(ctx))
    sung_lines = [(n.line_key) for n in sung_notes(ctx) if n.syllable_index == 0]
    assert len(text.splitlines()) == len(sung_lines)
    assert text.splitlines()[0] == "I walked along the river when the morning light was new"


def test_sung_chunks_keep_only_the_sung_stretches():
    vocal = np.zeros(10 * SAMPLE_RATE, dtype=np.float32)
    chunks = asr.sung_chunks(vocal, SAMPLE_RATE, [(1.0, 2.0), (5.0, 5.5)], gap_s=0.3)
    assert len(chunks) == 1 and len(chunks[0]) == int((1.0 + 0.3 + 0.5 + 0.3) * asr.ASR_RATE)
    assert len(asr.sung_chunks(vocal, SAMPLE_RATE, [(0.0, 4.0), (5.0, 9.0)], longest_s=5.0)) == 2


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="unknown recogniser model 'large'"):
        asr.load("large")


@needs_recogniser
@pytest.mark.parametrize("voice", VOICES)
def test_user_lyrics_are_understood_in_every_voice(tmp_path, voice):
    request = CompositionRequest(mood=Mood.from_label("calm"), theme="home", duration_s=40, seed=1, voice=voice,
                                 genres=[GenreWeight(genre="ballad", weight=1.0)], lyrics=LYRICS)
    ctx = compose(request, LocalArtifactStore(tmp_path), "t", only=SYMBOLIC_STAGES).context
    notes = sung_notes(ctx)
    profile = VOICE_PROFILES[voice]
    audio = sing_flite(notes, profile, vocal_style(ctx.plan.genres, profile), vocal_duration_s(ctx), SAMPLE_RATE)
    wer, transcript, reference = asr.sung_word_error(notes, audio, SAMPLE_RATE, "tiny.en")
    assert wer <= 0.10, f"{voice}: WER {wer:.3f}\nlyrics: {reference}\nheard:  {transcript}"
