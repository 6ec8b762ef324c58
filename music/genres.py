"""Genre profiles and blending them into the one profile a song follows.

Each profile in :data:`PROFILES` gives the numbers (tempo range, swing, syllables per line, energy
bias, mix style) and the categorical choices (meter, mode leaning, chord vocabulary, form, drum, bass
and comping styles, instruments as GM programs) of a genre. :func:`blend` mixes a weighted genre list:
numbers are interpolated by weight, categorical choices are drawn by weight from a generator seeded by
the song, and chord vocabularies are merged with each progression's weight scaled by its genre's.
Every stage calls :func:`blend` with the plan's genres and seed and gets the same answer.

The audio half reads the mix style with :func:`mix_style` (``plan.genres`` in, :class:`MixStyle` out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields

from composition.models import GENRES, GenreWeight

Progression = tuple[str, ...]


@dataclass(frozen=True)
class MixStyle:
    """How a genre sounds after the mix, each 0..1 unless named otherwise; read by the master stage."""

    reverb: float  # room/plate send on the bus
    vocal_reverb: float  # extra send on the vocal
    compression: float  # bus compression amount (ratio/threshold intensity)
    brightness: float  # tilt EQ: 0 dark .. 1 bright
    saturation: float  # drive on the bus
    stereo_width: float
    low_end: float  # bass emphasis
    vibrato: float  # vocal vibrato depth
    breathiness: float  # vocal breath noise


@dataclass(frozen=True)
class FormTemplate:
    """A song's shape: intro, a verse/(prechorus)/chorus cycle repeated to fit, optional bridge, outro."""

    intro_bars: int
    verse_lines: int
    prechorus: bool
    chorus_lines: int
    bridge: bool
    outro_bars: int


@dataclass(frozen=True)
class GenreProfile:
    name: str
    tempo: tuple[float, float]
    swing: float
    syllables: tuple[int, int]  # syllables per sung line
    energy_bias: float
    meters: dict[int, float]  # beats per bar -> weight
    modes: dict[str, float]  # mode -> leaning weight
    progressions: dict[str, list[tuple[Progression, float]]]  # "major"/"minor" family -> vocabulary
    bars_per_chord: dict[float, float]
    forms: list[tuple[FormTemplate, float]]
    programs: dict[str, dict[int, float]]  # role -> GM program -> weight
    drum_style: dict[str, float]
    bass_style: dict[str, float]
    comp_style: dict[str, float]
    mix: MixStyle


def _p(text: str) -> Progression:
    return tuple(text.split())


