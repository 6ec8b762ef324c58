"""Corrections to faust-streaming 0.15.3 (applied by faust_app): exactly-once table recovery, no offset
committed before its input's output is delivered, no uncommitted write kept in a table's local store,
and the cost of an idle process.

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
import gc
import logging
import os
import shutil
import threading
from collections.abc import Mapping

import rocksdict
from faust.exceptions import ProducerSendError
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as RocksDBStore
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from mode import Service

from stream_processors.metrics import ROCKSDB_MEMORY

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

# -- a partition nothing was ever committed for is read from its start -----------------------------------
# After a rebalance faust seeks every assigned partition back to its committed offset (it drops the
# records it had fetched but not yet handed to an agent, and relies on the seek to read them again).
# aiokafka's seek_to_committed seeks only ``if offset and offset > 0``: a partition with no committed
# offset keeps its fetch position, past the records faust dropped. A stage request at offset 0 of a
# fresh partition was never run after a worker joined and another left at once (measured: one of six
# compositions, twice in two runs, until the saga's queue bound); the same for a plan request at 3:0
# after a broker node was killed. Such partitions now go back to where the reset policy says.

async def _seek_to_committed(self: AIOKafkaConsumerThread) -> Mapping:
    return await self.call_thread(_seek_in_the_consumer_thread, self)


async def _seek_in_the_consumer_thread(self: AIOKafkaConsumerThread) -> Mapping:
    consumer = self._ensure_consumer()
    committed = await consumer.seek_to_committed()
    never = [tp for tp, offset in committed.items() if not offset]  # None (nothing committed) or 0
    if never:
        if self.app.conf.consumer_auto_offset_reset == "latest":
            await consumer.seek_to_end(*never)
        else:
            await consumer.seek_to_beginning(*never)
    return committed


# -- outputs before offsets --------------------------------------------------------------------------
# faust sends an output inside a partition's transaction only when its consumer knows the destination
# topic (one it consumes); every other send (a stage result, a saga's stage requests and events) goes
# through its plain idempotent producer, and the offset of the input that made it is committed at the
# next commit whether the send has reached the broker or not: a result still buffered when the worker
# dies, or one the broker refused, is lost while its request counts as done. Each commit now first
# flushes that producer, and a failed delivery stops the process before anything more is committed (its
# input comes again, from the last committed offset, to this process restarted or to another).

_lost_output: list[BaseException] = []
"""A delivery that failed since the process started (the first one is enough to stop committing)."""

LOST_OUTPUT_EXIT = 75
"""The exit status of a process that lost an output (EX_TEMPFAIL: `cadenza up` restarts it)."""


def watch_delivery(future: asyncio.Future) -> None:
    """Record a failed delivery of ``future`` (a faust send): the next commit stops the process."""
    def done(fut: asyncio.Future) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            _lost_output.append(exc)
    future.add_done_callback(done)


def _stop_on_lost_output() -> None:
    if _lost_output:
        log.critical("an output could not be delivered (%r): stopping before its input's offset is committed; "
                     "the input comes again after a restart", _lost_output[0])
        logging.shutdown()
        os._exit(LOST_OUTPUT_EXIT)


_original_commit_offsets = Consumer._commit_offsets


async def _commit_offsets(self: Consumer, offsets: Mapping, start_new_transaction: bool = True) -> bool:
    if self.app.in_transaction:
        await self.app.producer.flush()  # every output of an acknowledged input is on the broker
        _stop_on_lost_output()
    return await _original_commit_offsets(self, offsets, start_new_transaction)


# -- only committed state in a table's local store ----------------------------------------------------
# A table write goes to the local RocksDB at once and to the changelog inside the partition's open
# transaction. When that transaction never commits (the process killed, the partition taken away by a
# rebalance, a failed commit), Kafka drops the changelog record, but the local store keeps the write:
# a stage worker restarted in the same folder found an "attempt done" mark for a request whose offset
# was never committed, and skipped it when it came again; a saga, a state its output never followed.
# A partition newly assigned to this process therefore starts from an empty local store and is restored
# from its changelog (what a process on another machine does anyway); a partition held across a
# rebalance keeps its store, since its transaction goes on.

_original_assign_partitions = RocksDBStore.assign_partitions


async def _assign_partitions(self: RocksDBStore, table, tps, generation_id: int = 0) -> None:
    standby = self.app.assignor.assigned_standbys()
    partitions = {tp.partition for tp in tps if tp.topic in table.changelog_topic.topics and tp not in standby}
    for partition in partitions:
        self._dbs.pop(partition, None)  # open again by a late write after the revoke
    gc.collect()  # faust never closes a db; its last reference gone, rocksdict closes it
    for partition in partitions:
        path = self.partition_path(partition)
        if path.exists():
            log.info("%s: local state of partition %s discarded, restoring it from the changelog", path.name,
                     partition)
            shutil.rmtree(path, ignore_errors=True)
    await _original_assign_partitions(self, table, tps, generation_id)


# -- one memory budget per process for every table's RocksDB -------------------------------------------
# faust opens one RocksDB per table partition, each with its own block cache and memtables: a saga (three
# tables, four partitions) could hold 12 x (16 MB cache + 2 x 4 MB memtables) = 288 MB, filling towards
# it as it runs (the soak benchmark's saga grew 90 MiB over 10,000 compositions, slowing). With the
# table option ``process_memory_mb`` every partition of every table in the process shares one block
# cache of that size, and their memtables are charged to it (a RocksDB WriteBufferManager, flushing
# once they pass half of it).

_SHARED_MEMORY: dict[int, tuple[rocksdict.Cache, rocksdict.WriteBufferManager]] = {}

_original_as_options = RocksDBOptions.as_options


def shared_memory(budget_bytes: int) -> tuple[rocksdict.Cache, rocksdict.WriteBufferManager]:
    """The process's block cache and memtable manager for ``budget_bytes`` (made once)."""
    if budget_bytes not in _SHARED_MEMORY:
        cache = rocksdict.Cache(budget_bytes)
        manager = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(budget_bytes // 2, False, cache)
        _SHARED_MEMORY[budget_bytes] = (cache, manager)
        ROCKSDB_MEMORY.labels("usage").set_function(lambda: sum(c.get_usage() for c, _ in _SHARED_MEMORY.values()))
        ROCKSDB_MEMORY.labels("memtables").set_function(
            lambda: sum(m.get_usage() for _, m in _SHARED_MEMORY.values()))
    return _SHARED_MEMORY[budget_bytes]


def _as_options(self: RocksDBOptions):
    options = _original_as_options(self)
    budget_mb = self.extra_options.get("process_memory_mb")
    if not self.use_rocksdict or not budget_mb:
        return options
    cache, manager = shared_memory(int(budget_mb) * 1024 * 1024)
    table = rocksdict.BlockBasedOptions()
    table.set_bloom_filter(self.bloom_filter_size, block_based=True)
    table.set_block_cache(cache)
    table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
    options.set_block_based_table_factory(table)
    options.set_write_buffer_manager(manager)
    return options


def apply() -> None:
    """Idempotent: replace faust's cached-LSO highwaters with the broker's answer; check for stalled
    partitions every LIVELOCK_CHECK_S instead of 2.5 commit intervals; an idle commit timer that waits
    for the first acknowledgement (at most IDLE_COMMIT_S); a buffered write for a partition a rebalance took
    away is dropped instead of crashing the worker; outputs delivered before a commit; a newly assigned
    partition's local store rebuilt from its changelog; one RocksDB memory budget per process; a partition
    with no committed offset read from its start after every rebalance."""
    AIOKafkaConsumerThread._highwaters = _highwaters_from_the_broker
    AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed
    Consumer._commit_offsets = _commit_offsets
    RocksDBStore.assign_partitions = _assign_partitions
    RocksDBOptions.as_options = _as_options
    ProducerBuffer._send_pending = _send_pending
    Consumer._commit_livelock_detector = _commit_livelock_detector
    Consumer._commit_handler = _commit_handler
    if Consumer.ack is not _ack:
        Consumer.ack = _ack
