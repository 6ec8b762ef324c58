"""Soak: N compositions with instant stages through the whole pipeline with retention on, sampled over time.

Runs the real processes (outbox relay, projector, saga, one all-stages worker, the sweeper) against
the real broker and a fresh PostgreSQL database. Requests go in as the API writes them (an outbox row
in a transaction), at most ``--window`` compositions in flight. Every ``--sample-s`` it records:
the RSS of every process (its pool children included) and of the broker; PostgreSQL row counts and
total sizes (outbox, composition_events, compositions, revisions, artifact_sweeps); the live keys of
every faust table (read from its changelog: a key whose last record is a tombstone is gone) and the
changelogs' bytes on the broker's disk; the faust data folder and the artifact folder. Retention
settings are short (``--keep-s``) so that the sizes that retention bounds reach their plateau
within the run; what is kept for good (a composition's result row, its revision row, its terminal
event, its artifacts) grows by one set per composition, by design.

    .venv/bin/python benchmarks/bench_soak.py --n 10000 [--keep-s 60] [--window 100] [--sample-s 30] [--json soak.jsonl]

Needs the services: `.venv/bin/cadenza infra start` (or KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: E402
from sqlalchemy import text  # noqa: E402

from composition.events import CompositionRequested  # noqa: E402
from composition.models import CompositionRequest, GenreWeight, Mood  # noqa: E402
from infra.database import make_engine, make_session_factory  # noqa: E402
from infra.net import free_port  # noqa: E402
from infra.settings import ServiceSettings  # noqa: E402
from infra.stack import fresh_database  # noqa: E402
from infra.topics import REQUESTS  # noqa: E402
from producers import outbox  # noqa: E402
from tests.integration.pipeline_harness import Pipeline, Proc  # noqa: E402

TABLES = ("outbox", "composition_events", "compositions", "revisions", "composition_stages", "artifact_sweeps")
TERMINAL = {b"CompositionCompleted", b"CompositionFailed", b"CompositionCancelled"}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (a stage worker's pool), MiB."""
    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def rocksdb_mb(port: int) -> dict[str, float] | None:
    """A faust process's RocksDB memory (its cadenza_rocksdb_memory_bytes gauge), MiB by part."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
    except OSError:
        return None
    return {sample.labels["part"]: round(sample.value / 2**20, 1)
            for family in text_string_to_metric_families(body) if family.name == "cadenza_rocksdb_memory_bytes"
            for sample in family.samples}


def folder(path: Path) -> tuple[int, float]:
    """Files and MiB under ``path`` (a file that goes while it is counted, a write's temporary one, is not)."""
    count = size = 0
    for item in path.rglob("*") if path.exists() else []:
        try:
            if item.is_file():
                size += item.stat().st_size
                count += 1
        except FileNotFoundError:
            pass
    return count, size / 2**20


class Changelogs:
    """Follows every table changelog of the run from its start: live keys per table (tombstones delete)."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.topics = topics
        self.live: dict[str, set[bytes]] = {t: set() for t in topics}
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"soak-{uuid.uuid4().hex}",
                                  "isolation.level": "read_committed", "enable.auto.commit": False})
        assignment = []
        for topic in topics:
            partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
            assignment += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        self.consumer.assign(assignment)

    def catch_up(self, seconds: float = 2.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = self.consumer.consume(2000, 0.1)
            if not batch:
                break
            for message in batch:
                if message.error():
                    continue
                keys = self.live[message.topic()]
                if message.value() is None:
                    keys.discard(message.key())
                else:
                    keys.add(message.key())


def start_run(pipe: Pipeline, name: str, *args: str, env: dict[str, str]) -> Proc:
    """`cadenza run <args>` (relay, projector, sweeper) with the pipeline's environment."""
    log = pipe.workdir / f"{name}.log"
    popen = subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "run", *args], env={**pipe.env(), **env},
                             stdout=open(log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=ROOT)
    proc = Proc(name, popen, log)
    pipe.procs.append(proc)
    return proc


