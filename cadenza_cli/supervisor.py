"""A supervisor for the stack's processes: starts each as a child in its own session, prefixes its
output with its name (or writes it to a log file per child), restarts a child that exits on its own
(a few times, with backoff), and stops them all in reverse order (SIGTERM, then SIGKILL after a grace)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from infra.settings import PROJECT_ROOT

COLORS = ("36", "33", "35", "32", "34", "31", "96", "93", "95", "92", "94", "91", "37")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    restarts: int = 0


MAX_RESTARTS = 5
"""A child that exits on its own is started again this many times (e.g. a faust worker that gave up
while a freshly formatted broker was still loading its coordinators) before the stack gives up."""


@dataclass
class Supervisor:
    """Starts children, prefixes their output, stops them in reverse order."""

    env: dict[str, str]
    log_dir: Path | None = None  # None: print to the terminal; else one file per child
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Child:
        child = Child(name, [sys.executable, "-m", "cadenza_cli.main", *args], env={**self.env, **(env or {})})
        self._spawn(child)
        self.children.append(child)
        return child

    def _spawn(self, child: Child) -> None:
        out: int | IO = subprocess.PIPE
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{child.name}.log", "ab")
        child.popen = subprocess.Popen(child.argv, env=child.env, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if self.log_dir is None:
            color = COLORS[self.children.index(child) % len(COLORS)] if child in self.children \
                else COLORS[len(self.children) % len(COLORS)]
            child.reader = threading.Thread(target=self._echo, args=(child, color), daemon=True)
            child.reader.start()

    def _echo(self, child: Child, color: str) -> None:
        tty = sys.stdout.isatty()
        prefix = f"\x1b[{color}m{child.name:>12} |\x1b[0m " if tty else f"{child.name:>12} | "
        for raw in iter(child.popen.stdout.readline, b""):
            sys.stdout.write(prefix + raw.decode(errors="replace").rstrip() + "\n")
            sys.stdout.flush()

    def exited(self) -> Child | None:
        """A child that exited and used up its restarts; children that exited with restarts left are
        started again here (callers poll this)."""
        for child in self.children:
            if child.popen.poll() is None or self.stopping:
                continue
            if child.restarts >= MAX_RESTARTS:
                return child
            child.restarts += 1
            sys.stderr.write(f"{child.name} exited with {child.popen.returncode}; "
                             f"restart {child.restarts}/{MAX_RESTARTS}\n")
            time.sleep(min(5.0, 0.5 * 2 ** child.restarts))
            self._spawn(child)
        return None

    def stop(self, grace_s: float = 20.0) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.popen.poll() is None:
                try:
                    os.killpg(child.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    child.popen.wait(grace_s)
                except subprocess.TimeoutExpired:
                    os.killpg(child.popen.pid, signal.SIGKILL)
                    child.popen.wait(10)
            if child.reader:
                child.reader.join(2)
