"""Master stage: balance the stems and the vocal, add the genre's effects, compress the bus, bring the
song to -14 LUFS (or the request's ``mix.lufs``) under a -1 dBTP true-peak ceiling, and encode WAV,
FLAC and MP3. The request's mix options (``composition.models.MixOptions``: vocal level, reverb,
brightness, loudness) are applied on top of the genre's style; the genres are the request's, so a
revision that changes them changes the mix too.

Stem balance is by role: every stem is measured (integrated LUFS) and given one gain that puts it at
its role's level, so each stem's own dynamics - the arrangement's energy curve - survive. The genre
blend's mix style (``music.genres.mix_style``) sets EQ tilt, low end, saturation, reverb, bus
compression and width. The limiter is our own look-ahead gain computer on the 4x-oversampled peak
envelope (pedalboard's Limiter adds make-up gain and reads sample peaks only); loudness and peak are
re-measured after it until both hold.

Independent work runs in threads (``music.parallel``): the stems are decoded and measured a few at a
time, the vocal bus runs beside the instrument bus, the vocal's pitch is tracked from the start, the
MP3 is encoded beside the WAV, the FLAC and the metrics. Sums and stores keep the one-at-a-time
order, so the master is the same, bit for bit, whatever the thread count.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pedalboard as pb
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from composition.artifacts import ArtifactStore
from composition.models import CompositionContext, MasterSection, MixOptions, StageName
from music.audio import read_audio, wav_bytes
from music.errors import StageError
from music.genres import MixStyle, mix_style
from music.metrics_audio import (
    integrated_lufs,
    measure_quality,
    sample_true_peaks,
    sung_pitch_error,
    true_peak_dbtp,
)
from music.parallel import in_order, thread_count
from music.stage import BaseProvider
from music.vocals.style import vocal_style

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
# each role's level (LU) relative to the drums; the vocal sits on top
ROLE_LEVELS: dict[str, float] = {"drums": 0.0, "bass": -2.0, "chords": -5.0, "pad": -9.0, "lead": -6.0,
                                 "other": -6.0, "vocals": 1.5, "backing": -6.5}  # backing 8 LU under the lead
_ROLE_WORDS = (("backing", "backing"), ("vocal", "vocals"), ("drum", "drums"), ("perc", "drums"), ("bass", "bass"), ("pad", "pad"), ("string", "pad"),
               ("lead", "lead"), ("melody", "lead"), ("chord", "chords"), ("key", "chords"), ("piano", "chords"),
               ("guitar", "chords"), ("comp", "chords"))


def stem_role(name: str) -> str:
    """The mix role of a stem from its name (``stem-drums.wav`` -> drums)."""
    lowered = name.lower()
    return next((role for word, role in _ROLE_WORDS if word in lowered), "other")


def _fit(audio: np.ndarray, frames: int) -> np.ndarray:
    if len(audio) >= frames:
        return audio[:frames]
    return np.concatenate([audio, np.zeros((frames - len(audio), audio.shape[1]), audio.dtype)])


def _stereo(audio: np.ndarray) -> np.ndarray:
    return np.repeat(audio, 2, axis=1) if audio.shape[1] == 1 else audio[:, :2]


def _gain_from(measured_lufs: float, target_lufs: float) -> float:
    return 0.0 if not np.isfinite(measured_lufs) else 10 ** ((target_lufs - measured_lufs) / 20)


def _gain_to(audio: np.ndarray, sample_rate: int, target_lufs: float) -> float:
    with np.errstate(divide="ignore"):
        measured = integrated_lufs(audio, sample_rate)
    return _gain_from(measured, target_lufs)


def balance_gain(name: str, audio: np.ndarray, sample_rate: int, style: MixStyle, reference_lufs: float = -20.0) -> float:
    """The gain putting a stem at its role's level; the genre's low end lifts or lowers the bass."""
    role = stem_role(name)
    level = ROLE_LEVELS[role] + (4.0 * (style.low_end - 0.5) if role == "bass" else 0.0)
    return _gain_to(audio, sample_rate, reference_lufs + level)


def balance(stems: dict[str, np.ndarray], sample_rate: int, style: MixStyle, reference_lufs: float = -20.0) -> dict[str, np.ndarray]:
    """One gain per stem putting it at its role's level (:func:`balance_gain`)."""
    return {name: audio * balance_gain(name, audio, sample_rate, style, reference_lufs) for name, audio in stems.items()}