PROFILES: dict[str, GenreProfile] = {
    "pop": GenreProfile(
        name="pop", tempo=(96, 124), swing=0.0, syllables=(6, 9), energy_bias=0.0,
        meters={4: 1.0}, modes={"major": 0.7, "minor": 0.3},
        progressions={
            "major": [(_p("I V vi IV"), 3), (_p("vi IV I V"), 2), (_p("I vi IV V"), 1.5), (_p("IV I V vi"), 1)],
            "minor": [(_p("i bVI bIII bVII"), 3), (_p("i bVII bVI bVII"), 1.5), (_p("i iv bVI bVII"), 1)],
        },
        bars_per_chord={1: 1.0},
        forms=[(FormTemplate(4, 4, True, 4, True, 4), 2), (FormTemplate(4, 4, False, 4, True, 4), 1)],
        programs={"bass": {33: 1, 38: 0.5}, "chords": {0: 1, 4: 0.7, 27: 0.5}, "pad": {89: 1, 48: 0.6},
                  "lead": {80: 0.5, 73: 0.5, 54: 0.6}},
        drum_style={"backbeat": 1.0}, bass_style={"pop": 1.0}, comp_style={"stabs": 0.6, "block": 0.4},
        mix=MixStyle(reverb=0.35, vocal_reverb=0.35, compression=0.6, brightness=0.65, saturation=0.15,
                     stereo_width=0.7, low_end=0.6, vibrato=0.3, breathiness=0.3),
    ),
    "rock": GenreProfile(
        name="rock", tempo=(108, 150), swing=0.0, syllables=(6, 9), energy_bias=0.12,
        meters={4: 1.0}, modes={"major": 0.5, "mixolydian": 0.3, "minor": 0.4},
        progressions={
            "major": [(_p("I bVII IV I"), 2.5), (_p("I IV V IV"), 2), (_p("I V IV IV"), 1), (_p("vi IV I V"), 1)],
            "minor": [(_p("i bVII bVI bVII"), 2.5), (_p("i bIII bVII iv"), 1.5), (_p("i bVI bIII bVII"), 1)],
        },
        bars_per_chord={1: 1.0, 2: 0.3},
        forms=[(FormTemplate(4, 4, False, 4, True, 4), 2), (FormTemplate(2, 4, True, 4, True, 4), 1)],
        programs={"bass": {34: 1, 33: 0.6}, "chords": {29: 1, 30: 0.6}, "pad": {48: 0.5, 16: 0.5},
                  "lead": {29: 0.6, 81: 0.4}},
        drum_style={"rock": 1.0}, bass_style={"eighths": 1.0}, comp_style={"power": 1.0},
        mix=MixStyle(reverb=0.25, vocal_reverb=0.25, compression=0.75, brightness=0.7, saturation=0.5,
                     stereo_width=0.8, low_end=0.6, vibrato=0.2, breathiness=0.15),
    ),
    "funk": GenreProfile(
        name="funk", tempo=(96, 116), swing=0.25, syllables=(7, 10), energy_bias=0.08,
        meters={4: 1.0}, modes={"dorian": 0.6, "mixolydian": 0.5, "minor": 0.2},
        progressions={
            "major": [(_p("I7 IV7 I7 IV7"), 2.5), (_p("I7 I7 IV7 bVII"), 1.5), (_p("ii7 V7 I7 I7"), 1)],
            "minor": [(_p("i7 IV7 i7 IV7"), 2.5), (_p("i7 i7 iv7 bVII"), 1.5), (_p("i7 bIII bVII IV7"), 1)],
        },
        bars_per_chord={1: 0.7, 0.5: 0.5},
        forms=[(FormTemplate(4, 4, False, 4, True, 4), 1.0)],
        programs={"bass": {36: 1, 33: 0.8}, "chords": {27: 1, 4: 0.8, 16: 0.4}, "pad": {61: 0.8, 17: 0.4},
                  "lead": {61: 0.5, 80: 0.5}},
        drum_style={"funk": 1.0}, bass_style={"funk": 1.0}, comp_style={"chank": 1.0},
        mix=MixStyle(reverb=0.2, vocal_reverb=0.2, compression=0.65, brightness=0.7, saturation=0.25,
                     stereo_width=0.6, low_end=0.75, vibrato=0.25, breathiness=0.2),
    ),
    "lofi": GenreProfile(
        name="lofi", tempo=(70, 90), swing=0.55, syllables=(6, 8), energy_bias=-0.15,
        meters={4: 1.0}, modes={"minor": 0.5, "dorian": 0.3, "major": 0.4},
        progressions={
            "major": [(_p("ii7 V7 Imaj7 vi7"), 2.5), (_p("Imaj7 iii7 vi7 IVmaj7"), 2), (_p("IVmaj7 iii7 ii7 Imaj7"), 1)],
            "minor": [(_p("i7 iv7 bVIImaj7 bIIImaj7"), 2), (_p("ii7 v7 i7 i7"), 1), (_p("i7 bVImaj7 iv7 v7"), 1.5)],
        },
        bars_per_chord={1: 1.0, 2: 0.4},
        forms=[(FormTemplate(4, 4, False, 4, False, 4), 1.0)],
        programs={"bass": {32: 0.8, 33: 0.6}, "chords": {4: 1, 0: 0.5}, "pad": {89: 0.6, 95: 0.4},
                  "lead": {11: 0.6, 73: 0.5}},
        drum_style={"boombap": 1.0}, bass_style={"sparse": 1.0}, comp_style={"block": 0.6, "arpeggio": 0.4},
        mix=MixStyle(reverb=0.4, vocal_reverb=0.4, compression=0.5, brightness=0.3, saturation=0.45,
                     stereo_width=0.5, low_end=0.65, vibrato=0.15, breathiness=0.55),
    ),
    "house": GenreProfile(
        name="house", tempo=(118, 128), swing=0.05, syllables=(4, 7), energy_bias=0.08,
        meters={4: 1.0}, modes={"minor": 0.6, "major": 0.4},
        progressions={
            "major": [(_p("vi IV I V"), 2), (_p("IV V iii vi"), 1.5), (_p("Imaj7 IVmaj7 Imaj7 IVmaj7"), 1)],
            "minor": [(_p("i bVI bIII bVII"), 2.5), (_p("i7 i7 iv7 iv7"), 1.5), (_p("i bVII bVI v"), 1)],
        },
        bars_per_chord={1: 0.5, 2: 1.0},
        forms=[(FormTemplate(8, 4, False, 4, True, 8), 1.0)],
        programs={"bass": {38: 1, 39: 0.5}, "chords": {90: 0.7, 4: 0.5, 0: 0.4}, "pad": {89: 0.7, 95: 0.5},
                  "lead": {81: 0.7, 80: 0.4}},
        drum_style={"four_on_floor": 1.0}, bass_style={"offbeat": 1.0}, comp_style={"offbeat": 0.7, "stabs": 0.3},
        mix=MixStyle(reverb=0.35, vocal_reverb=0.45, compression=0.8, brightness=0.7, saturation=0.2,
                     stereo_width=0.9, low_end=0.85, vibrato=0.15, breathiness=0.25),
    ),
    "ballad": GenreProfile(
        name="ballad", tempo=(60, 80), swing=0.0, syllables=(6, 9), energy_bias=-0.12,
        meters={4: 0.7, 3: 0.3}, modes={"major": 0.6, "minor": 0.4},
        progressions={
            "major": [(_p("I V vi IV"), 2), (_p("I iii IV V"), 1.5), (_p("vi IV I V"), 1), (_p("I IV ii7 V"), 1.5)],
            "minor": [(_p("i bVI bIII bVII"), 2), (_p("i iv bVII bIII"), 1.5), (_p("i bVI iv V"), 1)],
        },
        bars_per_chord={1: 1.0},
        forms=[(FormTemplate(4, 4, True, 4, True, 4), 1.0)],
        programs={"bass": {32: 0.6, 33: 0.6}, "chords": {0: 1.0, 24: 0.3}, "pad": {48: 1.0, 49: 0.5},
                  "lead": {40: 0.5, 73: 0.5}},
        drum_style={"brush": 1.0}, bass_style={"whole": 1.0}, comp_style={"arpeggio": 0.7, "block": 0.3},
        mix=MixStyle(reverb=0.6, vocal_reverb=0.55, compression=0.4, brightness=0.45, saturation=0.05,
                     stereo_width=0.75, low_end=0.5, vibrato=0.55, breathiness=0.35),
    ),
    "folk": GenreProfile(
        name="folk", tempo=(84, 116), swing=0.1, syllables=(7, 10), energy_bias=-0.08,
        meters={4: 0.7, 3: 0.3}, modes={"major": 0.7, "mixolydian": 0.3, "minor": 0.3},
        progressions={
            "major": [(_p("I IV I V"), 2.5), (_p("I V vi IV"), 1.5), (_p("I IV vi V"), 1), (_p("I bVII IV I"), 0.7)],
            "minor": [(_p("i bVII i bVII"), 1.5), (_p("i bIII bVII i"), 1.5), (_p("i iv i v"), 1)],
        },
        bars_per_chord={1: 1.0, 2: 0.4},
        forms=[(FormTemplate(4, 4, False, 4, False, 4), 1.5), (FormTemplate(2, 4, False, 4, True, 4), 1)],
        programs={"bass": {32: 1.0}, "chords": {25: 1.0, 24: 0.5}, "pad": {21: 0.5, 48: 0.5},
                  "lead": {22: 0.4, 105: 0.3, 73: 0.5}},
        drum_style={"folk": 1.0}, bass_style={"root_fifth": 1.0}, comp_style={"strum": 1.0},
        mix=MixStyle(reverb=0.4, vocal_reverb=0.35, compression=0.35, brightness=0.55, saturation=0.05,
                     stereo_width=0.6, low_end=0.45, vibrato=0.35, breathiness=0.4),
    ),
}

