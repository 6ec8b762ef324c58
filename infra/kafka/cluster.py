"""The project's own Kafka cluster: one KRaft node (the default) or several replicated ones.

Several nodes are each a combined broker + controller (``process.roles=broker,controller``): one
quorum of N voters, so three nodes survive the loss of any one, in three JVMs rather than the six of
separate controllers and brokers (this machine has two cores). Node ``i`` (0-based) listens on
``CADENZA_KAFKA_PORT + 2i`` and ``CADENZA_KAFKA_CONTROLLER_PORT + 2i``: 29092/29093, 29094/29095,
29096/29097 by default. Internal topics (offsets, transaction state) and new topics get
``min(3, N)`` replicas, min ISR 2 from three replicas on.

One node keeps today's layout (``<run dir>/kafka``); N nodes live under ``<run dir>/kafka-N/node-<id>``
with the cluster id they were formatted with in ``<run dir>/kafka-N/cluster.id``, so a one-node and
a three-node cluster never share data.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.kafka.broker import BrokerError, LocalBroker, kafka_uuid
from infra.settings import ServiceSettings


@dataclass(frozen=True)
class LocalCluster:
    nodes: tuple[LocalBroker, ...]
    home: Path

    @classmethod
    def from_settings(cls, settings: ServiceSettings, brokers: int | None = None) -> "LocalCluster":
        count = brokers or settings.kafka_brokers
        if count == 1:
            node = LocalBroker.from_settings(settings)
            return cls((node,), node.home)
        home = settings.run_dir / f"kafka-{count}"
        replication = min(3, count)
        voters = tuple((i + 1, settings.kafka_controller_port + 2 * i) for i in range(count))
        nodes = tuple(LocalBroker.from_settings(
            settings, home=home / f"node-{i + 1}", port=settings.kafka_port + 2 * i,
            controller_port=settings.kafka_controller_port + 2 * i, node_id=i + 1, voters=voters,
            replication=replication) for i in range(count))
        return cls(nodes, home)

    @classmethod
    def found(cls, settings: ServiceSettings) -> list["LocalCluster"]:
        """Every local cluster with data under the run dir (``infra stop``/``status`` see them all)."""
        sizes = {1} if (settings.run_dir / "kafka").is_dir() else set()
        for path in settings.run_dir.glob("kafka-*"):
            match = re.fullmatch(r"kafka-(\d+)", path.name)
            if match and path.is_dir():
                sizes.add(int(match[1]))
        return [cls.from_settings(settings, size) for size in sorted(sizes)]

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> LocalBroker:
        return next(n for n in self.nodes if n.node_id == node_id)

    def _cluster_id(self) -> str | None:
        if self.size == 1:
            return None  # a single node formats itself with a fresh id
        path = self.home / "cluster.id"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(kafka_uuid())
        return path.read_text().strip()

    def start(self, timeout: float = 120.0) -> str:
        """Start every node that is not running (all at once: a quorum needs a majority to elect a
        controller), then wait until each answers metadata naming every broker; the bootstrap list."""
        cluster_id = self._cluster_id()
        launched: dict[int, subprocess.Popen] = {}
        try:
            for node in self.nodes:
                process = node.launch(cluster_id)
                if process is not None:
                    launched[node.node_id] = process
            for node in self.nodes:
                node.wait_ready(timeout, launched.get(node.node_id), brokers=self.size)
        except BrokerError:
            for node_id in launched:
                self.node(node_id).stop()
            raise
        return self.bootstrap

    def start_node(self, node_id: int, timeout: float = 90.0) -> None:
        """Start one node again (e.g. after it was killed) and wait until it is back in the cluster."""
        node = self.node(node_id)
        process = node.launch(self._cluster_id())
        node.wait_ready(timeout, process, brokers=self.size)

    def running(self) -> bool:
        return all(node.running() for node in self.nodes)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop every node: SIGTERM to all first (a node's controlled shutdown needs the quorum the
        others form), then wait for each; False if none was running."""
        import os
        import signal

        pids = {node.node_id: node.pid() for node in self.nodes}
        for pid in filter(None, pids.values()):
            os.kill(pid, signal.SIGTERM)
        stopped = [node.stop(timeout) for node in self.nodes]
        return any(pids.values()) or any(stopped)

    def status(self) -> list[str]:
        return [f"node {n.node_id} on {n.bootstrap} (pid {n.pid()})" if n.running() else
                f"node {n.node_id} on {n.bootstrap} stopped" for n in self.nodes]

    def log_files(self) -> list[Path]:
        return [node.log_file for node in self.nodes]

    def reset(self) -> None:
        self.stop()
        for node in self.nodes:
            node.reset()
        if self.size > 1:
            import shutil

            shutil.rmtree(self.home, ignore_errors=True)
