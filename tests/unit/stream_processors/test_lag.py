"""The lag gauge from librdkafka's statistics: each assigned partition's consumer_lag, and a series
removed once its partition is no longer reported (moved away by a rebalance)."""

from __future__ import annotations

import json

from prometheus_client import REGISTRY

from stream_processors.lag import LagReporter


def lag(group: str, topic: str, partition: str) -> float | None:
    return REGISTRY.get_sample_value("cadenza_consumer_lag_messages",
                                     {"process": "test", "group": group, "topic": topic, "partition": partition})


def stats(partitions: dict[str, dict]) -> str:
    return json.dumps({"topics": {"events": {"partitions": {"-1": {"consumer_lag": -1}, **partitions}}}})


def test_lag_per_partition_follows_the_statistics_and_revoked_partitions_disappear():
    reporter = LagReporter("test", "g1")
    assert reporter.config()["statistics.interval.ms"] > 0
    reporter.on_stats(stats({"0": {"consumer_lag": 7, "fetch_state": "active"},
                             "1": {"consumer_lag": 0, "fetch_state": "active"},
                             "2": {"consumer_lag": -1, "fetch_state": "none"}}))
    assert lag("g1", "events", "0") == 7 and lag("g1", "events", "1") == 0
    assert lag("g1", "events", "2") is None and lag("g1", "events", "-1") is None
    reporter.on_stats(stats({"1": {"consumer_lag": 12, "fetch_state": "active"}}))
    assert lag("g1", "events", "0") is None and lag("g1", "events", "1") == 12
    reporter.on_stats("not json")  # ignored
    assert lag("g1", "events", "1") == 12
