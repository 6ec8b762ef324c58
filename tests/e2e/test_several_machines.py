"""Several machines, simulated (issue 12.3): every process has a working directory of its own (its own
CADENZA_RUN_DIR: faust tables, artifact folder, fakes' state) and shares only Kafka, PostgreSQL and
object storage (the project's S3Proxy). Two sagas, a worker for the light stages and two for the
heavy ones (render, vocals, master), the relay, the projector and two API processes. Compositions
complete with progress followed through either API; a tenant's rate limit and in-flight cap hold
across both APIs; a saga killed with SIGKILL hands its partitions to the other without loss."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from storage.s3 import S3ArtifactStore, S3Config
from tenancy.keys import create_tenant
from tests.e2e.stack import REQUEST, Stack, free_port
from tests.side_effects import assert_stages_completed_once

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]
BASE = "/api/v2/compositions"
LIGHT = ("plan", "harmony", "lyrics", "melody", "arrangement")
HEAVY = ("render", "vocals", "master")


class Machines(Stack):
    """A Stack whose processes each run in a machine folder of their own."""

    def machine(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        home = self.workdir / "machines" / name
        home.mkdir(parents=True, exist_ok=True)
        return self.start(name, *args, cwd=home, CADENZA_RUN_DIR=str(home), CADENZA_DATA_DIR=str(home / "faust"),
                          CADENZA_ARTIFACT_DIR=str(home / "artifacts"), CADENZA_FAKE_STATE_DIR=str(home / "fakes"),
                          **env)

    def client(self, key: str, port: int) -> httpx.Client:
        return httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key},
                            timeout=httpx.Timeout(10, read=None))


@pytest.fixture(scope="module")
def machines(bootstrap_servers: str, postgres_server: str, s3_endpoint: str, tmp_path_factory) -> Iterator[Machines]:
    from infra.stack import fresh_database

    prefix = f"machines-{uuid.uuid4().hex[:8]}/artifacts"
    with fresh_database(postgres_server, "cadenza_e2e_machines") as url:
        stack = Machines(bootstrap_servers, url, tmp_path_factory.mktemp("machines"), extra_env={
            "CADENZA_ARTIFACT_STORE": "s3", "CADENZA_S3_ENDPOINT": s3_endpoint, "CADENZA_S3_PREFIX": prefix,
            "CADENZA_SESSION_TIMEOUT_S": "6"})
        stack.store = S3ArtifactStore(S3Config(endpoint=s3_endpoint, prefix=prefix))
        stack.api_ports = [stack.port, free_port()]
        try:
            stack.machine("relay", "run", "relay")
            stack.machine("projector", "run", "projector")
            stack.machine("saga-a", "worker", "saga")
            stack.machine("saga-b", "worker", "saga")
            stack.machine("stages-light", "worker", "stage", *LIGHT)
            stack.machine("stages-heavy-1", "worker", "stage", *HEAVY)
            stack.machine("stages-heavy-2", "worker", "stage", *HEAVY)
            for i, port in enumerate(stack.api_ports, 1):
                stack.machine(f"api-{i}", "run", "api", CADENZA_API_PORT=str(port))
            deadline = time.monotonic() + 120
            for port in stack.api_ports:
                while True:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, "the APIs did not start:\n" + stack.logs()
                    time.sleep(0.3)
            yield stack
        finally:
            stack.down()


def tenant(stack: Machines, **limits) -> tuple[httpx.Client, httpx.Client]:
    """One tenant's key on both API processes."""
    key = create_tenant(stack.sessions, f"m-{uuid.uuid4().hex[:8]}", **{"rate_per_s": 0, "max_in_flight": 0, **limits})
    return stack.client(key, stack.api_ports[0]), stack.client(key, stack.api_ports[1])


def submit(client: httpx.Client, theme: str) -> httpx.Response:
    return client.post(BASE, json={**REQUEST, "theme": theme})


