"""Stage work as it runs in the worker's process pool, away from the faust event loop.

Everything here is top level and takes and returns picklable values. The provider registry is built
once per pool process from ``module:function`` (the setting CADENZA_PROVIDERS), so tests inject
their providers through the same path the real ones take. An attempt runs on exactly one provider:
the one the saga hinted (the saga owns retries and fallback, so each attempt shows in the event
stream). A hint the registry does not know is a failure the saga falls back from at once.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import importlib
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

from opentelemetry.trace import Status, StatusCode
from pebble import ProcessExpired, ProcessPool

from composition.contexts import SECTION_TYPES
from composition.errors import TransientError
from composition.events import Error
from composition.models import (
    Artifact,
    CompositionContext,
    StageName,
    artifacts_in,
)
from infra import tracing
from infra.tracing import TraceConfig
from music import policy
from music.config import EngineConfig
from music.errors import StageError
from music.registry import ProviderRegistry
from storage import StoreConfig, open_store
from stream_processors.stage.outcome import StageOutcome

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with(parent_pid: int) -> None:
    """Pool initializer: this process ends when the worker that made it does, even by SIGKILL.

    The kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``); a thread that
    watches for a new parent pid (we are re-parented when the worker dies) covers the moment before
    the prctl took effect and kernels without it. Without either, a killed worker's pool processes
    run on, re-parented to init, holding their memory.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    if os.getppid() != parent_pid:  # the worker died before the prctl
        os._exit(1)
    # Out of the worker's process group: a signal to the group (Ctrl-C in a terminal, ``kill -TERM -pgid``,
    # a supervisor stopping the worker) reaches the worker alone, which stops its pool in order; a pool
    # process killed under a running attempt would otherwise end that attempt as a crash.
    os.setpgrp()
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _exit_when_orphaned(parent_pid: int, every_s: float = 1.0) -> None:
    while os.getppid() == parent_pid:
        time.sleep(every_s)
    os._exit(1)


@lru_cache(maxsize=4)
def registry_for(providers: str, config: EngineConfig) -> ProviderRegistry:
    module, _, attr = providers.partition(":")
    return getattr(importlib.import_module(module), attr)(config)


def warm_up(providers: str, config: EngineConfig) -> bool:
    """Import the engine and build the registry in a fresh pool process before the first request."""
    registry_for(providers, config)
    return True


def run_stage(providers: str, config: EngineConfig, store: StoreConfig, stage: StageName, context: CompositionContext,
              namespace: str, hint: str | None, policies: dict[str, dict[str, float]] | None = None) -> StageOutcome:
    """Run one attempt; return its outcome, never raise (a provider's bug is a retryable failure).

    ``policies`` (``{policy name: {arm: probability}}``) is what the planner learned from feedback.
    """
    started = time.time()
    registry = registry_for(providers, config)
    known = [p.name for p in registry.providers_for(stage)]
    name = hint if hint is not None else (known[0] if known else "none")
    try:
        if name not in known:
            raise StageError("unknown_provider", f"this worker has no {stage.value} provider {name!r} "
                             f"(it has {', '.join(known) or 'none'})", retryable=True)
        provider = registry.get(stage, name)
        with policy.use(policies or {}):
            section = provider.run(context, open_store(store), namespace)
        if not isinstance(section, SECTION_TYPES[stage]):
            raise TypeError(f"{name} returned {type(section).__name__}, not {SECTION_TYPES[stage].__name__}")
        return StageOutcome(provider=name, started_s=started, finished_s=time.time(),
                            context=context.with_section(stage, section), artifacts=artifacts_in(section))
    except StageError as exc:
        error = Error(code=exc.code, message=exc.message[:2000], retryable=exc.retryable)
    except Exception as exc:  # noqa: BLE001 - a provider's bug or outage: the saga retries or falls back
        error = Error(code="provider_error", message=f"{type(exc).__name__}: {exc}"[:2000], retryable=True)
    return StageOutcome(provider=name, started_s=started, finished_s=time.time(), error=error)


def compensate(providers: str, config: EngineConfig, store: StoreConfig, stage: StageName,
               artifacts: list[Artifact]) -> list[str]:
    """Undo a stage's side effects: its providers release what they hold and its artifacts are deleted."""
    opened = open_store(store)
    deleted: set[str] = set()
    for provider in registry_for(providers, config).providers_for(stage):
        deleted.update(provider.compensate(artifacts, opened))
    for artifact in artifacts:  # whatever a provider did not claim
        if artifact.uri not in deleted and opened.delete(artifact.uri):
            deleted.add(artifact.uri)
    return sorted(deleted)


