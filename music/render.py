"""Render stage: each MIDI track of the arrangement to an audio stem with a SoundFont synthesizer.

FluidSynth (through pyfluidsynth's ctypes binding) renders float samples directly - no 16-bit dither -
with its chorus and reverb switched off, so the same MIDI always gives the same samples; the master
adds the room. Tracks are independent (a fresh synth each), so they render in parallel threads
(FluidSynth and libsndfile run without the GIL), the longest first; the stems come out in track order
and are the same samples as one at a time. The SoundFont is the engine's configured one (``EngineConfig.soundfont``), else
Debian's FluidR3 GM when installed, else the small TimGM6mb.
"""

from __future__ import annotations

import ctypes
import io
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composition.artifacts import ArtifactStore
from composition.models import Artifact, CompositionContext, RenderSection, StageName
from music.audio import SAMPLE_RATE, wav_bytes
from music.errors import StageError
from music.parallel import costliest_first
from music.stage import BaseProvider

TAIL_S = 1.5  # release tail after the last note, shared by every stem
SOUNDFONT_CANDIDATES = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
)
SMALL_SOUNDFONT = SOUNDFONT_CANDIDATES[1]
_SYNTH_LOCK = threading.Lock()


# ---------------------------------------------------------------- soundfont + synth


def soundfont_path(configured: Path | None = None) -> Path:
    """``configured`` if given, else FluidR3 GM, else TimGM6mb (Debian paths)."""
    if configured is not None:
        if not configured.is_file():
            raise StageError("soundfont_missing", f"the configured SoundFont {str(configured)!r} is not a file")
        return configured
    for candidate in SOUNDFONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise StageError(
        "soundfont_missing",
        "no General MIDI SoundFont found: install fluid-soundfont-gm or timgm6mb-soundfont, or set CADENZA_SOUNDFONT",
    )


def _new_synth(soundfont: Path, sample_rate: int):
    """A fresh synth per track: FluidSynth keeps state (voice ids, LFO phases, its 64-frame block
    cursor) across renders, so only a new instance gives bit-identical stems. Loading is cheap
    (FluidR3 ~0.15 s, TimGM6mb ~0.02 s)."""
    import fluidsynth  # imported late: it loads libfluidsynth at import

    settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": 256, "synth.cpu-cores": 1}
    with _SYNTH_LOCK:  # libfluidsynth's one-time global set-up is not guarded in every version
        synth = fluidsynth.Synth(gain=0.5, samplerate=float(sample_rate), **settings)
    sfid = synth.sfload(str(soundfont))
    if sfid < 0:
        synth.delete()
        raise StageError("soundfont_unreadable", f"FluidSynth could not load {soundfont}")
    return synth, sfid


def _write_float(synth, out: np.ndarray, start: int, stop: int) -> None:
    """Render frames [start, stop) of ``out`` (float32, (frames, 2), C-contiguous) in place."""
    import fluidsynth

    write = fluidsynth._fl.fluid_synth_write_float
    write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    if stop > start:
        ptr = out.ctypes.data + start * 2 * out.itemsize
        write(synth.synth, stop - start, ptr, 0, 2, ptr, 1, 2)


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Stem:
    name: str  # the track's name, e.g. "drums"
    audio: np.ndarray  # float32 (frames, 2)


def _track_events(instrument, channel: int, sample_rate: int) -> list[tuple[int, int, tuple]]:
    """(sample, order, action) events; order puts note-offs before note-ons at the same sample."""
    events: list[tuple[int, int, tuple]] = []
    for cc in instrument.control_changes:
        events.append((int(round(cc.time * sample_rate)), 0, ("cc", channel, cc.number, cc.value)))
    for bend in instrument.pitch_bends:
        events.append((int(round(bend.time * sample_rate)), 0, ("bend", channel, bend.pitch + 8192)))
    for note in instrument.notes:
        events.append((int(round(note.start * sample_rate)), 2, ("on", channel, note.pitch, note.velocity)))
        events.append((int(round(note.end * sample_rate)), 1, ("off", channel, note.pitch)))
    events.sort(key=lambda e: (e[0], e[1], e[2][1:]))
    return events


