"""What a user asks for: mood, genre blend, theme, length, lyrics, voice (a stock voice or a measured
profile), the songwriter's controls (bpm, key, meter, title, hook) and the mix. Validation here is the
one source of the API's 4xx field errors (the API's request body reuses these constraints)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from composition.base import Frozen, StageName
from composition.controls import (
    BPM_RANGE,
    MODES,
    check_bpm,
    check_tags,
    parse_key,
    parse_meter,
)
from composition.errors import InvalidInput

GENRES: tuple[str, ...] = ("pop", "rock", "funk", "lofi", "house", "ballad", "folk")
"""Genres with a profile in ``music/genres``; a request's blend may only name these."""

MOOD_LABELS: dict[str, tuple[float, float]] = {
    # label: (valence -1..1, arousal 0..1)
    "happy": (0.8, 0.65),
    "euphoric": (0.9, 0.95),
    "energetic": (0.5, 0.9),
    "calm": (0.4, 0.2),
    "romantic": (0.6, 0.35),
    "hopeful": (0.5, 0.5),
    "nostalgic": (-0.1, 0.35),
    "melancholic": (-0.6, 0.3),
    "sad": (-0.8, 0.2),
    "angry": (-0.7, 0.9),
    "tense": (-0.4, 0.75),
    "dreamy": (0.3, 0.25),
}


# The request's constraints, declared once: the domain model and the API's body both use these.
Valence = Annotated[float, Field(ge=-1.0, le=1.0, description="-1 sad .. 1 happy")]
Arousal = Annotated[float, Field(ge=0.0, le=1.0, description="0 calm .. 1 excited")]
Weight = Annotated[float, Field(gt=0.0, le=1.0)]
Theme = Annotated[str, Field(min_length=1, max_length=200)]
DurationS = Annotated[float, Field(ge=15.0, le=600.0)]
LyricsText = Annotated[str, Field(max_length=5000)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]
Title = Annotated[str, Field(min_length=1, max_length=100,
                             description="the song's title; the chorus is built around it when no hook is given")]
Hook = Annotated[str, Field(min_length=1, max_length=100,
                            description="a line sung at the start and end of every chorus (at most 10 syllables)")]
Bpm = Annotated[float, Field(ge=BPM_RANGE[0], le=BPM_RANGE[1], description="tempo in beats per minute")]
KeyText = Annotated[str, Field(max_length=20, description="tonic and mode, e.g. 'F# minor', 'Bb major', 'D dorian' "
                               "(modes: " + ", ".join(MODES) + ")")]
MeterText = Annotated[str, Field(max_length=10, description="time signature: 3/4 or 4/4")]
MAX_GENRES = len(GENRES)


def is_profile_id(voice: str) -> bool:
    """Whether ``voice`` names a voice profile (its id, a UUID) rather than a stock voice."""
    try:
        uuid.UUID(voice)
    except ValueError:
        return False
    return True


def one_of(value: str, known: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``known``; else a ValueError listing them."""
    if value not in known:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")
    return value


class Mood(Frozen):
    """A mood as valence (-1 sad .. 1 happy) and arousal (0 calm .. 1 excited)."""

    valence: Valence
    arousal: Arousal
    label: str | None = None

    @classmethod
    def from_label(cls, label: str) -> Mood:
        try:
            valence, arousal = MOOD_LABELS[label.lower()]
        except KeyError:
            raise ValueError(f"unknown mood {label!r}; known: {', '.join(sorted(MOOD_LABELS))}") from None
        return cls(valence=valence, arousal=arousal, label=label.lower())


class GenreWeight(Frozen):
    genre: str
    weight: Weight

    @field_validator("genre")
    @classmethod
    def _known_genre(cls, value: str) -> str:
        return one_of(value, GENRES, "genre")


VOICES: tuple[str, ...] = ("soprano", "alto", "tenor", "baritone")
"""Voice profiles the vocal stage can sing with."""


class VoiceProfile(Frozen):
    """A singer measured from a user's own recording (the voice workflow's analysis): where the voice
    sits, what its timbre is, how it moves. The vocals stage sings with it: the melody in its range,
    the spectral envelope warped towards ``envelope_db``, its tilt, vibrato and breath."""

    f0_median_hz: float = Field(gt=0)
    f0_low_hz: float = Field(gt=0)  # 5th percentile of the voiced frames
    f0_high_hz: float = Field(gt=0)  # 95th percentile
    range_low: int = Field(ge=0, le=127)  # the comfortable sung range, MIDI
    range_high: int = Field(ge=0, le=127)
    formants_hz: list[float] = Field(default_factory=list)  # F1.. medians over the vowels
    envelope_hz: list[float] = Field(default_factory=list)  # the grid of ``envelope_db``
    envelope_db: list[float] = Field(default_factory=list)  # mean spectral envelope, relative dB
    tilt_db_per_octave: float = 0.0
    brightness: float = Field(default=0.5, ge=0.0, le=1.0)
    vibrato_rate_hz: float = Field(default=0.0, ge=0.0)
    vibrato_depth_cents: float = Field(default=0.0, ge=0.0)
    breathiness: float = Field(default=0.0, ge=0.0, le=1.0)


class MixOptions(Frozen):
    """How the master mixes the song: the vocal's level, reverb, brightness and the loudness target."""

    vocal_db: float = Field(default=0.0, ge=-12.0, le=12.0, description="vocal level against the genre's, in dB")
    reverb: float | None = Field(default=None, ge=0.0, le=1.0, description="reverb send 0..1 (null: the genre's)")
    brightness: float = Field(default=0.0, ge=-1.0, le=1.0, description="-1 darker .. 1 brighter (a high shelf)")
    lufs: float = Field(default=-14.0, ge=-24.0, le=-8.0, description="integrated loudness target")


