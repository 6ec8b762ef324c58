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
    """``local``: the content-addressed folder ``root``; ``s3``: the bucket ``s3`` describes."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["local", "s3"] = "local"
    root: Path
    s3: "S3Config | None" = None


@lru_cache(maxsize=8)
def open_store(config: StoreConfig) -> ArtifactStore:
    """The store ``config`` names (one per process and configuration)."""
    if config.kind == "s3":
        from storage.s3 import S3ArtifactStore

        return S3ArtifactStore(config.s3 or S3Config())
    from storage.local import LocalArtifactStore

    return LocalArtifactStore(config.root)


from storage.s3 import S3Config  # noqa: E402 - the config model only (boto3 is imported on first use)

StoreConfig.model_rebuild()
