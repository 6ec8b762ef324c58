"""Pitch, scale, chord and meter arithmetic shared by every symbolic stage.

Roman numerals are read relative to the major scale of the key: ``bVII`` in C is B-flat whatever the
mode, upper case is a major triad, lower case minor, and suffixes add sevenths (``7``, ``maj7``), a
diminished fifth (``dim``, ``m7b5``) or a suspension (``sus2``, ``sus4``).
"""

from __future__ import annotations

import re
from itertools import combinations

PITCH_NAMES: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ALIASES = {"Db": 1, "D#": 3, "Gb": 6, "G#": 8, "A#": 10, "Cb": 11, "E#": 5, "Fb": 4, "B#": 0}

MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
MINOR_FAMILY = frozenset({"minor", "dorian"})

_MAJOR_DEGREES = (0, 2, 4, 5, 7, 9, 11)
_NUMERALS = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}
_ROMAN = re.compile(r"^(?P<acc>[b#]?)(?P<num>VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(?P<q>.*)$")
_QUALITIES: dict[str, tuple[str, tuple[int, ...]]] = {
    # suffix: (symbol suffix, intervals above the root); "" and "7" depend on the numeral's case
    "maj7": ("maj7", (0, 4, 7, 11)),
    "dim": ("dim", (0, 3, 6)),
    "m7b5": ("m7b5", (0, 3, 6, 10)),
    "sus2": ("sus2", (0, 2, 7)),
    "sus4": ("sus4", (0, 5, 7)),
    "add9": ("add9", (0, 4, 7, 14)),
}


def pitch_class(name: str) -> int:
    """The pitch class (0-11) of a note name such as ``"F#"`` or ``"Bb"``."""
    if name in PITCH_NAMES:
        return PITCH_NAMES.index(name)
    if name in _ALIASES:
        return _ALIASES[name]
    raise ValueError(f"unknown pitch name {name!r}")


def scale_pcs(key: str, mode: str) -> list[int]:
    """Pitch classes of the key's scale in the given mode, tonic first."""
    tonic = pitch_class(key)
    return [(tonic + step) % 12 for step in MODES[mode]]


def in_scale(pitch: int, scale: list[int]) -> bool:
    return pitch % 12 in scale


def parse_roman(numeral: str, key: str) -> tuple[str, int, list[int]]:
    """``(symbol, root pitch class, chord pitch classes root first)`` for a numeral in ``key``."""
    match = _ROMAN.match(numeral)
    if not match:
        raise ValueError(f"not a roman numeral: {numeral!r}")
    degree = _NUMERALS[match["num"].lower()]
    shift = {"b": -1, "#": 1, "": 0}[match["acc"]]
    root = (pitch_class(key) + _MAJOR_DEGREES[degree] + shift) % 12
    upper = match["num"].isupper()
    suffix = match["q"]
    if suffix in _QUALITIES:
        label, intervals = _QUALITIES[suffix]
    elif suffix == "7":
        label, intervals = ("7", (0, 4, 7, 10)) if upper else ("m7", (0, 3, 7, 10))
    elif suffix == "":
        label, intervals = ("", (0, 4, 7)) if upper else ("m", (0, 3, 7))
    else:
        raise ValueError(f"unknown chord quality {suffix!r} in {numeral!r}")
    symbol = PITCH_NAMES[root] + label
    return symbol, root, [(root + i) % 12 for i in intervals]


def _candidates(pcs: list[int], low: int, high: int) -> list[tuple[int, ...]]:
    """Close and open voicings of the chord's pitch classes inside [low, high], each pc once."""
    options: dict[int, list[int]] = {pc: [p for p in range(low, high + 1) if p % 12 == pc] for pc in pcs}
    voicings: list[tuple[int, ...]] = []

    def build(i: int, chosen: list[int]) -> None:
        if i == len(pcs):
            ordered = tuple(sorted(chosen))
            if ordered[-1] - ordered[0] <= 19:
                voicings.append(ordered)
            return
        for p in options[pcs[i]]:
            if p not in chosen:
                build(i + 1, chosen + [p])

    build(0, [])
    return voicings


def voice_lead(previous: list[int] | None, pcs: list[int], low: int = 52, high: int = 76) -> list[int]:
    """The voicing of ``pcs`` that moves least from ``previous`` (total semitones), or a centred one."""
    voicings = _candidates(pcs, low, high)
    if not voicings:
        raise ValueError(f"no voicing of {pcs} fits {low}..{high}")
    centre = (low + high) / 2
    if not previous:
        return list(min(voicings, key=lambda v: (abs(sum(v) / len(v) - centre), v)))

    def cost(v: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
        return movement(previous, list(v)) + 0.05 * abs(sum(v) / len(v) - centre), v

    return list(min(voicings, key=cost))


def movement(a: list[int], b: list[int]) -> float:
    """Total semitones moved between two voicings, each voice going to its nearest partner."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    best = float("inf")
    for picked in combinations(sorted(long_), len(short)):
        best = min(best, sum(abs(x - y) for x, y in zip(sorted(short), picked)))
    return best


def strong_beat_spacing(beats_per_bar: int) -> int:
    """Beats between metrically strong positions: 2 in 4/4 and 2/4 (beats 1 and 3), the bar otherwise."""
    return 2 if beats_per_bar % 2 == 0 else beats_per_bar


def is_strong_beat(beat: float, beats_per_bar: int, tolerance: float = 1e-6) -> bool:
    """Whether an onset (in beats from the song's start, bars aligned to beat 0) is on a strong beat."""
    spacing = strong_beat_spacing(beats_per_bar)
    position = beat % beats_per_bar
    nearest = round(position / spacing) * spacing
    return abs(position - nearest) < tolerance


def swing_beat(beat: float, swing: float) -> float:
    """Delay off-beat eighths: swing 0 is straight, 1 a full triplet feel (the off-beat at 2/3)."""
    whole, frac = divmod(beat, 1.0)
    if abs(frac - 0.5) < 1e-9:
        return whole + 0.5 + swing / 6.0
    return beat
