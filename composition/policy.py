"""Settings of the saga that are configuration, not structure: provider chains and backoff.

The workflows (``composition.pipeline``) say what runs and when; this says who runs it and how
patiently. The saga process builds one :class:`SagaPolicy` from the provider registry and its
settings and passes it to every transition (with the circuits that are open at that moment).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from composition.models import CompositionRequest, Frozen, StageName
from composition.providers import ProviderInfo, supports
from composition.retry import Backoff

FALL_BACK_AT_ONCE = frozenset({"unknown_provider", "circuit_open", "llm_unavailable"})
"""Error codes after which retrying the same provider cannot help: the next attempt goes to the next one."""


class SagaPolicy(Frozen):
    """The providers of each stage (from the registry, preferred first), an optional preferred order,
    the retry backoff, and the circuits open right now.

    ``catalog`` lists every provider the registry can run; ``order`` puts named ones first (a setting).
    """

    catalog: dict[StageName, tuple[ProviderInfo, ...]] = Field(default_factory=dict)
    order: dict[StageName, tuple[str, ...]] = Field(default_factory=dict)
    backoff: Backoff = Field(default_factory=Backoff)
    deadline_scale: float = Field(default=1.0, gt=0.0)
    """Multiplies every stage's attempt and compensation deadline (slow machines raise it, tests lower it)."""
    queue_timeout_s: float = Field(default=1800.0, ge=0.0)
    """How long an attempt may wait for a worker before it counts as lost; its own deadline (the
    stage's, scaled) starts when a worker starts it (StageStarted)."""
    open_circuits: frozenset[tuple[StageName, str]] = frozenset()

    @field_validator("order")
    @classmethod
    def _orders_not_empty(cls, value: dict[StageName, tuple[str, ...]]) -> dict[StageName, tuple[str, ...]]:
        for stage, chain in value.items():
            if not chain or any(not name for name in chain):
                raise ValueError(f"order: the chain for {stage.value} must list at least one non-empty name")
        return value

    def chain(self, stage: StageName, request: CompositionRequest | None = None) -> tuple[str, ...]:
        """The providers to try for ``stage`` and ``request``, in order: the preferred ones first, then the
        registry's order, keeping those whose capabilities suit the request."""
        infos = {info.name: info for info in self.catalog.get(stage, ()) if supports(info, request)}
        preferred = [name for name in self.order.get(stage, ()) if name in infos]
        return tuple(preferred + [name for name in infos if name not in preferred])

    def is_open(self, stage: StageName, provider: str) -> bool:
        return (stage, provider) in self.open_circuits
