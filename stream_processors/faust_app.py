"""The faust App every Cadenza stream processor is built on, and its tables.

Exactly-once (Kafka transactions, read_committed), replication and partitions from the one topic
declaration (``settings.topics``), no standby replicas, RocksDB tables via rocksdict with a small
block cache (or memory tables, restored from changelog), and a short commit interval because under
exactly-once output becomes visible only at commit.
"""

from __future__ import annotations

import faust

from infra.topics import STAGE_RESULTS
from stream_processors import faust_fixes
from stream_processors.settings import ProcessSettings

faust_fixes.apply()  # exactly-once table recovery after a partition moves (see faust_fixes)


def make_app(name: str, settings: ProcessSettings) -> faust.App:
    """The app ``name`` (prefixed like the topics, so tests get fresh consumer groups and changelogs)."""
    topics = settings.topics
    name = topics.prefix + name
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        name,
        broker=f"kafka://{settings.bootstrap_servers}",
        processing_guarantee="exactly_once",
        topic_replication_factor=topics.replication_factor,
        topic_partitions=topics.partitions_of(STAGE_RESULTS),
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


def table(app: faust.App, name: str, settings: ProcessSettings) -> faust.Table:
    """A bytes -> bytes table co-partitioned with the composition topics (its changelog has their count)."""
    options = {}
    if settings.store == "rocksdb":
        # RocksDB's memtables (faust's default: up to 3 x 64 MB per partition and table) hold every write
        # until they flush, so a table of large values written often (the saga's states) grows the process
        # by up to that much; small memtables bound it
        options = {"driver": "rocksdict", "block_cache_size": settings.rocksdb_block_cache_mb * 1024 * 1024,
                   "write_buffer_size": settings.rocksdb_write_buffer_mb * 1024 * 1024, "max_write_buffer_number": 2}
    # a compacted changelog cleans only rolled segments: roll them at the setting (Kafka's default is 7 days
    # or 1 GB), so a deleted key's tombstone compacts its history away within about that long
    configs = {"segment.ms": int(settings.changelog_segment_s * 1000),
               "delete.retention.ms": int(settings.changelog_tombstone_s * 1000)}
    return app.Table(name, partitions=settings.topics.partitions_of(STAGE_RESULTS), options=options,
                     key_type=bytes, value_type=bytes, extra_topic_configs=configs)
