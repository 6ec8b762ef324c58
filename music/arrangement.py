"""Arrangement stage: multi-track General MIDI from the plan, harmony and melody.

Drums (GM percussion, channel 10), bass, chords, pad and the melody (the vocal guide, or the lead of an
instrumental) follow the blend's drum, bass and comping styles. Each section's energy sets how many
instruments play, how busy their patterns are and how hard they hit; drum fills lead into each new
section and a crash marks its downbeat. Off-beat eighths are swung by the plan's swing.
"""

from __future__ import annotations

import io

import pretty_midi

from composition.artifacts import ArtifactStore
from composition.models import (
    GENRES,
    ArrangementSection,
    Artifact,
    CompositionContext,
    HarmonySection,
    LyricsSection,
    MelodySection,
    PlanSection,
    StageName,
    Track,
)
from music.genres import blend
from music.harmony import chord_at
from music.plan import section_starts
from music.stage import BaseProvider, require, song_plan
from music.theory import MINOR_FAMILY, pitch_class, swing_beat

KICK, SNARE, RIM, CLAP, HAT, PEDAL, OPEN, CRASH, TAMB = 36, 38, 37, 39, 42, 44, 46, 49, 54
TOMS = (50, 48, 47, 45)

# drum style -> level -> [(beat in a 4/4 bar, drum, relative velocity)]
_EIGHTHS = [i / 2 for i in range(8)]
_DRUMS: dict[str, list[list[tuple[float, int, float]]]] = {
    "backbeat": [
        [(0, KICK, 0.9), (2, KICK, 0.8), (1, RIM, 0.6), (3, RIM, 0.6)] + [(b, HAT, 0.5) for b in range(4)],
        [(0, KICK, 1), (2, KICK, 0.9), (2.5, KICK, 0.7), (1, SNARE, 0.9), (3, SNARE, 0.9)] + [(b, HAT, 0.6) for b in _EIGHTHS],
        [(0, KICK, 1), (1.5, KICK, 0.7), (2, KICK, 0.9), (2.5, KICK, 0.8), (1, SNARE, 1), (3, SNARE, 1),
         (3.5, OPEN, 0.6)] + [(b, HAT, 0.7) for b in _EIGHTHS[:-1]] + [(b, TAMB, 0.4) for b in (1, 3)],
    ],
    "rock": [
        [(0, KICK, 0.9), (2, KICK, 0.8), (1, SNARE, 0.6), (3, SNARE, 0.6)] + [(b, HAT, 0.5) for b in _EIGHTHS],
        [(0, KICK, 1), (0.5, KICK, 0.7), (2, KICK, 1), (2.5, KICK, 0.7), (1, SNARE, 1), (3, SNARE, 1)] + [(b, HAT, 0.7) for b in _EIGHTHS],
        [(0, KICK, 1), (0.5, KICK, 0.8), (2, KICK, 1), (2.5, KICK, 0.8), (1, SNARE, 1), (3, SNARE, 1)] + [(b, 51, 0.8) for b in _EIGHTHS],
    ],
    "funk": [
        [(0, KICK, 0.9), (2.5, KICK, 0.7), (1, SNARE, 0.7), (3, SNARE, 0.7)] + [(b, HAT, 0.5) for b in _EIGHTHS],
        [(0, KICK, 1), (0.75, KICK, 0.7), (2.5, KICK, 0.8), (1, SNARE, 1), (3, SNARE, 1), (1.75, SNARE, 0.3),
         (2.25, SNARE, 0.3)] + [(i / 4, HAT, 0.55 if i % 2 else 0.7) for i in range(16)],
        [(0, KICK, 1), (0.75, KICK, 0.8), (1.5, KICK, 0.6), (2.5, KICK, 0.9), (1, SNARE, 1), (3, SNARE, 1),
         (1.75, SNARE, 0.35), (2.25, SNARE, 0.35), (3.75, SNARE, 0.35), (3.5, OPEN, 0.6)]
        + [(i / 4, HAT, 0.6 if i % 2 else 0.8) for i in range(14)],
    ],
    "boombap": [
        [(0, KICK, 0.8), (2.5, KICK, 0.6), (1, RIM, 0.6), (3, RIM, 0.6)] + [(b, HAT, 0.4) for b in _EIGHTHS],
        [(0, KICK, 0.9), (1.75, KICK, 0.6), (2.5, KICK, 0.8), (1, SNARE, 0.85), (3, SNARE, 0.85)] + [(b, HAT, 0.5) for b in _EIGHTHS],
        [(0, KICK, 1), (1.75, KICK, 0.7), (2.5, KICK, 0.9), (1, SNARE, 0.95), (3, SNARE, 0.95), (3.5, OPEN, 0.5)]
        + [(b, HAT, 0.6) for b in _EIGHTHS[:-1]],
    ],
    "four_on_floor": [
        [(b, KICK, 0.8) for b in range(4)] + [(b + 0.5, OPEN, 0.4) for b in range(4)],
        [(b, KICK, 1) for b in range(4)] + [(b + 0.5, OPEN, 0.6) for b in range(4)] + [(1, CLAP, 0.8), (3, CLAP, 0.8)],
        [(b, KICK, 1) for b in range(4)] + [(b + 0.5, OPEN, 0.7) for b in range(4)] + [(1, CLAP, 0.9), (3, CLAP, 0.9)]
        + [(i / 4, HAT, 0.45) for i in range(16) if i % 2],
    ],
    "brush": [
        [(0, KICK, 0.5)] + [(b, PEDAL, 0.4) for b in range(4)],
        [(0, KICK, 0.6), (2, KICK, 0.5), (1, RIM, 0.5), (3, RIM, 0.5)] + [(b, HAT, 0.4) for b in _EIGHTHS],
        [(0, KICK, 0.8), (2, KICK, 0.7), (1, SNARE, 0.7), (3, SNARE, 0.7)] + [(b, HAT, 0.5) for b in _EIGHTHS],
    ],
    "folk": [
        [(0, KICK, 0.6), (2, KICK, 0.5)] + [(b, TAMB, 0.35) for b in (1, 3)],
        [(0, KICK, 0.8), (2, KICK, 0.7), (1, RIM, 0.6), (3, RIM, 0.6)] + [(b, TAMB, 0.45) for b in _EIGHTHS],
        [(0, KICK, 0.9), (2, KICK, 0.8), (2.5, KICK, 0.6), (1, SNARE, 0.8), (3, SNARE, 0.8)] + [(b, TAMB, 0.55) for b in _EIGHTHS],
    ],
}
_WALTZ = [
    [(0, KICK, 0.7), (1, HAT, 0.4), (2, HAT, 0.4)],
    [(0, KICK, 0.9), (1, RIM, 0.6), (2, RIM, 0.6), (0, HAT, 0.5), (1, HAT, 0.5), (2, HAT, 0.5)],
    [(0, KICK, 1), (1, SNARE, 0.7), (2, SNARE, 0.7), (2.5, KICK, 0.6)] + [(b / 2, HAT, 0.6) for b in range(6)],
]
# bass style -> [(beat in bar, semitones above the root, beats)]
_BASS = {
    "pop": [(0, 0, 1.4), (1.5, 0, 0.5), (2, 0, 1), (3, 7, 0.9)],
    "eighths": [(b, 0, 0.45) for b in _EIGHTHS],
    "funk": [(0, 0, 0.4), (0.75, 12, 0.2), (1.5, 0, 0.3), (2.5, 7, 0.3), (3, 10, 0.2), (3.25, 12, 0.2), (3.5, 0, 0.3)],
    "sparse": [(0, 0, 1.8), (2.5, 0, 1.2)],
    "offbeat": [(b + 0.5, 0, 0.4) for b in range(4)],
    "whole": [(0, 0, 3.9)],
    "root_fifth": [(0, 0, 0.9), (1, 7, 0.9), (2, 0, 0.9), (3, 7, 0.9)],
}
# comping style -> [(beat in bar, beats)], None for held chords
_COMP = {
    "block": None,
    "stabs": [(0, 0.45), (1.5, 0.45), (2.5, 0.45), (3.5, 0.4)],
    "power": [(b, 0.4) for b in _EIGHTHS],
    "chank": [(0.5, 0.2), (1.25, 0.15), (1.75, 0.2), (2.5, 0.2), (3.5, 0.2)],
    "arpeggio": [(b, 0.5) for b in _EIGHTHS],
    "strum": [(b, 0.9) for b in range(4)],
    "offbeat": [(b + 0.5, 0.35) for b in range(4)],
}


