"""Backoff between retries: exponential, capped, with a jitter that is a pure function of its inputs.

The jitter spreads retries of many compositions apart (so a provider that recovers is not hit by a
thundering herd) while staying deterministic: it is derived from a hash of the composition id, the
stage and the attempt, so replaying the saga gives the same retry times.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from pydantic import Field, model_validator

from composition.models import Frozen, StageName


class Backoff(Frozen):
    """Delay before retry ``n`` (1-based) on a provider: ``min(cap, base * factor**(n-1))``, jittered.

    With ``jitter`` j the delay is scaled by a factor in ``[1 - j, 1)``, so it never exceeds the cap.
    """

    base_s: float = Field(default=0.5, gt=0)
    factor: float = Field(default=2.0, ge=1.0)
    cap_s: float = Field(default=30.0, gt=0)
    jitter: float = Field(default=0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> "Backoff":
        if self.cap_s < self.base_s:
            raise ValueError("cap_s: must be at least base_s")
        return self

    def delay_s(self, n: int) -> float:
        """The delay before retry ``n`` (1-based), before jitter."""
        return min(self.cap_s, self.base_s * self.factor ** min(n - 1, 64))


def jitter_fraction(composition_id: uuid.UUID, stage: StageName, attempt: int) -> float:
    """A number in [0, 1) that looks random but depends only on its arguments."""
    digest = hashlib.sha256(f"{composition_id}:{stage.value}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def retry_delay(
    backoff: Backoff, composition_id: uuid.UUID, stage: StageName, attempt: int, retry_number: int
) -> timedelta:
    """How long to wait after failed ``attempt`` before retry number ``retry_number`` on the same provider."""
    raw = backoff.delay_s(retry_number)
    scale = 1.0 - backoff.jitter * jitter_fraction(composition_id, stage, attempt)
    return timedelta(seconds=raw * scale)
