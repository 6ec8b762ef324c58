"""Connection settings shared by every process, read from the environment and validated at start.

Each process builds its own settings class from these pieces (STYLE.md: one settings class per
process); a bad value fails at start with a message naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_dir() -> Path:
    """Where local services keep their data, logs and pid files (ignored by git)."""
    return Path(os.environ.get("CADENZA_RUN_DIR", PROJECT_ROOT / ".run")).resolve()


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = Field(default="127.0.0.1:29092", description="host:port[,host:port]")
    """Set KAFKA_BOOTSTRAP_SERVERS to use an existing cluster instead of the project's own broker."""

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        for item in value.split(","):
            host, _, port = item.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"KAFKA_BOOTSTRAP_SERVERS: {item!r} is not host:port")
        return value

    @property
    def external(self) -> bool:
        return "KAFKA_BOOTSTRAP_SERVERS" in os.environ


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr = Field(
        default=SecretStr("postgresql+psycopg2://cadenza@127.0.0.1:25432/cadenza"),
        description="SQLAlchemy URL; set DATABASE_URL to use an existing server",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError("DATABASE_URL must be a postgresql:// or postgresql+psycopg2:// URL")
        return value

    @property
    def external(self) -> bool:
        return "DATABASE_URL" in os.environ

    @property
    def url(self) -> str:
        value = self.database_url.get_secret_value()
        return value.replace("postgresql://", "postgresql+psycopg2://", 1) if value.startswith("postgresql://") else value