assert set(PROFILES) == set(GENRES), "every genre in composition.models.GENRES needs a profile"


@dataclass(frozen=True)
class Blend:
    """One song's profile: the weighted mix of its genres' profiles."""

    weights: dict[str, float]
    tempo: tuple[float, float]
    swing: float
    syllables: tuple[float, float]
    energy_bias: float
    beats_per_bar: int
    modes: dict[str, float]
    progressions: dict[str, list[tuple[Progression, float]]]
    bars_per_chord: float
    form: FormTemplate
    programs: dict[str, int]
    drum_style: str
    bass_style: str
    comp_style: str
    mix: MixStyle
    dominant: str = field(default="pop")


def _weights(genres: list[GenreWeight] | dict[str, float]) -> dict[str, float]:
    items = genres.items() if isinstance(genres, dict) else ((g.genre, g.weight) for g in genres)
    weights = {name: float(w) for name, w in items if w > 0}
    total = sum(weights.values())
    return {name: w / total for name, w in sorted(weights.items())}


def _lerp(weights: dict[str, float], get) -> float:
    return sum(w * get(PROFILES[g]) for g, w in weights.items())


def _choose(rng: random.Random, options: dict) -> object:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def _merge(weights: dict[str, float], get) -> dict:
    merged: dict = {}
    for g, w in weights.items():
        options = get(PROFILES[g])
        total = sum(options.values())
        for key, value in options.items():
            merged[key] = merged.get(key, 0.0) + w * value / total
    return merged


