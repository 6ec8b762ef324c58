"""A router over the provider registry (``music.registry``).

The router orders a stage's providers into a fallback chain (policy first,
then registration order, keeping only providers whose capabilities suit the request), starts at a
hint if given, falls back along the chain on retryable failures, and opens a provider's circuit
after ``failure_threshold`` consecutive failures so it is skipped until ``cooldown_s`` has passed
(then one trial call is let through). A permanent :class:`StageError` (bad input) stops the chain at
once: no other provider can fix the input.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from composition.artifacts import ArtifactStore
from composition.models import SECTION_TYPES, CompositionContext, Frozen, StageName
from music.errors import StageError
from music.registry import ProviderRegistry, supports

log = logging.getLogger(__name__)


class ProviderChainExhausted(StageError):
    """Every provider in a stage's chain failed or was skipped; ``errors`` maps provider name to why."""

    def __init__(self, stage: StageName, errors: dict[str, BaseException], retryable: bool = True) -> None:
        detail = "; ".join(f"{name}: {err}" for name, err in errors.items()) or "no provider registered"
        super().__init__("provider_chain_exhausted", f"{stage.value}: {detail}", retryable)
        self.stage = stage
        self.errors = errors


class CircuitOpen(StageError):
    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__("circuit_open", f"provider {name} skipped, circuit open for {retry_in:.1f} s more", True)


@dataclass
class RoutingPolicy:
    """Preferred provider order per stage and the circuit breaker's settings."""

    order: dict[StageName, list[str]] = field(default_factory=dict)
    failure_threshold: int = 3
    cooldown_s: float = 30.0


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None


class ProviderRouter:
    """Picks a stage's provider by request and policy, with fallback and per-provider circuits."""

    def __init__(self, registry: ProviderRegistry, policy: RoutingPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry
        self.policy = policy or RoutingPolicy()
        self.clock = clock
        self._circuits: dict[tuple[StageName, str], _Circuit] = {}

    def chain(self, stage: StageName | str, ctx: CompositionContext | None = None) -> list[str]:
        """Provider names in the order they are tried: policy's preference, then registration order."""
        stage = StageName(stage)
        providers = {p.name: p for p in self.registry.providers_for(stage)}
        preferred = [n for n in self.policy.order.get(stage, []) if n in providers]
        names = preferred + [n for n in providers if n not in preferred]
        request = ctx.request if ctx is not None else None
        return [n for n in names if supports(providers[n], request)]

    def circuit_state(self, stage: StageName | str, name: str) -> str:
        circuit = self._circuits.get((StageName(stage), name))
        if circuit is None or circuit.opened_at is None:
            return "closed"
        if self.clock() - circuit.opened_at >= self.policy.cooldown_s:
            return "half-open"
        return "open"

    def _record(self, stage: StageName, name: str, ok: bool) -> None:
        circuit = self._circuits.setdefault((stage, name), _Circuit())
        if ok:
            circuit.failures, circuit.opened_at = 0, None
            return
        circuit.failures += 1
        if circuit.failures >= self.policy.failure_threshold or circuit.opened_at is not None:
            circuit.opened_at = self.clock()  # (re)open: a failed half-open trial starts a new cool-down

    def run(self, stage: StageName | str, ctx: CompositionContext, store: ArtifactStore, namespace: str,
            hint: str | None = None) -> tuple[str, Frozen]:
        """Run the stage on the first provider that succeeds; returns ``(provider name, section)``."""
        stage = StageName(stage)
        names = self.chain(stage, ctx)
        if hint in names:
            names = [hint] + [n for n in names if n != hint]
        if not names:
            raise ProviderChainExhausted(stage, {}, retryable=False)
        errors: dict[str, BaseException] = {}
        for name in names:
            if self.circuit_state(stage, name) == "open":
                circuit = self._circuits[(stage, name)]
                errors[name] = CircuitOpen(name, self.policy.cooldown_s - (self.clock() - circuit.opened_at))
                continue
            provider = self.registry.get(stage, name)
            try:
                section = provider.run(ctx, store, namespace)
                expected = SECTION_TYPES[stage]
                if not isinstance(section, expected):
                    raise TypeError(f"{name} returned {type(section).__name__}, not {expected.__name__}")
            except StageError as exc:
                if not exc.retryable:
                    raise
                errors[name] = exc
            except Exception as exc:  # a provider's bug or outage: fall back to the next one
                log.warning("provider %s/%s failed: %s", stage.value, name, exc)
                errors[name] = exc
            else:
                self._record(stage, name, True)
                return name, section
            self._record(stage, name, False)
        raise ProviderChainExhausted(stage, errors)
