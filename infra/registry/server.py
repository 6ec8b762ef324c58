"""A local schema registry: Apicurio Registry (Apache-2.0) run by the project, answering the
Confluent-compatible API at ``/apis/ccompat/v7``.

``io.apicurio:apicurio-registry-app`` publishes its Quarkus fast-jar layout on Maven Central as the
``all`` tar.gz (infra/registry/pom.xml); it is unpacked once into ``.cache/registry/`` and started
with ``java -jar quarkus-run.jar``. Registry 3.x is compiled for Java 21 (class file 65), so a JDK
of 21+ is looked for (``CADENZA_REGISTRY_JAVA``, $JAVA_HOME, PATH, /usr/lib/jvm/*); on Java 17 it
fails with UnsupportedClassVersionError. Storage is in memory (H2) by default, as a dev registry:
every start is empty and the processes register the schemas again, so ids are only stable for one
run of the registry; ``persistent=True`` keeps an H2 file under the run dir instead.
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from infra.jvm import JavaProcess, ServiceError, find_java, maven, wait_http
from infra.net import port_open, wait_closed
from infra.settings import ServiceSettings

POM = Path(__file__).with_name("pom.xml")
VERSION = "3.3.3"  # keep in step with infra/registry/pom.xml
MIN_JAVA = 21
CCOMPAT = "/apis/ccompat/v7"


@dataclass(frozen=True)
class LocalRegistry:
    """The registry with ``home`` (data, log, pid) and ``cache`` (the unpacked app) on ``port``."""

    home: Path
    cache: Path
    host: str = "127.0.0.1"
    port: int = 29081
    heap: str = "384m"
    persistent: bool = False
    java: Path | None = None
    java_home: Path | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **changes) -> "LocalRegistry":
        values = dict(home=settings.run_dir / "registry", cache=settings.cache_dir / "registry",
                      port=settings.registry_port, persistent=settings.registry_persistent,
                      java=settings.registry_java, java_home=settings.java_home)
        return cls(**{**values, **changes})

    @property
    def app_dir(self) -> Path:
        return self.cache / f"apicurio-registry-{VERSION}"

    @property
    def url(self) -> str:
        """The Confluent-compatible API's base URL."""
        return f"http://{self.host}:{self.port}{CCOMPAT}"

    @property
    def process(self) -> JavaProcess:
        return JavaProcess("Apicurio Registry", self.home / "registry.pid", self.home / "registry.log",
                           f"-Dcadenza.home={self.home}")

    def fetch(self) -> None:
        """Download the registry's fast-jar tarball from Maven Central and unpack it, once."""
        target = self.app_dir
        if (target / "quarkus-run.jar").exists():
            return
        downloads = self.cache / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        maven(POM, "dependency:copy-dependencies", f"-DoutputDirectory={downloads}")
        archive = downloads / f"apicurio-registry-app-{VERSION}-all.tar.gz"
        if not archive.exists():
            raise ServiceError(f"Maven fetched no {archive.name} into {downloads}")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(target)
        archive.unlink()

    def _command(self) -> list[str]:
        java = find_java(MIN_JAVA, self.java, self.java_home, setting="CADENZA_REGISTRY_JAVA")
        if self.persistent:
            url = f"jdbc:h2:file:{self.home / 'data' / 'registry'};DB_CLOSE_ON_EXIT=FALSE"
        else:
            url = "jdbc:h2:mem:registry;DB_CLOSE_DELAY=-1"
        return [
            str(java), f"-Xmx{self.heap}", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
            f"-Dcadenza.home={self.home}",
            f"-Dquarkus.http.host={self.host}", f"-Dquarkus.http.port={self.port}",
            # health and metrics live on a second listener: loopback, any free port
            f"-Dquarkus.management.host={self.host}", "-Dquarkus.management.port=0",
            "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2", f"-Dapicurio.datasource.url={url}",
            "-Dquarkus.http.access-log.enabled=false", "-Dquarkus.log.category.\"io.apicurio\".level=WARN",
            "-jar", str(self.app_dir / "quarkus-run.jar"),
        ]

    def running(self) -> bool:
        """Whether our registry process is alive (not a zombie, not a recycled pid) and accepts connections."""
        return self.process.pid() is not None and port_open(self.host, self.port)

    def start(self, timeout: float = 120.0) -> str:
        """Start the registry if it is not running and wait until its Confluent API answers; its base URL."""
        if self.process.pid() is not None:
            self._wait_ready(timeout)
            return self.url
        if not wait_closed(self.host, self.port):
            raise ServiceError(f"port {self.port} is taken by another process; set CADENZA_REGISTRY_PORT")
        self.fetch()
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        process = self.process.launch(self._command(), cwd=self.home)
        try:
            self._wait_ready(timeout, process)
        except ServiceError:
            self.stop()
            raise
        return self.url

    def _wait_ready(self, timeout: float, process=None) -> None:
        wait_http(self.process, self.url + "/subjects", (200,), timeout, process)

    def stop(self) -> bool:
        return self.process.stop()

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
