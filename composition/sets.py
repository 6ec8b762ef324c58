"""The set workflow's domain: a DJ set of a tenant's finished songs.

``set_analyse`` measures each song (tempo, key, beat grid and downbeats, energy per section: from its
composition context, checked in its audio); ``set_order`` puts them in order (``auto``: harmonic mixing
on the Camelot wheel, tempo steps, an energy arc; ``given``: as asked); ``set_transitions`` plans each
beat-matched transition (and the announcer's line, when asked for); ``set_master`` mixes and masters
the whole set and writes set.flac, set.mp3, set.cue and tracklist.json. The run's id is the set's id.
"""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from composition.errors import InvalidInput
from composition.models import Artifact, FormSection, Frozen, StageName, WorkContext


class SetTrack(Frozen):
    """One finished song as the set takes it (from its composition's current revision)."""

    composition_id: uuid.UUID
    title: str
    master: Artifact  # the song's master.wav
    tempo_bpm: float = Field(gt=0)
    key: str
    mode: str
    beats_per_bar: int = Field(ge=1)
    duration_s: float = Field(gt=0)
    form: list[FormSection] = Field(default_factory=list)


class SetRequest(Frozen):
    tracks: list[SetTrack] = Field(min_length=2, max_length=20)
    order: Literal["auto", "given"] = "auto"
    transition_bars: int = Field(default=8, ge=1, le=32)
    target_bpm: float | None = Field(default=None, ge=60.0, le=200.0)
    announcer: bool = False  # a short spoken line naming the next song, under its intro

    @model_validator(mode="after")
    def _distinct(self) -> "SetRequest":
        ids = [t.composition_id for t in self.tracks]
        if len(set(ids)) != len(ids):
            raise InvalidInput("each composition may be in a set once", field="compositions")
        return self


class TrackAnalysis(Frozen):
    composition_id: uuid.UUID
    tempo_bpm: float = Field(gt=0)  # measured in the audio
    key: str
    mode: str
    camelot: str  # e.g. "8A"
    beats_s: list[float] = Field(default_factory=list)
    downbeats_s: list[float] = Field(default_factory=list)
    energy: list[float] = Field(default_factory=list)  # per section of the form, 0..1
    duration_s: float = Field(gt=0)


class SetAnalysisSection(Frozen):
    tracks: list[TrackAnalysis]


class SetOrderSection(Frozen):
    order: list[int]  # indices into the request's tracks, in playing order
    camelot_distances: list[int] = Field(default_factory=list)  # of each adjacent pair
    tempo_steps_bpm: list[float] = Field(default_factory=list)


class Transition(Frozen):
    """From one song into the next: where each plays, how much the incoming one is stretched."""

    out_index: int  # position in the playing order of the song that ends
    out_start_s: float = Field(ge=0)  # where in the outgoing song the cross-fade starts
    in_start_s: float = Field(ge=0)  # where in the incoming song it starts (on a downbeat)
    overlap_s: float = Field(ge=0)
    stretch_ratio: float = Field(gt=0)  # the incoming song's tempo change towards the shared tempo
    eq_swap_s: float = Field(ge=0)  # the downbeat (in the overlap) where the bass changes hands
    announcement: Artifact | None = None


class SetTransitionsSection(Frozen):
    transitions: list[Transition]
    tempo_bpm: float = Field(gt=0)  # the tempo the set plays at


class TracklistEntry(Frozen):
    composition_id: uuid.UUID
    title: str
    start_s: float = Field(ge=0)


class SetMasterSection(Frozen):
    outputs: list[Artifact]  # set.flac, set.mp3, set.cue, tracklist.json
    tracklist: list[TracklistEntry]
    integrated_lufs: float
    true_peak_dbtp: float
    duration_s: float = Field(ge=0)
    beat_alignment_ms: list[float] = Field(default_factory=list)  # measured at each transition in the mix
    key_distances: list[int] = Field(default_factory=list)  # Camelot distance of each adjacent pair


class SetContext(WorkContext):
    """A set run's request plus its sections so far."""

    STAGE_FIELDS: ClassVar[dict[StageName, str]] = {StageName.SET_ANALYSE: "analysis", StageName.SET_ORDER: "order",
                                                     StageName.SET_TRANSITIONS: "transitions",
                                                     StageName.SET_MASTER: "master"}

    request: SetRequest
    analysis: SetAnalysisSection | None = None
    order: SetOrderSection | None = None
    transitions: SetTransitionsSection | None = None
    master: SetMasterSection | None = None
