"""The composition domain: the accumulated composition context and its sections (the request, in
``composition.request``, is re-exported here: import the domain from this module).

These frozen pydantic models are the one shape of a composition that every part of Cadenza shares.
Each generation stage fills exactly one section of :class:`CompositionContext`; the Avro contract in
``schemas/`` mirrors these models field for field (see ``schemas/convert.py``).

Times inside a song are in beats (quarter notes at the plan's tempo) unless a name says seconds.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, Field

# the request and the base of every model, re-exported: `composition.models` is the domain's one import path
from composition.base import Frozen, StageName
from composition.request import (  # noqa: F401
    GENRES,
    MAX_GENRES,
    MOOD_LABELS,
    VOICES,
    Arousal,
    CompositionRequest,
    GenreWeight,
    MixOptions,
    Mood,
    Valence,
    VoiceProfile,
    Weight,
    is_profile_id,
)

# ---------------------------------------------------------------- artifacts


class Artifact(Frozen):
    """A claim check: a large output stored in the artifact store, travelling by reference."""

    name: str  # e.g. "arrangement.mid", "master.flac"
    uri: str  # where the artifact store keeps it (content-addressed)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)
    media_type: str


# ---------------------------------------------------------------- context sections

SectionKind = Literal["intro", "verse", "prechorus", "chorus", "bridge", "outro"]


class FormSection(Frozen):
    name: str  # unique within the form, e.g. "verse1"
    kind: SectionKind
    bars: int = Field(ge=1)
    energy: float = Field(ge=0.0, le=1.0)
    vocals: bool
    phrase_syllables: list[int] = Field(default_factory=list)  # syllable slots per sung phrase (line)


class PlanSection(Frozen):
    key: str  # tonic pitch class name, e.g. "C", "F#"
    mode: str  # "major", "minor", "dorian", "mixolydian", ...
    tempo_bpm: float = Field(gt=0)
    beats_per_bar: int = Field(ge=1)
    beat_unit: int = 4
    swing: float = Field(default=0.0, ge=0.0, le=1.0)
    mood: Mood
    genres: list[GenreWeight]
    form: list[FormSection] = Field(min_length=1)
    instrumentation: list[str]  # track roles, e.g. ["drums", "bass", "keys", "pad", "lead"]
    voice: str | None  # None for instrumental
    seed: int
    duration_s: float  # planned duration, from the form and tempo


class Chord(Frozen):
    symbol: str  # e.g. "Am7"
    root: int = Field(ge=0, le=11)  # pitch class
    pitches: list[int]  # voiced MIDI pitches
    start_beat: float = Field(ge=0)  # from the start of the song
    beats: float = Field(gt=0)


class SectionHarmony(Frozen):
    section: str  # FormSection.name
    chords: list[Chord]
    cadence: str | None = None  # "authentic", "plagal", "half", ...


class HarmonySection(Frozen):
    sections: list[SectionHarmony]


class Syllable(Frozen):
    text: str
    word: str
    stress: int = Field(ge=0, le=2)  # CMUdict stress: 0 none, 1 primary, 2 secondary
    phonemes: list[str] = Field(default_factory=list)  # ARPAbet


class LyricLine(Frozen):
    text: str
    syllables: list[Syllable]
    rhyme: str  # the line's letter in the section's rhyme scheme, e.g. "A"


class SectionLyrics(Frozen):
    section: str
    lines: list[LyricLine]
    rhyme_scheme: str  # e.g. "ABAB"


class LyricsSection(Frozen):
    source: Literal["generated", "user"]
    sections: list[SectionLyrics]


class Note(Frozen):
    pitch: int = Field(ge=0, le=127)
    start_beat: float = Field(ge=0)
    beats: float = Field(gt=0)
    velocity: int = Field(ge=1, le=127)
    section: str
    line: int = -1  # index of the lyric line in its section, -1 for instrumental notes
    syllable: int = -1  # index of the syllable in its line, -1 for instrumental notes


class MelodySection(Frozen):
    notes: list[Note]
    low: int  # lowest MIDI pitch allowed (the voice's range)
    high: int
    sung: bool


class Track(Frozen):
    name: str
    program: int = Field(ge=0, le=127)
    is_drum: bool
    notes: int = Field(ge=0)


class ArrangementSection(Frozen):
    midi: Artifact
    tracks: list[Track]


class VocalsSection(Frozen):
    audio: Artifact  # the lead vocal
    voice: str
    sample_rate: int
    backing: Artifact | None = None  # the choruses doubled or harmonised, where the genre calls for it


class RenderSection(Frozen):
    stems: list[Artifact]
    sample_rate: int
    soundfont: str


class QualityMetrics(Frozen):
    """Objective quality measured on the finished song; None where it does not apply (instrumental)."""

    melody_in_key: float
    syllable_alignment: float | None
    stress_on_strong_beats: float | None
    rhyme_adherence: float | None
    energy_loudness_correlation: float
    vocal_pitch_error_cents: float | None
    integrated_lufs: float
    true_peak_dbtp: float
    duration_s: float
    duration_error: float  # |measured - requested| / requested
    vocal_intelligibility: float | None = None  # 1 - sung word error rate; None: instrumental or no recogniser


class MasterSection(Frozen):
    outputs: list[Artifact]  # master.wav, master.flac, master.mp3 (+ lyrics.txt, song.mid)
    integrated_lufs: float
    true_peak_dbtp: float
    duration_s: float
    metrics: QualityMetrics


SONG_STAGES: tuple[StageName, ...] = (StageName.PLAN, StageName.HARMONY, StageName.LYRICS, StageName.MELODY,
                                      StageName.ARRANGEMENT, StageName.VOCALS, StageName.RENDER, StageName.MASTER)
"""The stages of a song (the compose and revise workflows)."""


class WorkContext(Frozen):
    """What one workflow run accumulates: its request plus every stage's section filled so far. Stages
    only ever add their own section; ``STAGE_FIELDS`` maps each stage of the workflow to its field."""

    STAGE_FIELDS: ClassVar[dict[StageName, str]] = {}

    def section(self, stage: StageName | str) -> Frozen | None:
        name = self.STAGE_FIELDS.get(StageName(stage))
        return getattr(self, name) if name is not None else None

    def with_section(self, stage: StageName | str, section: Frozen) -> Self:
        """Return a copy with ``stage``'s section set; the section must be that stage's type."""
        stage = StageName(stage)
        name = self.STAGE_FIELDS.get(stage)
        if name is None:
            raise TypeError(f"a {type(self).__name__} has no {stage.value} section")
        expected = type(self).model_fields[name].annotation
        options = typing.get_args(expected) or (expected,)
        if not isinstance(section, tuple(t for t in options if isinstance(t, type))):
            raise TypeError(f"{stage.value} section must be {options[0].__name__}, got {type(section).__name__}")
        return self.model_copy(update={name: section})

    def without(self, stages: Iterable[StageName]) -> Self:
        """A copy with these stages' sections cleared (a revision runs them again)."""
        return self.model_copy(update={self.STAGE_FIELDS[StageName(s)]: None for s in stages})

    def merged(self, other: WorkContext, stage: StageName | str) -> Self:
        """Take only ``stage``'s section from ``other`` (a stage's result) into this context."""
        section = other.section(stage)
        if section is None:
            raise ValueError(f"result for {StageName(stage).value} carries no {StageName(stage).value} section")
        return self.with_section(stage, section)


class CompositionContext(WorkContext):
    """A song's request plus every section filled so far."""

    STAGE_FIELDS: ClassVar[dict[StageName, str]] = {stage: stage.value for stage in SONG_STAGES}

    request: CompositionRequest
    plan: PlanSection | None = None
    harmony: HarmonySection | None = None
    lyrics: LyricsSection | None = None
    melody: MelodySection | None = None
    arrangement: ArrangementSection | None = None
    vocals: VocalsSection | None = None
    render: RenderSection | None = None
    master: MasterSection | None = None


NonEmptyStr = Annotated[str, Field(min_length=1)]


def artifacts_in(value: object) -> list[Artifact]:
    """Every Artifact inside a model, list or section (the claim checks a compensation deletes)."""
    if isinstance(value, Artifact):
        return [value]
    if isinstance(value, BaseModel):
        return [a for name in type(value).model_fields for a in artifacts_in(getattr(value, name))]
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in artifacts_in(item)]
    return []
