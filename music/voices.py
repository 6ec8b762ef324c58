"""Voice profiles' singing ranges (MIDI pitches), the one place melody and vocals read them from."""

from __future__ import annotations

from composition.models import VOICES

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


def octave_shift(pitches: list[int], low: int, high: int) -> int:
    """The whole octaves (in semitones) that move a line's median pitch nearest the middle of
    ``low..high``: 0 for a line written for this range, +-12 for one written for a voice an octave
    away (a revision that changes the voice but keeps the melody)."""
    if not pitches:
        return 0
    ordered = sorted(pitches)
    median = ordered[len(ordered) // 2]
    return 12 * round(((low + high) / 2 - median) / 12)


def voice_range(voice: str | None) -> tuple[int, int]:
    """The (low, high) MIDI range for a voice; the instrumental lead's range for ``None``."""
    if voice is None:
        return LEAD_RANGE
    return VOICE_RANGES[voice]
