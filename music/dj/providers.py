"""The set stages' providers: each reads what it needs through the artifact store's interface and
hands arrays to the pure DJ modules.

``set_analyse`` reads every song's master.wav; ``set_order`` only the analysis; ``set_transitions``
plans, and speaks and stores the announcer's lines when the set asks for them; ``set_master``
reads the masters again, mixes, masters (-14 LUFS, -1 dBTP, the song master's own ``finalize``),
measures and stores set.flac, set.mp3, set.cue and tracklist.json. A mix that fails after storing
some of its files deletes them before it fails (the saga only compensates completed stages).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal import resample_poly

from composition.artifacts import ArtifactNotFound, ArtifactStore
from composition.models import Artifact, StageName
from composition.sets import (
    SetAnalysisSection,
    SetContext,
    SetMasterSection,
    SetOrderSection,
    SetRequest,
    SetTransitionsSection,
    TrackAnalysis,
    TracklistEntry,
)
from music.audio import SAMPLE_RATE, read_audio, wav_bytes
from music.dj import announcer, sheets
from music.dj.analyse import analyse
from music.dj.measure import alignment_errors
from music.dj.mix import Overlap, Voice, mix_set
from music.dj.order import order_tracks
from music.dj.plan import Placement, bar_s, placements, plan_transitions
from music.errors import StageError
from music.master import MEDIA, encode, finalize
from music.stage import BaseProvider, require

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0


def read_song(store: ArtifactStore, artifact: Artifact, title: str) -> np.ndarray:
    """A song's master as stereo float32 at the set's rate; a deleted one is a permanent failure naming it."""
    try:
        audio, rate = read_audio(store, artifact)
    except ArtifactNotFound:
        raise StageError("song_missing", f"the master of {title!r} is no longer stored", retryable=False) from None
    if rate != SAMPLE_RATE:
        audio = resample_poly(audio, SAMPLE_RATE, rate, axis=0).astype(np.float32)
    return np.repeat(audio, 2, axis=1) if audio.shape[1] == 1 else audio[:, :2]


class SetAnalyser(BaseProvider):
    stage = StageName.SET_ANALYSE
    name = "librosa"

    def run(self, ctx: SetContext, store: ArtifactStore, namespace: str) -> SetAnalysisSection:
        found = [analyse(t, read_song(store, t.master, t.title), SAMPLE_RATE) for t in ctx.request.tracks]
        return SetAnalysisSection(tracks=found)


class SetOrderer(BaseProvider):
    stage = StageName.SET_ORDER
    name = "camelot"

    def run(self, ctx: SetContext, store: ArtifactStore, namespace: str) -> SetOrderSection:
        (analysis,) = require(ctx, "analysis")
        return order_tracks(analysis.tracks, ctx.request.order)


class SetTransitionPlanner(BaseProvider):
    stage = StageName.SET_TRANSITIONS
    name = "phrase"

    def run(self, ctx: SetContext, store: ArtifactStore, namespace: str) -> SetTransitionsSection:
        analysis, order = require(ctx, "analysis", "order")
        plan = plan_transitions(ctx.request, analysis.tracks, order)
        if not ctx.request.announcer:
            return plan
        titles = [ctx.request.tracks[i].title for i in order.order]
        spoken = []
        for t in plan.transitions:
            position = t.out_index + 2
            line = announcer.speak(announcer.line_for(titles[position - 1], position, len(titles)), SAMPLE_RATE)
            clip = store.put(namespace, f"announce-{position:02d}.wav", wav_bytes(line, SAMPLE_RATE), "audio/wav")
            spoken.append(t.model_copy(update={"announcement": clip}))
        return plan.model_copy(update={"transitions": spoken})


def overlaps_of(places: Sequence[Placement], plan: SetTransitionsSection) -> list[Overlap]:
    out = []
    for place, t in zip(places, plan.transitions):
        start = place.offset_s + t.out_start_s / place.ratio
        out.append(Overlap(start, t.overlap_s, start + t.eq_swap_s))
    return out


def grids_of(places: Sequence[Placement], analyses: Sequence[TrackAnalysis]) -> list[np.ndarray]:
    """Each song's beats in set time, from its analysed grid extended over its whole stretched length."""
    grids = []
    for place, a in zip(places, analyses):
        period = 60.0 / a.tempo_bpm
        own = a.downbeats_s[0] + period * np.arange(int(a.duration_s / period) + 2)
        grids.append(place.offset_s + own / place.ratio)
    return grids