def render_track(instrument, total_frames: int, soundfont: Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render one pretty_midi Instrument to float32 stereo of exactly ``total_frames`` frames."""
    synth, sfid = _new_synth(soundfont, sample_rate)
    try:
        return _render_with(synth, sfid, instrument, total_frames, sample_rate)
    finally:
        synth.delete()


def _render_with(synth, sfid: int, instrument, total_frames: int, sample_rate: int) -> np.ndarray:
    channel = 9 if instrument.is_drum else 0
    if instrument.is_drum:
        if synth.program_select(channel, sfid, 128, instrument.program) < 0:
            synth.program_select(channel, sfid, 128, 0)
    else:
        synth.program_select(channel, sfid, 0, instrument.program)
    out = np.zeros((total_frames, 2), dtype=np.float32)
    cursor = 0
    for sample, _, action in _track_events(instrument, channel, sample_rate):
        sample = min(sample, total_frames)
        if sample > cursor:
            _write_float(synth, out, cursor, sample)
            cursor = sample
        kind = action[0]
        if kind == "on":
            synth.noteon(*action[1:])
        elif kind == "off":
            synth.noteoff(*action[1:])
        elif kind == "cc":
            synth.cc(*action[1:])
        else:
            synth.pitch_bend(action[1], action[2] - 8192)
    _write_float(synth, out, cursor, total_frames)
    return out


def _sounding_seconds(instrument, release_s: float = 0.5) -> float:
    """How long the track's notes sound in all (with a release each): its rendering cost, roughly."""
    return sum(note.end - note.start + release_s for note in instrument.notes)


def _tracks(midi_bytes: bytes, sample_rate: int) -> tuple[list, list[str], int]:
    """(instruments, stem names, frames of every stem: song + tail) of a MIDI file."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes))
    used: set[str] = set()
    names = [_stem_name(instrument.name or ("drums" if instrument.is_drum else f"track{index}"), used)
             for index, instrument in enumerate(midi.instruments)]
    return midi.instruments, names, int(round((midi.get_end_time() + TAIL_S) * sample_rate))


def iter_stems(midi_bytes: bytes, soundfont: Path, sample_rate: int = SAMPLE_RATE,
               threads: int | None = None) -> Iterator[Stem]:
    """Render the tracks of a MIDI file ``threads`` at a time; stems are yielded in track order and
    share one length (song + tail). ``threads=1`` holds one stem in memory at once."""
    instruments, names, frames = _tracks(midi_bytes, sample_rate)
    yield from costliest_first(lambda i: Stem(names[i], render_track(instruments[i], frames, soundfont, sample_rate)),
                               range(len(names)), threads, lambda i: _sounding_seconds(instruments[i]))


def render_midi(midi_bytes: bytes, soundfont: Path, sample_rate: int = SAMPLE_RATE,
                threads: int | None = None) -> list[Stem]:
    """Every track of a MIDI file as a stem."""
    return list(iter_stems(midi_bytes, soundfont, sample_rate, threads))


def stem_wav(audio: np.ndarray, sample_rate: int) -> bytes:
    """A stem as 24-bit WAV; one that would clip is scaled under 0 dBFS."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return wav_bytes(audio * (0.98 / peak) if peak > 0.98 else audio, sample_rate)


def render_stem_files(midi_bytes: bytes, soundfont: Path, sample_rate: int = SAMPLE_RATE,
                      threads: int | None = None) -> Iterator[tuple[str, bytes]]:
    """(stem name, 24-bit WAV) of each track in track order, rendered and encoded ``threads`` at a time."""
    instruments, names, frames = _tracks(midi_bytes, sample_rate)

    def work(i: int) -> tuple[str, bytes]:
        return names[i], stem_wav(render_track(instruments[i], frames, soundfont, sample_rate), sample_rate)

    yield from costliest_first(work, range(len(names)), threads, lambda i: _sounding_seconds(instruments[i]))


def _stem_name(raw: str, used: set[str]) -> str:
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in raw.strip().lower()) or "track"
    base, n = name, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    used.add(name)
    return name


def store_stems(stems: Iterable[Stem], store: ArtifactStore, namespace: str, sample_rate: int) -> list[Artifact]:
    """Store each stem as ``stem-<name>.wav`` (24-bit; a stem that would clip is scaled under 0 dBFS)."""
    return [store.put(namespace, f"stem-{stem.name}.wav", stem_wav(stem.audio, sample_rate), "audio/wav")
            for stem in stems]


class FluidSynthRenderer(BaseProvider):
    """The render stage's provider: FluidSynth with a General MIDI SoundFont."""

    stage = StageName.RENDER
    name = "fluidsynth"
    version = "1"
    capabilities = frozenset({"general-midi", "stems", "deterministic"})

    def __init__(self, soundfont: str | os.PathLike[str] | None = None, sample_rate: int = SAMPLE_RATE,
                 threads: int | None = None) -> None:
        self._soundfont = Path(soundfont) if soundfont else None
        self.sample_rate = sample_rate
        self.threads = threads  # tracks rendered at once (None: the machine's cores, at most 4)

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> RenderSection:
        if ctx.arrangement is None:
            raise StageError("missing_input", "render needs the arrangement section")
        soundfont = soundfont_path(self._soundfont)
        files = render_stem_files(store.get(ctx.arrangement.midi.uri), soundfont, self.sample_rate, self.threads)
        artifacts = [store.put(namespace, f"stem-{name}.wav", wav, "audio/wav") for name, wav in files]
        if not artifacts:
            raise StageError("empty_arrangement", "the arrangement MIDI has no tracks")
        return RenderSection(stems=artifacts, sample_rate=self.sample_rate, soundfont=soundfont.name)
