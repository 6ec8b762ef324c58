"""A user's recording as the voice analysis reads it: decoded, mono, trimmed of silence, and refused
with a named reason when it cannot make a voice profile.

Every refusal is a permanent :class:`~music.errors.StageError` whose code names the problem
(``not_audio``, ``mostly_silence``, ``clipped``, ``too_short``, ``too_long``); the API runs
:func:`check_upload` on the upload itself (a cheap header read) and answers 422 for what it can see
there, the analysis stage runs :func:`prepare` on the whole signal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from music.errors import StageError

ANALYSIS_RATE = 16000
"""Voice analysis runs at 16 kHz: the envelope and formants up to 8 kHz, at a third of 48 kHz's cost."""

MIN_S, MAX_S = 5.0, 120.0
"""The usable voice after trimming silence must last this long (the issue's 5 to 120 s)."""

MAX_UPLOAD_S = 300.0
"""An upload longer than this is refused before analysis (nothing that long trims to 120 s of voice)."""

FRAME_S = 0.025
SILENCE_BELOW_PEAK_DB = 40.0  # a frame this far under the loudest frames is silence ...
SILENCE_FLOOR_DBFS = -60.0  # ... and so is any frame under this level
MIN_ACTIVE_SHARE = 0.3  # of the whole upload: less sound than this is "mostly silence"
CLIP_LEVEL = 0.999
MAX_CLIPPED_SHARE = 0.001  # samples at full scale in runs of 3 or more


@dataclass(frozen=True)
class Recording:
    """The voice part of an upload: mono float64 at ANALYSIS_RATE, with what trimming found."""

    samples: np.ndarray
    rate: int
    duration_s: float  # after trimming leading and trailing silence
    active_share: float  # frames with sound, of the whole upload
    source_rate: int
    source_duration_s: float


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode WAV, FLAC, MP3 or OGG bytes (libsndfile) to float64 (frames, channels); ``not_audio`` else."""
    if not data:
        raise StageError("not_audio", "the upload is empty")
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise StageError("not_audio", f"the upload is not audio this service reads (WAV, FLAC, MP3): {exc}") from exc
    if samples.size == 0:
        raise StageError("not_audio", "the upload decodes to no samples")
    return samples, rate


@dataclass(frozen=True)
class Upload:
    """What an upload's header says: its container format (WAV, FLAC, MP3, OGG ...) and length."""

    format: str
    duration_s: float


def check_upload(data: bytes) -> Upload:
    """What can be refused from the upload's header alone: not audio, or far too short or long."""
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise StageError("not_audio", f"the upload is not audio this service reads (WAV, FLAC, MP3): {exc}") from exc
    duration = float(info.frames) / info.samplerate if info.samplerate else 0.0
    upload = Upload(format=str(info.format), duration_s=duration)
    if duration <= 0:  # some MP3 headers carry no frame count: the analysis decides then
        return upload
    if duration < MIN_S:
        raise StageError("too_short", f"the recording lasts {duration:.1f} s; at least {MIN_S:g} s of voice is needed")
    if duration > MAX_UPLOAD_S:
        raise StageError("too_long", f"the recording lasts {duration:.0f} s; at most {MAX_UPLOAD_S:g} s is accepted")
    return upload


def frame_levels_db(x: np.ndarray, rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS level of consecutive frames, dBFS."""
    n = max(1, int(rate * frame_s))
    count = len(x) // n
    if count == 0:
        return np.array([20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12)])
    frames = x[:count * n].reshape(count, n)
    return 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-12)


def clipped_share(samples: np.ndarray) -> float:
    """Share of samples at full scale inside runs of three or more (one loud sample is not clipping)."""
    at_top = np.abs(samples) >= CLIP_LEVEL
    if not at_top.any():
        return 0.0
    runs = at_top[:-2] & at_top[1:-1] & at_top[2:] if len(at_top) > 2 else at_top
    return float(runs.sum()) / len(samples)


def prepare(data: bytes) -> Recording:
    """Decode and trim an upload, or refuse it naming why (in the order a user fixes things)."""
    stereo, rate = decode(data)
    share = max(clipped_share(stereo[:, c]) for c in range(stereo.shape[1]))
    mono = stereo.mean(axis=1)
    source_duration = len(mono) / rate
    levels = frame_levels_db(mono, rate)
    threshold = max(float(np.percentile(levels, 95)) - SILENCE_BELOW_PEAK_DB, SILENCE_FLOOR_DBFS)
    active = levels > threshold
    if not active.any() or float(np.max(levels)) <= SILENCE_FLOOR_DBFS:
        raise StageError("mostly_silence", "the recording is silent")
    if share > MAX_CLIPPED_SHARE:
        raise StageError("clipped", f"{100 * share:.2f}% of the samples are clipped at full scale; record "
                         "with less input gain")
    active_share = float(active.mean())
    first, last = int(np.argmax(active)), len(active) - int(np.argmax(active[::-1]))
    n = max(1, int(rate * FRAME_S))
    trimmed = mono[first * n:last * n]
    duration = len(trimmed) / rate
    if duration < MIN_S:
        raise StageError("too_short", f"{duration:.1f} s of voice after trimming silence; at least {MIN_S:g} s "
                         "is needed")
    if duration > MAX_S:
        raise StageError("too_long", f"{duration:.0f} s of voice after trimming silence; at most {MAX_S:g} s")
    if active_share < MIN_ACTIVE_SHARE:
        raise StageError("mostly_silence", f"only {100 * active_share:.0f}% of the recording has sound "
                         f"(at least {100 * MIN_ACTIVE_SHARE:.0f}% is needed)")
    if rate != ANALYSIS_RATE:
        g = gcd(rate, ANALYSIS_RATE)
        trimmed = resample_poly(trimmed, ANALYSIS_RATE // g, rate // g)
    return Recording(samples=np.ascontiguousarray(trimmed, dtype=np.float64), rate=ANALYSIS_RATE,
                     duration_s=duration, active_share=active_share, source_rate=rate,
                     source_duration_s=source_duration)
