"""A correction to faust-streaming 0.15.3 that exactly-once table recovery needs (applied by faust_app).

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

from collections.abc import Mapping

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread


async def _highwaters_from_the_broker(self: AIOKafkaConsumerThread, partitions: list) -> Mapping:
    """End offsets from the broker; under read_committed (exactly-once) that is each partition's LSO."""
    return await self._ensure_consumer().end_offsets(partitions)


def apply() -> None:
    """Idempotent: replace faust's cached-LSO highwaters with the broker's answer."""
    AIOKafkaConsumerThread._highwaters = _highwaters_from_the_broker
