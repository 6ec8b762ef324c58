"""A local Prometheus server (Debian's ``prometheus`` package) scraping the stack.

Run like the project's other local services: configuration, data (TSDB), pid and log under
``<run dir>/prometheus``, loopback only, ``start()`` waits until it answers ``/-/ready``, and a
status that a zombie or a recycled pid cannot fool (the pid's command line must name our config
file). The configuration is written at every start from the processes given (see
infra/observability/config.py); retention is short, this is a development server.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from infra.jvm import JavaProcess, ServiceError, wait_http
from infra.net import port_open, wait_closed
from infra.observability.config import RULES, prometheus_config, render
from infra.settings import ServiceSettings


@dataclass(frozen=True)
class LocalPrometheus:
    home: Path
    host: str = "127.0.0.1"
    port: int = 29090
    binary: str = "prometheus"
    retention: str = "2d"

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **changes) -> "LocalPrometheus":
        values = dict(home=settings.run_dir / "prometheus", port=settings.prometheus_port)
        return cls(**{**values, **changes})

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.home / "prometheus.yml"

    @property
    def process(self) -> JavaProcess:  # nothing Java-specific: one background process with a pid file
        return JavaProcess("Prometheus", self.home / "prometheus.pid", self.home / "prometheus.log",
                           str(self.config_file))

    def write_config(self, targets: list[tuple[str, str]]) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        rules = self.home / RULES.name
        shutil.copyfile(RULES, rules)
        self.config_file.write_text(render(prometheus_config(targets, rules)))
        return self.config_file

    def running(self) -> bool:
        return self.process.pid() is not None and port_open(self.host, self.port)

    def start(self, targets: list[tuple[str, str]], timeout: float = 60.0) -> str:
        """Write the configuration for ``targets`` and start (or reload) the server; its base URL."""
        binary = shutil.which(self.binary)
        if binary is None:
            raise ServiceError("prometheus is not installed; run `make setup` (apt-get install prometheus)")
        self.write_config(targets)
        if self.process.pid() is not None:
            import httpx

            httpx.post(self.url + "/-/reload", timeout=10).raise_for_status()
            return self.url
        if not wait_closed(self.host, self.port):
            raise ServiceError(f"port {self.port} is taken by another process; set CADENZA_PROMETHEUS_PORT")
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        process = self.process.launch([
            binary, f"--config.file={self.config_file}", f"--storage.tsdb.path={self.home / 'data'}",
            f"--storage.tsdb.retention.time={self.retention}", f"--web.listen-address={self.host}:{self.port}",
            "--web.enable-lifecycle", "--log.level=warn",
        ], cwd=self.home)
        try:
            wait_http(self.process, self.url + "/-/ready", (200,), timeout, process)
        except ServiceError:
            self.stop()
            raise
        return self.url

    def stop(self) -> bool:
        return self.process.stop()

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
