"""Settings of the API process, from the environment (prefix CADENZA_API_), validated at start."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.settings import DatabaseSettings, KafkaSettings, run_dir


def _artifact_dir() -> Path:
    # the same folder (and variable) the stage workers write to: stream_processors/settings.py
    return Path(os.environ.get("CADENZA_ARTIFACT_DIR") or run_dir() / "artifacts")


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CADENZA_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Larger request bodies are refused with 413 (a request with 5,000 characters of lyrics fits)."""
    sse_poll_s: float = Field(default=0.25, gt=0, le=10)
    """How often an open event stream looks for new events in the read model."""
    sse_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    key_cache_s: float = Field(default=30.0, ge=0, le=3600)
    """How long a verified API key is trusted without asking the database again (revocation delay)."""
    in_flight_retry_after_s: int = Field(default=5, ge=1, le=3600)
    artifact_dir: Path = Field(default_factory=_artifact_dir)
    kafka_check_timeout_s: float = Field(default=2.0, gt=0, le=30)

    @property
    def database_url(self) -> str:
        return DatabaseSettings().url

    @property
    def bootstrap_servers(self) -> str:
        return KafkaSettings().bootstrap_servers
