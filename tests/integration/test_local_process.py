"""infra/jvm.py on real processes (``sleep`` stands in for a server): the pid file is believed only
for a live process with the service's marker, and the JDK finder names what it found."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.jvm import JavaProcess, ServiceError, _jdk_version, find_java

pytestmark = pytest.mark.integration


@pytest.fixture
def service(tmp_path: Path) -> JavaProcess:
    marker = str(tmp_path / "marker.conf")
    return JavaProcess("sleeper", tmp_path / "sleeper.pid", tmp_path / "sleeper.log", marker)


def _launch(service: JavaProcess) -> subprocess.Popen:
    # the marker rides along as an ignored argument of a Python one-liner that sleeps
    return service.launch([sys.executable, "-c", "import time; time.sleep(60)", service.marker], cwd=Path("/"))


def test_a_live_process_with_the_marker_is_the_service(service: JavaProcess) -> None:
    process = _launch(service)
    assert service.pid() == process.pid
    assert service.stop() is True
    assert not Path(f"/proc/{process.pid}").exists()  # gone and reaped, not left a zombie
    assert service.pid() is None and not service.pid_file.exists()
    assert service.stop() is False


def test_a_zombie_is_not_the_service(service: JavaProcess) -> None:
    process = _launch(service)
    os.kill(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    state = ""
    while state != "Z" and time.monotonic() < deadline:
        state = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        time.sleep(0.02)
    assert state == "Z"  # not reaped yet: kill(pid, 0) would still succeed
    assert service.pid() is None
    assert not Path(f"/proc/{process.pid}").exists()  # and the check reaped it


def test_a_recycled_pid_is_not_the_service(service: JavaProcess) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        service.pid_file.write_text(str(stranger.pid))
        assert service.pid() is None
        assert service.stop() is False and stranger.poll() is None  # the stranger was not signalled
    finally:
        stranger.kill()
        stranger.wait()
    service.pid_file.write_text("not a number")
    assert service.pid() is None


def test_find_java_takes_a_new_enough_jdk_or_names_what_it_found() -> None:
    java = find_java(17)
    assert (_jdk_version(java) or 0) >= 17
    with pytest.raises(ServiceError, match=r"needs Java 999\+; found .*Set CADENZA_TEST_JAVA"):
        find_java(999, setting="CADENZA_TEST_JAVA")
    assert find_java(999, Path("/opt/some/java")) == Path("/opt/some/java")