def _level(energy: float) -> int:
    return 0 if energy < 0.45 else 1 if energy < 0.7 else 2


class _Writer:
    def __init__(self, plan: PlanSection) -> None:
        self.spb = 60.0 / plan.tempo_bpm
        self.swing = plan.swing

    def note(self, inst: pretty_midi.Instrument, pitch: int, beat: float, beats: float, velocity: float, swing: bool = True) -> None:
        start = swing_beat(beat, self.swing) if swing else beat
        end = swing_beat(beat + beats, self.swing) if swing else beat + beats
        if end - start <= 0.01:
            end = start + 0.05
        inst.notes.append(pretty_midi.Note(int(max(1, min(127, velocity))), int(pitch), start * self.spb, end * self.spb))


def arrange(plan: PlanSection, harmony: HarmonySection, melody: MelodySection, lyrics: LyricsSection | None) -> pretty_midi.PrettyMIDI:
    """The multi-track MIDI of the song."""
    b = blend(plan.genres, plan.seed)
    w = _Writer(plan)
    bpb = plan.beats_per_bar
    pm = pretty_midi.PrettyMIDI(initial_tempo=plan.tempo_bpm, resolution=480)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(bpb, plan.beat_unit, 0.0))
    minor = plan.mode in MINOR_FAMILY
    pm.key_signature_changes.append(pretty_midi.KeySignature(pitch_class(plan.key) + (12 if minor else 0), 0.0))
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    bass = pretty_midi.Instrument(program=b.programs["bass"], name="bass")
    keys = pretty_midi.Instrument(program=b.programs["chords"], name="chords")
    pad = pretty_midi.Instrument(program=b.programs["pad"], name="pad")
    lead = pretty_midi.Instrument(program=b.programs["lead"], name="vocal guide" if melody.sung else "lead")
    starts = section_starts(plan)
    drum_levels = _WALTZ if bpb != 4 else _DRUMS[b.drum_style]
    for index, section in enumerate(plan.form):
        e, level = section.energy, _level(section.energy)
        base = 40 + 70 * e
        first = starts[section.name]
        has_next = index + 1 < len(plan.form)
        for bar in range(section.bars):
            at = first + bar * bpb
            fill = has_next and bar == section.bars - 1 and e >= 0.35
            if e >= 0.25:
                pattern = drum_levels[level]
                cut = bpb - (2 if level == 2 else 1) if fill else bpb
                for beat, drum, rel in pattern:
                    if beat < cut:
                        w.note(drums, drum, at + beat, 0.2, base * rel)
                if fill:
                    for k, beat in enumerate(x / 4 for x in range(int(cut * 4), bpb * 4)):
                        w.note(drums, TOMS[(k // 2) % 4] if k % 3 else SNARE, at + beat, 0.2, base * (0.6 + 0.1 * (k % 4)))
                if bar == 0 and index > 0 and e >= 0.5:
                    w.note(drums, CRASH, at, 1.0, base * 0.9)
            if e >= 0.3:
                pattern_b = _BASS[b.bass_style] if level > 0 or b.bass_style == "whole" else [(0, 0, bpb - 0.1)]
                for beat, interval, beats in pattern_b:
                    if beat < bpb:
                        chord = chord_at(harmony, at + beat)
                        w.note(bass, 36 + chord.root + interval, at + beat, min(beats, bpb - beat), base * 0.9)
        for chord in _section_chords(harmony, section.name):
            comp = _COMP[b.comp_style] if level > 0 else None
            if comp is None:
                for p in chord.pitches:
                    w.note(keys, p, chord.start_beat, chord.beats - 0.05, base * 0.7)
            else:
                for bar_start in _bars_in(chord.start_beat, chord.beats, bpb):
                    for k, (beat, beats) in enumerate(comp):
                        t = bar_start + beat
                        if chord.start_beat <= t < chord.start_beat + chord.beats:
                            notes = _comp_notes(b.comp_style, chord.pitches, k)
                            for n, p in enumerate(notes):
                                w.note(keys, p, t + 0.02 * n * (b.comp_style == "strum"), beats, base * 0.75)
            if e >= 0.5:
                for p in chord.pitches:
                    w.note(pad, p + 12 if p < 60 else p, chord.start_beat, chord.beats, base * 0.55, swing=False)
    syllables = _syllable_texts(lyrics)
    for n in melody.notes:
        lead.notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start_beat * w.spb, (n.start_beat + n.beats) * w.spb))
        text = syllables.get((n.section, n.line, n.syllable))
        if text:
            pm.lyrics.append(pretty_midi.Lyric(text, n.start_beat * w.spb))
    for inst in (drums, bass, keys, pad, lead):
        if inst.notes:
            inst.notes.sort(key=lambda x: (x.start, x.pitch, x.end))
            pm.instruments.append(inst)
    return pm


def _section_chords(harmony: HarmonySection, name: str):
    return next(s.chords for s in harmony.sections if s.section == name)


def _bars_in(start: float, beats: float, bpb: int) -> list[float]:
    first = (start // bpb) * bpb
    return [first + k * bpb for k in range(int((start + beats - first - 1e-9) // bpb) + 1)]


def _comp_notes(style: str, pitches: list[int], k: int) -> list[int]:
    if style == "arpeggio":
        cycle = list(pitches) + [pitches[0] + 12]
        return [cycle[k % len(cycle)]]
    if style == "power":
        return [pitches[0], pitches[0] + 7 if pitches[0] + 7 <= 127 else pitches[0]]
    return list(pitches)


def _syllable_texts(lyrics: LyricsSection | None) -> dict[tuple[str, int, int], str]:
    if lyrics is None:
        return {}
    return {(s.section, i, k): syl.text for s in lyrics.sections for i, line in enumerate(s.lines)
            for k, syl in enumerate(line.syllables)}


def midi_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def make_arrangement(plan: PlanSection, harmony: HarmonySection, melody: MelodySection, lyrics: LyricsSection | None,
                     store: ArtifactStore, namespace: str) -> ArrangementSection:
    """Arrange the song and store it as ``arrangement.mid`` (content-addressed) in ``namespace``."""
    pm = arrange(plan, harmony, melody, lyrics)
    artifact: Artifact = store.put(namespace, "arrangement.mid", midi_bytes(pm), "audio/midi")
    tracks = [Track(name=i.name, program=i.program, is_drum=i.is_drum, notes=len(i.notes)) for i in pm.instruments]
    return ArrangementSection(midi=artifact, tracks=tracks)


class MidiArranger(BaseProvider):
    """The arrangement stage's built-in provider: General MIDI tracks written with pretty_midi."""

    stage = StageName.ARRANGEMENT
    name = "midi"
    version = "1"
    capabilities = frozenset({"genres:" + ",".join(GENRES), "general-midi", "instrumental", "lyrics-meta"})

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> ArrangementSection:
        harmony, melody = require(ctx, "harmony", "melody")
        return make_arrangement(song_plan(ctx, self.stage), harmony, melody, ctx.lyrics, store, namespace)
