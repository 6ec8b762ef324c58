"""What the engine is configured with, handed down by the process that runs it (no environment reads here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EngineConfig:
    """``soundfont``: the General MIDI SoundFont to render with (None: Debian's FluidR3, else TimGM6mb)."""

    soundfont: Path | None = None