def mix_style(genres: list[GenreWeight] | dict[str, float]) -> MixStyle:
    """The blend's mix style: every number interpolated by genre weight."""
    weights = _weights(genres)
    return MixStyle(**{f.name: _lerp(weights, lambda p, n=f.name: getattr(p.mix, n)) for f in fields(MixStyle)})


def blend(genres: list[GenreWeight] | dict[str, float], seed: int) -> Blend:
    """Blend the weighted genres into one profile; categorical picks are seeded by ``seed``."""
    weights = _weights(genres)
    rng = random.Random(f"{seed}:blend")
    progressions: dict[str, list[tuple[Progression, float]]] = {}
    for family in ("major", "minor"):
        merged: dict[Progression, float] = {}
        for g, w in weights.items():
            vocab = PROFILES[g].progressions[family]
            total = sum(x for _, x in vocab)
            for prog, x in vocab:
                merged[prog] = merged.get(prog, 0.0) + w * x / total
        progressions[family] = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    forms = _merge(weights, lambda p: {f: x for f, x in p.forms})
    return Blend(
        weights=weights,
        tempo=(_lerp(weights, lambda p: p.tempo[0]), _lerp(weights, lambda p: p.tempo[1])),
        swing=_lerp(weights, lambda p: p.swing),
        syllables=(_lerp(weights, lambda p: p.syllables[0]), _lerp(weights, lambda p: p.syllables[1])),
        energy_bias=_lerp(weights, lambda p: p.energy_bias),
        beats_per_bar=int(_choose(rng, _merge(weights, lambda p: p.meters))),
        modes=_merge(weights, lambda p: p.modes),
        progressions=progressions,
        bars_per_chord=float(_choose(rng, _merge(weights, lambda p: p.bars_per_chord))),
        form=_choose(rng, forms),
        programs={role: int(_choose(rng, _merge(weights, lambda p, r=role: p.programs[r])))
                  for role in ("bass", "chords", "pad", "lead")},
        drum_style=str(_choose(rng, _merge(weights, lambda p: p.drum_style))),
        bass_style=str(_choose(rng, _merge(weights, lambda p: p.bass_style))),
        comp_style=str(_choose(rng, _merge(weights, lambda p: p.comp_style))),
        mix=mix_style(weights),
        dominant=max(weights, key=lambda g: (weights[g], g)),
    )
