"""Settings of the saga that are configuration, not structure: provider chains and backoff.

The DAG (``composition.pipeline``) says what runs and when; this says who runs it and how patiently.
The saga process builds one :class:`SagaPolicy` from its settings and passes it to every transition.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from composition.models import Frozen, StageName
from composition.retry import Backoff

DEFAULT_PROVIDER = "local"


class SagaPolicy(Frozen):
    """Provider fallback chains per stage (first is preferred) and the retry backoff.

    A stage missing from ``providers`` uses the one-provider chain ``("local",)``.
    """

    providers: dict[StageName, tuple[str, ...]] = Field(default_factory=dict)
    backoff: Backoff = Field(default_factory=Backoff)
    deadline_scale: float = Field(default=1.0, gt=0.0)
    """Multiplies every stage's attempt and compensation deadline (slow machines raise it, tests lower it)."""

    @field_validator("providers")
    @classmethod
    def _chains_not_empty(cls, value: dict[StageName, tuple[str, ...]]) -> dict[StageName, tuple[str, ...]]:
        for stage, chain in value.items():
            if not chain or any(not name for name in chain):
                raise ValueError(f"providers: the chain for {stage.value} must list at least one non-empty name")
        return value

    def chain(self, stage: StageName) -> tuple[str, ...]:
        """The ordered providers to try for ``stage``."""
        return self.providers.get(stage) or (DEFAULT_PROVIDER,)


DEFAULT_POLICY = SagaPolicy()
