"""Melody stage: one note per sung syllable, stressed syllables on strong beats, chord tones there,
inside the voice's range; a section of one kind with the same words and chords gets the same tune, so
the chorus hook repeats. Instrumental songs get a lead line built the same way from rhythmic motifs.
"""

from __future__ import annotations

import math
import random

from composition.artifacts import ArtifactStore
from composition.models import (
    CompositionContext,
    HarmonySection,
    LyricsSection,
    MelodySection,
    Note,
    PlanSection,
    StageName,
    VoiceProfile,
)
from music.errors import StageError
from music.harmony import chord_at
from music.plan import bars_per_line, section_starts
from music.rhythm import layout_line, slots_needed
from music.stage import BaseProvider, require, song_plan, stage_rng
from music.theory import is_strong_beat, scale_pcs, strong_beat_spacing, swing_beat
from music.voices import voice_range

_CENTRE = {"verse": 0.42, "prechorus": 0.52, "chorus": 0.62, "bridge": 0.55, "intro": 0.45, "outro": 0.45}
_MOTIFS = ([1, 0, 1, 0, 1, 0, 0, 1], [0, 1, 0, 1, 1, 0, 1], [1, 0, 0, 1, 0, 1, 0, 0, 1], [1, 1, 0, 1, 0, 0, 1],
           [0, 0, 1, 0, 1, 0, 1, 0], [1, 0, 1, 1])


def _line_pitches(events, chords, scale, low, high, centre, rng, line_index, final):
    """Pitches for one line's (onset, beats, stressed, strong) events over their chords."""
    n = len(events)
    span = high - low
    amp = 4 + 4 * rng.random()
    pitches: list[int] = []
    prev = None
    for j, ((onset, beats, stressed, strong), chord) in enumerate(zip(events, chords)):
        shape = math.sin(math.pi * j / max(1, n - 1))
        target = centre + (amp * shape if line_index % 2 == 0 else amp * (0.6 - j / max(1, n - 1)))
        target = min(high - 1, max(low + 1, target))
        options = [p for p in range(low, high + 1) if p % 12 in scale]
        tones = [p for p in options if p % 12 in {q % 12 for q in chord.pitches}]
        if (strong or stressed or beats >= 1.5 or j == n - 1) and tones:
            options = tones
        if final and j == n - 1:
            tonic = [p for p in options if p % 12 == scale[0]]
            options = tonic or options

        def cost(p: int) -> float:
            leap = 0.0 if prev is None else abs(p - prev)
            repeat = 0.0 if p != prev else (3.0 if len(pitches) > 1 and pitches[-2] == p else 1.2)
            return abs(p - target) + 0.5 * leap + (4.0 if leap > 7 else 0.0) + repeat + 0.01 * (p - low) / max(1, span)

        jitter = {p: rng.random() * 1.2 for p in options}
        prev = min(options, key=lambda p: cost(p) + jitter[p])
        pitches.append(prev)
    return pitches


def _swung(start: float, beats: float, swing: float) -> tuple[float, float]:
    a, b = swing_beat(start, swing), swing_beat(start + beats, swing)
    return a, max(0.05, b - a)


def _layout(stresses: list[int], slots: int, spacing: float) -> list[tuple[float, float]]:
    layout = layout_line(stresses, slots, spacing)
    if layout is None:  # more stresses than the window holds: squeeze it in, stresses drift off the beat
        need = slots_needed(stresses)
        layout = [(o * slots / need, d * slots / need) for o, d in layout_line(stresses, need, spacing)]
    return layout


def make_melody(plan: PlanSection, harmony: HarmonySection, lyrics: LyricsSection | None,
                profile: VoiceProfile | None = None) -> MelodySection:
    """The song's vocal line (``lyrics`` given) or instrumental lead line (``lyrics`` None); a user's
    voice ``profile`` (when ``plan.voice`` names one) sets the range."""
    rng = stage_rng(plan.seed, "melody")
    low, high = voice_range(plan.voice if lyrics is not None else None, profile)
    scale = scale_pcs(plan.key, plan.mode)
    spacing = strong_beat_spacing(plan.beats_per_bar)
    starts = section_starts(plan)
    form = {s.name: s for s in plan.form}
    chords_of = {s.section: tuple(c.symbol for c in s.chords) for s in harmony.sections}
    tunes: dict[tuple, list[tuple[float, float, int, int, int, bool]]] = {}
    lines_by_section: list[tuple[str, list[list[int]], bool]] = []
    if lyrics is not None:
        for sl in lyrics.sections:
            lines_by_section.append((sl.section, [[s.stress for s in line.syllables] for line in sl.lines], True))
    else:
        motifs: dict[str, list[list[int]]] = {}
        for s in plan.form:
            if s.kind in ("verse", "chorus", "prechorus", "bridge"):
                if s.kind not in motifs:
                    count = max(1, s.bars // bars_per_line(plan.beats_per_bar))
                    pair = [list(rng.choice(_MOTIFS)) for _ in range(2)]
                    motifs[s.kind] = [pair[i % 2] for i in range(count)]
                lines_by_section.append((s.name, motifs[s.kind], False))
    notes: list[Note] = []
    for name, lines, sung in lines_by_section:
        section = form[name]
        if not lines:
            continue
        start = starts[name]
        window = section.bars * plan.beats_per_bar / len(lines)
        slots = max(1, round(window / spacing))
        key = (section.kind, tuple(map(tuple, lines)), chords_of.get(name))
        if key not in tunes:
            tune = []
            centre = low + (high - low) * _CENTRE[section.kind]
            line_rng = random.Random(f"{plan.seed}:melody:{section.kind}")
            for i, stresses in enumerate(lines):
                layout = _layout(stresses, slots, spacing)
                events, chords = [], []
                for (onset, beats), stress in zip(layout, stresses):
                    at = start + i * window + onset
                    events.append((onset, beats, stress == 1, is_strong_beat(at, plan.beats_per_bar)))
                    chords.append(chord_at(harmony, at))
                pitches = _line_pitches(events, chords, scale, low, high, centre, line_rng, i, i == len(lines) - 1)
                for k, ((onset, beats, stressed, _), pitch) in enumerate(zip(events, pitches)):
                    tune.append((i * window + onset, beats, pitch, i, k, stressed))
            tunes[key] = tune
        for offset, beats, pitch, line, syllable, stressed in tunes[key]:
            begin, length = _swung(start + offset, beats, plan.swing)
            velocity = int(min(127, 62 + 40 * section.energy + (12 if stressed else 0)))
            notes.append(Note(pitch=pitch, start_beat=round(begin, 6), beats=round(length, 6), velocity=velocity,
                              section=name, line=line if sung else -1, syllable=syllable if sung else -1))
    if lyrics is not None and not notes:
        raise StageError("no_vocal_notes", "the lyrics have no singable syllables")
    return MelodySection(notes=notes, low=low, high=high, sung=lyrics is not None)


class RulesMelodist(BaseProvider):
    """The melody stage's built-in provider: a vocal line on the lyrics, or a lead for instrumentals."""

    stage = StageName.MELODY
    name = "rules"
    version = "1"
    capabilities = frozenset({"instrumental", "sung"})

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> MelodySection:
        (harmony,) = require(ctx, "harmony")
        lyrics = None if ctx.request.instrumental else require(ctx, "lyrics")[0]
        return make_melody(song_plan(ctx, self.stage), harmony, lyrics, ctx.request.voice_profile)
