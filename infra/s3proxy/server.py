"""A local S3-compatible object store: S3Proxy with its filesystem backend, run by the project.

S3Proxy (Apache-2.0, ``org.gaul:s3proxy`` from Maven Central, infra/s3proxy/pom.xml) speaks the S3
API (SigV2/SigV4, Range, pre-signed URLs) over jclouds blob stores; ours is a folder under the run
dir. It listens on 127.0.0.1 only, with fixed local credentials (a dev store, like the dev database:
point CADENZA_S3_* at real object storage for anything else). The bucket is created at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.jvm import JavaProcess, ServiceError, find_java, maven, wait_http
from infra.net import port_open, wait_closed
from infra.settings import ServiceSettings

POM = Path(__file__).with_name("pom.xml")
ACCESS_KEY = "cadenza"
SECRET_KEY = "cadenza-local-secret"  # the local store's fixed credential; not a secret outside this machine
DEFAULT_BUCKET = "cadenza-artifacts"
REGION = "us-east-1"


@dataclass(frozen=True)
class LocalS3Proxy:
    """S3Proxy with ``home`` (config, data, log, pid) and ``libs`` (its jars) on ``port``."""

    home: Path
    libs: Path
    host: str = "127.0.0.1"
    port: int = 29000
    bucket: str = DEFAULT_BUCKET
    heap: str = "256m"
    # filesystem-nio2 is S3Proxy's own on-disk backend; jclouds' `filesystem` works too but S3Proxy 3.x
    # logs it as deprecated at every start
    provider: str = "filesystem-nio2"
    java_home: Path | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **changes) -> "LocalS3Proxy":
        values = dict(home=settings.run_dir / "s3proxy", libs=settings.cache_dir / "s3proxy" / "libs",
                      port=settings.s3proxy_port, bucket=settings.s3_bucket, java_home=settings.java_home)
        return cls(**{**values, **changes})

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def _config(self) -> Path:
        return self.home / "s3proxy.properties"

    @property
    def process(self) -> JavaProcess:
        return JavaProcess("S3Proxy", self.home / "s3proxy.pid", self.home / "s3proxy.log", str(self._config))

    # ------------------------------------------------------------ fetch / configure

    def fetch(self) -> None:
        """Copy S3Proxy and its runtime dependencies from Maven Central, once."""
        target = self.libs
        if any(target.glob("s3proxy-*.jar")):
            return
        target.mkdir(parents=True, exist_ok=True)
        maven(POM, "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={target}")

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._config.write_text("\n".join([
            f"s3proxy.endpoint={self.endpoint}",
            "s3proxy.authorization=aws-v2-or-v4",
            f"s3proxy.identity={ACCESS_KEY}",
            f"s3proxy.credential={SECRET_KEY}",
            # pre-signed downloads from the web page (CADENZA_API_ARTIFACT_REDIRECT) are cross-origin requests
            "s3proxy.cors-allow-all=true",
            f"jclouds.provider={self.provider}",
            f"jclouds.identity={ACCESS_KEY}",
            f"jclouds.credential={SECRET_KEY}",
            f"jclouds.filesystem.basedir={self.data_dir}",
            "",
        ]))
        # S3Proxy's jar ships no logback.xml, and logback's default is DEBUG for everything
        (self.home / "logback.xml").write_text(
            '<configuration>\n'
            '  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">\n'
            '    <encoder><pattern>%d %-5level %logger{30} - %msg%n</pattern></encoder>\n'
            '  </appender>\n'
            '  <root level="WARN"><appender-ref ref="OUT"/></root>\n'
            '</configuration>\n')

    # ------------------------------------------------------------ lifecycle

    def running(self) -> bool:
        """Whether our S3Proxy process is alive (not a zombie, not a recycled pid) and accepts connections."""
        return self.process.pid() is not None and port_open(self.host, self.port)

    def start(self, timeout: float = 60.0) -> str:
        """Start S3Proxy if it is not running, wait until it answers S3 requests, ensure the bucket; the endpoint URL."""
        if self.process.pid() is None:
            if not wait_closed(self.host, self.port):
                raise ServiceError(f"port {self.port} is taken by another process; set CADENZA_S3PROXY_PORT")
            self.fetch()
            self._write_config()
            java = find_java(17, java_home=self.java_home, setting="JAVA_HOME")
            cmd = [str(java), f"-Xmx{self.heap}", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                   f"-Dlogback.configurationFile={self.home / 'logback.xml'}",
                   "-cp", f"{self.libs}/*", "org.gaul.s3proxy.Main", "--properties", str(self._config)]
            process = self.process.launch(cmd, cwd=self.home)
            try:
                self._wait_ready(timeout, process)
            except ServiceError:
                self.stop()
                raise
        else:
            self._wait_ready(timeout)
        self.ensure_bucket(self.bucket)
        return self.endpoint

    def client(self):
        """A boto3 S3 client for this server with the local credentials (the artifact store's own settings)."""
        from storage.s3 import S3ArtifactStore, S3Config

        return S3ArtifactStore(S3Config(endpoint=self.endpoint, bucket=self.bucket)).client

    def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` unless it exists."""
        from botocore.exceptions import ClientError

        client = self.client()
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError:
            client.create_bucket(Bucket=bucket)

    def _wait_ready(self, timeout: float, process=None) -> None:
        # any S3 answer proves the handler is up; an unsigned request gets 403 AccessDenied
        wait_http(self.process, self.endpoint + "/", (200, 403), timeout, process)

    def stop(self) -> bool:
        return self.process.stop()

    def reset(self) -> None:
        """Stop and delete every stored object."""
        import shutil

        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
