"""Stage work as it runs in the worker's process pool, away from the faust event loop.

Everything here is top-level and takes and returns plain strings and dicts, so it pickles across the
pool. The provider registry is built once per pool process from ``module:function`` (the setting
CADENZA_PROVIDERS), so tests inject their providers through the same router the real ones use.
"""

from __future__ import annotations

import contextvars
import importlib
import json
import time
from functools import lru_cache
from typing import Any

from composition.models import Artifact, CompositionContext, StageName, artifacts_in
from music import policy
from music.errors import StageError
from storage.local import LocalArtifactStore

_PINNED: contextvars.ContextVar[str | None] = contextvars.ContextVar("pinned_provider", default=None)


@lru_cache(maxsize=4)
def router_for(providers: str):
    """The provider router over the configured registry, honouring the saga's provider hint.

    The saga owns retries and fallback across attempts (so each shows in the event stream); when its
    hint names a registered provider, an attempt runs on that provider alone. Without a usable hint
    the router's own chain applies.
    """
    from music.router import ProviderRouter

    class PinnedRouter(ProviderRouter):
        def chain(self, stage, ctx=None):
            names = super().chain(stage, ctx)
            pinned = _PINNED.get()
            return [pinned] if pinned in names else names

    module, _, attr = providers.partition(":")
    registry = getattr(importlib.import_module(module), attr)()
    return PinnedRouter(registry)


@lru_cache(maxsize=4)
def store_for(root: str) -> LocalArtifactStore:
    return LocalArtifactStore(root)


def warm_up(providers: str) -> bool:
    """Import the engine and build the router in a fresh pool process before the first request."""
    router_for(providers)
    return True


def run_stage(providers: str, store_root: str, stage: str, context_json: str, namespace: str,
              hint: str | None, policies_json: str | None = None) -> dict[str, Any]:
    """Run one stage attempt; return the filled context or the error, never raise.

    ``policies_json`` (``{policy name: {arm: probability}}``) is what the planner learned from feedback.
    """
    started = time.time()
    try:
        context = CompositionContext.model_validate_json(context_json)
        token = _PINNED.set(hint)
        try:
            with policy.use(json.loads(policies_json) if policies_json else {}):
                name, section = router_for(providers).run(StageName(stage), context, store_for(store_root), namespace, hint)
        finally:
            _PINNED.reset(token)
        filled = context.with_section(stage, section)
        return {"ok": True, "provider": name, "context": filled.model_dump_json(), "started": started,
                "finished": time.time(), "artifacts": [a.model_dump_json() for a in artifacts_in(section)]}
    except StageError as exc:
        return _failed(exc.code, exc.message, exc.retryable, hint, started)
    except Exception as exc:  # noqa: BLE001 - the chain's own error, or a bug: report, let the saga decide
        code = getattr(exc, "code", "provider_error")
        retryable = bool(getattr(exc, "retryable", True))
        provider = getattr(exc, "provider", None) or hint
        return _failed(code, f"{type(exc).__name__}: {exc}", retryable, provider, started)


def _failed(code: str, message: str, retryable: bool, provider: str | None, started: float) -> dict[str, Any]:
    return {"ok": False, "code": code, "message": message[:2000], "retryable": retryable,
            "provider": provider or "unknown", "started": started, "finished": time.time()}


def compensate(providers: str, store_root: str, stage: str, artifacts_json: list[str]) -> list[str]:
    """Undo a stage's side effects: its providers release what they hold and its artifacts are deleted."""
    artifacts = [Artifact.model_validate_json(a) for a in artifacts_json]
    store = store_for(store_root)
    router = router_for(providers)
    deleted: set[str] = set()
    for provider in router.registry.providers_for(StageName(stage)):
        deleted.update(provider.compensate(artifacts, store))
    for artifact in artifacts:  # whatever a provider did not claim
        if artifact.uri not in deleted and store.delete(artifact.uri):
            deleted.add(artifact.uri)
    return sorted(deleted)
