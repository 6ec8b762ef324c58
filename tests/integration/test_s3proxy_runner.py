"""The S3Proxy runner: start, status, stop, and a status that neither a killed process (left a zombie
by us, its parent) nor a recycled pid can fool. Runs its own S3Proxy on a free port and run dir, so
the session's server is untouched."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from infra.net import free_port, port_open
from infra.s3proxy.server import LocalS3Proxy
from infra.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CADENZA_RUN_DIR", str(tmp_path))
    proxy = LocalS3Proxy.from_settings(ServiceSettings(), port=free_port(), bucket="runner-test")
    yield proxy
    proxy.stop()


def _state(pid: int, tid: int | str | None = None) -> str | None:
    try:
        return Path(f"/proc/{pid}/task/{tid or pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return None


def _every_thread_dead(pid: int) -> bool:
    try:
        return all(_state(pid, tid) in (None, "Z") for tid in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return True


def test_start_status_stop(proxy: LocalS3Proxy) -> None:
    assert not proxy.running()
    endpoint = proxy.start()
    assert endpoint == f"http://127.0.0.1:{proxy.port}" and proxy.running()
    assert [b["Name"] for b in proxy.client().list_buckets()["Buckets"]] == ["runner-test"]
    assert proxy.start() == endpoint  # a second start finds it running and keeps the same process
    pid = proxy.process.pid()
    assert proxy.stop() is True
    assert not proxy.running() and not port_open(proxy.host, proxy.port)
    assert _state(pid) in (None, "Z") and proxy.process.pid() is None
    assert proxy.stop() is False


def test_a_killed_server_is_not_running_and_restarts_with_its_objects(proxy: LocalS3Proxy) -> None:
    proxy.start()
    proxy.client().put_object(Bucket="runner-test", Key="k", Body=b"kept on disk")
    pid = proxy.process.pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30  # a JVM's threads take a moment to die on a busy machine
    while not _every_thread_dead(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    # we started it, so until someone reaps it the dead JVM is our zombie: kill(pid, 0) still succeeds
    assert _state(pid) == "Z"
    assert not proxy.running()
    assert proxy.process.pid() is None
    proxy.start()
    assert proxy.running() and proxy.process.pid() != pid
    assert proxy.client().get_object(Bucket="runner-test", Key="k")["Body"].read() == b"kept on disk"


def test_a_recycled_pid_is_not_taken_for_the_server(proxy: LocalS3Proxy) -> None:
    proxy.start()
    real = proxy.process.pid()
    proxy.process.pid_file.write_text(str(os.getpid()))  # a live process that is not S3Proxy
    assert proxy.process.pid() is None and not proxy.running()
    assert proxy.stop() is False  # and stop does not signal the stranger (this test process)
    proxy.process.pid_file.write_text(str(real))
    assert proxy.running()
