"""`cadenza up` for a benchmark: the whole stack on its own ports and run dir, in the background.

    with UpStack("burst", "--pool-size", "1", CADENZA_API_MAX_BACKLOG="200") as stack:
        key = stack.tenant("burst")
        ... stack.api_url, stack.pid, stack.pg_port ...
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.net import free_port

ROOT = Path(__file__).resolve().parents[1]


class UpStack:
    def __init__(self, name: str, *up_args: str, up_timeout_s: float = 300, **env: str) -> None:
        parent = ROOT / ".run" if (ROOT / ".run").exists() else None
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=parent))
        self.run_dir.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder in here
        self.pg_port, self.api_port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
        self.env.update({"CADENZA_RUN_DIR": str(self.run_dir), "CADENZA_KAFKA_PORT": str(free_port()),
                         "CADENZA_KAFKA_CONTROLLER_PORT": str(free_port()), "CADENZA_PG_PORT": str(self.pg_port),
                         "CADENZA_TOPIC_PREFIX": "", "PYTHONUNBUFFERED": "1", **env})
        self.up_args = up_args
        self.up_timeout_s = up_timeout_s
        self.log = self.run_dir / "up.log"
        self.popen: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://cadenza@127.0.0.1:{self.pg_port}/cadenza"

    def __enter__(self) -> "UpStack":
        self.popen = subprocess.Popen([sys.executable, "-m", "cadenza_cli.main", "up", "--port", str(self.api_port),
                                       *self.up_args], env=self.env, cwd=ROOT, stdout=open(self.log, "ab"),
                                      stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.up_timeout_s
        while "cadenza is up" not in self.log.read_text(errors="replace"):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"cadenza up did not come up:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(1)
        return self

    def tenant(self, name: str) -> str:
        """A tenant without limits; its key."""
        created = subprocess.run([sys.executable, "-m", "cadenza_cli.main", "tenants", "create", name, "--rate", "0",
                                  "--max-in-flight", "0"], env=self.env, cwd=ROOT, capture_output=True, text=True,
                                 check=True)
        return created.stdout.strip().splitlines()[0]

    def __exit__(self, *_exc) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGINT)
        try:
            self.popen.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
