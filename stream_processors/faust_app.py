"""The faust App every Cadenza stream processor is built on, tuned for one broker node.

Exactly-once (Kafka transactions, read_committed), replication factors 1, no standby replicas,
RocksDB tables via rocksdict with a small block cache (or memory tables, restored from changelog),
and a short commit interval because under exactly-once output becomes visible only at commit.
"""

from __future__ import annotations

import faust

from stream_processors.settings import ProcessSettings


def make_app(name: str, settings: ProcessSettings) -> faust.App:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        name,
        broker=f"kafka://{settings.bootstrap_servers}",
        processing_guarantee="exactly_once",
        topic_replication_factor=1,
        topic_partitions=4,
        table_standby_replicas=0,
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir / name),
        broker_commit_interval=settings.commit_interval_s,
        broker_commit_every=100,
        # a killed worker's partitions move to the others after this long (faust's default is 60 s)
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 5),
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=1_048_576,
        producer_linger_ms=settings.linger_ms,
        stream_wait_empty=False,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        topic_allow_declare=True,
    )


def table_options(settings: ProcessSettings) -> dict:
    if settings.store != "rocksdb":
        return {}
    return {"driver": "rocksdict", "block_cache_size": settings.rocksdb_block_cache_mb * 1024 * 1024}
