"""An attempt that passes its deadline is stopped and its pool slot freed (issue 15: expired work ran
on in the pool beside its retry, so a busy stage fell further behind with every timeout)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from composition.models import CompositionContext, CompositionRequest, GenreWeight, Mood, StageName
from music.config import EngineConfig
from storage import StoreConfig
from stream_processors.stage.pool import PoolRunner
from tests.processes import alive

pytestmark = pytest.mark.integration

PROVIDERS = "tests.integration.fake_providers:registry"


def _context(theme: str) -> CompositionContext:
    return CompositionContext(request=CompositionRequest(
        mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)], theme=theme, duration_s=30))


def test_a_timed_out_attempt_is_stopped_and_its_slot_runs_the_next(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CADENZA_FAKE_STATE_DIR", str(tmp_path / "fakes"))
    runner = PoolRunner(PROVIDERS, EngineConfig(), StoreConfig(root=tmp_path / "store"), size=1)

    async def scenario() -> tuple[list[int], list[int], float, object]:
        await runner.warm()
        before = runner.processes()
        hanging = _context("script: plan=hang:120")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(runner.run(StageName.PLAN, hanging, str(uuid.uuid4()), "local", None), 1.0)
        started = time.monotonic()
        # the only slot is free again: the next attempt does not wait two minutes behind the hung one
        outcome = await runner.run(StageName.PLAN, _context("fine"), str(uuid.uuid4()), "local", None)
        return before, runner.processes(), time.monotonic() - started, outcome

    try:
        before, after, waited, outcome = asyncio.run(scenario())
    finally:
        runner.close()
    assert outcome.error is None and outcome.context.plan is not None
    assert len(before) == 1 and len(after) == 1
    assert before != after, "the process running the expired attempt was not replaced"
    assert not alive(before[0]), "the process running the expired attempt still runs"
    assert waited < 60, f"the next attempt waited {waited:.0f} s for the slot"


def test_a_pool_process_that_dies_under_an_attempt_is_a_retryable_failure_not_a_poison_message(
        tmp_path: Path, monkeypatch) -> None:
    """A crash or the OOM killer ends the process, not the request: the saga retries it."""
    monkeypatch.setenv("CADENZA_FAKE_STATE_DIR", str(tmp_path / "fakes"))
    runner = PoolRunner(PROVIDERS, EngineConfig(), StoreConfig(root=tmp_path / "store"), size=1)

    async def scenario():
        await runner.warm()
        [pid] = runner.processes()
        attempt = asyncio.ensure_future(
            runner.run(StageName.PLAN, _context("script: plan=hang:120"), str(uuid.uuid4()), "local", None))
        await asyncio.sleep(1.0)
        os.kill(pid, signal.SIGKILL)
        return await asyncio.wait_for(attempt, 30)

    try:
        outcome = asyncio.run(scenario())
    finally:
        runner.close()
    assert outcome.error is not None and outcome.error.code == "process_died" and outcome.error.retryable
    assert "plan" in outcome.error.message


def test_a_signal_to_the_worker_s_process_group_does_not_reach_its_pool_processes(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """Ctrl-C or ``kill -TERM -pgid`` stops the worker, which stops its pool in order; were the pool
    processes in the group too they would die under their attempts first (seen as dead-lettered
    requests when a worker was scaled in)."""
    monkeypatch.setenv("CADENZA_FAKE_STATE_DIR", str(tmp_path / "fakes"))
    runner = PoolRunner(PROVIDERS, EngineConfig(), StoreConfig(root=tmp_path / "store"), size=1)
    try:
        asyncio.run(runner.warm())
        [pid] = runner.processes()
        assert os.getpgid(pid) != os.getpgid(0)
    finally:
        runner.close()
    assert not alive(pid), "the pool process outlived the pool's close"


def test_a_pool_that_breaks_under_an_attempt_is_a_retryable_failure_and_the_next_attempt_gets_a_fresh_pool(
        tmp_path: Path, monkeypatch) -> None:
    """pebble's pool breaks (BrokenProcessPool) when its manager loses a process's pipe; that was a
    processing error and a dead letter (seen in a full run, the master stage under retention's test)."""
    monkeypatch.setenv("CADENZA_FAKE_STATE_DIR", str(tmp_path / "fakes"))
    runner = PoolRunner(PROVIDERS, EngineConfig(), StoreConfig(root=tmp_path / "store"), size=1)

    async def scenario():
        await runner.warm()
        broken = runner.pool
        attempt = asyncio.ensure_future(
            runner.run(StageName.PLAN, _context("script: plan=hang:120"), str(uuid.uuid4()), "local", None))
        await asyncio.sleep(1.0)
        broken._pool_manager.worker_manager.pool_channel.reader.close()  # the manager's end of the pipe
        outcome = await asyncio.wait_for(attempt, 30)
        after = await runner.run(StageName.PLAN, _context("fine"), str(uuid.uuid4()), "local", None)
        return broken, runner._pool, outcome, after

    try:
        broken, fresh, outcome, after = asyncio.run(scenario())
    finally:
        runner.close()
    assert outcome.error is not None and outcome.error.code == "process_died" and outcome.error.retryable
    assert after.error is None and after.context.plan is not None
    assert fresh is not None and fresh is not broken  # the broken pool was dropped, a new one ran the next
