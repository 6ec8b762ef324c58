"""The integration tests' instant fake providers, except that the master is a real (short) WAV,
so a browser can play it, and a different tone for each run (the namespace: a composition, or one of
its revisions), so two revisions' masters differ. Injected with CADENZA_PROVIDERS=tests.e2e.providers:registry."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib

from composition.models import SONG_STAGES, StageName
from music.registry import ProviderRegistry
from tests.integration.fake_providers import FakeProvider


def sine_wav(seconds: float = 1.0, rate: int = 22050, freq: float = 440.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
                                 for i in range(int(seconds * rate))))
    return buffer.getvalue()


class WavMaster(FakeProvider):
    def run(self, ctx, store, namespace):
        section = super().run(ctx, store, namespace)  # the scripted behaviour (failures, hangs)
        tone = 220.0 + zlib.crc32(namespace.encode()) % 440  # one tone per run: revisions sound different
        master = store.put(namespace, "master.wav", sine_wav(freq=tone), "audio/wav")
        for placeholder in section.outputs:  # the fake's own master.wav: this one replaces it
            if placeholder.uri != master.uri:
                store.delete(placeholder.uri)
        return section.model_copy(update={"outputs": [master]})


def registry(config=None) -> ProviderRegistry:
    reg = ProviderRegistry()
    for stage in SONG_STAGES:
        for name in ("local", "backup"):
            reg.register(WavMaster(stage, name) if stage is StageName.MASTER else FakeProvider(stage, name))
    return reg
