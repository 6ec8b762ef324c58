"""The root of the settings tree: where the services are, what every process and the CLI share.

Every process builds one settings object at start, from its own class, which extends
:class:`ServiceSettings` here, and hands the parts down (a broker runner, the topic names, the
database URL, the artifact store); nothing below a process's entry point reads the environment. A bad
value fails at start with a message naming the variable.

The defaults follow each other: the Kafka bootstrap address follows ``CADENZA_KAFKA_PORT`` and the
database URL ``CADENZA_PG_PORT``, unless ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` name existing
services (the project then neither starts nor stops them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from composition.errors import InvalidInput
from infra.topics import Topics

if TYPE_CHECKING:
    from infra.tracing import TraceConfig
    from schemas.registry import SchemaSettings
    from storage import StoreConfig
    from storage.s3 import S3Config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(InvalidInput):
    """A setting from the environment is bad; the message names each variable, its value and what is wrong."""

    def __init__(self, message: str, variables: list[str]) -> None:
        super().__init__(message, field=variables[0] if variables else None, reason="bad_setting")
        self.variables = variables


_SECRET = ("SECRET", "PASSWORD", "DATABASE_URL", "KEY")


def _variable(cls: type[BaseSettings], loc: tuple) -> str | None:
    """The environment variable a validation error's location stands for."""
    if not loc:
        return None
    name = str(loc[0])
    field = cls.model_fields.get(name)
    if field is None:  # already the variable (a field read under its own name), or a nested model's field
        return name if name.isupper() else None
    if isinstance(field.validation_alias, str):
        return field.validation_alias
    return (cls.model_config.get("env_prefix") or "").upper() + name.upper()


