"""A PostgreSQL cluster of the project's own, from Debian's server package, on a local port.

The cluster lives under the run dir, listens on 127.0.0.1 only and trusts local connections (a dev
database; set DATABASE_URL for anything else). PostgreSQL refuses to run as root, so when we are root
its commands run as the `postgres` system user, which must be able to reach the data dir.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from composition.errors import CadenzaError
from infra.jvm import is_live
from infra.net import port_open, wait_closed
from infra.settings import ServiceSettings


class PostgresError(CadenzaError):
    """The local PostgreSQL server could not be found, initialised, started or reached."""


def _bin_dir(override: Path | None) -> Path:
    if override is not None:
        return override
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise PostgresError("PostgreSQL server binaries not found; run `make setup` (apt-get install postgresql)")
    return Path(candidates[-1]).parent


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class LocalPostgres:
    """Our own cluster under ``run_dir``/postgres on ``port``."""

    run_dir: Path
    host: str = "127.0.0.1"
    port: int = 25432
    user: str = "cadenza"
    database: str = "cadenza"
    bin_override: Path | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "LocalPostgres":
        return cls(run_dir=settings.run_dir, port=settings.pg_port, bin_override=settings.pg_bin)

    @property
    def home(self) -> Path:
        home = self.run_dir / "postgres"
        if _as_root() and not _postgres_can_reach(home.parent):
            # e.g. a checkout under a folder the postgres user cannot traverse
            digest = hashlib.sha256(str(self.run_dir.resolve()).encode()).hexdigest()[:12]  # one per run dir
            home = Path("/var/tmp") / f"cadenza-{digest}" / "postgres"
        return home

    @property
    def bin_dir(self) -> Path:
        return _bin_dir(self.bin_override)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    def url(self, database: str | None = None) -> str:
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{database or self.database}"

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        full = ["runuser", "-u", "postgres", "--", *cmd] if _as_root() else list(cmd)
        result = subprocess.run(full, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise PostgresError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def _init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        if _as_root():
            shutil.chown(self.home, "postgres", "postgres")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C")
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# cadenza dev cluster\n"
                       f"listen_addresses = '{self.host}'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.home}'\n"
                       "max_connections = 200\nshared_buffers = 128MB\nfsync = on\n"
                       "log_min_messages = warning\n")

    def pid(self) -> int | None:
        """The postmaster's pid from ``postmaster.pid`` if that process is alive and is this cluster's
        postmaster (its command line names our data dir): a stale lock file after a kill -9, or its pid
        recycled by another program, is not a running server (``pg_ctl status`` trusts ``kill(pid, 0)``)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, PermissionError, ValueError):
            return None
        return pid if is_live(pid, str(self.data_dir)) else None

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.host, self.port)

    def start(self, timeout: float = 60.0) -> str:
        """Start the cluster if needed, create the role and database, return the SQLAlchemy URL."""
        self._init()
        if self.pid() is None:
            if not wait_closed(self.host, self.port):
                raise PostgresError(f"port {self.port} is taken by another process; set CADENZA_PG_PORT")
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                      "-w", "-t", str(int(timeout)), "start")
        self._ensure_database(self.database)
        return self.url()

    def _psql(self, sql: str, database: str = "postgres") -> str:
        return self._run(str(self.bin_dir / "psql"), "-h", self.host, "-p", str(self.port), "-U", "postgres",
                         "-d", database, "-tAc", sql).stdout.strip()

    def _ensure_database(self, name: str) -> None:
        if self._psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{self.user}'") != "1":
            self._psql(f'CREATE ROLE "{self.user}" LOGIN CREATEDB')
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self._psql(f'CREATE DATABASE "{name}" OWNER "{self.user}"')

    def create_database(self, name: str) -> str:
        """A fresh database (for a test session); return its URL."""
        self._ensure_database(name)
        return self.url(name)

    def stop(self) -> bool:
        if self.pid() is None:
            return False
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        return True

    def reset(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def _postgres_can_reach(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)], capture_output=True)
    return probe.returncode == 0


def wait_for(url: str, timeout: float = 30.0) -> None:
    """Block until the database at ``url`` accepts a query."""
    import sqlalchemy

    deadline = time.monotonic() + timeout
    engine = sqlalchemy.create_engine(url)
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sqlalchemy.text("SELECT 1"))
                return
            except sqlalchemy.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        engine.dispose()
