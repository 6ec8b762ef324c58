"""Voice profiles' singing ranges (MIDI pitches), the one place melody and vocals read them from."""

from __future__ import annotations

from composition.models import VOICES, VoiceProfile

VOICE_RANGES: dict[str, tuple[int, int]] = {
    "soprano": (60, 79),  # C4..G5
    "alto": (53, 74),  # F3..D5
    "tenor": (48, 69),  # C3..A4
    "baritone": (43, 64),  # G2..E4
}
"""Comfortable (low, high) MIDI range per voice in ``composition.models.VOICES``."""

LEAD_RANGE: tuple[int, int] = (62, 86)
"""Range of the instrumental lead line (D4..D6) for instrumental requests."""

assert set(VOICE_RANGES) == set(VOICES), "every voice needs a range"


def octave_shift(written: tuple[int, int], voice: tuple[int, int]) -> int:
    """The whole octaves (in semitones) that move a melody written for the range ``written`` to where
    the range ``voice`` sits (the middle of one nearest the middle of the other): 0 for the same voice
    or a neighbour, -12 from an alto to a baritone (a revision that changes the voice, keeps the melody)."""
    return 12 * round(((voice[0] + voice[1]) - (written[0] + written[1])) / 24)


def voice_range(voice: str | None, profile: VoiceProfile | None = None) -> tuple[int, int]:
    """The (low, high) MIDI range for a voice (a user's voice profile: its measured comfortable range);
    the instrumental lead's range for ``None``."""
    if voice is None:
        return LEAD_RANGE
    if profile is not None:
        return profile.range_low, profile.range_high
    return VOICE_RANGES[voice]
