"""Each live instance of an app gets its own RocksDB folder; a restarted one gets its own back."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from stream_processors.faust_app import instance_dir

HOLD = """
import sys, time
from pathlib import Path
from stream_processors.faust_app import instance_dir
print(instance_dir(Path(sys.argv[1]), "app").name, flush=True)
time.sleep(60)
"""


def _instance(data: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def test_live_instances_get_separate_folders_and_a_killed_ones_folder_is_taken_again(tmp_path):
    first, a = _instance(tmp_path)
    second, b = _instance(tmp_path)
    try:
        assert (a, b) == ("app", "app.1")
        first.kill()
        first.wait()
        time.sleep(0.1)
        third, c = _instance(tmp_path)  # the restart after a kill -9 finds the free slot 0 again
        third.kill()
        assert c == "app"
    finally:
        for proc in (first, second):
            proc.kill()
    assert instance_dir(tmp_path, "other") == instance_dir(tmp_path, "other") == tmp_path / "other"
