"""One local Apache Kafka node in KRaft mode (combined broker + controller), run by the project.

The broker's jars come from Maven Central (infra/kafka/pom.xml) into `.cache/kafka/libs`; its data,
config and log live under its home in the run dir. A node is either the whole cluster (one voter,
internal topics at replication factor 1) or one of the combined nodes of a :class:`LocalCluster`
(infra/kafka/cluster.py), whose voters and replication it is given.

Liveness is :class:`infra.jvm.JavaProcess`'s: a pid file is believed only for a live, non-zombie
process whose command line names this node's own config file, and a zombie that is our child is
reaped on the way (``cadenza up`` starts the broker, so a killed broker is its zombie until then).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from infra.jvm import JavaProcess, ServiceError, find_java, maven
from infra.net import port_open, wait_closed
from infra.settings import ServiceSettings

POM = Path(__file__).with_name("pom.xml")


class BrokerError(ServiceError):
    """The local broker could not be fetched, formatted, started or reached."""


@dataclass(frozen=True)
class LocalBroker:
    """One KRaft node: ``home`` holds its config, data, log and pid; ``libs`` its jars.

    ``voters`` is the controller quorum as ``((node id, controller port), ...)``; empty means this
    node alone. ``replication`` is the replication factor of the internal topics (offsets,
    transaction state) and the default of new topics; their min ISR is 2 from 3 replicas on.
    """

    home: Path
    libs: Path
    host: str = "127.0.0.1"
    port: int = 29092
    controller_port: int = 29093
    heap: str = "768m"
    node_id: int = 1
    voters: tuple[tuple[int, int], ...] = ()
    replication: int = 1
    java_home: Path | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **changes) -> "LocalBroker":
        """The single-node broker the settings describe (a cluster's nodes: LocalCluster.from_settings)."""
        values = dict(home=settings.run_dir / "kafka", libs=settings.cache_dir / "kafka" / "libs",
                      port=settings.kafka_port, controller_port=settings.kafka_controller_port,
                      heap=settings.kafka_heap, java_home=settings.java_home)
        return cls(**{**values, **changes})

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    @property
    def process(self) -> JavaProcess:
        return JavaProcess(f"Kafka node {self.node_id}", self.pid_file, self.log_file, str(self.config_file))

    # ------------------------------------------------------------ fetch / configure

    def fetch(self) -> None:
        """Copy the broker and its runtime dependencies from Maven Central, once."""
        if any(self.libs.glob("kafka_2.13-*.jar")):
            return
        self.libs.mkdir(parents=True, exist_ok=True)
        maven(POM, "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={self.libs}")

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        voters = self.voters or ((self.node_id, self.controller_port),)
        min_isr = 2 if self.replication >= 3 else 1
        self.config_file.write_text("\n".join([
            "process.roles=broker,controller",
            f"node.id={self.node_id}",
            "controller.quorum.voters=" + ",".join(f"{node}@{self.host}:{port}" for node, port in voters),
            f"listeners=PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.home / 'data'}",
            "num.partitions=4",
            f"default.replication.factor={self.replication}",
            f"min.insync.replicas={min_isr}",
            f"offsets.topic.replication.factor={self.replication}",
            "offsets.topic.num.partitions=8",
            f"transaction.state.log.replication.factor={self.replication}",
            f"transaction.state.log.min.isr={min_isr}",
            "transaction.state.log.num.partitions=8",
            "unclean.leader.election.enable=false",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "log.retention.hours=168",
            "log.segment.bytes=67108864",
            "num.network.threads=2",
            "num.io.threads=4",
            "",
        ]))
        (self.home / "log4j.properties").write_text("\n".join([
            "log4j.rootLogger=WARN, stdout",
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
            "log4j.logger.kafka.server.KafkaServer=INFO",
            "log4j.logger.kafka.server.BrokerServer=INFO",
            "",
        ]))
        return self.config_file

    def _java(self, main: str, *args: str) -> list[str]:
        java = find_java(17, java_home=self.java_home, setting="JAVA_HOME")
        return [str(java), f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
                "-cp", f"{self.libs}/*", main, *args]

    def format(self, cluster_id: str | None = None) -> None:
        """Write the config and format the storage (once) with ``cluster_id`` (a cluster's nodes share one)."""
        config = self._write_config()
        if (self.home / "data" / "meta.properties").exists():
            return
        cmd = self._java("kafka.tools.StorageTool", "format", "-t", cluster_id or kafka_uuid(), "-c", str(config),
                         "--ignore-formatted")
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise BrokerError(f"formatting Kafka storage of node {self.node_id} failed:\n{result.stdout}{result.stderr}")

    # ------------------------------------------------------------ lifecycle

    def pid(self) -> int | None:
        """The live broker's pid, or None (dead, a zombie - reaped here if it is our child - or a recycled pid)."""
        return self.process.pid()

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.host, self.port)

    def launch(self, cluster_id: str | None = None) -> subprocess.Popen | None:
        """Start the node's JVM without waiting for it; None if it runs already."""
        if self.pid() is not None:
            return None
        if not wait_closed(self.host, self.port) or not wait_closed(self.host, self.controller_port):
            raise BrokerError(f"port {self.port} or {self.controller_port} is taken by another process; "
                              "set CADENZA_KAFKA_PORT / CADENZA_KAFKA_CONTROLLER_PORT")
        self.fetch()
        self.format(cluster_id)
        return self.process.launch(self._java("kafka.Kafka", str(self.config_file)), cwd=self.home)

    def start(self, timeout: float = 90.0) -> str:
        """Start the broker if it is not running and wait until it answers metadata requests."""
        process = self.launch()
        try:
            self.wait_ready(timeout, process)
        except BrokerError:
            if process is not None:
                self.stop()
            raise
        return self.bootstrap

    def wait_ready(self, timeout: float, process: subprocess.Popen | None = None, brokers: int = 1) -> None:
        """Until this node answers metadata naming at least ``brokers`` brokers, itself among them."""
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        last_error: object = "no answer"
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise BrokerError(f"Kafka node {self.node_id} exited with {process.returncode}; see {self.log_file}:\n"
                                  f"{self.process.tail()}")
            if port_open(self.host, self.port):
                try:
                    metadata = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 2}).list_topics(timeout=5)
                    if self.node_id in metadata.brokers and len(metadata.brokers) >= brokers:
                        return
                    last_error = f"{len(metadata.brokers)} of {brokers} brokers known"
                except Exception as exc:  # the broker is still starting
                    last_error = exc
            time.sleep(0.5)
        raise BrokerError(f"Kafka node {self.node_id} did not answer metadata within {timeout:.0f}s ({last_error}); "
                          f"see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop cleanly (SIGTERM, the broker's controlled shutdown); SIGKILL only after ``timeout``."""
        return self.process.stop(timeout)

    def reset(self) -> None:
        """Stop and delete the broker's data (a fresh, empty cluster next start)."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def kafka_uuid() -> str:
    """A cluster id in Kafka's own form (a UUID, URL-safe base64 without padding)."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
