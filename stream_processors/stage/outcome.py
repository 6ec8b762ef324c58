"""What one stage attempt came to, as the process pool hands it back to the worker."""

from __future__ import annotations

from composition.contexts import AnyContext
from composition.events import Error
from composition.models import Artifact, Frozen


class StageOutcome(Frozen):
    """The provider that ran, when, and either the filled context (with its artifacts) or the error."""

    provider: str
    started_s: float  # epoch seconds
    finished_s: float
    context: AnyContext | None = None  # whichever workflow the run is (a song, a voice, a set)
    artifacts: list[Artifact] = []
    error: Error | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.context is not None
