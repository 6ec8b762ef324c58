"""The sweeper's settings (prefix CADENZA_SWEEPER_), beside where the services are.

Every age is in seconds. The saga's own retention (``CADENZA_SAGA_RETENTION_S``) is a setting of the
saga process (``stream_processors.settings.SagaSettings``): it is the saga that deletes its tables.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from infra.settings import ServiceSettings

DAY_S = 86_400.0


class SweeperSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CADENZA_SWEEPER_", extra="ignore", populate_by_name=True)

    interval_s: float = Field(default=60.0, gt=0, le=86_400)
    """How long the sweeper waits after a pass that found nothing more to do (CADENZA_SWEEPER_INTERVAL_S)."""
    batch_size: int = Field(default=500, ge=1, le=100_000)
    """Rows (or compositions, for artifacts) one sweep step handles in one transaction."""
    outbox_keep_s: float = Field(default=DAY_S, ge=0)
    """A sent outbox row is deleted this long after it was sent; unsent rows are never deleted."""
    event_log_keep_s: float = Field(default=30 * DAY_S, ge=0)
    """A composition's event log (composition_events) is deleted this long after its last run ended, all
    but each run's terminal event (the event stream still answers with it); the default is the
    compositions.events topic's retention, so a replay of the topic cannot bring the rows back."""
    artifact_grace_s: float = Field(default=3600.0, ge=0)
    """This long after a composition's last run ended, every object in its namespaces that no completed,
    undeleted run references (superseded, stale, compensated attempts; leftovers) is deleted."""
    metrics_port: int = Field(default=0, ge=0, le=65535)