class SetMixer(BaseProvider):
    stage = StageName.SET_MASTER
    name = "pedalboard"

    def run(self, ctx: SetContext, store: ArtifactStore, namespace: str) -> SetMasterSection:
        analysis, order, plan = require(ctx, "analysis", "order", "transitions")
        stored: list[Artifact] = []
        try:
            return self._mix(ctx.request, analysis, order, plan, store, namespace, stored)
        except BaseException:
            for artifact in stored:  # nothing of a failed mix stays behind
                store.delete(artifact.uri)
            raise

    def _mix(self, request: SetRequest, analysis: SetAnalysisSection, order: SetOrderSection,
             plan: SetTransitionsSection, store: ArtifactStore, namespace: str, stored: list[Artifact]) -> SetMasterSection:
        tracks = [request.tracks[i] for i in order.order]
        found = [analysis.tracks[i] for i in order.order]
        songs = [read_song(store, t.master, t.title) for t in tracks]
        places = placements(request, analysis.tracks, order, plan)
        overlaps = overlaps_of(places, plan)
        voices = [Voice(o.start_s + bar_s(found[i + 1], tracks[i + 1]) / places[i + 1].ratio,
                        read_audio(store, t.announcement)[0].mean(axis=1))
                  for i, (o, t) in enumerate(zip(overlaps, plan.transitions)) if t.announcement is not None]
        mixed = mix_set(songs, SAMPLE_RATE, places, overlaps, voices)
        del songs
        master, lufs, peak = finalize(mixed, SAMPLE_RATE, TARGET_LUFS, CEILING_DBTP)
        del mixed
        duration = len(master) / SAMPLE_RATE
        entries = [TracklistEntry(composition_id=t.composition_id, title=t.title,
                                  start_s=0.0 if i == 0 else round(overlaps[i - 1].swap_s, 3))
                   for i, t in enumerate(tracks)]
        set_bar = tracks[0].beats_per_bar * 60.0 / plan.tempo_bpm
        alignment = alignment_errors(master, SAMPLE_RATE, overlaps, grids_of(places, found), plan.tempo_bpm, set_bar)
        extra = [{"key": f"{a.key} {a.mode}", "camelot": a.camelot, "tempo_bpm": round(a.tempo_bpm, 2),
                  "stretch_ratio": round(p.ratio, 4)} for a, p in zip(found, places)]
        for i, ms in enumerate(alignment):
            extra[i + 1]["beat_alignment_ms"] = ms
        files = encode(master, SAMPLE_RATE, stem="set", wav=False)
        files["set.cue"] = sheets.cue_sheet(entries).encode()
        files["tracklist.json"] = sheets.tracklist_json(entries, duration, plan.tempo_bpm, extra).encode()
        media = {**MEDIA, "cue": "application/x-cue", "json": "application/json"}
        for name, data in files.items():
            stored.append(store.put(namespace, name, data, media[name.rsplit(".", 1)[1]]))
        return SetMasterSection(outputs=list(stored), tracklist=entries, integrated_lufs=lufs, true_peak_dbtp=peak,
                                duration_s=duration, beat_alignment_ms=alignment, key_distances=order.camelot_distances)


def providers() -> list[BaseProvider]:
    """The set stages' built-in providers, one per stage."""
    return [SetAnalyser(), SetOrderer(), SetTransitionPlanner(), SetMixer()]
