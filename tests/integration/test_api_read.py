"""The read side of the API: a composition as projected, artifacts with Range, the resumable event
stream, and the operational endpoints."""

from __future__ import annotations

import pytest

from tests.integration.api_harness import (  # noqa: F401
    REQUEST,
    api,
    completed_context,
    progress_events,
)

pytestmark = pytest.mark.integration
BASE = "/api/v2/compositions"


def finish(api, tenant: str, cid: str, *, complete: bool = True) -> None:
    api.project(tenant, cid, "completed" if complete else None)


def sse_events(response) -> list[dict]:
    events, current = [], {}
    for line in response.iter_lines():
        if not line:
            if current:
                events.append(current)
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = value
    return events


def test_get_shows_stages_quality_and_artifact_links(api):
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    finish(api, tenant, cid)
    body = api.client.get(f"{BASE}/{cid}", headers=headers).json()
    assert body["status"] == "completed" and body["progress"] == 1.0 and body["duration_ms"] == 1234
    assert body["request"]["theme"] == "a test"  # the current revision's request (the projected context)
    stages = {s["stage"]: s for s in body["stages"]}
    assert stages["plan"] == {**stages["plan"], "status": "completed", "provider": "local", "duration_ms": 12}
    assert [s["stage"] for s in body["stages"]][:3] == ["plan", "harmony", "lyrics"]
    assert body["quality"]["true_peak_dbtp"] == -1.0
    names = {a["name"]: a for a in body["artifacts"]}
    assert names["master.wav"]["url"] == f"{BASE}/{cid}/artifacts/master.wav"


def test_artifact_download_with_range(api):
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    finish(api, tenant, cid)
    url = f"{BASE}/{cid}/artifacts/master.wav"
    whole = api.client.get(url, headers=headers)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.content == f"{cid}:master.wav:local".encode()
    part = api.client.get(url, headers={**headers, "Range": "bytes=2-9"})
    assert part.status_code == 206 and part.content == whole.content[2:10]
    assert part.headers["content-range"] == f"bytes 2-9/{len(whole.content)}"
    assert api.client.get(f"{BASE}/{cid}/artifacts/nope.wav", headers=headers).status_code == 404


def test_event_stream_is_resumable_with_last_event_id(api):
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    finish(api, tenant, cid)
    with api.client.stream("GET", f"{BASE}/{cid}/events", headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [e for e in sse_events(response) if "data" in e]
    assert [e["event"] for e in events] == ["CompositionProgressed", "CompositionProgressed", "CompositionCompleted"]
    with api.client.stream("GET", f"{BASE}/{cid}/events", headers={**headers, "Last-Event-ID": events[0]["id"]}) as response:
        resumed = [e for e in sse_events(response) if "data" in e]
    assert [e["id"] for e in resumed] == [e["id"] for e in events[1:]]


def test_event_stream_waits_for_new_events(api):
    import threading
    import time

    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    later = threading.Timer(0.5, finish, args=(api, tenant, cid))
    later.start()
    started = time.monotonic()
    with api.client.stream("GET", f"{BASE}/{cid}/events", headers=headers) as response:
        events = [e for e in sse_events(response) if "data" in e]
    assert time.monotonic() - started >= 0.4
    assert events[-1]["event"] == "CompositionCompleted"


def test_health_ready_and_metrics(api, bootstrap_servers, monkeypatch):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    down = api.client.get("/readyz")  # the fixture points Kafka at an address where nothing listens
    assert down.status_code == 503 and down.json()["checks"]["database"] == "ok"
    api.app.state.kafka_admin.bootstrap_servers, api.app.state.kafka_admin._admin = bootstrap_servers, None
    ready = api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["kafka"].startswith("ok")
    metrics = api.client.get("/metrics").text
    assert 'cadenza_api_requests_total{method="GET",route="/readyz",status="503"}' in metrics


def test_the_web_page_and_openapi_are_served(api):
    assert "<html" in api.client.get("/").text.lower()
    spec = api.client.get("/openapi.json").json()
    assert "/api/v2/compositions/{composition_id}/events" in spec["paths"]
    assert set(spec["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer"}
