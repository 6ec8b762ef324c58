"""A small hand-built song (plan, harmony, lyrics, melody, arrangement) for the audio stages' tests,
so they run without the symbolic engine: 9 bars at 120 bpm (18 s), intro / verse / chorus / outro
with energies 0.3 / 0.55 / 0.9 / 0.2, drums, bass, chords and pad following the energy."""

from __future__ import annotations

import io

import pretty_midi

from composition.artifacts import ArtifactStore
from composition.models import (
    ArrangementSection,
    Chord,
    CompositionContext,
    CompositionRequest,
    FormSection,
    GenreWeight,
    HarmonySection,
    LyricLine,
    LyricsSection,
    MelodySection,
    Mood,
    Note,
    PlanSection,
    SectionHarmony,
    SectionLyrics,
    Syllable,
    Track,
)
from music.voices import VOICE_RANGES

TEMPO = 120.0
FORM = [("intro", "intro", 1, 0.3, False), ("verse1", "verse", 3, 0.55, True),
        ("chorus1", "chorus", 3, 0.9, True), ("outro", "outro", 2, 0.2, False)]
LINES = {
    "verse1": [
        [("sun", "sun", ["S", "AH1", "N"]), ("shine", "shine", ["SH", "AY1", "N"]), ("on", "on", ["AA1", "N"]),
         ("me", "me", ["M", "IY1"]), ("to", "today", ["T", "AH0"]), ("day", "today", ["D", "EY1"])],
        [("we", "we", ["W", "IY1"]), ("rise", "rise", ["R", "AY1", "Z"]), ("a", "away", ["AH0"]),
         ("way", "away", ["W", "EY1"])],
    ],
    "chorus1": [
        [("hold", "hold", ["HH", "OW1", "L", "D"]), ("the", "the", ["DH", "AH0"]), ("light", "light", ["L", "AY1", "T"]),
         ("so", "so", ["S", "OW1"]), ("high", "high", ["HH", "AY1"])],
        [("keep", "keep", ["K", "IY1", "P"]), ("it", "it", ["IH1", "T"]), ("close", "close", ["K", "L", "OW1", "Z"]),
         ("and", "and", ["AE1", "N", "D"]), ("fly", "fly", ["F", "L", "AY1"])],
    ],
}
MELODY = {"verse1": [[64, 65, 67, 69, 67, 64], [62, 64, 65, 67]], "chorus1": [[72, 71, 69, 67, 69], [67, 69, 71, 72, 72]]}
OCTAVE_SHIFT = {"soprano": 0, "alto": 0, "tenor": -12, "baritone": -12}  # the test melody sits in every range
CHORDS = [(0, [48, 52, 55]), (5, [53, 57, 60]), (7, [55, 59, 62]), (9, [57, 60, 64])]


def _bars() -> list[tuple[str, float, float, float]]:
    """(section, start beat, end beat, energy)."""
    out, beat = [], 0.0
    for name, _, bars, energy, _ in FORM:
        out.append((name, beat, beat + 4 * bars, energy))
        beat += 4 * bars
    return out


