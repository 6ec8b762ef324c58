"""Consumer lag of a plain confluent-kafka consumer (the projector, analytics) as the shared gauge.

librdkafka computes each assigned partition's lag itself (high watermark minus the consumer's
position) and reports it in its statistics JSON every ``statistics.interval.ms``; the callback runs
inside ``poll``/``consume``, on the consumer's own thread, so this costs no broker round trip. A
partition no longer assigned reports ``-1`` and its series is removed (a rebalance moved it).
"""

from __future__ import annotations

import json
from typing import Any

from stream_processors.metrics import CONSUMER_LAG

STATS_INTERVAL_MS = 5000


class LagReporter:
    """``config()`` goes into the Consumer's configuration; the gauge follows the statistics."""

    def __init__(self, process: str, group: str) -> None:
        self.process = process
        self.group = group
        self.reported: set[tuple[str, str]] = set()

    def config(self) -> dict[str, Any]:
        return {"statistics.interval.ms": STATS_INTERVAL_MS, "stats_cb": self.on_stats}

    def on_stats(self, raw: str) -> None:
        try:
            stats = json.loads(raw)
        except ValueError:
            return
        seen: set[tuple[str, str]] = set()
        for topic, data in (stats.get("topics") or {}).items():
            for partition, p in (data.get("partitions") or {}).items():
                if partition == "-1" or p.get("consumer_lag", -1) < 0 or p.get("fetch_state") == "none":
                    continue
                CONSUMER_LAG.labels(self.process, self.group, topic, partition).set(p["consumer_lag"])
                seen.add((topic, partition))
        for topic, partition in self.reported - seen:
            try:
                CONSUMER_LAG.remove(self.process, self.group, topic, partition)
            except KeyError:
                pass
        self.reported = seen
