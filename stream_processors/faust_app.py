"""The faust App every Cadenza stream processor is built on, and its tables.

Exactly-once (Kafka transactions, read_committed), replication and partitions from the one topic
declaration (``settings.topics``), no standby replicas, RocksDB tables via rocksdict within one memory
budget per process shared by every table partition (or memory tables, restored from changelog), and a
short commit interval because under exactly-once output becomes visible only at commit.

Each running instance of an app has its own RocksDB folder (faust's advice for several workers on one
machine): two instances sharing one fight over a partition's LOCK when it moves between them. The
instance takes the first free slot under the data folder, held by a lock file while it lives, so a
restarted worker (after a crash, a kill -9) finds its own folder again and restores only what it missed.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

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
    datadir = instance_dir(settings.data_dir, name) if settings.store == "rocksdb" else settings.data_dir / name
    return faust.App(
        name,
        broker=f"kafka://{settings.bootstrap_servers}",
        processing_guarantee="exactly_once",
        topic_replication_factor=topics.replication_factor,
        topic_partitions=topics.partitions_of(STAGE_RESULTS),
        table_standby_replicas=0,
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(datadir),
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


_HELD: dict[Path, int] = {}
"""The slot locks this process holds (open for its life; the kernel lets go when it dies, however)."""


def instance_dir(data_dir: Path, name: str, slots: int = 64) -> Path:
    """The RocksDB folder of this instance of app ``name``: slot 0 is ``data_dir/name`` (one instance,
    as before), slot n ``data_dir/name.n``; the first whose lock file no live process holds."""
    for slot in range(slots):
        folder = data_dir / (name if slot == 0 else f"{name}.{slot}")
        if folder in _HELD:
            return folder  # this process has it already (the app built twice)
        fd = os.open(data_dir / f"{folder.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _HELD[folder] = fd
        return folder
    raise RuntimeError(f"{slots} instances of {name} hold every data folder under {data_dir}")


def table(app: faust.App, name: str, settings: ProcessSettings) -> faust.Table:
    """A bytes -> bytes table co-partitioned with the composition topics (its changelog has their count)."""
    options = {}
    if settings.store == "rocksdb":
        # RocksDB's memtables (faust's default: up to 3 x 64 MB per partition and table) hold every write
        # until they flush, and each partition had its own block cache: a process grew towards their sum.
        # Small memtables, and one budget for the cache and memtables of the whole process (faust_fixes)
        options = {"driver": "rocksdict", "process_memory_mb": settings.rocksdb_memory_mb,
                   "write_buffer_size": settings.rocksdb_write_buffer_mb * 1024 * 1024, "max_write_buffer_number": 2}
    # a compacted changelog cleans only rolled segments: roll them at the setting (Kafka's default is 7 days
    # or 1 GB), so a deleted key's tombstone compacts its history away within about that long
    configs = {"segment.ms": int(settings.changelog_segment_s * 1000),
               "delete.retention.ms": int(settings.changelog_tombstone_s * 1000)}
    return app.Table(name, partitions=settings.topics.partitions_of(STAGE_RESULTS), options=options,
                     key_type=bytes, value_type=bytes, extra_topic_configs=configs)