def settings_error(cls: type[BaseSettings], exc: ValidationError) -> SettingsError:
    lines, variables = [], []
    for error in exc.errors():
        variable = _variable(cls, tuple(error.get("loc") or ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if variable is None:
            lines.append(message)
            continue
        variables.append(variable)
        shown = "" if any(word in variable for word in _SECRET) else f"={error.get('input')!s:.60}"
        lines.append(f"{variable}{shown}: {message}")
    return SettingsError("bad setting: " + "; ".join(lines), variables)


def env(name: str, default: Any = None, **constraints: Any) -> Any:
    """A field read from the environment variable ``name`` exactly, whatever the class's prefix."""
    return Field(default=default, validation_alias=name, **constraints)


class ServiceSettings(BaseSettings):
    """Where Kafka, PostgreSQL and the artifacts are, and how the local services are run.

    Subclasses add a process's own settings under their own prefix (``CADENZA_API_``, ...); the
    fields here keep their variable names (each names its variable explicitly).
    """

    model_config = SettingsConfigDict(env_prefix="CADENZA_", extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        """From the environment (``values`` override it); a bad value is a SettingsError naming its variable."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise settings_error(type(self), exc) from None

    run_dir: Path = env("CADENZA_RUN_DIR", PROJECT_ROOT / ".run")
    """Where local services keep their data, logs and pid files (ignored by git)."""
    cache_dir: Path = env("CADENZA_CACHE_DIR", PROJECT_ROOT / ".cache")
    """Downloaded service jars (Kafka from Maven Central)."""
    kafka_port: int = env("CADENZA_KAFKA_PORT", 29092, ge=1, le=65535)
    kafka_controller_port: int = env("CADENZA_KAFKA_CONTROLLER_PORT", 29093, ge=1, le=65535)
    kafka_heap: str = env("CADENZA_KAFKA_HEAP", "768m", pattern=r"^\d+[kmg]$")
    kafka_brokers: int = env("CADENZA_KAFKA_BROKERS", 1, ge=1, le=9)
    """Nodes of the project's own cluster (``cadenza infra start --brokers 3``), each on the ports after
    the previous one's (infra/kafka/cluster.py); with an existing cluster, how many brokers it has."""
    pg_port: int = env("CADENZA_PG_PORT", 25432, ge=1, le=65535)
    pg_bin: Path | None = env("CADENZA_PG_BIN")
    """The PostgreSQL server's bin folder; default: the newest /usr/lib/postgresql/*/bin."""
    kafka_bootstrap_servers: str | None = env("KAFKA_BOOTSTRAP_SERVERS")
    """host:port[,host:port] of an existing cluster; unset: the project's own broker."""
    database_url_override: SecretStr | None = env("DATABASE_URL")
    """SQLAlchemy URL of an existing server; unset: the project's own cluster."""
    topic_prefix: str = env("CADENZA_TOPIC_PREFIX", "", pattern=r"^[A-Za-z0-9._-]*$")
    """Put in front of every topic name (tests get fresh topics of their own this way)."""
    partitions: int = env("CADENZA_PARTITIONS", 4, ge=1, le=1024)
    """Partitions of every topic keyed by composition id, and of the tables that follow them."""
    replication_factor: int | None = env("CADENZA_REPLICATION_FACTOR", None, ge=1, le=16)
    """Replicas of every topic and table changelog; default ``min(3, CADENZA_KAFKA_BROKERS)`` (min ISR 2 from 3)."""
    artifact_dir: Path | None = env("CADENZA_ARTIFACT_DIR", None)
    """Where the local artifact store keeps its files; default: ``<run dir>/artifacts``."""
    artifact_store: Literal["local", "s3"] = env("CADENZA_ARTIFACT_STORE", "local")
    """``local``: a folder every process shares (one machine); ``s3``: S3-compatible object storage."""
    s3_bucket: str = env("CADENZA_S3_BUCKET", "cadenza-artifacts")
    s3_prefix: str = env("CADENZA_S3_PREFIX", "artifacts")
    s3_endpoint: str | None = env("CADENZA_S3_ENDPOINT", None)
    """An S3-compatible server's URL; unset: the project's own S3Proxy; empty: AWS's own endpoint."""
    s3_region: str = env("CADENZA_S3_REGION", "us-east-1")
    s3_access_key: str | None = env("CADENZA_S3_ACCESS_KEY", "cadenza")
    s3_secret_key: SecretStr | None = env("CADENZA_S3_SECRET_KEY", SecretStr("cadenza-local-secret"))
    """The local S3Proxy's fixed credential by default (not a secret off this machine); empty: boto3's chain."""
    s3proxy_port: int = env("CADENZA_S3PROXY_PORT", 29000, ge=1, le=65535)
    registry_port: int = env("CADENZA_REGISTRY_PORT", 29081, ge=1, le=65535)
    registry_persistent: bool = env("CADENZA_REGISTRY_PERSISTENT", False)
    """Keep the local registry's schemas (and so their ids) across restarts, in a file under the run dir."""
    registry_java: Path | None = env("CADENZA_REGISTRY_JAVA", None)
    """A Java 21+ binary for the registry; default: the newest JDK found."""
    java_home: Path | None = env("JAVA_HOME", None)
    schema_format: str = env("CADENZA_SCHEMA_FORMAT", "single-object")
    """What producers write: ``single-object`` (Avro's own framing) or ``confluent`` (a registry's ids)."""
    schema_registry_url: str | None = env("CADENZA_SCHEMA_REGISTRY_URL", None)
    """The registry's Confluent-compatible API; unset with ``confluent``: the project's own Apicurio."""
    schema_compatibility: str = env("CADENZA_SCHEMA_COMPATIBILITY", "FULL")
    metrics_host: str = env("CADENZA_METRICS_HOST", "127.0.0.1")
    """Where every process's /metrics listens (0.0.0.0 in a container, for a Prometheus beside it)."""
    prometheus_port: int = env("CADENZA_PROMETHEUS_PORT", 29090, ge=1, le=65535)
    """The local Prometheus server's port (`cadenza up --observability`)."""
    otlp_endpoint: str | None = env("CADENZA_OTLP_ENDPOINT", None, pattern=r"^https?://")
    """Export OpenTelemetry spans over OTLP/HTTP to this collector (e.g. http://127.0.0.1:4318)."""
    trace_dir: Path | None = env("CADENZA_TRACE_DIR", None)
    """Without an OTLP endpoint: write spans as JSON lines to a file per process in this folder."""
    trace_console: bool = env("CADENZA_TRACE_CONSOLE", False)
    """Without either: print spans to the console (else spans go nowhere)."""

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str | None) -> str | None:
        for item in (value or "").split(",") if value else []:
            host, _, port = item.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"KAFKA_BOOTSTRAP_SERVERS: {item!r} is not host:port")
        return value

    @field_validator("database_url_override")
    @classmethod
    def _postgres(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError("DATABASE_URL must be a postgresql:// or postgresql+psycopg2:// URL")
        return value

    @field_validator("run_dir", "cache_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @model_validator(mode="after")
    def _derived_defaults(self) -> "ServiceSettings":
        if self.artifact_dir is None:
            self.artifact_dir = self.run_dir / "artifacts"
        if self.replication_factor is None:
            self.replication_factor = min(3, self.kafka_brokers)
        elif self.replication_factor > self.kafka_brokers and not self.kafka_external:
            raise ValueError(f"CADENZA_REPLICATION_FACTOR={self.replication_factor} needs at least as many brokers "
                             f"(CADENZA_KAFKA_BROKERS={self.kafka_brokers})")
        if self.artifact_store == "s3":
            self.s3  # noqa: B018 - fails at start, naming the variable, if the S3 settings are bad
        self.schema_settings  # noqa: B018 - likewise for the wire format
        return self

    @property
    def kafka_external(self) -> bool:
        return self.kafka_bootstrap_servers is not None

    @property
    def bootstrap_servers(self) -> str:
        if self.kafka_bootstrap_servers:
            return self.kafka_bootstrap_servers
        return ",".join(f"127.0.0.1:{self.kafka_port + 2 * i}" for i in range(self.kafka_brokers))

    @property
    def s3proxy_wanted(self) -> bool:
        """Whether artifacts go to the project's own S3Proxy (the S3 store with no endpoint of its own)."""
        return self.artifact_store == "s3" and self.s3_endpoint is None

    @property
    def database_external(self) -> bool:
        return self.database_url_override is not None

    @property
    def database_url(self) -> str:
        if self.database_url_override is None:
            return f"postgresql+psycopg2://cadenza@127.0.0.1:{self.pg_port}/cadenza"
        value = self.database_url_override.get_secret_value()
        return value.replace("postgresql://", "postgresql+psycopg2://", 1) if value.startswith("postgresql://") else value

    @property
    def s3(self) -> S3Config:
        from storage.s3 import S3Config

        endpoint = f"http://127.0.0.1:{self.s3proxy_port}" if self.s3_endpoint is None else (self.s3_endpoint or None)
        return S3Config(bucket=self.s3_bucket, prefix=self.s3_prefix, endpoint=endpoint, region=self.s3_region,
                        access_key=self.s3_access_key or None, secret_key=self.s3_secret_key or None)

    @property
    def store_config(self) -> StoreConfig:
        """What any process needs to open the artifact store (it pickles, for a process pool)."""
        from storage import StoreConfig

        return StoreConfig(kind=self.artifact_store, root=self.artifact_dir,
                           s3=self.s3 if self.artifact_store == "s3" else None)

    @property
    def registry_external(self) -> bool:
        return self.schema_registry_url is not None

    @property
    def schema_settings(self) -> SchemaSettings:
        """The wire format; ``confluent`` without a URL means the project's own registry on its port."""
        from infra.registry.server import CCOMPAT
        from schemas.registry import SchemaSettings

        url = self.schema_registry_url
        if url is None and self.schema_format == "confluent":
            url = f"http://127.0.0.1:{self.registry_port}{CCOMPAT}"
        return SchemaSettings(format=self.schema_format, registry_url=url, compatibility=self.schema_compatibility)

    @property
    def trace_config(self) -> TraceConfig:
        from infra.tracing import TraceConfig

        return TraceConfig(otlp_endpoint=self.otlp_endpoint, directory=self.trace_dir, console=self.trace_console)

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix, self.partitions, self.replication_factor)

    def environment(self) -> dict[str, str]:
        """These settings as the variables a child process reads them from (``cadenza up`` passes them on)."""
        values = {"CADENZA_RUN_DIR": str(self.run_dir), "CADENZA_CACHE_DIR": str(self.cache_dir),
                  "CADENZA_KAFKA_PORT": str(self.kafka_port),
                  "CADENZA_KAFKA_CONTROLLER_PORT": str(self.kafka_controller_port),
                  "CADENZA_KAFKA_BROKERS": str(self.kafka_brokers),
                  "CADENZA_PG_PORT": str(self.pg_port), "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
                  "DATABASE_URL": self.database_url, "CADENZA_TOPIC_PREFIX": self.topic_prefix,
                  "CADENZA_PARTITIONS": str(self.partitions),
                  "CADENZA_REPLICATION_FACTOR": str(self.replication_factor),
                  "CADENZA_ARTIFACT_DIR": str(self.artifact_dir), "CADENZA_ARTIFACT_STORE": self.artifact_store,
                  "CADENZA_S3PROXY_PORT": str(self.s3proxy_port), "CADENZA_REGISTRY_PORT": str(self.registry_port)}
        if self.pg_bin is not None:
            values["CADENZA_PG_BIN"] = str(self.pg_bin)
        return values
