"""Audio helpers the audio stages share: the sample rate, WAV bytes in and out, beats to seconds."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from composition.artifacts import ArtifactStore
from composition.models import Artifact

SAMPLE_RATE = 44100


def wav_bytes(audio: np.ndarray, sample_rate: int, subtype: str = "PCM_24") -> bytes:
    """Encode float audio (frames[, channels]) as WAV bytes; the PCM subtypes clip at full scale."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(audio, dtype=np.float32), sample_rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def read_audio(store: ArtifactStore, artifact: Artifact) -> tuple[np.ndarray, int]:
    """Decode a stored audio artifact to float32 (frames, channels)."""
    data, rate = sf.read(io.BytesIO(store.get(artifact.uri)), dtype="float32", always_2d=True)
    return data, rate


def beats_to_seconds(beats: float, tempo_bpm: float) -> float:
    return beats * 60.0 / tempo_bpm
