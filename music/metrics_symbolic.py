"""Objective measures of the symbolic song, computed from its sections (never from constants).

- ``melody_in_key``: share of melody notes whose pitch class is in the plan's scale.
- ``syllable_alignment``: share of sung syllables carrying exactly one note (notes pointing at no
  syllable count against it); 1.0 means one note per syllable.
- ``stress_on_strong_beats``: share of primary-stressed syllables whose note starts on a strong beat
  (beats 1 and 3 in 4/4, the downbeat in 3/4).
- ``rhyme_adherence``: share of lines that share a rhyme letter with an earlier line of their section
  and whose last word has that line's rhyme key (CMUdict).
- ``planned_energy``: the plan's energy per section with its time span, for correlating with loudness.
- ``duration_error``: |planned - requested| / requested.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from composition.models import (
    CompositionContext,
    LyricsSection,
    MelodySection,
    PlanSection,
)
from music.phonetics import last_word, rhyme_key
from music.theory import is_strong_beat, scale_pcs


@dataclass(frozen=True)
class SectionEnergy:
    section: str
    start_s: float
    end_s: float
    energy: float


@dataclass(frozen=True)
class SymbolicMetrics:
    melody_in_key: float
    syllable_alignment: float | None
    stress_on_strong_beats: float | None
    rhyme_adherence: float | None
    planned_duration_s: float
    duration_error: float

    def as_dict(self) -> dict:
        return asdict(self)


def melody_in_key(plan: PlanSection, melody: MelodySection) -> float:
    scale = set(scale_pcs(plan.key, plan.mode))
    if not melody.notes:
        return 1.0
    return sum(1 for n in melody.notes if n.pitch % 12 in scale) / len(melody.notes)


def _notes_by_syllable(melody: MelodySection) -> dict[tuple[str, int, int], list]:
    found: dict[tuple[str, int, int], list] = {}
    for n in melody.notes:
        found.setdefault((n.section, n.line, n.syllable), []).append(n)
    return found


def syllable_alignment(lyrics: LyricsSection | None, melody: MelodySection) -> float | None:
    if lyrics is None:
        return None
    keys = {(s.section, i, k) for s in lyrics.sections for i, line in enumerate(s.lines) for k in range(len(line.syllables))}
    notes = _notes_by_syllable(melody)
    matched = sum(1 for key in keys if len(notes.get(key, [])) == 1)
    stray = sum(len(v) for key, v in notes.items() if key not in keys)
    total = len(keys) + stray
    return matched / total if total else 1.0


def stress_on_strong_beats(plan: PlanSection, lyrics: LyricsSection | None, melody: MelodySection) -> float | None:
    if lyrics is None:
        return None
    notes = _notes_by_syllable(melody)
    stressed = on_beat = 0
    for s in lyrics.sections:
        for i, line in enumerate(s.lines):
            for k, syllable in enumerate(line.syllables):
                if syllable.stress != 1:
                    continue
                stressed += 1
                found = notes.get((s.section, i, k), [])
                if len(found) == 1 and is_strong_beat(found[0].start_beat, plan.beats_per_bar):
                    on_beat += 1
    return on_beat / stressed if stressed else None


def rhyme_adherence(lyrics: LyricsSection | None) -> float | None:
    if lyrics is None:
        return None
    checked = kept = 0
    for s in lyrics.sections:
        first: dict[str, str] = {}
        for line in s.lines:
            key = rhyme_key(last_word(line.text)) if last_word(line.text) else ""
            if line.rhyme not in first:
                first[line.rhyme] = key
                continue
            checked += 1
            kept += key == first[line.rhyme] and key != ""
    return kept / checked if checked else None


def planned_energy(plan: PlanSection) -> list[SectionEnergy]:
    """Energy per section with its start and end in seconds."""
    seconds_per_bar = plan.beats_per_bar * 60.0 / plan.tempo_bpm
    out, bar = [], 0
    for s in plan.form:
        out.append(SectionEnergy(s.name, bar * seconds_per_bar, (bar + s.bars) * seconds_per_bar, s.energy))
        bar += s.bars
    return out


def duration_error(plan: PlanSection, requested_s: float) -> float:
    return abs(plan.duration_s - requested_s) / requested_s


def symbolic_metrics(ctx: CompositionContext) -> SymbolicMetrics:
    """Every symbolic measure of a context whose plan and melody are filled."""
    plan, melody = ctx.plan, ctx.melody
    if plan is None or melody is None:
        raise ValueError("symbolic metrics need the plan and melody sections")
    lyrics = ctx.lyrics if melody.sung else None
    return SymbolicMetrics(
        melody_in_key=melody_in_key(plan, melody),
        syllable_alignment=syllable_alignment(lyrics, melody),
        stress_on_strong_beats=stress_on_strong_beats(plan, lyrics, melody),
        rhyme_adherence=rhyme_adherence(lyrics),
        planned_duration_s=plan.duration_s,
        duration_error=duration_error(plan, ctx.request.duration_s),
    )
