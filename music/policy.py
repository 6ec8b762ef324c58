"""The learned policies the planner consults, for the current call only.

The stage worker reads the latest policies (PolicyUpdated on the compacted policy topic) and hands
them in with ``use``; the planner reads them with ``current``. A ContextVar keeps them to the call
that set them, so the pure engine takes no Kafka dependency and runs unchanged without any
(``current()`` is then empty).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

Policies = Mapping[str, Mapping[str, float]]
"""``{policy name: {arm: probability}}``, e.g. ``{"tempo:pop": {"slow": 0.1, "mid": 0.2, "fast": 0.7}}``."""

_CURRENT: contextvars.ContextVar[Policies] = contextvars.ContextVar("cadenza_policies", default={})


@contextmanager
def use(policies: Policies) -> Iterator[None]:
    """Make ``policies`` the current ones inside the block."""
    token = _CURRENT.set(dict(policies))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> Policies:
    """The policies in effect (empty when none were handed in)."""
    return _CURRENT.get()
