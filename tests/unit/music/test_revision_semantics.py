"""What a revision changes reaches the music: the request's genres, voice and per-stage seed are what
the stages read (not the plan's copy), and the master applies the user's mix options."""

from __future__ import annotations

import numpy as np
import pytest

from composition.models import GenreWeight, MixOptions, StageName
from music.genres import mix_style
from music.harmony import RulesHarmonizer
from music.master import PedalboardMaster, mix
from music.render import SMALL_SOUNDFONT, FluidSynthRenderer
from music.stage import song_plan
from music.vocals import FormantSinger
from music.vocals.style import sung_notes
from music.voices import VOICE_RANGES, octave_shift
from storage.local import LocalArtifactStore
from tests.unit.music.audio_songs import tiny_context
from tests.unit.music.symbolic_songs import song


def revised(ctx, **changes):
    return ctx.model_copy(update={"request": ctx.request.model_copy(update=changes)})


def test_a_stage_reads_the_requests_genres_voice_and_its_own_seed():
    ctx = song("pop-happy")
    again = revised(ctx, genres=[GenreWeight(genre="rock", weight=1.0)], voice="baritone",
                    stage_seeds={"harmony": 99})
    plan = song_plan(again, StageName.HARMONY)
    assert [g.genre for g in plan.genres] == ["rock"] and plan.voice == "baritone" and plan.seed == 99
    assert song_plan(again, StageName.MELODY).seed == ctx.plan.seed  # another stage's seed is the song's
    assert song_plan(revised(ctx, instrumental=True), StageName.MELODY).voice is None


def test_a_new_harmony_seed_gives_new_chords_and_the_old_seed_the_same():
    ctx = song("pop-happy")
    chords = lambda c: [ch.symbol for s in RulesHarmonizer().run(c, None, "x").sections for ch in s.chords]  # noqa: E731
    assert chords(ctx) == [ch.symbol for s in ctx.harmony.sections for ch in s.chords]
    # a few vocabulary-sized choices: most new seeds pick other progressions (some may pick the same)
    changed = sum(chords(revised(ctx, stage_seeds={"harmony": seed})) != chords(ctx) for seed in range(100, 106))
    assert changed >= 4


@pytest.mark.parametrize("voice, shift", [("alto", 0), ("baritone", -12), ("soprano", 0)])
def test_a_kept_melody_is_sung_in_the_octave_of_the_new_voice(voice, shift):
    ctx = song("pop-happy")  # its melody was written for an alto (whose range overlaps the soprano's)
    assert ctx.request.voice == "alto"
    before = [n.pitch for n in sung_notes(ctx)]
    after = [n.pitch for n in sung_notes(revised(ctx, voice=voice))]
    assert after == [p + shift for p in before]
    low, high = VOICE_RANGES[voice]
    median = sorted(after)[len(after) // 2]
    assert low <= median <= high


def test_octave_shift_moves_only_by_whole_octaves_towards_the_middle():
    r = VOICE_RANGES
    assert octave_shift(r["alto"], r["alto"]) == 0
    assert octave_shift(r["alto"], r["tenor"]) == 0 and octave_shift(r["alto"], r["soprano"]) == 0  # neighbours
    assert octave_shift(r["alto"], r["baritone"]) == -12 and octave_shift(r["baritone"], r["alto"]) == 12
    assert octave_shift(r["soprano"], r["tenor"]) == -12 and octave_shift(r["tenor"], r["soprano"]) == 12
    assert octave_shift((84, 96), r["baritone"]) == -36


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    store = LocalArtifactStore(tmp_path_factory.mktemp("artifacts"))
    ctx = tiny_context(store, "mix")
    ctx = ctx.with_section("vocals", FormantSinger().run(ctx, store, "mix"))
    ctx = ctx.with_section("render", FluidSynthRenderer(soundfont=SMALL_SOUNDFONT).run(ctx, store, "mix"))
    return store, ctx


def test_the_master_reaches_the_users_loudness_target(rendered):
    store, ctx = rendered
    quiet = PedalboardMaster().run(revised(ctx, mix=MixOptions(lufs=-18.0)), store, "quiet")
    assert abs(quiet.integrated_lufs + 18.0) <= 0.5 and quiet.true_peak_dbtp <= -1.0
    assert abs(quiet.metrics.integrated_lufs - quiet.integrated_lufs) < 1e-6


def _signals(seconds=2.0, rate=22050):
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(1)
    drums = (rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 2 * t) > 0.9)).astype(np.float32) * 0.3
    keys = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    vocal = (0.3 * np.sin(2 * np.pi * 330 * t + 2 * np.sin(2 * np.pi * 5 * t))).astype(np.float32)
    silence = np.zeros(len(t), np.float32)
    col = lambda a: np.concatenate([a, silence])[:, None]  # noqa: E731 - (frames, 1), as read_audio gives
    return rate, [("drums.wav", col(drums)), ("chords.wav", col(keys))], \
        col(vocal)


def test_vocal_level_brightness_and_reverb_change_the_mix():
    rate, stems, vocal = _signals()
    style = mix_style([GenreWeight(genre="pop", weight=1.0)])

    def out(**kw):
        send = kw.pop("send", 0.3)
        return mix(iter(stems), vocal, rate, style, send, **kw).mean(axis=1)

    def vocal_share(audio):  # energy at the vocal's 330 Hz against the keys' 220 Hz
        spectrum = np.abs(np.fft.rfft(audio[: len(audio) // 2]))
        freqs = np.fft.rfftfreq(len(audio) // 2, 1 / rate)
        band = lambda f: spectrum[(freqs > f - 20) & (freqs < f + 20)].sum()  # noqa: E731
        return band(330) / band(220)

    assert vocal_share(out(vocal_db=9.0)) > 3 * vocal_share(out(vocal_db=-9.0))

    def centroid(audio):
        spectrum = np.abs(np.fft.rfft(audio))
        return float((np.fft.rfftfreq(len(audio), 1 / rate) * spectrum).sum() / spectrum.sum())

    assert centroid(out(brightness=1.0)) > 1.1 * centroid(out(brightness=-1.0))

    def tail_energy(audio):  # the second half is silence in the stems: what is there is the room
        return float(np.square(audio[len(audio) // 2 + rate // 10:]).sum())

    wet = mix(iter(stems), vocal, rate, style.__class__(**{**style.__dict__, "reverb": 1.0}), 1.0).mean(axis=1)
    dry = mix(iter(stems), vocal, rate, style.__class__(**{**style.__dict__, "reverb": 0.0}), 0.0).mean(axis=1)
    assert tail_energy(wet) > 2 * tail_energy(dry)
