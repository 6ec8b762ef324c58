"""A stage worker killed with SIGKILL takes its process pool with it (issue 15: the pool processes
ran on forever, re-parented to init, ~150 MB each)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.integration.pipeline_harness import Pipeline
from tests.processes import cmdline, tree, wait_gone

pytestmark = pytest.mark.integration


def test_a_killed_stage_worker_leaves_no_pool_process(bootstrap_servers: str, tmp_path: Path) -> None:
    pipe = Pipeline(bootstrap_servers, tmp_path)
    try:
        worker = pipe.start_stages()
        deadline = time.monotonic() + 60
        while len(pool := {p for p in tree(worker.popen.pid) if "multiprocessing" in cmdline(p)}) < 2:
            assert time.monotonic() < deadline and worker.alive(), f"no pool of 2 processes:\n{pipe.logs()}"
            time.sleep(0.3)
        left_behind = tree(worker.popen.pid)  # the pool, and multiprocessing's resource tracker
        assert pool <= left_behind
        os.kill(worker.popen.pid, signal.SIGKILL)  # the worker alone, as an operator's kill -9 does
        worker.popen.wait(10)
        worker.name = "killed"
        assert wait_gone(left_behind, timeout=10) == set()
    finally:
        pipe.close()
