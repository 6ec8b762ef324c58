"""Process trees as /proc shows them, for tests that kill processes and look for what is left over."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    """A process that runs (a zombie has ended: only its parent's wait is missing)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid -> (parent pid, session id)."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) is not None and stat[0] not in ("Z", "X"):
            found[int(name)] = (int(stat[1]), int(stat[3]))
    return found


def tree(root: int) -> set[int]:
    """``root``'s live descendants, and every live member of their sessions (a re-parented orphan keeps
    its session id)."""
    table = processes()
    found, frontier = set(), {root}
    while frontier:
        found |= frontier
        frontier = {pid for pid, (ppid, _) in table.items() if ppid in frontier} - found
    sessions = {table[pid][1] for pid in found if pid in table}
    return {pid for pid, (_, sid) in table.items() if sid in sessions or pid in found} - {root}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    """Wait until none of ``pids`` runs; return those still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
