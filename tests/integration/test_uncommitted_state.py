"""A table's local store holds only what its changelog committed.

Under exactly-once a faust table write goes to the local RocksDB at once and to the changelog inside the
partition's open transaction. When that transaction never commits (the process killed, its partition
taken by a rebalance, a broker failover), Kafka drops the changelog record but the local store kept the
write. The stage worker's "attempt done" mark is such a write: a worker restarted in the same folder
found the mark for a request whose offset was never committed and skipped the request when it came
again; had its result not been delivered, the request was stranded until the saga's queue bound
(issue 12's note). A partition newly assigned to a process now starts from its changelog."""

from __future__ import annotations

import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
)

from composition.models import StageName
from infra.topics import STAGE_RESULTS, Topics
from schemas.wire import decode
from tests.integration.pipeline_harness import Pipeline

SLOW_COMMITS = {"CADENZA_COMMIT_INTERVAL_S": "10"}
"""The first worker commits every 10 s: a request it has run stays uncommitted long enough to kill it."""


def _position(pipe: Pipeline, cid: uuid.UUID) -> TopicPartition:
    """Where the plan request of ``cid`` is in its topic."""
    topic = Topics(pipe.prefix).stage_requests(StageName.PLAN)
    consumer = Consumer({"bootstrap.servers": pipe.bootstrap, "group.id": f"find-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        for _ in range(200):
            for message in consumer.consume(100, 0.1):
                if not message.error() and decode(message.value()).composition_id == cid:
                    return TopicPartition(topic, message.partition(), message.offset())
        raise AssertionError(f"no plan request for {cid} in {topic}")
    finally:
        consumer.close()


def _committed_past(pipe: Pipeline, where: TopicPartition) -> bool:
    """Whether the stage workers' group committed the offset after ``where``."""
    consumer = Consumer({"bootstrap.servers": pipe.bootstrap, "group.id": f"{pipe.prefix}cadenza-stage-all",
                         "enable.auto.commit": False})
    try:
        [committed] = consumer.committed([TopicPartition(where.topic, where.partition)], timeout=10)
        return committed.offset > where.offset
    finally:
        consumer.close()


def test_a_worker_killed_before_its_commit_runs_its_uncommitted_requests_again(
        bootstrap_servers: str, tmp_path: Path) -> None:
    # deadlines x4 (the plan's 120 s): no second attempt from the saga within this test's waits
    pipe = Pipeline(bootstrap_servers, tmp_path, extra_env={"CADENZA_DEADLINE_SCALE": "4"})
    try:
        pipe.start_saga()
        worker = pipe.start("stages", "stage", "all", env=SLOW_COMMITS)
        for _ in range(3):  # a commit can land between the result and the kill (about once in 30): again
            cid = pipe.request()
            pipe.wait_for(lambda c=cid: pipe.of_type(c, "StageCompleted", source="results"), 90, "the plan's result")
            worker.kill9()
            worker.name = "killed"
            if not _committed_past(pipe, _position(pipe, cid)):
                break
            worker = pipe.start("stages", "stage", "all", env=SLOW_COMMITS)
        else:
            raise AssertionError("each of three plan requests was committed before the kill")
        # the restarted worker (the same data folder, so the killed one's local writes are there) gets the
        # request again from the committed offset and must run it, not take the uncommitted done mark for it
        pipe.start_stages()
        def plans() -> list:
            return [r for r in pipe.of_type(cid, "StageCompleted", source="results") if r.stage is StageName.PLAN]
        pipe.wait_for(lambda: len(plans()) >= 2, 90, "the restarted worker to run the uncommitted plan request again")
        assert {r.attempt for r in plans()} == {1}  # the same attempt again, not a retry by the saga
        terminal = pipe.wait_terminal(cid, timeout=120)
        assert type(terminal).__name__ == "CompositionCompleted"
    finally:
        pipe.close()


def _results_limit(pipe: Pipeline, max_bytes: int | None) -> None:
    """Make the broker refuse stage results larger than ``max_bytes`` (None: the broker's default again)."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, pipe.prefix + STAGE_RESULTS, incremental_configs=[
        ConfigEntry("max.message.bytes", str(max_bytes) if max_bytes else "",
                    incremental_operation=AlterConfigOpType.SET if max_bytes else AlterConfigOpType.DELETE)])
    admin = AdminClient({"bootstrap.servers": pipe.bootstrap})
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=30)


def test_a_result_the_broker_refuses_stops_the_worker_before_its_request_is_committed(
        bootstrap_servers: str, tmp_path: Path) -> None:
    """A stage result goes out through faust's plain producer; its request's offset used to be committed
    at the next commit whatever became of the send, so a refused or undelivered result was lost while its
    request counted as done. Now the commit waits for delivery and a failed one stops the worker first."""
    pipe = Pipeline(bootstrap_servers, tmp_path, extra_env={"CADENZA_DEADLINE_SCALE": "4"})
    try:
        pipe.start_saga()
        _results_limit(pipe, 200)  # a StageCompleted with its context is far larger
        worker = pipe.start("stages", "stage", "all")
        cid = pipe.request()
        where = _position(pipe, cid)
        worker.popen.wait(timeout=120)
        assert worker.popen.returncode == 75, worker.log.read_text()[-3000:]
        assert "could not be delivered" in worker.log.read_text()
        assert not _committed_past(pipe, where), "the request was committed though its result was lost"
        worker.name = "killed"
        _results_limit(pipe, None)
        pipe.start_stages()
        pipe.wait_for(lambda: pipe.of_type(cid, "StageCompleted", source="results"), 90, "the plan's result")
        assert pipe.of_type(cid, "StageCompleted", source="results")[0].attempt == 1
        assert type(pipe.wait_terminal(cid, timeout=120)).__name__ == "CompositionCompleted"
    finally:
        pipe.close()
