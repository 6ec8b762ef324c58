"""Settings of the API process (prefix CADENZA_API_), beside where the services are."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from infra.settings import ServiceSettings


class ApiSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CADENZA_API_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Larger request bodies are refused with 413 (a request with 5,000 characters of lyrics fits)."""
    voice_max_bytes: int = Field(default=20 * 1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024)
    """The largest voice recording POST /api/v2/voices takes (CADENZA_API_VOICE_MAX_BYTES; 120 s of 48 kHz
    16-bit stereo WAV is 23 MB, FLAC about half)."""
    sse_poll_s: float = Field(default=0.25, gt=0, le=10)
    """How often an open event stream looks for new events in the read model."""
    sse_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    key_cache_s: float = Field(default=30.0, ge=0, le=3600)
    """How long a verified API key is trusted without asking the database again (revocation delay)."""
    in_flight_retry_after_s: int = Field(default=5, ge=1, le=3600)
    max_backlog: int = Field(default=200, ge=0, le=1_000_000)
    """New songs and revisions are refused with 429 while this many songs (of every tenant) are accepted and
    not finished; 0: no limit. Size it as the songs the stages finish within the queue bound
    (CADENZA_QUEUE_TIMEOUT_S) - see the README's Deployment section."""
    backlog_check_s: float = Field(default=1.0, gt=0, le=60)
    """How often each API process counts the backlog again."""
    kafka_check_timeout_s: float = Field(default=2.0, gt=0, le=30)
    artifact_redirect: bool = False
    """Answer an artifact download with 307 to a pre-signed URL of the object store (where it can hand one
    out: S3) instead of streaming the bytes through this process. The client then talks to the store:
    a browser page on another origin needs the bucket to allow CORS, and clients that follow redirects
    may send it their headers."""
    artifact_url_ttl_s: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    """How long a pre-signed artifact URL stays valid."""
