"""Run the real saga and stage-worker processes (as `cadenza worker ...`) against the real broker.

A :class:`Pipeline` owns a topic prefix (fresh topics, fresh consumer groups, fresh faust changelogs),
an artifact folder and the processes; tests publish requests with the real publisher and read the
public event stream with a real consumer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer

from composition.events import (
    CancelRequested,
    CompositionRequested,
    Envelope,
    RevisionRequested,
)
from composition.models import CompositionRequest, GenreWeight, Mood, StageName
from infra.topics import CONTROL, EVENTS, REQUESTS, STAGE_RESULTS, Topics, ensure_topics
from producers.kafka_publisher import KafkaPublisher
from schemas.wire import (
    decode,  # either wire format (the test process's: schemas.wire.use)
)

TERMINAL = {"CompositionCompleted", "CompositionFailed", "CompositionCancelled"}
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)


@dataclass
class Pipeline:
    bootstrap: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    prefix: str = field(default_factory=lambda: f"p{uuid.uuid4().hex[:8]}.")
    procs: list[Proc] = field(default_factory=list)
    replication_factor: int = 1
    """Of the topics and the processes' changelogs (3 on a replicated cluster)."""

    def __post_init__(self) -> None:
        ensure_topics(self.bootstrap, Topics(self.prefix, replication_factor=self.replication_factor))
        self.publisher = KafkaPublisher(self.bootstrap, client_id="pipeline-test")
        self.events: dict[uuid.UUID, list[Envelope]] = defaultdict(list)
        self.results: dict[uuid.UUID, list[Envelope]] = defaultdict(list)
        self._consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"observer-{uuid.uuid4().hex}",
                                   "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                                   "enable.auto.commit": False})
        self._consumer.subscribe([self.prefix + EVENTS, self.prefix + STAGE_RESULTS])

    @property
    def artifact_dir(self) -> Path:
        return self.workdir / "artifacts"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "CADENZA_TOPIC_PREFIX": self.prefix,
            "CADENZA_PROVIDERS": "tests.integration.fake_providers:registry",
            "CADENZA_ARTIFACT_DIR": str(self.artifact_dir),
            "CADENZA_DATA_DIR": str(self.workdir / "faust"),
            "CADENZA_FAKE_STATE_DIR": str(self.workdir / "fake-state"),
            "CADENZA_STORE": "rocksdb",
            "CADENZA_POOL_SIZE": "2",
            "CADENZA_TICK_INTERVAL_S": "0.2",
            "CADENZA_BACKOFF_BASE_S": "0.2",
            "CADENZA_BACKOFF_MAX_S": "1.0",
            "CADENZA_LOG_LEVEL": os.environ.get("CADENZA_TEST_LOG_LEVEL", "warn"),
            "CADENZA_REPLICATION_FACTOR": str(self.replication_factor),
            "PYTHONPATH": str(ROOT),
        })
        env.update(self.extra_env)
        return env

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}-{len(self.procs)}.log"
        handle = open(log, "ab")
        popen = subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "worker", *args], env={**self.env(), **(env or {})},
                                 stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, cwd=ROOT)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def start_saga(self, metrics_port: int = 0) -> Proc:
        return self.start("saga", "saga", env={"CADENZA_METRICS_PORT": str(metrics_port)})

    def start_stages(self, metrics_port: int = 0) -> Proc:
        return self.start("stages", "stage", "all", env={"CADENZA_METRICS_PORT": str(metrics_port)})

    def start_feedback(self, metrics_port: int = 0) -> Proc:
        return self.start("feedback", "feedback", env={"CADENZA_METRICS_PORT": str(metrics_port)})

    # ------------------------------------------------------------ publishing

    def request(self, theme: str = "a test", *, instrumental: bool = False, tenant: str = "acme") -> uuid.UUID:
        request = CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)],
                                     theme=theme, duration_s=30, instrumental=instrumental, seed=1)
        event = CompositionRequested(composition_id=uuid.uuid4(), tenant_id=tenant, request=request)
        self.publisher.publish(self.prefix + REQUESTS, event)
        self.publisher.flush()
        return event.composition_id

    def cancel(self, composition_id: uuid.UUID, tenant: str = "acme", revision: int = 0) -> None:
        self.publisher.publish(self.prefix + CONTROL, CancelRequested(composition_id=composition_id, tenant_id=tenant,
                                                                      revision=revision))
        self.publisher.flush()

    def revise(self, composition_id: uuid.UUID, stage: str, changes: dict, number: int = 1,
               tenant: str = "acme") -> RevisionRequested:
        """Publish revision ``number`` of a completed composition (its request from the latest completion)."""
        from composition.revision import revised_request

        latest = [e for e in self.of_type(composition_id, "CompositionCompleted")][-1]
        request, changed = revised_request(latest.context.request, stage, changes)
        event = RevisionRequested(composition_id=composition_id, tenant_id=tenant, revision=number,
                                  stage=StageName(stage), request=request, changes=changed)
        self.publisher.publish(self.prefix + REQUESTS, event)
        self.publisher.flush()
        return event

    def publish_raw(self, topic: str, key: bytes, value: bytes) -> None:
        self.publisher.publish_raw(self.prefix + topic, value, key=key)
        self.publisher.flush()

    # ------------------------------------------------------------ observing

    def poll(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self._consumer.poll(0.1)
            if message is None or message.error():
                continue
            event = decode(message.value())
            target = self.events if message.topic().endswith(EVENTS) else self.results
            target[event.composition_id].append(event)

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll(0.3)
            if predicate():
                return
            for proc in self.procs:
                if proc.name != "killed" and not proc.alive():
                    raise AssertionError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.log.read_text()[-3000:]}")
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; logs:\n{self.logs()}")

    def terminal(self, composition_id: uuid.UUID, revision: int = 0) -> list[Envelope]:
        return [e for e in self.events[composition_id] if type(e).__name__ in TERMINAL
                and getattr(e, "revision", 0) == revision]

    def history(self, composition_id: uuid.UUID) -> str:
        """The composition's events and stage results seen so far, one line each (for a failure message)."""
        def line(e: Envelope) -> str:
            detail = " ".join(f"{k}={getattr(e, k)}" for k in ("stage", "attempt", "reason") if getattr(e, k, None))
            return f"{type(e).__name__} {detail}"
        requests = []  # what the saga asked of the stage workers, read back (committed ones only)
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"history-{uuid.uuid4().hex}",
                             "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
        try:
            consumer.subscribe([Topics(self.prefix).stage_requests(stage) for stage in StageName])
            idle = time.monotonic() + 5
            while time.monotonic() < idle:
                message = consumer.poll(0.5)
                if message is None or message.error():
                    continue
                idle = time.monotonic() + 2
                event = decode(message.value())
                if event.composition_id == composition_id:
                    requests.append(f"request: {line(event)} @{message.partition()}:{message.offset()}")
        finally:
            consumer.close()
        return "\n".join([*(line(e) for e in self.events[composition_id]),
                          *(f"result: {line(e)}" for e in self.results[composition_id]), *requests])

    def wait_terminal(self, composition_id: uuid.UUID, timeout: float = 60.0, revision: int = 0) -> Envelope:
        try:
            self.wait_for(lambda: self.terminal(composition_id, revision), timeout,
                          f"a terminal event for {composition_id} (revision {revision})")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- what {composition_id} went through:\n"
                                 f"{self.history(composition_id)}") from None
        self.poll(1.0)  # a second terminal event would show up now
        terminal = self.terminal(composition_id, revision)
        assert len(terminal) == 1, f"expected exactly one terminal event, got {terminal}"
        return terminal[0]

    def of_type(self, composition_id: uuid.UUID, name: str, source: str = "events") -> list[Envelope]:
        events = self.events if source == "events" else self.results
        return [e for e in events[composition_id] if type(e).__name__ == name]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log})\n{p.log.read_text()[-2500:]}" for p in self.procs)

    def close(self) -> None:
        for proc in self.procs:
            proc.stop()
        self._consumer.close()
