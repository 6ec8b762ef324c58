"""Threads for the audio stages' independent pieces of work (tracks, stems, effect buses, encoders).

FluidSynth, pedalboard, libsndfile, LAME, scipy's filters and numpy's large-array loops run without
the GIL, so threads use the machine's cores without copying audio between processes. Results always
come back in the order of the inputs, so whatever the caller sums or stores is the same, bit for bit,
as when the work runs one piece at a time.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
MAX_THREADS = 4


def thread_count(threads: int | None) -> int:
    """``threads`` if given (at least 1), else the machine's cores, at most :data:`MAX_THREADS`."""
    return max(1, threads if threads is not None else min(MAX_THREADS, os.cpu_count() or 1))


def costliest_first(work: Callable[[T], R], items: Sequence[T], threads: int | None,
                    cost: Callable[[T], float]) -> Iterator[R]:
    """``work(item)`` for every item on ``threads`` threads, started costliest first (so that no long
    one starts last), yielded in item order. Every result is held until it is yielded."""
    count = min(thread_count(threads), max(1, len(items)))
    if count == 1:
        yield from (work(item) for item in items)
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="audio") as pool:
        order = sorted(range(len(items)), key=lambda i: -cost(items[i]))
        futures = {i: pool.submit(work, items[i]) for i in order}
        for i in range(len(items)):
            yield futures.pop(i).result()


def in_order(work: Callable[[T], R], items: Iterable[T], pool: Executor | None, ahead: int = 2) -> Iterator[R]:
    """``work(item)`` for every item, at most ``ahead`` items beyond the one being yielded in flight
    on ``pool`` (so memory stays bounded for long inputs), yielded in item order; inline without a pool."""
    if pool is None:
        yield from (work(item) for item in items)
        return
    pending: deque[Future[R]] = deque()
    for item in items:
        pending.append(pool.submit(work, item))
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
