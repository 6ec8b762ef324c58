"""Corrections to faust-streaming 0.15.3 (applied by faust_app): exactly-once table recovery, and the
cost of an idle process.

Under exactly-once, faust builds the highwaters of the changelog partitions it is to restore from
aiokafka's ``last_stable_offset(tp)`` - a value aiokafka knows only after a fetch from that partition
has returned. For a partition just moved to this process (a saga that took over a killed one's
partitions) no fetch has happened yet: the LSO is None, faust reads that as highwater -1, "nothing
to restore", and the table of the moved partitions starts empty - compositions in flight there
were stuck for good (measured: 4 of 10 in tests/e2e/test_several_machines.py). The same cause
crashes workers in robinhood/faust#658. The fix asks the broker instead: ListOffsets at the
consumer's isolation level (read_committed) answers the LSO whether or not anything was fetched.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping

from faust.exceptions import ProducerSendError
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from mode import Service

log = logging.getLogger(__name__)

NO_TRANSACTION_PRODUCER = "No transaction producer found"
"""faust's error for a send whose partition's transactional producer a rebalance has just removed."""

IDLE_COMMIT_S = 1.0
"""With nothing acknowledged since the last commit, faust's commit timer wakes this often instead of
every commit interval (20 times a second at 50 ms, in every process). The first message acknowledged
wakes it at once, and then it commits every interval as before, so the latency of a hop is unchanged;
what a timer alone sends (the saga's deadlines) is committed within this long."""

LIVELOCK_CHECK_S = 10.0
"""How often faust looks for partitions that stopped moving (it only logs them). faust runs the check
every 2.5 commit intervals - 8 times a second at our 50 ms commit interval, over every assigned
partition, in every process, busy or not: most of an idle process's CPU after the commit timer."""


async def _highwaters_from_the_broker(self: AIOKafkaConsumerThread, partitions: list) -> Mapping:
    """End offsets from the broker; under read_committed (exactly-once) that is each partition's LSO."""
    return await self._ensure_consumer().end_offsets(partitions)


_original_ack = Consumer.ack


def _ack(self: Consumer, message) -> bool:
    acked = _original_ack(self, message)
    wake: asyncio.Event | None = getattr(self, "_cadenza_acked", None)
    if acked and wake is not None and not wake.is_set():
        if threading.get_ident() == self._cadenza_loop_thread:
            wake.set()
        else:
            self._cadenza_loop.call_soon_threadsafe(wake.set)
    return acked


@Service.task
async def _commit_handler(self: Consumer) -> None:  # pragma: no cover - a timer
    interval = self.commit_interval
    self._cadenza_loop = asyncio.get_running_loop()
    self._cadenza_loop_thread = threading.get_ident()
    wake = self._cadenza_acked = asyncio.Event()
    await self.sleep(interval)
    while not self.should_stop:
        wake.clear()
        await self.commit()
        if not wake.is_set():
            try:
                await asyncio.wait_for(wake.wait(), IDLE_COMMIT_S)
            except asyncio.TimeoutError:
                pass
        await self.sleep(interval)  # busy: what arrives within one interval is committed together


@Service.task
async def _commit_livelock_detector(self: Consumer) -> None:  # pragma: no cover - a timer
    interval = max(self.commit_interval * 2.5, LIVELOCK_CHECK_S)
    await self.sleep(interval)
    async for _ in self.itertimer(interval, name="livelock"):
        if not self.app.rebalancing:
            await self.verify_all_partitions_active()


_original_send_pending = ProducerBuffer._send_pending


async def _send_pending(self: ProducerBuffer, fut) -> None:
    """A buffered write (a table's changelog record) whose partition moved away in a rebalance before
    it went out: under exactly-once its transaction ended with the partition, and the input that made
    it is uncommitted, so the partition's next owner makes it again. faust raised here, which crashed
    the producer buffer and with it the worker (measured: tests/integration/test_orchestration.py,
    scaling out under load); the write is dropped instead."""
    try:
        await _original_send_pending(self, fut)
    except ProducerSendError as exc:
        if NO_TRANSACTION_PRODUCER not in str(exc):
            raise
        log.warning("a buffered write to %s dropped: its partition moved in a rebalance (%s)",
                    getattr(fut.message.channel, "get_topic_name", lambda: "?")(), exc)
        if not fut.done():
            fut.cancel()


def apply() -> None:
    """Idempotent: replace faust's cached-LSO highwaters with the broker's answer; check for stalled
    partitions every LIVELOCK_CHECK_S instead of 2.5 commit intervals; an idle commit timer that waits
    for the first acknowledgement (at most IDLE_COMMIT_S); a buffered write for a partition a rebalance took
    away is dropped instead of crashing the worker."""
    AIOKafkaConsumerThread._highwaters = _highwaters_from_the_broker
    ProducerBuffer._send_pending = _send_pending
    Consumer._commit_livelock_detector = _commit_livelock_detector
    Consumer._commit_handler = _commit_handler
    if Consumer.ack is not _ack:
        Consumer.ack = _ack