def main() -> None:
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints where a long run is
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--keep-s", type=float, default=60.0, help="every retention age of the run (seconds)")
    parser.add_argument("--window", type=int, default=100, help="compositions in flight at most")
    parser.add_argument("--sample-s", type=float, default=30.0)
    parser.add_argument("--drain-s", type=float, default=0.0,
                        help="after the last composition, keep sampling this long (default: 3 x --keep-s)")
    parser.add_argument("--json", type=Path, help="write every sample as a JSON line to this file")
    args = parser.parse_args()
    drain_s = args.drain_s or 3 * args.keep_s

    settings = ServiceSettings()
    keep = str(args.keep_s)
    with fresh_database(settings.database_url, "cadenza_soak") as database_url:
        pipe = Pipeline(settings.bootstrap_servers, Path(tempfile.mkdtemp(prefix="bench-soak-")), extra_env={
            "DATABASE_URL": database_url, "CADENZA_LOG_LEVEL": "error", "CADENZA_POOL_SIZE": "1",
            "CADENZA_SAGA_RETENTION_S": keep, "CADENZA_SAGA_PURGE_SCAN_S": "5",
            "CADENZA_CHANGELOG_SEGMENT_S": keep, "CADENZA_CHANGELOG_TOMBSTONE_S": keep,
            "CADENZA_SWEEPER_OUTBOX_KEEP_S": keep, "CADENZA_SWEEPER_EVENT_LOG_KEEP_S": keep,
            "CADENZA_SWEEPER_ARTIFACT_GRACE_S": str(args.keep_s / 4), "CADENZA_SWEEPER_INTERVAL_S": "5",
            "CADENZA_PROJECTOR_GROUP_ID": f"soak-projector-{uuid.uuid4().hex[:8]}",
        })
        engine = make_engine(database_url, pool_size=2)
        sessions = make_session_factory(engine)
        samples: list[dict] = []
        out = args.json.open("w") if args.json else None
        ports = {"saga": free_port(), "stages": free_port()}
        try:
            procs = {"relay": start_run(pipe, "relay", "relay", env={}),
                     "projector": start_run(pipe, "projector", "projector", env={}),
                     "saga": pipe.start_saga(ports["saga"]), "stages": pipe.start_stages(ports["stages"]),
                     "sweeper": start_run(pipe, "sweeper", "sweeper", env={})}
            from infra.kafka.broker import LocalBroker

            broker_pid = LocalBroker.from_settings(settings).pid()
            request = CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)],
                                         theme="soak", duration_s=30, instrumental=False, seed=1)
            consumer = pipe._consumer
            changelogs: Changelogs | None = None
            submitted = done = failed = 0
            started = last_sample = time.monotonic()
            finished_at: float | None = None

            def sample() -> None:
                nonlocal changelogs
                topics = sorted(t for t in consumer.list_topics(timeout=10).topics
                                if t.startswith(pipe.prefix) and t.endswith("-changelog"))
                if changelogs is None or topics != changelogs.topics:  # faust makes them as tables fill
                    if changelogs is not None:
                        changelogs.consumer.close()
                    changelogs = Changelogs(pipe.bootstrap, topics)
                    changelogs.catch_up(30.0)
                changelogs.catch_up()
                with sessions() as session:
                    rows = {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
                    sizes = {t: session.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one() / 2**20
                             for t in TABLES}
                disk = {}
                for topic in changelogs.topics:
                    size = sum(log.stat().st_size for d in settings.run_dir.glob(f"kafka*/**/{topic}-*")
                               for log in d.glob("*.log")) / 2**20  # (index files are preallocated)
                    disk[topic.removeprefix(pipe.prefix)] = round(size, 2)
                files, mb = folder(pipe.artifact_dir)
                record = {
                    "t_s": round(time.monotonic() - started), "submitted": submitted, "terminal": done,
                    "failed": failed,
                    "rss_mb": {**{n: round(rss_mb(p.popen.pid), 1) for n, p in procs.items()},
                               "kafka": round(rss_mb(broker_pid), 1) if broker_pid else None},
                    "rows": rows, "table_mb": {t: round(v, 2) for t, v in sizes.items()},
                    "faust_keys": {t.removeprefix(pipe.prefix): len(k) for t, k in changelogs.live.items()},
                    "changelog_mb": disk, "faust_dir_mb": round(folder(pipe.workdir / "faust")[1], 2),
                    "artifacts": files, "artifacts_mb": round(mb, 2),
                    "rocksdb_mb": {f"{n} {part}": v for n, port in ports.items()
                                   for part, v in (rocksdb_mb(port) or {}).items()},
                }
                samples.append(record)
                if out:
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                print(f"[{record['t_s']:>5} s] {done}/{submitted} terminal ({failed} failed)  rss "
                      + " ".join(f"{n}={v}" for n, v in record["rss_mb"].items())
                      + "  rocksdb " + " ".join(f"{n}={v}" for n, v in record["rocksdb_mb"].items())
                      + f"  rows outbox={rows['outbox']} events={rows['composition_events']}"
                      + f" compositions={rows['compositions']}  keys "
                      + " ".join(f"{t.split('cadenza-')[-1].removesuffix('-changelog')}={v}"
                                 for t, v in record["faust_keys"].items()), flush=True)

            while finished_at is None or time.monotonic() - finished_at < drain_s:
                if submitted < args.n and submitted - done < args.window:
                    with sessions() as session, session.begin():
                        for _ in range(min(50, args.n - submitted, args.window - (submitted - done))):
                            event = CompositionRequested(composition_id=uuid.uuid4(), tenant_id="soak", request=request)
                            outbox.add(session, pipe.prefix + REQUESTS, event)
                            submitted += 1
                for message in consumer.consume(500, 0.05):
                    if not message.error() and dict(message.headers() or []).get("event-type") in TERMINAL:
                        done += 1
                        if dict(message.headers()).get("event-type") != b"CompositionCompleted":
                            failed += 1
                if finished_at is None and done >= args.n:
                    finished_at = time.monotonic()
                    print(f"all {args.n} terminal after {finished_at - started:.0f} s; draining {drain_s:.0f} s")
                if time.monotonic() - last_sample >= args.sample_s:
                    last_sample = time.monotonic()
                    sample()
                for name, proc in procs.items():
                    if not proc.alive():
                        raise SystemExit(f"{name} exited:\n{proc.log.read_text()[-3000:]}")
            sample()
        finally:
            pipe.close()
            engine.dispose()
            if out:
                out.close()
    summarize(samples, args)


def summarize(samples: list[dict], args) -> None:
    """First sample after warm-up, the peak, and the last: what stayed flat and what grew."""
    if len(samples) < 2:
        return
    first, last = samples[min(1, len(samples) - 1)], samples[-1]
    print(f"\n{last['terminal']} compositions terminal ({last['failed']} failed), {last['t_s']} s, retention {args.keep_s:.0f} s")
    print(f"{'measure':40s} {'at ' + str(first['t_s']) + ' s':>12s} {'peak':>10s} {'end':>10s}")
    for group in ("rss_mb", "rocksdb_mb", "rows", "table_mb", "faust_keys", "changelog_mb"):
        for name in last[group]:
            values = [s[group].get(name) or 0 for s in samples]
            print(f"{group + ' ' + name.split('cadenza-')[-1]:40s} {first[group].get(name) or 0:>12} "
                  f"{max(values):>10} {last[group].get(name) or 0:>10}")
    for name in ("faust_dir_mb", "artifacts", "artifacts_mb"):
        print(f"{name:40s} {first[name]:>12} {max(s[name] for s in samples):>10} {last[name]:>10}")


if __name__ == "__main__":
    main()
