"""What every singer shares: the voice profiles, the genre-aware singing style, and the melody's
sung notes in seconds with their syllables."""

from __future__ import annotations

from dataclasses import dataclass

from composition.models import CompositionContext, GenreWeight, Syllable
from music.audio import beats_to_seconds
from music.errors import StageError
from music.genres import mix_style
from music.voices import VOICE_RANGES

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())


@dataclass(frozen=True)
class VoiceProfile:
    """A singer: formant scale (vocal tract length), spectral tilt of the glottal source, range."""

    name: str
    formant_scale: float
    tilt: float  # harmonic amplitude falls as k**-tilt
    breath: float  # baseline aspiration noise, 0..1
    low: int  # comfortable MIDI range (music.voices)
    high: int


VOICE_PROFILES: dict[str, VoiceProfile] = {
    "alto": VoiceProfile("alto", 1.16, 1.25, 0.12, *VOICE_RANGES["alto"]),
    "tenor": VoiceProfile("tenor", 1.0, 1.1, 0.08, *VOICE_RANGES["tenor"]),
}


@dataclass(frozen=True)
class VocalStyle:
    """How a genre sings: vibrato, breath, how much of each note the vowel holds, the reverb send."""

    vibrato_cents: float
    vibrato_rate_hz: float
    vibrato_delay_s: float
    breathiness: float  # 0..1, aspiration noise added to the voiced source
    vowel_length: float  # share of the note that is sung before the release gap
    reverb_send: float  # 0..1, how wet the master's vocal reverb is
    portamento_s: float  # glide from the previous note's pitch


# (vibrato rate Hz, vibrato delay s, vowel length, portamento s); depth, breath and reverb send come
# from the genre's mix style in music.genres so that one table says how a genre sounds.
_PHRASING: dict[str, tuple[float, float, float, float]] = {
    "pop": (5.5, 0.25, 0.92, 0.04),
    "rock": (5.8, 0.30, 0.90, 0.03),
    "funk": (6.0, 0.35, 0.80, 0.02),
    "lofi": (5.0, 0.40, 0.88, 0.05),
    "house": (5.5, 0.30, 0.90, 0.03),
    "ballad": (5.2, 0.20, 0.98, 0.06),
    "folk": (5.3, 0.30, 0.90, 0.04),
}


def vocal_style(genres: list[GenreWeight]) -> VocalStyle:
    """The blend's singing style: phrasing averaged by genre weight, the rest from its mix style."""
    mix = mix_style(genres)
    known = [g for g in genres if g.genre in _PHRASING] or [GenreWeight(genre="pop", weight=1.0)]
    total = sum(g.weight for g in known)
    rate, delay, vowel, glide = (sum(_PHRASING[g.genre][i] * g.weight for g in known) / total for i in range(4))
    return VocalStyle(
        vibrato_cents=10.0 + 60.0 * mix.vibrato,
        vibrato_rate_hz=rate,
        vibrato_delay_s=delay,
        breathiness=0.5 * mix.breathiness,
        vowel_length=vowel,
        reverb_send=mix.vocal_reverb,
        portamento_s=glide,
    )


@dataclass(frozen=True)
class SungNote:
    """One melody note with its syllable, in seconds."""

    index: int
    pitch: int
    start_s: float
    end_s: float
    velocity: int
    syllable: Syllable
    phrase_end: bool  # the next sung note starts a new line (breath)


def sung_notes(ctx: CompositionContext) -> list[SungNote]:
    """The melody's notes that carry a syllable, with the syllable looked up in the lyrics."""
    if ctx.plan is None or ctx.melody is None or ctx.lyrics is None:
        raise StageError("missing_input", "vocals need the plan, lyrics and melody sections")
    lines = {
        (section.section, index): line
        for section in ctx.lyrics.sections
        for index, line in enumerate(section.lines)
    }
    tempo = ctx.plan.tempo_bpm
    notes = sorted((n for n in ctx.melody.notes if n.line >= 0 and n.syllable >= 0), key=lambda n: n.start_beat)
    result: list[SungNote] = []
    for i, note in enumerate(notes):
        line = lines.get((note.section, note.line))
        if line is None or note.syllable >= len(line.syllables):
            raise StageError(
                "lyrics_mismatch", f"note at beat {note.start_beat} names syllable {note.syllable} of "
                f"line {note.line} in {note.section!r}, which the lyrics do not have",
            )
        following = notes[i + 1] if i + 1 < len(notes) else None
        phrase_end = following is None or (following.section, following.line) != (note.section, note.line)
        result.append(SungNote(
            index=i,
            pitch=note.pitch,
            start_s=beats_to_seconds(note.start_beat, tempo),
            end_s=beats_to_seconds(note.start_beat + note.beats, tempo),
            velocity=note.velocity,
            syllable=line.syllables[note.syllable],
            phrase_end=phrase_end,
        ))
    return result


def split_syllable(phonemes: list[str], fallback_text: str = "") -> tuple[list[str], str, list[str]]:
    """(onset consonants, vowel, coda consonants) of one syllable, stress digits removed."""
    bare = [p.rstrip("012").upper() for p in phonemes]
    vowel_at = next((i for i, p in enumerate(bare) if p in VOWELS), None)
    if vowel_at is None:
        return bare, "AH", []  # a syllable with no vowel (or no phonemes) is sung on a schwa
    return bare[:vowel_at], bare[vowel_at], bare[vowel_at + 1:]


def vocal_duration_s(ctx: CompositionContext) -> float:
    """The vocal track spans the song: the plan's duration (or the last note) plus a short tail."""
    last = max((n.start_beat + n.beats for n in ctx.melody.notes), default=0.0) if ctx.melody else 0.0
    return max(ctx.plan.duration_s, beats_to_seconds(last, ctx.plan.tempo_bpm)) + 1.5
