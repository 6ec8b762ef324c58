"""The DJ engine on synthesized songs of known tempo and key: analysis, the four set providers over a
real (local) artifact store, and what the finished set measures."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf

from composition.sets import SetContext, SetRequest
from music.audio import wav_bytes
from music.dj import announcer
from music.dj.analyse import analyse
from music.dj.measure import alignment_errors
from music.dj.mix import Overlap, gains
from music.dj.plan import placements
from music.dj.providers import grids_of, overlaps_of, providers
from music.metrics_audio import integrated_lufs, true_peak_dbtp
from storage.local import LocalArtifactStore
from tests.unit.music.dj.tracks import RATE, click_song, set_track

SONGS = [(126.0, "A", "minor", 26.0, "Night Drive", 0.8), (120.0, "C", "major", 24.0, "Open Road", 0.4),
         (116.0, "E", "minor", 24.0, "Late Bloom", 0.6)]


def test_analysis_hears_the_written_tempo_and_places_the_first_downbeat_at_the_start():
    track = set_track(97.0, "F#", "minor", 20.0, "x")
    found = analyse(track, click_song(97.0, "F#", "minor", 20.0), RATE)
    assert found.tempo_bpm == 97.0 and found.camelot == "11A"
    assert abs(found.downbeats_s[0]) < 0.03  # the beat tracker's few ms of lag
    assert np.allclose(np.diff(found.downbeats_s), 4 * 60 / 97.0, atol=1e-3)
    assert found.energy == [s.energy for s in track.form]


def test_a_song_whose_audio_is_at_another_tempo_is_analysed_at_the_tempo_heard():
    found = analyse(set_track(100.0, "C", "major", 20.0, "x"), click_song(131.0, seconds=20.0), RATE)
    assert abs(found.tempo_bpm - 131.0) < 131 * 0.04


def test_the_two_bass_lines_never_play_together():
    times = np.linspace(0, 20, 20001)
    overlap = Overlap(start_s=8.0, length_s=8.0, swap_s=12.0)
    out_low, out_high = gains(times, None, overlap)
    in_low, in_high = gains(times, overlap, None)
    assert np.all(out_low + in_low <= 1.0 + 1e-9) and np.all(out_low * in_low < 0.26)
    assert in_low[times < 12.0].max() == 0 and out_low[times > 12.05].max() == 0
    assert np.allclose((out_high ** 2 + in_high ** 2)[(times > 8) & (times < 16)], 1.0)  # equal power


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    store = LocalArtifactStore(tmp_path_factory.mktemp("store"))
    tracks = []
    for tempo, key, mode, seconds, title, energy in SONGS:
        track = set_track(tempo, key, mode, seconds, title, energy)
        master = store.put(str(track.composition_id), "master.wav", wav_bytes(click_song(tempo, key, mode, seconds), RATE),
                           "audio/wav")
        tracks.append(track.model_copy(update={"master": master}))
    request = SetRequest(tracks=tracks, order="auto", transition_bars=4, announcer=announcer.available())
    ctx = SetContext(request=request)
    for provider in providers():
        ctx = ctx.with_section(provider.stage, provider.run(ctx, store, "set1"))
    return ctx, store


def test_the_set_is_ordered_for_harmonic_mixing(finished):
    ctx, _ = finished
    # 8A (A minor) - 8B (C major) - 9A (E minor): every step a smooth mix; the energy peak is not first
    assert max(ctx.order.camelot_distances) <= 1
    assert ctx.master.key_distances == ctx.order.camelot_distances
    assert ctx.order.order[0] != 0


def test_every_song_plays_at_the_set_tempo_and_the_beats_line_up(finished):
    ctx, _ = finished
    assert ctx.transitions.tempo_bpm == 120.0  # the median
    ratios = [t.stretch_ratio for t in ctx.transitions.transitions]
    assert all(abs(r - 1) < 0.1 for r in ratios)
    assert len(ctx.master.beat_alignment_ms) == 2
    assert np.median(ctx.master.beat_alignment_ms) < 10.0 and max(ctx.master.beat_alignment_ms) < 15.0


def test_the_alignment_measure_sees_songs_that_are_off_the_beat(finished):
    ctx, store = finished
    request, analysis, order, plan = ctx.request, ctx.analysis, ctx.order, ctx.transitions
    places = placements(request, analysis.tracks, order, plan)
    grids = grids_of(places, [analysis.tracks[i] for i in order.order])
    audio, _ = sf.read(io.BytesIO(store.get(next(a for a in ctx.master.outputs if a.name == "set.flac").uri)),
                       dtype="float32", always_2d=True)
    overlaps = overlaps_of(places, plan)
    honest = alignment_errors(audio, RATE, overlaps, grids, plan.tempo_bpm, 2.0)
    shifted = [grids[0], grids[1] + 0.06, grids[2]]  # the second song 60 ms late on paper
    assert min(alignment_errors(audio, RATE, overlaps, shifted, plan.tempo_bpm, 2.0)) > 20 > max(honest)


def test_the_set_is_mastered_to_minus_14_lufs_under_minus_1_dbtp(finished):
    ctx, store = finished
    master = ctx.master
    assert abs(master.integrated_lufs + 14.0) <= 0.5 and master.true_peak_dbtp <= -1.0
    audio, rate = sf.read(io.BytesIO(store.get(next(a for a in master.outputs if a.name == "set.flac").uri)),
                          dtype="float32", always_2d=True)
    assert abs(integrated_lufs(audio, rate) + 14.0) <= 0.5 and true_peak_dbtp(audio, rate) <= -0.9
    assert abs(len(audio) / rate - master.duration_s) < 0.05
    total = sum(s[3] for s in SONGS)
    assert total - 3 * 8.5 < master.duration_s < total  # two 4-bar overlaps of ~8 s each


def test_the_set_writes_flac_mp3_a_cue_sheet_and_a_tracklist(finished):
    ctx, store = finished
    names = {a.name: a for a in ctx.master.outputs}
    assert set(names) == {"set.flac", "set.mp3", "set.cue", "tracklist.json"}
    listing = json.loads(store.get(names["tracklist.json"].uri))
    starts = [t["start_s"] for t in listing["tracks"]]
    assert starts[0] == 0 and starts == sorted(starts) and len(starts) == 3
    assert [t["title"] for t in listing["tracks"]] == [e.title for e in ctx.master.tracklist]
    cue = store.get(names["set.cue"].uri).decode()
    assert cue.count("TRACK ") == 3 and 'FILE "set.flac" WAVE' in cue
    assert f"INDEX 01 {int(starts[1] // 60):02d}:{int(starts[1] % 60):02d}:" in cue
    assert store.get(names["set.mp3"].uri)[:2] in (b"ID", b"\xff\xfb", b"\xff\xf3")


@pytest.mark.skipif(not announcer.available(), reason="neither flite nor espeak-ng is installed")
def test_the_announcer_names_each_next_song(finished):
    ctx, store = finished
    clips = [t.announcement for t in ctx.transitions.transitions]
    assert all(c is not None for c in clips) and len(clips) == 2
    speech, rate = sf.read(io.BytesIO(store.get(clips[0].uri)), dtype="float32")
    assert rate == RATE and 0.5 < len(speech) / rate < 6.0
    titles = [ctx.request.tracks[i].title for i in ctx.order.order]
    assert announcer.line_for(titles[2], 3, 3) == f"And last tonight, {titles[2]}."


def test_a_stretched_song_keeps_its_beats_on_the_stretched_grid_to_its_end():
    from music.dj.analyse import track_beats
    from music.dj.mix import stretch

    song = click_song(118.0, seconds=30.0)
    ratio = 124.0 / 118.0
    _, heard = track_beats(stretch(song, RATE, ratio), RATE, 124.0)
    grid = np.arange(0, 30.0, 60 / 118.0) / ratio
    signed = heard - grid[np.abs(heard[:, None] - grid[None, :]).argmin(axis=1)]
    early, late = signed[heard < 8.0], signed[heard > 20.0]
    assert early.size > 8 and late.size > 8
    drift = np.median(late) - np.median(early)  # the tracker's own lag cancels
    assert abs(drift) < 0.008  # Rubber Band's R3 engine drifted 45 ms by here