def wait_all(stack: Machines, client: httpx.Client, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = {cid: client.get(f"{BASE}/{cid}").json()["status"] for cid in ids}
        if all(s == "completed" for s in statuses.values()):
            return
        assert not any(s in ("failed", "cancelled") for s in statuses.values()), statuses
        time.sleep(0.5)
    unfinished = {cid: [(st["stage"], st["status"], st["attempt"], st["updated_at"]) for st in client.get(f"{BASE}/{cid}").json()["stages"]]
                  for cid, status in statuses.items() if status != "completed"}
    raise AssertionError(f"not all completed: {statuses}\nstages of the unfinished: {unfinished}\n{stack.logs()}")


def terminal_rows(stack: Machines, ids: list[str]) -> dict[str, int]:
    with stack.sessions() as session:
        rows = session.execute(text(
            "SELECT composition_id::text, count(*) FROM composition_events WHERE composition_id::text = ANY(:ids) "
            "AND type IN ('CompositionCompleted', 'CompositionFailed', 'CompositionCancelled') GROUP BY 1"),
            {"ids": ids}).all()
    return dict(rows)


def test_compositions_complete_followed_through_either_api_with_no_shared_folder(machines: Machines) -> None:
    one, two = tenant(machines)
    ids = [submit(client, f"machines {i}").json()["id"] for i, client in enumerate([one, two] * 3)]
    for i, cid in enumerate(ids):
        follower = (two, one)[i % 2]  # progress streamed by the API process that did not take the request
        end = machines.wait_terminal(follower, cid, timeout=120)
        assert end["type"] == "CompositionCompleted", end
        assert any(kind == "CompositionProgressed" for kind, _ in end["events"])
    master = next(a for a in one.get(f"{BASE}/{ids[0]}").json()["artifacts"] if a["name"] == "master.wav")
    whole = two.get(master["url"])
    assert whole.status_code == 200 and one.get(master["url"], headers={"Range": "bytes=0-3"}).content == b"RIFF"
    listing = machines.store.client.list_objects_v2(Bucket=machines.store.settings.bucket,
                                                    Prefix=f"{machines.store.settings.prefix}/{ids[0]}/")
    assert listing.get("KeyCount", 0) >= 4
    local = [p for p in (machines.workdir / "machines").rglob("artifacts/**/*") if p.is_file()]
    assert local == []  # every artifact went to object storage
    for client in (one, two):
        client.close()


def test_rate_limit_and_in_flight_cap_hold_across_both_api_processes(machines: Machines) -> None:
    one, two = tenant(machines, rate_per_s=0.05, burst=4)
    codes = [submit(client, "rate").status_code for client in [one, two] * 4]
    assert sorted(codes) == [202] * 4 + [429] * 4, codes  # one bucket of 4, not 4 per process

    one, two = tenant(machines, max_in_flight=3)
    answers = [submit(client, "script: render=hang:3") for client in [one, two] * 3]
    assert sorted(a.status_code for a in answers) == [202] * 3 + [429] * 3, [a.text for a in answers]
    assert {a.json()["type"] for a in answers if a.status_code == 429} == {"/problems/too-many-in-flight"}
    wait_all(machines, one, [a.json()["id"] for a in answers if a.status_code == 202], 120)
    assert submit(two, "room again").status_code == 202
    for client in (one, two):
        client.close()


def test_killing_either_saga_moves_its_partitions_to_the_other_without_loss(machines: Machines) -> None:
    one, two = tenant(machines)
    ids = [submit(client, f"script: render=hang:2; saga failover {i}").json()["id"]
           for i, client in enumerate([one, two] * 5)]
    deadline = time.monotonic() + 60
    while sum(one.get(f"{BASE}/{cid}").json()["status"] == "running" for cid in ids) < 3:
        assert time.monotonic() < deadline, machines.logs()
        time.sleep(0.3)
    saga = machines.procs["saga-a"]
    os.kill(saga.pid, signal.SIGKILL)  # the process alone; its session keeps nothing else
    saga.wait(10)
    machines.procs.pop("saga-a")
    wait_all(machines, two, ids, 300)  # ~20 s on a quiet machine; retries after deadlines under load
    assert terminal_rows(machines, ids) == {cid: 1 for cid in ids}  # each ended exactly once
    assert_stages_completed_once(machines.database_url, ids)  # and each of its stages' effects once
    for client in (one, two):
        client.close()
