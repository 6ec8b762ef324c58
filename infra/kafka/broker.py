"""One local Apache Kafka node in KRaft mode (combined broker + controller), run by the project.

The broker's jars come from Maven Central (infra/kafka/pom.xml) into `.cache/kafka/libs`; its data,
config and log live under the run dir. Internal topics are set for one node (replication factor 1,
min ISR 1) so consumer groups and transactions work.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from composition.errors import CadenzaError
from infra.net import port_open
from infra.settings import ServiceSettings

POM = Path(__file__).with_name("pom.xml")


class BrokerError(CadenzaError):
    """The local broker could not be fetched, formatted, started or reached."""


@dataclass(frozen=True)
class LocalBroker:
    """One KRaft node: ``home`` holds its config, data, log and pid; ``libs`` its jars."""

    home: Path
    libs: Path
    host: str = "127.0.0.1"
    port: int = 29092
    controller_port: int = 29093
    heap: str = "768m"

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "LocalBroker":
        return cls(home=settings.run_dir / "kafka", libs=settings.cache_dir / "kafka" / "libs",
                   port=settings.kafka_port, controller_port=settings.kafka_controller_port, heap=settings.kafka_heap)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    # ------------------------------------------------------------ fetch / configure

    def fetch(self) -> None:
        """Copy the broker and its runtime dependencies from Maven Central, once."""
        target = self.libs
        if any(target.glob("kafka_2.13-*.jar")):
            return
        if shutil.which("mvn") is None:
            raise BrokerError("maven (mvn) is not installed; run `make setup` (apt-get install maven)")
        target.mkdir(parents=True, exist_ok=True)
        cmd = ["mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
               "-DincludeScope=runtime", f"-DoutputDirectory={target}"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise BrokerError(f"fetching Kafka jars failed ({' '.join(cmd)}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{self.host}:{self.controller_port}",
            f"listeners=PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.home / 'data'}",
            "num.partitions=4",
            "default.replication.factor=1",
            "min.insync.replicas=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=8",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=8",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "log.retention.hours=168",
            "log.segment.bytes=67108864",
            "num.network.threads=2",
            "num.io.threads=4",
            "",
        ]))
        log4j = self.home / "log4j.properties"
        log4j.write_text("\n".join([
            "log4j.rootLogger=WARN, stdout",
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
            "log4j.logger.kafka.server.KafkaServer=INFO",
            "log4j.logger.kafka.server.BrokerServer=INFO",
            "",
        ]))
        return config

    def _java(self, main: str, *args: str, **popen) -> list[str]:
        java = shutil.which("java") or "java"
        return [java, f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
                "-cp", f"{self.libs}/*", main, *args]

    def _format(self, config: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = _kafka_uuid()
        cmd = self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), "--ignore-formatted")
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise BrokerError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    # ------------------------------------------------------------ lifecycle

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.host, self.port)

    def start(self, timeout: float = 90.0) -> str:
        """Start the broker if it is not running and wait until it answers metadata requests."""
        if self.pid() is not None:
            self.wait_ready(timeout)
            return self.bootstrap
        if port_open(self.host, self.port):
            raise BrokerError(f"port {self.port} is taken by another process; set CADENZA_KAFKA_PORT")
        self.fetch()
        config = self._write_config()
        self._format(config)
        log = open(self.log_file, "ab")
        process = subprocess.Popen(self._java("kafka.Kafka", str(config)), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.home)
        self.pid_file.write_text(str(process.pid))
        try:
            self.wait_ready(timeout, process)
        except BrokerError:
            self.stop()
            raise
        return self.bootstrap

    def wait_ready(self, timeout: float, process: subprocess.Popen | None = None) -> None:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise BrokerError(f"Kafka exited with {process.returncode}; see {self.log_file}:\n{_tail(self.log_file)}")
            if port_open(self.host, self.port):
                try:
                    metadata = AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=5)
                    if metadata.brokers:
                        return
                except Exception as exc:  # the broker is still starting
                    last_error = exc
            time.sleep(0.5)
        raise BrokerError(f"Kafka did not answer metadata within {timeout:.0f}s ({last_error}); see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop cleanly (SIGTERM, the broker's controlled shutdown); SIGKILL only after ``timeout``."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            _reap(pid)
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def reset(self) -> None:
        """Stop and delete the broker's data (a fresh, empty cluster next start)."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def _kafka_uuid() -> str:
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
