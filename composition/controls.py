"""What a songwriter may fix in a request: tempo, key with mode, meter; read and checked once here.

The request model validates with these (a bad value is :class:`~composition.errors.InvalidInput`
naming the field, which the API reports as a 422), and the planner reads the parsed values.
Meters are the ones the engine really plays: the arrangement has 4/4 grooves and a 3/4 waltz
pattern, the melody puts stresses on 1 and 3 (4/4) or the downbeat (3/4); compound meters (6/8)
are not built, so they are refused rather than played as something else.
"""

from __future__ import annotations

import re

from composition.errors import InvalidInput

BPM_RANGE = (50.0, 200.0)
MODES = ("major", "minor", "dorian", "mixolydian")
METERS = {"4/4": 4, "3/4": 3}
_TONICS = {"C", "C#", "Db", "D", "D#", "Eb", "E", "F", "F#", "Gb", "G", "G#", "Ab", "A", "A#", "Bb", "B"}
_MODE_ALIASES = {"": "major", "maj": "major", "major": "major", "m": "minor", "min": "minor", "minor": "minor",
                 "dorian": "dorian", "mixolydian": "mixolydian"}
_KEY = re.compile(r"^\s*([A-Ga-g])\s*([#b\u266f\u266d]?)\s*([A-Za-z]*)\s*$")


def check_bpm(value: float | None) -> float | None:
    if value is None:
        return None
    lo, hi = BPM_RANGE
    if not lo <= value <= hi:
        raise InvalidInput(f"bpm must be between {lo:g} and {hi:g}, got {value:g}", field="bpm")
    return float(value)


def parse_key(text: str) -> tuple[str, str]:
    """``"F# minor"`` -> ``("F#", "minor")``; ``"Bb"`` is B-flat major, ``"Am"`` A minor."""
    match = _KEY.match(text or "")
    if not match:
        raise InvalidInput(f"key {text!r} is not a key: write a tonic and a mode, e.g. 'F# minor', 'Bb major', "
                           f"'D dorian'", field="key")
    accidental = {"\u266f": "#", "\u266d": "b"}.get(match[2], match[2])
    tonic = match[1].upper() + accidental
    mode = _MODE_ALIASES.get(match[3] if match[3] == "m" else match[3].lower())
    if tonic not in _TONICS:
        raise InvalidInput(f"key {text!r}: unknown tonic {tonic!r}", field="key")
    if mode is None:
        raise InvalidInput(f"key {text!r}: unknown mode {match[3]!r}; known: {', '.join(MODES)}", field="key")
    return tonic, mode


def parse_meter(text: str) -> int:
    """``"3/4"`` -> 3 beats per bar (quarter-note beats)."""
    value = (text or "").replace(" ", "")
    if value not in METERS:
        raise InvalidInput(f"meter {text!r} is not one the engine plays; known: {', '.join(METERS)}", field="meter")
    return METERS[value]


SECTION_TAGS = {"intro": "intro", "verse": "verse", "prechorus": "prechorus", "chorus": "chorus", "bridge": "bridge",
                "outro": "outro", "hook": "chorus", "refrain": "chorus"}
"""Structure tags a user's lyrics may carry (``[verse]``, ``[pre-chorus]``, ...), to section kinds."""
_TAG_LINE = re.compile(r"^\s*\[([^\]]*)\]\s*$")


def check_tags(lyrics: str | None) -> None:
    """Every ``[tag]`` line of the lyrics names a known section kind (a number may follow: ``[verse 2]``)."""
    for number, line in enumerate((lyrics or "").splitlines(), start=1):
        match = _TAG_LINE.match(line)
        if match:
            name = re.sub(r"[\s\-\d]", "", match[1].lower())
            if name not in SECTION_TAGS:
                raise InvalidInput(f"lyrics line {number}: unknown structure tag [{match[1]}]; known: "
                                   + ", ".join(f"[{t}]" for t in SECTION_TAGS), field="lyrics")
