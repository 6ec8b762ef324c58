"""Measurements the benchmarks share: CPU seconds of a process tree and a nearest-rank percentile.

Standard library and psutil only, so the Celery baseline's own venv can import it too.
"""

from __future__ import annotations

import psutil


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (pool or prefork children); 0 if gone."""
    try:
        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (non-empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
