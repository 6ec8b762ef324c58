"""The voice analysis on synthesised recordings of known pitch, formants and vibrato: what it
measures, each named refusal, and the singer taking a measured profile on."""

from __future__ import annotations

import numpy as np
import pytest

from composition.models import CompositionContext
from music.errors import StageError
from music.vocals.profile_voice import nearest_stock_voice, profile_voice
from music.vocals.style import sung_notes
from music.voiceprint.analyse import analyse
from music.voiceprint.measure import hz_to_midi
from music.voiceprint.preview import preview_context
from music.voiceprint.recording import check_upload, prepare
from tests.unit.music.voice_signals import RATE, flac, two_voices, voice, wav


@pytest.fixture(scope="module")
def a3_voice():
    return analyse(prepare(flac(voice(220.0, 8.0, vibrato=(5.5, 40.0)))))


def test_pitch_formants_and_vibrato_are_measured(a3_voice):
    profile = a3_voice.profile
    # the phrase's steps (0 2 4 5 7 5 4 2 semitones) above 220 Hz: median step 4, so ~277 Hz
    assert profile.f0_median_hz == pytest.approx(220 * 2 ** (4 / 12), rel=0.04)
    assert profile.f0_low_hz == pytest.approx(220, rel=0.05) and profile.f0_high_hz == pytest.approx(330, rel=0.06)
    assert profile.range_low <= round(hz_to_midi(220)) and profile.range_high >= round(hz_to_midi(330))
    f1, f2, f3 = profile.formants_hz
    assert f1 == pytest.approx(700, rel=0.12) and f2 == pytest.approx(1200, rel=0.1) and f3 == pytest.approx(2600, rel=0.1)
    assert profile.vibrato_rate_hz == pytest.approx(5.5, abs=0.5)
    assert 25 <= profile.vibrato_depth_cents <= 60
    assert profile.tilt_db_per_octave < -3 and 0 < profile.brightness < 1
    assert len(profile.envelope_hz) == len(profile.envelope_db) > 20
    assert a3_voice.duration_s == pytest.approx(8.0, abs=0.3) and a3_voice.voiced_share > 0.7


def test_breath_and_no_vibrato_are_told_apart():
    plain = analyse(prepare(wav(voice(150.0, 7.0, vibrato=(5.0, 0.0), breath=0.02)))).profile
    breathy = analyse(prepare(wav(voice(150.0, 7.0, vibrato=(5.0, 0.0), breath=0.25)))).profile
    assert plain.vibrato_rate_hz == 0 and plain.vibrato_depth_cents == 0
    assert breathy.breathiness > plain.breathiness + 0.05


@pytest.mark.parametrize(("make", "code"), [
    (lambda: b"this is not audio at all" * 100, "not_audio"),
    (lambda: wav(voice(220.0, 3.0)), "too_short"),
    (lambda: wav(np.zeros(RATE * 8)), "mostly_silence"),
    (lambda: wav(np.concatenate([voice(220.0, 6.0), np.zeros(RATE * 20)])), "mostly_silence"),
    (lambda: wav(np.clip(8 * voice(220.0, 8.0), -1, 1)), "clipped"),
    (lambda: wav(0.2 * np.random.default_rng(1).standard_normal(RATE * 8)), "no_voiced_frames"),
    (lambda: wav(two_voices(8.0)), "several_voices"),
])
def test_each_refusal_names_the_problem(make, code):
    with pytest.raises(StageError) as caught:
        analyse(prepare(make()))
    assert caught.value.code == code and not caught.value.retryable
    assert caught.value.message


def test_too_long_after_trimming():
    with pytest.raises(StageError, match="too_long"):
        prepare(wav(np.tile(voice(200.0, 10.0), 13)))


def test_the_upload_check_reads_the_header_only():
    upload = check_upload(wav(voice(220.0, 6.0)))
    assert upload.duration_s == pytest.approx(6.0, abs=0.01) and upload.format == "WAV"
    assert check_upload(flac(voice(220.0, 6.0))).format == "FLAC"
    for data, code in ((b"RIFF nonsense", "not_audio"), (wav(voice(220.0, 2.0)), "too_short"),
                       (wav(np.zeros(RATE * 301)), "too_long")):
        with pytest.raises(StageError) as caught:
            check_upload(data)
        assert caught.value.code == code


def test_mp3_decodes():
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, voice(220.0, 7.0).astype(np.float32), RATE, format="MP3")
    assert analyse(prepare(buffer.getvalue())).profile.f0_median_hz == pytest.approx(277, rel=0.05)


def test_the_singer_takes_the_profile_on(a3_voice):
    profile = a3_voice.profile
    sung = profile_voice("5f0c7d4e-0000-4000-8000-000000000000", profile)
    assert sung.speaker == nearest_stock_voice(profile) == "alto"
    assert (sung.low, sung.high) == (profile.range_low, profile.range_high)
    assert sung.envelope and len(sung.envelope) == len(profile.envelope_hz)
    assert sung.vibrato_rate == pytest.approx(profile.vibrato_rate_hz - 5.5, abs=0.01)
    low_voice = profile.model_copy(update={"range_low": 40, "range_high": 58})
    assert nearest_stock_voice(low_voice) == "baritone"


def test_the_melody_lies_in_the_profile_range(a3_voice):
    narrow = a3_voice.profile.model_copy(update={"range_low": 50, "range_high": 62})
    ctx: CompositionContext = preview_context("5f0c7d4e-0000-4000-8000-000000000000", narrow)
    pitches = [n.pitch for n in sung_notes(ctx)]
    assert pitches and 50 <= min(pitches) and max(pitches) <= 62


def test_the_analysis_stage_takes_the_recording_over_and_deletes_a_refused_one(tmp_path):
    from composition.artifacts import ArtifactNotFound
    from composition.models import artifacts_in
    from composition.voices import VoiceContext, VoiceRequest
    from music.voiceprint.analyse import VoiceAnalyser
    from storage.local import LocalArtifactStore

    store = LocalArtifactStore(tmp_path)
    good = store.put("v1", "recording.wav", wav(voice(220.0, 6.0)), "audio/wav")
    section = VoiceAnalyser().run(VoiceContext(request=VoiceRequest(name="me", recording=good, consent=True)),
                                  store, "v1")
    assert good in artifacts_in(section)  # a compensated run deletes it with the stage's artifacts
    assert VoiceAnalyser().compensate(artifacts_in(section), store) == [good.uri]
    bad = store.put("v2", "recording.wav", wav(two_voices(8.0)), "audio/wav")
    with pytest.raises(StageError, match="several_voices"):
        VoiceAnalyser().run(VoiceContext(request=VoiceRequest(name="us", recording=bad, consent=True)), store, "v2")
    with pytest.raises(ArtifactNotFound):
        store.get(bad.uri)
    with pytest.raises(StageError, match="recording_missing"):
        VoiceAnalyser().run(VoiceContext(request=VoiceRequest(name="us", recording=bad, consent=True)), store, "v2")
