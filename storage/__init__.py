"""Adapters of the artifact store (``composition.artifacts.ArtifactStore``), chosen by configuration.

``StoreConfig`` is what a process hands down to whoever opens a store (its process pool included: it
pickles); :func:`open_store` makes the adapter it names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from composition.artifacts import ArtifactStore


class StoreConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["local"] = "local"
    root: Path


@lru_cache(maxsize=8)
def open_store(config: StoreConfig) -> ArtifactStore:
    """The store ``config`` names (one per process and configuration)."""
    from storage.local import LocalArtifactStore

    return LocalArtifactStore(config.root)
