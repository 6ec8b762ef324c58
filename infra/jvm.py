"""What every Java service the project runs has in common: jars from Maven Central, a JDK that is
new enough, and one background process with a pid file that cannot be fooled.

A pid file alone lies twice: the process may have died and its pid been reused by something else,
or it may have died as our child and linger as a zombie (``os.kill(pid, 0)`` succeeds on both).
:class:`JavaProcess` therefore reads ``/proc/<pid>/task/*/stat`` (some thread not Z/X) and that
thread's ``cmdline`` (it must still name the service's own marker, e.g. its config file) before
calling a process ours.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from composition.errors import CadenzaError


class ServiceError(CadenzaError):
    """A local service could not be fetched, configured, started or reached."""


def maven(pom: Path, *goal_and_args: str) -> None:
    """Run one Maven goal on ``pom`` quietly; ServiceError with Maven's output if it fails."""
    if shutil.which("mvn") is None:
        raise ServiceError("maven (mvn) is not installed; run `make setup` (apt-get install maven)")
    cmd = ["mvn", "-B", "-q", "-f", str(pom), *goal_and_args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"{' '.join(cmd)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def _jdk_version(java: Path) -> int | None:
    """The feature version (17, 25, ...) of the JDK/JRE that ``java`` belongs to, from its ``release`` file."""
    release = java.resolve().parent.parent / "release"
    try:
        match = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def find_java(min_version: int, override: Path | None = None, java_home: Path | None = None,
              setting: str = "the service's java setting") -> Path:
    """A ``java`` of at least ``min_version``: ``override``, else ``java_home``, the PATH, /usr/lib/jvm/*.

    The newest qualifying JDK under /usr/lib/jvm wins when the default one is too old.
    """
    if override is not None:
        return override
    candidates = []
    if java_home is not None:
        candidates.append(java_home / "bin" / "java")
    if shutil.which("java"):
        candidates.append(Path(shutil.which("java")))
    candidates += sorted(Path("/usr/lib/jvm").glob("*/bin/java"), key=lambda p: _jdk_version(p) or 0, reverse=True)
    for java in candidates:
        version = _jdk_version(java)
        if version is not None and version >= min_version:
            return java
    found = ", ".join(f"{p} ({_jdk_version(p)})" for p in candidates) or "none"
    raise ServiceError(f"needs Java {min_version}+; found {found}. Set {setting} to a java binary")


@dataclass(frozen=True)
class JavaProcess:
    """One background service process: started detached, its pid in ``pid_file``, output in ``log_file``.

    ``marker`` is a string its command line must contain (a path under the service's own run dir),
    so a recycled pid that now belongs to another program is never mistaken for the service.
    """

    name: str
    pid_file: Path
    log_file: Path
    marker: str

    def pid(self) -> int | None:
        """The live, non-zombie process this pid file names, if it is still the service; else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if is_live(pid, self.marker) else None

    def launch(self, cmd: list[str], cwd: Path) -> subprocess.Popen:
        """Start ``cmd`` in its own session (Ctrl-C in our terminal does not reach it) and record its pid."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, cwd=cwd)
        self.pid_file.write_text(str(process.pid))
        return process

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM (the JVM's shutdown hooks run), SIGKILL after ``timeout``; False if it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline, killed = time.monotonic() + timeout, False
        while _state_of(pid, self.marker) is not None:  # until every thread is gone, sockets closed
            if time.monotonic() > deadline:
                if killed:
                    raise ServiceError(f"{self.name} (pid {pid}) did not exit after SIGKILL")
                if is_live(pid, self.marker):
                    os.kill(pid, signal.SIGKILL)
                deadline, killed = time.monotonic() + 30, True
            time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def is_live(pid: int, marker: str) -> bool:
    """Whether ``pid`` is a live (not zombie) process whose command line contains ``marker``; a zombie
    that is our child is reaped on the way. Any service's pid check (a JVM's, PostgreSQL's postmaster)."""
    return _state_of(pid, marker) == "ours"


def _state_of(pid: int, marker: str) -> str | None:
    """``"ours"`` if process ``pid`` has a live thread running a command line that contains ``marker``,
    ``"exiting"`` if its only live threads have already let go of their memory (and so of their
    command line) on the way out, None if it is gone, a zombie (reaped here if it is our child) or
    another program.

    A JVM's main thread can be a zombie while other threads still run, sockets open, so every
    thread is looked at.
    """
    proc = Path("/proc") / str(pid)
    try:
        tasks = sorted(os.listdir(proc / "task"), key=lambda tid: tid != str(pid))  # the leader first
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    exiting = False
    for tid in tasks:
        try:
            stat = (proc / "task" / tid / "stat").read_text()
            if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X", "x"):  # comm, in parentheses, may hold spaces
                continue
            cmdline = (proc / "task" / tid / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if not cmdline:
            exiting = True
            continue
        return "ours" if marker in cmdline.replace(b"\0", b" ").decode(errors="replace") else None
    if exiting:
        return "exiting"
    _reap(pid)
    return None


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: its parent reaps it
        pass


def wait_http(service: JavaProcess, url: str, ok: tuple[int, ...], timeout: float,
              process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers one of the ``ok`` statuses; ServiceError with the log's tail if the
    process exits first or the time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    last: object = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{service.name} exited with {process.returncode}; see {service.log_file}:\n"
                               f"{service.tail()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code in ok:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise ServiceError(f"{service.name} did not answer {url} within {timeout:.0f}s ({last}); see {service.log_file}")
