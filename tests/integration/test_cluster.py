"""A replicated cluster (issue 12.2): three KRaft nodes of our own, replication factor 3, min ISR 2.
The real saga and stage workers run against it unchanged (the bootstrap list of all three); one node
is killed with SIGKILL in the middle of a run - the one coordinating the saga's consumer group - and
every accepted composition still ends exactly once; the node is started again and rejoins the ISR."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from composition.models import StageName
from infra.kafka.cluster import LocalCluster
from infra.net import free_port
from infra.settings import ServiceSettings
from infra.topics import REQUESTS
from tests.integration.pipeline_harness import Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.heavy]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[LocalCluster]:
    base = free_port()
    while any(not _free(base + i) for i in range(6)):
        base = free_port()
    settings = ServiceSettings(run_dir=tmp_path_factory.mktemp("cluster"), kafka_port=base, kafka_controller_port=base + 1,
                               kafka_heap="384m", kafka_brokers=3)
    cluster = LocalCluster.from_settings(settings)
    cluster.start()
    yield cluster
    cluster.stop()


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def isr_complete(admin: AdminClient, prefix: str, node: int) -> bool:
    topics = admin.list_topics(timeout=10).topics
    ours = [t for name, t in topics.items() if name.startswith(prefix) or name == "__transaction_state"]
    return bool(ours) and all(node in p.isrs for t in ours for p in t.partitions.values())


def test_the_cluster_replicates_our_topics_and_the_internal_ones(cluster: LocalCluster, tmp_path: Path) -> None:
    pipe = Pipeline(cluster.bootstrap, tmp_path, replication_factor=3)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    deadline = time.monotonic() + 30  # the broker this admin asks may learn of the new topics a moment later
    metadata = admin.list_topics(timeout=10)
    while pipe.prefix + REQUESTS not in metadata.topics and time.monotonic() < deadline:
        time.sleep(0.5)
        metadata = admin.list_topics(timeout=10)
    assert sorted(metadata.brokers) == [1, 2, 3]
    requests = metadata.topics[pipe.prefix + REQUESTS]
    assert all(len(p.replicas) == 3 and len(p.isrs) == 3 for p in requests.partitions.values())
    resource = ConfigResource(ConfigResource.Type.TOPIC, pipe.prefix + REQUESTS)
    assert admin.describe_configs([resource])[resource].result()["min.insync.replicas"].value == "2"
    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    config = admin.describe_configs([broker])[broker].result()
    assert config["offsets.topic.replication.factor"].value == "3"
    assert config["transaction.state.log.replication.factor"].value == "3"
    assert config["transaction.state.log.min.isr"].value == "2"
    pipe.close()


def test_a_node_killed_mid_run_loses_nothing_and_rejoins(cluster: LocalCluster, tmp_path: Path) -> None:
    # the saga's queue bound is its default 30 minutes: a request the failover strands fails the test (one
    # did once, a plan request at offset 0 of a partition nothing was committed for; faust_fixes)
    pipe = Pipeline(cluster.bootstrap, tmp_path, replication_factor=3, extra_env={"CADENZA_DEADLINE_SCALE": "0.5"})
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    try:
        pipe.start_saga()
        pipe.start_stages()
        pipe.start_stages()
        ids = [pipe.request(f"script: render=hang:1; theme {i}") for i in range(8)]
        pipe.wait_for(lambda: sum(StageName.PLAN in [e.stage for e in pipe.of_type(c, "StageCompleted", "results")]
                                  for c in ids) >= 2, 120, "work under way")
        group = admin.describe_consumer_groups([pipe.prefix + "cadenza-saga"])[pipe.prefix + "cadenza-saga"].result()
        victim = cluster.node(group.coordinator.id)
        pid = victim.pid()
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        ids += [pipe.request(f"sent while node {victim.node_id} is down {i}") for i in range(8)]
        for cid in ids:
            terminal = pipe.wait_terminal(cid, timeout=240)  # exactly one terminal event, or it fails
            assert type(terminal).__name__ == "CompositionCompleted", terminal
        print(f"killed node {victim.node_id} (the saga group's coordinator); all {len(ids)} completed "
              f"{time.monotonic() - killed:.1f} s later")
        assert victim.pid() is None
        cluster.start_node(victim.node_id)
        deadline = time.monotonic() + 120
        while not isr_complete(admin, pipe.prefix, victim.node_id):
            assert time.monotonic() < deadline, "the restarted node did not rejoin every ISR"
            time.sleep(1)
        print(f"node {victim.node_id} back in every ISR {time.monotonic() - killed:.1f} s after the kill")
        one_more = pipe.request("after the rejoin")
        assert type(pipe.wait_terminal(one_more, timeout=120)).__name__ == "CompositionCompleted"
    finally:
        pipe.close()