def tiny_context(store: ArtifactStore, namespace: str, voice: str = "alto", genres: dict[str, float] | None = None,
                 instrumental: bool = False, seed: int = 7) -> CompositionContext:
    genres = genres or {"pop": 1.0}
    blend = [GenreWeight(genre=g, weight=w) for g, w in genres.items()]
    request = CompositionRequest(mood=Mood.from_label("happy"), genres=blend, theme="a sunny test", duration_s=18.0,
                                 voice=voice, instrumental=instrumental, seed=seed)
    form = [FormSection(name=n, kind=k, bars=b, energy=e, vocals=v and not instrumental,
                        phrase_syllables=[len(line) for line in LINES.get(n, [])] if v and not instrumental else [])
            for n, k, b, e, v in FORM]
    plan = PlanSection(key="C", mode="major", tempo_bpm=TEMPO, beats_per_bar=4, mood=request.mood, genres=blend,
                       form=form, instrumentation=["drums", "bass", "chords", "pad"],
                       voice=None if instrumental else voice, seed=seed, duration_s=18.0)
    harmony_sections, chord_list = [], []
    for name, start, end, _ in _bars():
        chords = [Chord(symbol="C", root=CHORDS[i % 4][0], pitches=CHORDS[i % 4][1], start_beat=b, beats=4.0)
                  for i, b in enumerate(range(int(start), int(end), 4))]
        chord_list += chords
        harmony_sections.append(SectionHarmony(section=name, chords=chords))
    ctx = CompositionContext(request=request, plan=plan, harmony=HarmonySection(sections=harmony_sections))
    notes: list[Note] = []
    if not instrumental:
        sections = []
        for name, start, _, _ in _bars():
            if name not in LINES:
                continue
            lines, beat = [], start
            for li, line in enumerate(LINES[name]):
                sylls = [Syllable(text=t, word=w, stress=1 if any(p.endswith("1") for p in ph) else 0, phonemes=ph)
                         for t, w, ph in line]
                words = [w for k, (_, w, _) in enumerate(line) if k == 0 or line[k - 1][1] != w]
                lines.append(LyricLine(text=" ".join(words), syllables=sylls, rhyme="A"))
                for si, pitch in enumerate(MELODY[name][li]):
                    length = 1.0 if si < len(line) - 1 else 2.0
                    notes.append(Note(pitch=pitch + OCTAVE_SHIFT[voice], start_beat=beat, beats=length,
                                      velocity=90, section=name, line=li, syllable=si))
                    beat += length
            sections.append(SectionLyrics(section=name, lines=lines, rhyme_scheme="AA"))
        ctx = ctx.model_copy(update={"lyrics": LyricsSection(source="generated", sections=sections)})
        low, high = VOICE_RANGES[voice]
        ctx = ctx.model_copy(update={"melody": MelodySection(notes=notes, low=low, high=high, sung=True)})
    else:  # an instrumental gets a lead line with no syllables
        lead = [Note(pitch=72 + (i % 3) * 2, start_beat=4.0 + 2 * i, beats=2.0, velocity=90, section="verse1")
                for i in range(6)]
        ctx = ctx.model_copy(update={"melody": MelodySection(notes=lead, low=62, high=86, sung=False)})
    return ctx.model_copy(update={"arrangement": _arrangement(store, namespace, chord_list)})


def _arrangement(store: ArtifactStore, namespace: str, chords: list[Chord]) -> ArrangementSection:
    beat_s = 60.0 / TEMPO
    pm = pretty_midi.PrettyMIDI(initial_tempo=TEMPO)
    drums = pretty_midi.Instrument(0, is_drum=True, name="drums")
    bass = pretty_midi.Instrument(33, name="bass")
    keys = pretty_midi.Instrument(0, name="chords")
    pad = pretty_midi.Instrument(89, name="pad")
    for name, start, end, energy in _bars():
        vel = int(40 + 80 * energy)
        for b in range(int(start), int(end)):
            t = b * beat_s
            drums.notes.append(pretty_midi.Note(vel, 36 if b % 2 == 0 else 38, t, t + 0.1))
            if energy > 0.5:
                for h in (0.0, 0.5):
                    drums.notes.append(pretty_midi.Note(vel - 20, 42, t + h * beat_s, t + h * beat_s + 0.05))
            chord = chords[b // 4]
            bass.notes.append(pretty_midi.Note(vel, 36 + chord.root, t, t + 0.9 * beat_s))
            if b % 4 == 0 or energy > 0.5:
                for p in chord.pitches:
                    keys.notes.append(pretty_midi.Note(vel - 10, p + 12, t, t + (0.9 if energy > 0.5 else 3.9) * beat_s))
            if b % 4 == 0 and energy > 0.5:
                for p in chord.pitches:
                    pad.notes.append(pretty_midi.Note(vel - 30, p, t, t + 4 * beat_s))
    pm.instruments += [drums, bass, keys, pad]
    buffer = io.BytesIO()
    pm.write(buffer)
    midi = store.put(namespace, "arrangement.mid", buffer.getvalue(), "audio/midi")
    tracks = [Track(name=i.name, program=i.program, is_drum=i.is_drum, notes=len(i.notes)) for i in pm.instruments]
    return ArrangementSection(midi=midi, tracks=tracks)
