"""Admission (issue 15): past a configured backlog of unfinished songs, across tenants, new work is
refused up front with 429 and a Retry-After measured from the pipeline's recent rate."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from tests.integration.api_harness import REQUEST, Api, fresh_database  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration

BASE = "/api/v2/compositions"


@pytest.fixture
def api(fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The API on a database of its own (the backlog counts every tenant's songs) with room for 3."""
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("CADENZA_TOPIC_PREFIX", f"adm{uuid.uuid4().hex[:6]}.")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    settings = ApiSettings(artifact_dir=tmp_path / "artifacts", key_cache_s=0, max_backlog=3, backlog_check_s=0.001)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, app, settings.artifact_dir)


def test_a_full_pipeline_refuses_new_songs_of_every_tenant_until_one_finishes(api: Api) -> None:
    first, first_headers = api.tenant()
    second, second_headers = api.tenant()
    accepted = [api.client.post(BASE, json=REQUEST, headers=first_headers,
                                params=None).json()["id"] for _ in range(2)]
    keyed = api.client.post(BASE, json=REQUEST, headers={**second_headers, "Idempotency-Key": "k1"})
    assert keyed.status_code == 202
    accepted.append(keyed.json()["id"])

    refused = api.client.post(BASE, json=REQUEST, headers=second_headers)  # another tenant: the backlog is shared
    assert refused.status_code == 429, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/backlogged" and "3 songs in progress" in problem["detail"]
    assert refused.headers["retry-after"] == "30"  # nothing finished yet: no rate measured, the fallback

    replay = api.client.post(BASE, json=REQUEST, headers={**second_headers, "Idempotency-Key": "k1"})
    assert replay.status_code in (200, 202) and replay.json()["id"] == keyed.json()["id"]  # a replay is answered

    api.project(first, accepted[0])  # one finishes: room for one, and a rate of 1 song per 300 s
    assert api.client.post(BASE, json=REQUEST, headers=second_headers).status_code == 202
    again = api.client.post(BASE, json=REQUEST, headers=first_headers)
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) == 300  # (3 - 3 + 1) songs at 1 song / 300 s


def test_a_revision_is_refused_too_while_the_pipeline_is_full(api: Api) -> None:
    tenant, headers = api.tenant()
    done = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    api.project(tenant, done)
    for _ in range(3):
        assert api.client.post(BASE, json=REQUEST, headers=headers).status_code == 202
    revision = api.client.post(f"{BASE}/{done}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                               headers=headers)
    assert revision.status_code == 429 and revision.json()["type"] == "/problems/backlogged"
