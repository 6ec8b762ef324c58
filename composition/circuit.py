"""A circuit breaker per (stage, provider), kept where the chain is chosen (the saga).

After ``failure_threshold`` consecutive failed attempts a provider's circuit opens: the saga skips it
when it picks the provider of a new attempt, until ``cooldown_s`` has passed; then one trial attempt
is let through (half-open) and its outcome closes or reopens the circuit. The clock is passed in, so
the breaker is pure and testable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from composition.models import StageName


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: datetime | None = None
    trial: bool = False  # a half-open trial attempt is out


@dataclass
class CircuitBreaker:
    failure_threshold: int = 3
    cooldown_s: float = 30.0
    _circuits: dict[tuple[StageName, str], _Circuit] = field(default_factory=dict)

    def state(self, stage: StageName, provider: str, now: datetime) -> str:
        """``closed``, ``open`` or ``half-open``."""
        circuit = self._circuits.get((stage, provider))
        if circuit is None or circuit.opened_at is None:
            return "closed"
        if now - circuit.opened_at >= timedelta(seconds=self.cooldown_s):
            return "half-open"
        return "open"

    def record(self, stage: StageName, provider: str, ok: bool, now: datetime) -> None:
        """An attempt on ``provider`` succeeded or failed (a failure that says nothing about the provider,
        such as bad input, should not be recorded)."""
        circuit = self._circuits.setdefault((stage, provider), _Circuit())
        circuit.trial = False
        if ok:
            circuit.failures, circuit.opened_at = 0, None
            return
        circuit.failures += 1
        if circuit.failures >= self.failure_threshold or circuit.opened_at is not None:
            circuit.opened_at = now  # (re)open: a failed half-open trial starts a new cool-down

    def skipped(self, now: datetime) -> frozenset[tuple[StageName, str]]:
        """The (stage, provider) pairs a new attempt should not go to now (open circuits)."""
        return frozenset(key for key in self._circuits if self.state(*key, now) == "open")
