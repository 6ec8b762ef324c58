"""Harmony stage: a chord progression per section from the blend's vocabulary, cadences, voice leading.

Sections of one kind share a progression (every chorus has the same chords, so its hook repeats);
intros borrow the verse's and outros the chorus's. Each section closes on a cadence chosen by what
follows: authentic (V-I) after a chorus and at the end, half (on V) into a chorus or out of an intro,
plagal (IV-I) otherwise. Every voicing is the one that moves least from the chord before it.
"""

from __future__ import annotations

import random

from composition.artifacts import ArtifactStore
from composition.models import (
    GENRES,
    Chord,
    CompositionContext,
    HarmonySection,
    PlanSection,
    SectionHarmony,
    StageName,
)
from music.genres import Progression, blend
from music.stage import BaseProvider, song_plan, stage_rng
from music.theory import MINOR_FAMILY, parse_roman, voice_lead

VOICING_RANGE = (52, 76)


def _pick(rng: random.Random, vocab: list[tuple[Progression, float]], avoid: set[Progression]) -> Progression:
    options = [(p, w) for p, w in vocab if p not in avoid] or vocab
    return rng.choices([p for p, _ in options], weights=[w for _, w in options])[0]


def cadence_for(kind: str, next_kind: str | None) -> str:
    """Which cadence closes a section of ``kind`` followed by ``next_kind`` (None at the song's end)."""
    if next_kind is None or kind == "chorus" or next_kind == "outro":
        return "authentic"
    if kind == "intro" or next_kind in ("chorus", "prechorus"):
        return "half"
    return "plagal"


def _with_cadence(numerals: list[str], cadence: str, minor: bool, sevenths: bool) -> list[str]:
    tonic = ("i7" if minor else "Imaj7") if sevenths else ("i" if minor else "I")
    dominant = "V7" if sevenths else "V"
    subdominant = "iv" if minor else "IV"
    out = list(numerals)
    if cadence == "half":
        out[-1] = dominant
    elif cadence == "authentic":
        if len(out) > 1:
            out[-2] = dominant
        out[-1] = tonic
    elif cadence == "plagal":
        if len(out) > 1:
            out[-2] = subdominant
        out[-1] = tonic
    return out


def make_harmony(plan: PlanSection) -> HarmonySection:
    """Chords covering every bar of the song, section by section."""
    b = blend(plan.genres, plan.seed)
    rng = stage_rng(plan.seed, "harmony")
    minor = plan.mode in MINOR_FAMILY
    vocab = b.progressions["minor" if minor else "major"]
    by_kind: dict[str, Progression] = {}
    for kind in ("verse", "chorus", "prechorus", "bridge"):
        by_kind[kind] = _pick(rng, vocab, set(by_kind.values()))
    by_kind["intro"] = by_kind["verse"]
    by_kind["outro"] = by_kind["chorus"]
    chord_beats = b.bars_per_chord * plan.beats_per_bar
    sections, previous, beat = [], None, 0.0
    for i, section in enumerate(plan.form):
        beats = section.bars * plan.beats_per_bar
        step = chord_beats if beats >= 2 * chord_beats else plan.beats_per_bar
        count = max(1, round(beats / step))
        progression = by_kind[section.kind]
        numerals = [progression[k % len(progression)] for k in range(count)]
        next_kind = plan.form[i + 1].kind if i + 1 < len(plan.form) else None
        cadence = cadence_for(section.kind, next_kind)
        sevenths = any("7" in n for n in progression)
        numerals = _with_cadence(numerals, cadence, minor, sevenths)
        chords = []
        for k, numeral in enumerate(numerals):
            symbol, root, pcs = parse_roman(numeral, plan.key)
            voicing = voice_lead(previous, pcs, *VOICING_RANGE)
            previous = voicing
            length = beats / count
            chords.append(Chord(symbol=symbol, root=root, pitches=voicing, start_beat=beat + k * length, beats=length))
        sections.append(SectionHarmony(section=section.name, chords=chords, cadence=cadence))
        beat += beats
    return HarmonySection(sections=sections)


def chord_at(harmony: HarmonySection, beat: float) -> Chord:
    """The chord sounding at ``beat`` (the last one for beats past the end)."""
    last = None
    for section in harmony.sections:
        for chord in section.chords:
            if chord.start_beat <= beat + 1e-9 < chord.start_beat + chord.beats:
                return chord
            last = chord
    assert last is not None
    return last


class RulesHarmonizer(BaseProvider):
    """The harmony stage's built-in provider."""

    stage = StageName.HARMONY
    name = "rules"
    version = "1"
    capabilities = frozenset({"genres:" + ",".join(GENRES), "voice-leading", "cadences"})

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> HarmonySection:
        return make_harmony(song_plan(ctx, self.stage))
