"""What the engine is configured with, handed down by the process that runs it (no environment reads here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class LlmEndpoint:
    """An OpenAI-compatible chat-completions endpoint for the language-model lyricist (lyricists/llm.py)."""

    url: str
    model: str = "default"
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0


@dataclass(frozen=True)
class EngineConfig:
    """``soundfont``: the General MIDI SoundFont to render with (None: Debian's FluidR3, else TimGM6mb).

    ``measure_intelligibility``: transcribe the vocal in the master stage with the offline
    recogniser (the ``asr`` extra) and report ``QualityMetrics.vocal_intelligibility``. Off by
    default: it costs about 10 s on a 3-minute song on the shared 2-core machine (9 Whisper windows),
    a third to a half again of the whole engine; a worker turns it on where that is worth it.
    ``recogniser``: the Whisper model it uses ("tiny.en" or "base").
    ``llm``: the endpoint of the language-model lyricist, where one is configured.
    ``threads``: threads one song's render and master use (None: the machine's cores, at most 4;
    1: one step at a time). The output is the same whatever the count."""

    soundfont: Path | None = None
    measure_intelligibility: bool = False
    recogniser: str = "tiny.en"
    llm: LlmEndpoint | None = None
    threads: int | None = None