class CompositionRequest(Frozen):
    """What a user asks for. Validation here is the one source of the API's 4xx field errors."""

    mood: Mood
    genres: list[GenreWeight] = Field(min_length=1, max_length=MAX_GENRES)
    theme: Theme
    duration_s: DurationS
    lyrics: LyricsText | None = None
    voice: str = "alto"
    instrumental: bool = False
    seed: Seed | None = None
    title: Title | None = None
    hook: Hook | None = None
    bpm: Bpm | None = None
    key: KeyText | None = None
    meter: MeterText | None = None
    mix: MixOptions | None = None
    stage_seeds: dict[str, Seed] = Field(default_factory=dict)
    voice_profile: VoiceProfile | None = None
    """The measured voice when ``voice`` names a tenant's voice profile (by its id); filled by the API."""
    """Seeds for single stages (a revision's ``seed`` change: that stage's choices anew, the rest as before)."""

    @field_validator("stage_seeds")
    @classmethod
    def _stage_names(cls, value: dict[str, int]) -> dict[str, int]:
        for name in value:
            one_of(name, tuple(s.value for s in StageName), "stage")
        return value

    @field_validator("bpm")
    @classmethod
    def _bpm_in_range(cls, value: float | None) -> float | None:
        return check_bpm(value)

    @field_validator("key")
    @classmethod
    def _known_key(cls, value: str | None) -> str | None:
        return None if value is None else " ".join(parse_key(value))

    @field_validator("meter")
    @classmethod
    def _playable_meter(cls, value: str | None) -> str | None:
        return None if value is None else f"{parse_meter(value)}/4"

    @field_validator("lyrics")
    @classmethod
    def _known_tags(cls, value: str | None) -> str | None:
        check_tags(value)
        return value

    @field_validator("title", "hook")
    @classmethod
    def _has_words(cls, value: str | None, info) -> str | None:
        if value is not None and not any(ch.isalpha() for ch in value):
            raise InvalidInput(f"{info.field_name} must contain words", field=info.field_name)
        if value is not None and len(value.split()) > 12:
            raise InvalidInput(f"{info.field_name} must be one singable line (at most 12 words)", field=info.field_name)
        return None if value is None else " ".join(value.split())

    @field_validator("voice")
    @classmethod
    def _known_voice(cls, value: str) -> str:
        if is_profile_id(value):
            return value.lower()
        return one_of(value, VOICES, "voice (a stock voice or one of your voice profiles' ids)")

    @model_validator(mode="after")
    def _blend_is_a_distribution(self) -> CompositionRequest:
        total = sum(g.weight for g in self.genres)
        if abs(total - 1.0) > 1e-6:
            raise InvalidInput(f"weights must sum to 1, got {total:g}", field="genres")
        names = [g.genre for g in self.genres]
        if len(set(names)) != len(names):
            raise InvalidInput("each genre may appear once", field="genres")
        if self.instrumental and self.lyrics:
            raise InvalidInput("an instrumental request cannot carry lyrics", field="lyrics")
        if is_profile_id(self.voice) != (self.voice_profile is not None):
            raise InvalidInput("a voice profile's id comes with its measured profile, a stock voice without one",
                               field="voice")
        return self
