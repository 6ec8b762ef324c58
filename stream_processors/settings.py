"""Settings of the stream-processing processes (prefix CADENZA_), each extending the service settings."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator

from infra.settings import ServiceSettings, env
from music.config import EngineConfig, LlmEndpoint


class ProcessSettings(ServiceSettings):
    """What every faust process needs beyond where the services are: tables, commits, metrics."""

    store: Literal["rocksdb", "memory"] = "rocksdb"
    rocksdb_memory_mb: int = Field(default=32, ge=4, le=65536)
    """All the RocksDB memory of one process: every partition of every table shares one block cache of
    this size, and their memtables are charged to it (flushed once they pass half of it)
    (CADENZA_ROCKSDB_MEMORY_MB)."""
    rocksdb_write_buffer_mb: int = Field(default=4, ge=1, le=256)
    """One memtable's size (two at most per table partition, and all of them within the memory above)
    (CADENZA_ROCKSDB_WRITE_BUFFER_MB)."""
    commit_interval_s: float = Field(default=0.05, gt=0, le=10)
    """faust commits (and so makes output visible, under exactly-once) at this interval: each hop's latency."""
    metrics_port: int = Field(default=0, ge=0, le=65535)
    """Port of this process's Prometheus /metrics; 0 picks none (metrics off)."""
    data_dir: Path | None = env("CADENZA_DATA_DIR", None)
    """Where faust keeps its tables; default ``<run dir>/faust``."""
    linger_ms: int = Field(default=1, ge=0, le=1000)
    """How long the producer waits to batch messages: fewer, larger requests for the broker to handle."""
    session_timeout_s: float = Field(default=15.0, ge=6, le=300)
    """How long the group waits for a silent member (a crashed process) before moving its partitions."""
    tick_interval_s: float = Field(default=0.5, gt=0, le=60)
    changelog_segment_s: float = Field(default=3600.0, ge=1, le=7 * 86_400)
    """Tables' changelog segments roll this often (set when faust creates the topic), so compaction, which
    only cleans rolled segments, removes deleted keys within about this long (CADENZA_CHANGELOG_SEGMENT_S)."""
    changelog_tombstone_s: float = Field(default=86_400.0, ge=1)
    """How long a compacted changelog keeps a tombstone (a restoring reader must see it) before dropping it."""
    log_level: Literal["crit", "error", "warn", "info", "debug"] = "warn"
    providers: str = "music.registry:default_registry"
    """``module:function(EngineConfig)`` returning the ProviderRegistry: the workers run its providers,
    the saga chooses among them (tests inject fakes here)."""
    soundfont: Path | None = None
    """The General MIDI SoundFont to render with; default Debian's FluidR3, else TimGM6mb."""
    measure_intelligibility: bool = False
    """The master stage transcribes the vocal offline (the ``asr`` extra) and reports how much of it is
    understood (about 10 s more per 3-minute song on this machine)."""
    recogniser: Literal["tiny.en", "base"] = "tiny.en"
    llm_url: AnyHttpUrl | None = env("CADENZA_LLM_URL", None)
    """An OpenAI-compatible endpoint for the language-model lyricist (CADENZA_PROVIDERS=lyricists.llm:registry)."""
    llm_model: str = env("CADENZA_LLM_MODEL", "default")
    llm_api_key: SecretStr | None = env("CADENZA_LLM_API_KEY", None)
    llm_timeout_s: float = env("CADENZA_LLM_TIMEOUT_S", 30.0, gt=0, le=600)

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

    @field_validator("soundfont")
    @classmethod
    def _soundfont_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"CADENZA_SOUNDFONT: {str(value)!r} is not a file")
        return value

    @property
    def engine_config(self) -> EngineConfig:
        llm = None
        if self.llm_url is not None:
            llm = LlmEndpoint(url=str(self.llm_url), model=self.llm_model, timeout_s=self.llm_timeout_s,
                              api_key=self.llm_api_key.get_secret_value() if self.llm_api_key else None)
        return EngineConfig(soundfont=self.soundfont, measure_intelligibility=self.measure_intelligibility,
                            recogniser=self.recogniser, llm=llm)

    @model_validator(mode="after")
    def _data_dir_under_run_dir(self) -> "ProcessSettings":
        if self.data_dir is None:
            self.data_dir = self.run_dir / "faust"
        return self


class StageWorkerSettings(ProcessSettings):
    pool_size: int = Field(default=2, ge=1, le=64)
    """Processes that run stage work off the event loop (rendering and synthesis are CPU-heavy)."""
    deadline_grace_s: float = Field(default=1.0, ge=0)


class SagaSettings(ProcessSettings):
    saga_providers: str = ""
    """Preferred provider order, e.g. ``vocals=formant,espeak``; the registry's order for the rest."""
    circuit_failures: int = Field(default=3, ge=1, le=100)
    """Consecutive failed attempts after which a provider's circuit opens (new attempts skip it)."""
    circuit_cooldown_s: float = Field(default=30.0, gt=0, le=3600)
    deadline_scale: float = Field(default=1.0, gt=0, le=100)
    """Multiplies every stage's deadline (tests shorten them)."""
    queue_timeout_s: float = Field(default=1800.0, ge=0, le=86_400)
    """How long an attempt may wait for a free worker before it counts as lost (its own deadline
    starts when a worker starts it)."""
    backoff_base_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    saga_retention_s: float = Field(default=30 * 86_400.0, gt=0)
    """How long a finished composition's saga state (what a revision starts from) is kept after its last
    run ended; then it is deleted (tombstoned on the table's changelog) and the stage workers forget
    its finished attempts. A revision after that is refused (CADENZA_SAGA_RETENTION_S)."""
    saga_purge_scan_s: float = Field(default=60.0, gt=0, le=86_400)
    """How often the saga looks for compositions whose retention has passed (CADENZA_SAGA_PURGE_SCAN_S)."""


class FeedbackSettings(ProcessSettings):
    """The feedback/RL process needs nothing beyond what every faust process needs."""