def _process(board: pb.Pedalboard, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    return board(np.ascontiguousarray(audio.T, dtype=np.float32), sample_rate).T


def instrument_bus(audio: np.ndarray, sample_rate: int, style: MixStyle) -> np.ndarray:
    """Genre colour on the instruments: tilt EQ, low end, saturation, room."""
    board = pb.Pedalboard([
        pb.HighpassFilter(cutoff_frequency_hz=30.0),
        pb.LowShelfFilter(cutoff_frequency_hz=120.0, gain_db=4.0 * (style.low_end - 0.5)),
        pb.HighShelfFilter(cutoff_frequency_hz=6000.0, gain_db=6.0 * (style.brightness - 0.5)),
        pb.Distortion(drive_db=6.0 * style.saturation),
        pb.Gain(gain_db=-6.0 * style.saturation),
        pb.Reverb(room_size=0.3 + 0.4 * style.reverb, damping=0.5, wet_level=0.25 * style.reverb,
                  dry_level=1.0, width=1.0),
    ])
    return _process(board, audio, sample_rate)


def vocal_bus(vocal: np.ndarray, sample_rate: int, send: float) -> np.ndarray:
    """The vocal: high-pass, presence, gentle compression, and its reverb send."""
    board = pb.Pedalboard([
        pb.HighpassFilter(cutoff_frequency_hz=100.0),
        pb.PeakFilter(cutoff_frequency_hz=3000.0, gain_db=2.0, q=0.8),
        pb.Compressor(threshold_db=-20.0, ratio=3.0, attack_ms=5.0, release_ms=120.0),
        pb.Reverb(room_size=0.55, damping=0.4, wet_level=0.45 * send, dry_level=1.0, width=0.8),
    ])
    return _process(board, vocal, sample_rate)


def widen(audio: np.ndarray, width: float) -> np.ndarray:
    """Mid/side width: 0.5 leaves the image as is, 1.0 lifts the side by 50%."""
    mid, side = (audio[:, 0] + audio[:, 1]) / 2, (audio[:, 0] - audio[:, 1]) / 2
    side = side * (0.5 + width)
    return np.stack([mid + side, mid - side], axis=1)


def bus_compress(audio: np.ndarray, sample_rate: int, style: MixStyle) -> np.ndarray:
    board = pb.Pedalboard([pb.Compressor(threshold_db=-12.0 - 8.0 * style.compression,
                                         ratio=1.5 + 2.5 * style.compression, attack_ms=15.0, release_ms=180.0)])
    return _process(board, audio, sample_rate)


def true_peak_limit(audio: np.ndarray, sample_rate: int, ceiling_dbtp: float, window_ms: float = 6.0) -> np.ndarray:
    """Look-ahead limiter on the 4x-oversampled peak envelope: the gain is a moving average of a moving
    minimum over the same window, so it is smooth and never above what each sample needs."""
    ceiling = 10 ** (ceiling_dbtp / 20)
    peak = sample_true_peaks(audio, headroom_db=20 * np.log10(max(np.abs(audio).max(), 1e-12) / ceiling) + 6.0)
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    width = max(3, int(window_ms / 1000 * sample_rate) | 1)
    gain = uniform_filter1d(minimum_filter1d(need, width, mode="nearest"), width, mode="nearest")
    return audio * gain.astype(audio.dtype)[:, None]


def finalize(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS,
             ceiling_dbtp: float = CEILING_DBTP, pool: Executor | None = None) -> tuple[np.ndarray, float, float]:
    """Loudness to ``target_lufs`` with true peak <= ``ceiling_dbtp``: normalise, limit, re-measure
    (the loudness measured after one pass is the one the next pass normalises from; on ``pool`` the
    true peak is measured beside the loudness)."""
    out = audio
    with np.errstate(divide="ignore"):
        lufs = integrated_lufs(out, sample_rate)
    for _ in range(6):
        out = out * _gain_from(lufs, target_lufs)
        out = true_peak_limit(out, sample_rate, ceiling_dbtp - 0.3)
        lufs, peak = _loudness_and_peak(out, sample_rate, pool)
        if abs(lufs - target_lufs) <= 0.15 and peak <= ceiling_dbtp:
            return out, lufs, peak
    if peak > ceiling_dbtp:
        out = out * 10 ** ((ceiling_dbtp - 0.05 - peak) / 20)
    return out, *_loudness_and_peak(out, sample_rate, pool)


def _loudness_and_peak(audio: np.ndarray, sample_rate: int, pool: Executor | None) -> tuple[float, float]:
    if pool is None:
        return integrated_lufs(audio, sample_rate), true_peak_dbtp(audio, sample_rate)
    peak = pool.submit(true_peak_dbtp, audio, sample_rate)
    with np.errstate(divide="ignore"):
        lufs = integrated_lufs(audio, sample_rate)
    return lufs, peak.result()


def mix(stems: Iterable[tuple[str, np.ndarray]], vocal: np.ndarray | None, sample_rate: int, style: MixStyle,
        vocal_send: float, backing: np.ndarray | None = None, vocal_db: float = 0.0,
        brightness: float = 0.0, pool: Executor | None = None) -> np.ndarray:
    """Balanced, coloured, compressed stereo mix (before loudness and limiting). ``stems`` may be a
    generator: each stem is balanced and summed as it arrives (on ``pool``, the next two are measured
    meanwhile), so few stems are in memory at a time; the vocal bus runs on ``pool`` beside the
    instrument bus. ``vocal_db`` moves the vocals against their balanced level; ``brightness``
    (-1..1) is a high shelf of up to +-6 dB on the whole mix (the user's mix options)."""
    def measured(stem: tuple[str, np.ndarray]) -> tuple[str, np.ndarray, float]:
        name, audio = stem
        audio = _stereo(audio)
        return name, audio, balance_gain(name, audio, sample_rate, style)

    bus: np.ndarray | None = None
    for name, audio, gain in in_order(measured, stems, pool):
        if bus is not None and len(audio) != len(bus):
            frames = max(len(audio), len(bus))
            if len(audio) < frames:  # measured again as padded, as one at a time would
                audio = _fit(audio, frames)
                gain = balance_gain(name, audio, sample_rate, style)
            bus = _fit(bus, frames)
        balanced = audio * gain
        bus = balanced if bus is None else np.add(bus, balanced, out=bus)
    if bus is None:
        raise StageError("no_stems", "there is nothing to mix")
    vocals = None
    if vocal is not None:
        args = (vocal, backing, len(bus), sample_rate, style, vocal_db, vocal_send)
        vocals = pool.submit(_vocal_chain, *args) if pool is not None else _vocal_chain(*args)
    bus = instrument_bus(bus, sample_rate, style)
    if vocals is not None:
        bus = bus + (vocals.result() if pool is not None else vocals)
    if brightness:
        bus = _process(pb.Pedalboard([pb.HighShelfFilter(cutoff_frequency_hz=5000.0, gain_db=6.0 * brightness)]),
                       bus, sample_rate)
    return bus_compress(widen(bus, style.stereo_width), sample_rate, style)


def _vocal_chain(vocal: np.ndarray, backing: np.ndarray | None, frames: int, sample_rate: int, style: MixStyle,
                 vocal_db: float, send: float) -> np.ndarray:
    """The lead (and the backing under it) balanced, moved by ``vocal_db``, through the vocal bus."""
    vocals = balance({"vocals": _stereo(_fit(vocal, frames))}, sample_rate, style)["vocals"]
    if backing is not None:  # under the lead, through the same vocal bus (one reverb pass)
        vocals = vocals + balance({"backing": _stereo(_fit(backing, frames))}, sample_rate, style)["backing"]
    if vocal_db:
        vocals = vocals * np.float32(10 ** (vocal_db / 20))
    return vocal_bus(vocals, sample_rate, send)


def trim_tail(audio: np.ndarray, sample_rate: int, planned_s: float, max_tail_s: float = 0.5,
              fade_s: float = 0.25) -> np.ndarray:
    """Cut the release tail to at most ``max_tail_s`` past the planned end (earlier where it has
    fallen silent, -60 dB under the peak) and fade the last ``fade_s`` out."""
    limit = min(len(audio), int((planned_s + max_tail_s) * sample_rate))
    level = np.abs(audio).max(axis=1)
    loud = np.flatnonzero(level > level.max() * 1e-3) if level.size and level.max() > 0 else np.array([0])
    end = max(min(limit, int(loud[-1]) + 1), min(limit, int(planned_s * sample_rate)))
    out = audio[:end].copy()
    fade = min(int(fade_s * sample_rate), end)
    out[end - fade:] *= np.linspace(1.0, 0.0, fade)[:, None]
    return out


def encode(audio: np.ndarray, sample_rate: int, stem: str = "master", wav: bool = True) -> dict[str, bytes]:
    """WAV (24-bit), FLAC (24-bit) and MP3 (LAME V2 inside pedalboard) of the master, named ``<stem>.<ext>``
    (a DJ set is ``set``; ``wav=False`` leaves the WAV out)."""
    return {**encode_lossless(audio, sample_rate, stem, wav), f"{stem}.mp3": encode_mp3(audio, sample_rate)}


def encode_lossless(audio: np.ndarray, sample_rate: int, stem: str = "master", wav: bool = True) -> dict[str, bytes]:
    """WAV (24-bit, unless ``wav=False``) and FLAC (24-bit) of the master."""
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio.astype(np.float32), sample_rate, format="FLAC", subtype="PCM_24")
    out = {f"{stem}.wav": wav_bytes(audio, sample_rate)} if wav else {}
    out[f"{stem}.flac"] = buffer.getvalue()
    return out