def run_stage_traced(trace: TraceConfig, traceparent: str | None, providers: str, config: EngineConfig,
                     store: StoreConfig, stage: StageName, context: CompositionContext, namespace: str,
                     hint: str | None, policies: dict[str, dict[str, float]] | None = None) -> StageOutcome:
    """:func:`run_stage` in a span of this pool process, the child of the worker's attempt span."""
    if not tracing.setup("stage-pool", trace):
        return run_stage(providers, config, store, stage, context, namespace, hint, policies)
    with tracing.span(f"run {stage.value}", traceparent or "", **{"cadenza.stage": stage.value,
                                                                  "cadenza.composition_id": namespace}) as span:
        outcome = run_stage(providers, config, store, stage, context, namespace, hint, policies)
        span.set_attribute("cadenza.provider", outcome.provider)
        if outcome.error is not None:
            span.set_status(Status(StatusCode.ERROR, outcome.error.code))
        return outcome


def _stop_quietly(pool: ProcessPool) -> None:
    try:
        pool.stop()
        pool.join(timeout=10)
    except Exception:  # noqa: BLE001, S110 - a broken pool's leftovers: nothing more to do with them
        pass


class PoolRunner:
    """The stage handler's runner port, on a spawn process pool of ``size`` processes (pebble's).

    pebble rather than the standard ProcessPoolExecutor because a running task can be stopped: when
    the handler gives up on an attempt (``asyncio.wait_for`` past its deadline, or the worker shutting
    down) the awaiting coroutine is cancelled, the cancel reaches the pool's future, and pebble ends
    the process running it and starts a fresh one - the slot is free at once instead of the expired
    work running on beside its retry.
    """

    def __init__(self, providers: str, config: EngineConfig, store: StoreConfig, size: int,
                 trace: TraceConfig | None = None) -> None:
        self.providers, self.config, self.store, self.size = providers, config, store, size
        self.trace = trace or TraceConfig()
        self._pool: ProcessPool | None = None

    @property
    def pool(self) -> ProcessPool:
        if self._pool is None:
            self._pool = ProcessPool(self.size, context=multiprocessing.get_context("spawn"),
                                     initializer=die_with, initargs=(os.getpid(),))
        return self._pool

    async def _call(self, function, *args):
        """``function(*args)`` in a pool process; cancelling the await stops that process. A pool that
        broke (its manager lost a process's pipe) is dropped; the next call starts a fresh one."""
        pool = self.pool
        try:
            return await asyncio.wrap_future(pool.schedule(function, args=args))
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
                threading.Thread(target=_stop_quietly, args=(pool,), name="broken-pool", daemon=True).start()
            raise

    async def warm(self) -> None:
        await asyncio.gather(*(self._call(warm_up, self.providers, self.config) for _ in range(self.size)))

    async def run(self, stage: StageName, context: CompositionContext, namespace: str, hint: str | None,
                  policies: dict[str, dict[str, float]] | None) -> StageOutcome:
        started = time.time()
        try:
            return await self._call(run_stage_traced, self.trace, tracing.traceparent_of(), self.providers,
                                    self.config, self.store, stage, context, namespace, hint, policies)
        except ProcessExpired as exc:  # the process died under the attempt (a crash, the OOM killer): retry it
            return StageOutcome(provider=hint or "unknown", started_s=started, finished_s=time.time(),
                                error=Error(code="process_died", retryable=True,
                                            message=f"the pool process running {stage.value} died ({exc}, "
                                                    f"exit code {exc.exitcode})"))
        except BrokenProcessPool as exc:  # the pool itself broke under the attempt: a fresh one, and retry
            return StageOutcome(provider=hint or "unknown", started_s=started, finished_s=time.time(),
                                error=Error(code="process_died", retryable=True,
                                            message=f"the process pool broke under {stage.value} ({exc!r})"))

    async def compensate(self, stage: StageName, artifacts: list[Artifact]) -> list[str]:
        try:
            return await self._call(compensate, self.providers, self.config, self.store, stage, artifacts)
        except (BrokenProcessPool, ProcessExpired) as exc:  # transient for the error policy, not poison
            raise TransientError(f"the pool process compensating {stage.value} died ({exc!r})") from exc

    def processes(self) -> list[int]:
        """The pids of the pool's processes now (for tests and the operator)."""
        if self._pool is None:
            return []
        return sorted(w.pid for w in self._pool._pool_manager.worker_manager.workers.values() if w.pid)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
