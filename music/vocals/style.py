"""What every singer shares: the voice profiles, the genre-aware singing style, and the melody's
sung notes in seconds with their syllables."""

from __future__ import annotations

from dataclasses import dataclass, field

from composition.models import CompositionContext, GenreWeight, LyricLine, Syllable
from music.audio import beats_to_seconds
from music.errors import StageError
from music.genres import mix_style
from music.voices import VOICE_RANGES, octave_shift, voice_range

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())


@dataclass(frozen=True)
class VoiceProfile:
    """A singer, as data: range, timbre and vibrato.

    Timbre is given the way a WORLD singer applies it to a text-to-speech voice's spectral envelope,
    and the formant singer to its own filters, so one profile serves every singer:

    - ``formant_scale``: vocal-tract scale against an adult male tract (1.0); formant frequencies
      move by this factor (a WORLD singer warps its speaker's envelope by voice / speaker scale);
    - ``tilt``: glottal source slope, harmonic k falls as k**-tilt (about 6 dB/octave per unit; a
      WORLD singer adds the difference to its speaker's slope);
    - ``breath``: baseline aspiration noise, 0..1, from ``breath_from_hz`` up (reaching it 2 kHz
      higher). A high voice takes more of it from lower down: at a soprano's pitch the harmonics are
      too far apart to trace the first formant, and aspiration noise shaped by the same envelope
      fills it in between them (measured: sung WER 0.18 -> 0.14 tiny.en, 0.12 -> 0.10 base);
    - ``vibrato_depth`` / ``vibrato_rate``: scale the genre's vibrato depth and shift its rate (Hz);
    - ``envelope``: optional target long-term spectral envelope, (Hz, dB) points, e.g. measured
      from a user's own recording: a WORLD singer equalises its speaker's average envelope
      towards it (after the warp), so such a profile can be plugged in without new code. A user's
      formant positions give ``formant_scale`` through :func:`scale_from_formants`.
    """

    name: str
    low: int  # comfortable MIDI range (music.voices)
    high: int
    formant_scale: float
    tilt: float
    breath: float
    breath_from_hz: float = 1500.0
    vibrato_depth: float = 1.0
    vibrato_rate: float = 0.0
    envelope: tuple[tuple[float, float], ...] | None = None
    speaker: str | None = None  # the stock voice whose text-to-speech speaker it starts from (None: its name)

    @property
    def base(self) -> str:
        """The stock voice a singer picks its speaker by (a user's profile names the nearest one)."""
        return self.speaker or self.name


NEUTRAL_FORMANTS = (500.0, 1500.0, 2500.0)
"""F1..F3 of a neutral vowel in an adult male tract (17.5 cm): formant_scale 1.0."""


def scale_from_formants(formants_hz: tuple[float, ...]) -> float:
    """A tract scale from measured mean formants (F1.., of neutral or averaged vowels): the
    geometric mean ratio to the neutral male tract's."""
    ratios = [f / n for f, n in zip(formants_hz, NEUTRAL_FORMANTS) if f > 0]
    if not ratios:
        raise ValueError("scale_from_formants needs at least one positive formant frequency")
    product = 1.0
    for r in ratios:
        product *= r
    return product ** (1.0 / len(ratios))


VOICE_PROFILES: dict[str, VoiceProfile] = {
    # a soprano's vibrato is kept shallow: sparse harmonics swept across the formants blur the vowels
    "soprano": VoiceProfile("soprano", *VOICE_RANGES["soprano"], formant_scale=1.20, tilt=1.35, breath=0.3,
                            breath_from_hz=800.0, vibrato_depth=0.6, vibrato_rate=0.3),
    "alto": VoiceProfile("alto", *VOICE_RANGES["alto"], formant_scale=1.14, tilt=1.25, breath=0.12),
    "tenor": VoiceProfile("tenor", *VOICE_RANGES["tenor"], formant_scale=1.0, tilt=1.1, breath=0.08),
    "baritone": VoiceProfile("baritone", *VOICE_RANGES["baritone"], formant_scale=0.93, tilt=1.05, breath=0.06,
                             vibrato_depth=0.9, vibrato_rate=-0.3),
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


def vocal_style(genres: list[GenreWeight], voice: VoiceProfile | None = None) -> VocalStyle:
    """The blend's singing style: phrasing averaged by genre weight, the rest from its mix style;
    the voice's vibrato defaults scale the depth and shift the rate."""
    mix = mix_style(genres)
    known = [g for g in genres if g.genre in _PHRASING] or [GenreWeight(genre="pop", weight=1.0)]
    total = sum(g.weight for g in known)
    rate, delay, vowel, glide = (sum(_PHRASING[g.genre][i] * g.weight for g in known) / total for i in range(4))
    return VocalStyle(
        vibrato_cents=(10.0 + 60.0 * mix.vibrato) * (voice.vibrato_depth if voice else 1.0),
        vibrato_rate_hz=rate + (voice.vibrato_rate if voice else 0.0),
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
    line_key: tuple[str, int] = ("", -1)  # (section, line index) of the lyric line
    syllable_index: int = -1  # the syllable's index in that line
    line: LyricLine | None = field(default=None, compare=False, repr=False)  # the whole line (for line TTS)


def sung_notes(ctx: CompositionContext) -> list[SungNote]:
    """The melody's notes that carry a syllable, with the syllable looked up in the lyrics, in the
    octave where the request's voice sits (a melody kept from another voice moves by whole octaves)."""
    if ctx.plan is None or ctx.melody is None or ctx.lyrics is None:
        raise StageError("missing_input", "vocals need the plan, lyrics and melody sections")
    lines = {
        (section.section, index): line
        for section in ctx.lyrics.sections
        for index, line in enumerate(section.lines)
    }
    tempo = ctx.plan.tempo_bpm
    notes = sorted((n for n in ctx.melody.notes if n.line >= 0 and n.syllable >= 0), key=lambda n: n.start_beat)
    voice, profile = ctx.request.voice, ctx.request.voice_profile
    written = (ctx.melody.low, ctx.melody.high)  # the range the melody stage wrote it for
    known = voice in VOICE_RANGES or profile is not None
    shift = octave_shift(written, voice_range(voice, profile)) if known else 0
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
            pitch=note.pitch + shift,
            start_s=beats_to_seconds(note.start_beat, tempo),
            end_s=beats_to_seconds(note.start_beat + note.beats, tempo),
            velocity=note.velocity,
            syllable=line.syllables[note.syllable],
            phrase_end=phrase_end,
            line_key=(note.section, note.line),
            syllable_index=note.syllable,
            line=line,
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