def encode_mp3(audio: np.ndarray, sample_rate: int) -> bytes:
    """MP3 (LAME V2 inside pedalboard) of the master."""
    fd, tmp = tempfile.mkstemp(suffix=".mp3")
    os.close(fd)
    try:
        with pb.io.AudioFile(tmp, "w", sample_rate, audio.shape[1], quality="V2") as handle:
            handle.write(np.ascontiguousarray(audio.T, dtype=np.float32))
        with open(tmp, "rb") as handle:
            return handle.read()
    finally:
        os.unlink(tmp)


MEDIA = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg"}


def lyrics_text(ctx: CompositionContext) -> str | None:
    """The sung lyrics as plain text, a blank line between sections."""
    if ctx.lyrics is None:
        return None
    return "\n\n".join("\n".join(line.text for line in s.lines) for s in ctx.lyrics.sections) + "\n"


class PedalboardMaster(BaseProvider):
    """The master stage's provider: stem balance, pedalboard effects, own true-peak limiter."""

    stage = StageName.MASTER
    name = "pedalboard"
    version = "1"
    capabilities = frozenset({"lufs:-24..-8", "true-peak:-1", "wav", "flac", "mp3", "mix-options"})

    def __init__(self, measure_intelligibility: bool = False, recogniser: str = "tiny.en",
                 threads: int | None = None) -> None:
        from music.intelligibility import recogniser_available

        self.threads = threads  # threads of one song's master (None: the machine's cores, at most 4)
        # measured only when asked for and installed (the asr extra); None otherwise
        self.recogniser = recogniser if measure_intelligibility and recogniser_available(recogniser) else None

    @staticmethod
    def _read_vocal(store: ArtifactStore, artifact, sample_rate: int) -> np.ndarray:
        audio, rate = read_audio(store, artifact)
        return resample_poly(audio, sample_rate, rate, axis=0).astype(np.float32) if rate != sample_rate else audio

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> MasterSection:
        if ctx.render is None or ctx.plan is None:
            raise StageError("missing_input", "master needs the plan and render sections")
        threads = thread_count(self.threads)
        if threads == 1:
            return self._run(ctx, store, namespace, None)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="master") as pool:
            return self._run(ctx, store, namespace, pool)

    def _run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str, pool: Executor | None) -> MasterSection:
        sample_rate = ctx.render.sample_rate

        def decoded(artifact) -> tuple[str, np.ndarray]:
            audio, rate = read_audio(store, artifact)
            if rate != sample_rate:
                raise StageError("sample_rate_mismatch", f"{artifact.name} is {rate} Hz, render says {sample_rate}")
            return artifact.name, audio

        vocal = backing = pitch_error = None
        if ctx.vocals is not None:
            vocal = self._read_vocal(store, ctx.vocals.audio, sample_rate)
            if pool is not None:  # the vocal's pitch is tracked while the mix is made
                pitch_error = pool.submit(sung_pitch_error, ctx, vocal, sample_rate)
            if ctx.vocals.backing is not None:
                backing = self._read_vocal(store, ctx.vocals.backing, sample_rate)
        genres = ctx.request.genres  # a revision of the arrangement may have changed them
        options = ctx.request.mix or MixOptions()
        style = mix_style(genres)
        send = vocal_style(genres).reverb_send
        if options.reverb is not None:  # the user's reverb, on the instruments' room and the vocal's send
            style, send = replace(style, reverb=options.reverb), options.reverb
        mixed = mix(in_order(decoded, ctx.render.stems, pool), vocal, sample_rate, style, send, backing,
                    vocal_db=options.vocal_db, brightness=options.brightness, pool=pool)
        mixed = trim_tail(mixed, sample_rate, ctx.plan.duration_s)
        master, lufs, peak = finalize(mixed, sample_rate, target_lufs=options.lufs, pool=pool)
        if pool is None:
            encoded = encode(master, sample_rate)
            metrics = measure_quality(ctx, master, vocal, sample_rate, lufs, peak, self.recogniser)
        else:  # the encoders run beside the metrics
            mp3 = pool.submit(encode_mp3, master, sample_rate)
            lossless = pool.submit(encode_lossless, master, sample_rate)
            metrics = measure_quality(ctx, master, vocal, sample_rate, lufs, peak, self.recogniser,
                                      pitch_error=pitch_error.result() if pitch_error is not None else None)
            encoded = {**lossless.result(), "master.mp3": mp3.result()}
        outputs = [store.put(namespace, name, data, MEDIA[name.rsplit(".", 1)[1]]) for name, data in encoded.items()]
        text = lyrics_text(ctx)
        if text:
            outputs.append(store.put(namespace, "lyrics.txt", text.encode(), "text/plain"))
        if ctx.arrangement is not None:
            outputs.append(store.put(namespace, "song.mid", store.get(ctx.arrangement.midi.uri), "audio/midi"))
        duration = len(master) / sample_rate
        return MasterSection(outputs=outputs, integrated_lufs=lufs, true_peak_dbtp=peak, duration_s=duration,
                             metrics=metrics)
