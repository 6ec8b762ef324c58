"""Keys (issue 15): `cadenza tenants revoke-key` and `rotate-key`; a revoked key stops working in every
API process within the key cache time (CADENZA_API_KEY_CACHE_S), here two API apps with 1 s."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from infra.database import make_engine, make_session_factory
from infra.settings import PROJECT_ROOT
from tenancy.keys import create_tenant

pytestmark = pytest.mark.integration

CACHE_S = 1.0


def cadenza(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "cadenza_cli.main", "tenants", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def two_apis(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    clients = []
    for n in range(2):
        app = create_app(ApiSettings(artifact_dir=tmp_path / f"a{n}", key_cache_s=CACHE_S))
        clients.append(TestClient(app, raise_server_exceptions=False).__enter__())
    yield clients
    for client in clients:
        client.__exit__(None, None, None)


def works(client: TestClient, key: str) -> bool:
    status = client.get("/api/v2/compositions", headers={"X-API-Key": key}).status_code
    assert status in (200, 401), status
    return status == 200


def test_a_revoked_key_stops_working_in_every_api_process(two_apis, database_url: str) -> None:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    key = create_tenant(make_session_factory(engine), tenant)
    engine.dispose()
    assert all(works(c, key) for c in two_apis)  # both processes now hold the key in their cache

    listed = cadenza(database_url, "keys", tenant)
    assert listed.returncode == 0 and key[:10] in listed.stdout and "active" in listed.stdout
    revoked = cadenza(database_url, "revoke-key", key[:10])
    assert revoked.returncode == 0, revoked.stderr
    time.sleep(CACHE_S + 0.2)  # the stated bound: the key cache time
    assert not any(works(c, key) for c in two_apis)
    assert "revoked" in cadenza(database_url, "keys", tenant).stdout
    unknown = cadenza(database_url, "revoke-key", "cz_nothere")
    assert unknown.returncode == 1 and "cz_nothere" in unknown.stderr


def test_rotate_gives_a_new_key_and_retires_the_old_after_its_grace(two_apis, database_url: str) -> None:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    old = create_tenant(make_session_factory(engine), tenant)
    engine.dispose()

    rotated = cadenza(database_url, "rotate-key", tenant, "--grace", "3")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert new.startswith("cz_") and new != old and old[:10] in rotated.stderr
    assert all(works(c, new) for c in two_apis)
    assert all(works(c, old) for c in two_apis)  # still within its grace
    time.sleep(3 + 0.2)  # the grace bounds the cache too: no process trusts the old key past it
    assert not any(works(c, old) for c in two_apis)
    assert all(works(c, new) for c in two_apis)

    at_once = cadenza(database_url, "rotate-key", tenant)
    newest = at_once.stdout.strip()
    time.sleep(CACHE_S + 0.2)
    assert not any(works(c, new) for c in two_apis) and all(works(c, newest) for c in two_apis)
    assert cadenza(database_url, "rotate-key", "no-such-tenant").returncode == 1
