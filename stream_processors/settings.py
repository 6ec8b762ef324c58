"""Settings of the stream-processing processes, from the environment (prefix CADENZA_), validated at start."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.settings import KafkaSettings, run_dir


class ProcessSettings(BaseSettings):
    """What every faust process needs: where Kafka is, how to keep tables, how often to commit."""

    model_config = SettingsConfigDict(env_prefix="CADENZA_", extra="ignore")

    store: Literal["rocksdb", "memory"] = "rocksdb"
    rocksdb_block_cache_mb: int = Field(default=16, ge=1, le=4096)
    commit_interval_s: float = Field(default=0.05, gt=0, le=10)
    """faust commits (and so makes output visible, under exactly-once) at this interval: each hop's latency."""
    metrics_port: int = Field(default=0, ge=0, le=65535)
    """Port of this process's Prometheus /metrics; 0 picks none (metrics off)."""
    data_dir: Path = Field(default_factory=lambda: run_dir() / "faust")
    artifact_dir: Path = Field(default_factory=lambda: run_dir() / "artifacts")
    linger_ms: int = Field(default=1, ge=0, le=1000)
    """How long the producer waits to batch messages: fewer, larger requests for the broker to handle."""
    session_timeout_s: float = Field(default=15.0, ge=6, le=300)
    """How long the group waits for a silent member (a crashed process) before moving its partitions."""
    tick_interval_s: float = Field(default=0.5, gt=0, le=60)
    log_level: Literal["crit", "error", "warn", "info", "debug"] = "warn"

    @property
    def bootstrap_servers(self) -> str:
        return KafkaSettings().bootstrap_servers


class StageWorkerSettings(ProcessSettings):
    providers: str = "music.registry:default_registry"
    """``module:function`` returning the ProviderRegistry the worker routes through (tests inject fakes here)."""
    pool_size: int = Field(default=2, ge=1, le=64)
    """Processes that run stage work off the event loop (rendering and synthesis are CPU-heavy)."""
    deadline_grace_s: float = Field(default=1.0, ge=0)

    @field_validator("providers")
    @classmethod
    def _importable(cls, value: str) -> str:
        module, _, attr = value.partition(":")
        if not module or not attr:
            raise ValueError(f"CADENZA_PROVIDERS must be module:function, got {value!r}")
        try:
            if not callable(getattr(importlib.import_module(module), attr)):
                raise ValueError(f"CADENZA_PROVIDERS: {value} is not callable")
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"CADENZA_PROVIDERS: cannot load {value}: {exc}") from exc
        return value


class SagaSettings(ProcessSettings):
    saga_providers: str = ""
    """Fallback chains, e.g. ``vocals=formant,espeak;render=fluidsynth``; stages not named use ``local``."""
    deadline_scale: float = Field(default=1.0, gt=0, le=100)
    """Multiplies every stage's deadline (tests shorten them)."""
    backoff_base_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)


class FeedbackSettings(ProcessSettings):
    """The feedback/RL process needs nothing beyond what every faust process needs."""
