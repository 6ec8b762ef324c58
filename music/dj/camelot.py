"""Keys on the Camelot wheel: the DJ's map of harmonic mixing.

Each major key is a number 1-12 with ``B``, its relative minor the same number with ``A``; moving one
step around the wheel (a fifth) or between a key and its relative is a smooth mix (distance 1).
Modes are placed by their pitch collection: D dorian has C major's notes, so it sits at 8A with A
minor; G mixolydian sits at 8B with C major.
"""

from __future__ import annotations

from dataclasses import dataclass

from composition.errors import InvalidInput

_PITCH = {"C": 0, "B#": 0, "C#": 1, "DB": 1, "D": 2, "D#": 3, "EB": 3, "E": 4, "FB": 4, "E#": 5, "F": 5, "F#": 6,
          "GB": 6, "G": 7, "G#": 8, "AB": 8, "A": 9, "A#": 10, "BB": 10, "B": 11, "CB": 11}
# semitones from a mode's tonic up to the tonic of the major scale with the same notes
_TO_MAJOR = {"major": 0, "ionian": 0, "minor": 3, "aeolian": 3, "dorian": -2, "mixolydian": 5, "phrygian": -4,
             "lydian": -5, "locrian": 1}
_MINORISH = {"minor", "aeolian", "dorian", "phrygian", "locrian"}


@dataclass(frozen=True, order=True)
class Camelot:
    number: int  # 1..12
    letter: str  # "A" minor side, "B" major side

    def __str__(self) -> str:
        return f"{self.number}{self.letter}"


def pitch_class(key: str) -> int:
    try:
        return _PITCH[key.strip().upper()]
    except KeyError:
        raise InvalidInput(f"not a key name: {key!r}", field="key") from None


def camelot(key: str, mode: str) -> Camelot:
    """The wheel position of ``key`` in ``mode`` (``"F#", "minor"`` -> 11A)."""
    shift = _TO_MAJOR.get(mode.strip().lower())
    if shift is None:
        raise InvalidInput(f"no Camelot position for the mode {mode!r}", field="mode")
    major = (pitch_class(key) + shift) % 12
    number = (major * 7 % 12 + 7) % 12 + 1  # C major is 8B, each fifth up one step
    return Camelot(number, "A" if mode.strip().lower() in _MINORISH else "B")


def parse(code: str) -> Camelot:
    text = code.strip().upper()
    if len(text) < 2 or text[-1] not in "AB" or not text[:-1].isdigit() or not 1 <= int(text[:-1]) <= 12:
        raise InvalidInput(f"not a Camelot code: {code!r}", field="camelot")
    return Camelot(int(text[:-1]), text[-1])


def distance(a: Camelot | str, b: Camelot | str) -> int:
    """Steps around the wheel, plus one for changing between the minor and major rings."""
    a = parse(a) if isinstance(a, str) else a
    b = parse(b) if isinstance(b, str) else b
    steps = abs(a.number - b.number) % 12
    return min(steps, 12 - steps) + (a.letter != b.letter)
