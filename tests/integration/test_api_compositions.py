"""The write side of the API on the real database: validation, 202 + outbox, idempotency, tenancy, limits."""

from __future__ import annotations

import uuid

import pytest

from composition.events import CancelRequested, CompositionRequested, FeedbackSubmitted
from readmodel.models import Composition
from service.models import Submission
from tests.integration.api_harness import REQUEST, api  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
BASE = "/api/v2/compositions"


def test_submit_answers_202_and_writes_the_row_and_the_outbox_together(api):
    tenant, headers = api.tenant()
    response = api.client.post(BASE, json=REQUEST, headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"{BASE}/{body['id']}"
    assert body["status"] == "accepted"
    [event] = api.outbox("compositions.requests", body["id"])
    assert isinstance(event, CompositionRequested)
    assert str(event.composition_id) == body["id"] and event.tenant_id == tenant
    assert event.request.mood.label == "happy" and event.request.duration_s == 60
    with api.sessions() as session:  # the API's own row; the read model is the projector's alone
        assert session.get(Submission, uuid.UUID(body["id"])).request["theme"] == REQUEST["theme"]
        assert session.get(Composition, uuid.UUID(body["id"])) is None


def test_mood_as_valence_and_arousal_and_bearer_auth(api):
    _, headers = api.tenant()
    bearer = {"Authorization": "Bearer " + headers["X-API-Key"]}
    response = api.client.post(BASE, json={**REQUEST, "mood": {"valence": -0.5, "arousal": 0.3}}, headers=bearer)
    assert response.status_code == 202, response.text
    [event] = api.outbox("compositions.requests", response.json()["id"])
    assert (event.request.mood.valence, event.request.mood.arousal) == (-0.5, 0.3)


@pytest.mark.parametrize("change, field", [
    ({"genres": [{"genre": "pop", "weight": 0.5}, {"genre": "rock", "weight": 0.4}]}, "genres"),
    ({"genres": [{"genre": "polka", "weight": 1.0}]}, "genres[0].genre"),
    ({"duration_s": 5}, "duration_s"),
    ({"duration_s": 601}, "duration_s"),
    ({"lyrics": "la " * 2000}, "lyrics"),
    ({"mood": "grumpy"}, "mood"),
    ({"voice": "mezzo"}, "voice"),
    ({"instrumental": True, "lyrics": "words"}, "lyrics"),
    ({"theme": ""}, "theme"),
    ({"surprise": 1}, "surprise"),
    ({"bpm": 300}, "bpm"),
    ({"key": "H minor"}, "key"),
    ({"key": "C lydian"}, "key"),
    ({"meter": "6/8"}, "meter"),
    ({"lyrics": "[verse]\nla la\n[guitar solo]"}, "lyrics"),
    ({"hook": "!!!"}, "hook"),
])
def test_invalid_requests_are_422_problems_naming_the_field(api, change, field):
    _, headers = api.tenant()
    response = api.client.post(BASE, json={**REQUEST, **change}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["title"]
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem


def test_missing_or_wrong_key_is_401(api):
    assert api.client.post(BASE, json=REQUEST).status_code == 401
    response = api.client.get(BASE, headers={"X-API-Key": "cz_not-a-key"})
    assert response.status_code == 401 and response.json()["type"] == "/problems/unauthorized"
    assert "www-authenticate" in response.headers


def test_idempotency_key_returns_the_same_composition_per_tenant(api):
    _, headers = api.tenant()
    _, other = api.tenant()
    first = api.client.post(BASE, json=REQUEST, headers={**headers, "Idempotency-Key": "k-1"})
    again = api.client.post(BASE, json=REQUEST, headers={**headers, "Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and again.headers["idempotent-replayed"] == "true"
    assert len(api.outbox("compositions.requests", first.json()["id"])) == 1
    theirs = api.client.post(BASE, json=REQUEST, headers={**other, "Idempotency-Key": "k-1"})
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]
    changed = api.client.post(BASE, json={**REQUEST, "theme": "else"}, headers={**headers, "Idempotency-Key": "k-1"})
    assert changed.status_code == 422 and changed.json()["errors"][0]["field"] == "Idempotency-Key"


def test_another_tenants_composition_is_404_everywhere(api):
    _, owner = api.tenant()
    _, stranger = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=owner).json()["id"]
    for method, path in [("GET", f"{BASE}/{cid}"), ("GET", f"{BASE}/{cid}/events"),
                         ("GET", f"{BASE}/{cid}/artifacts/master.wav"), ("POST", f"{BASE}/{cid}/cancel")]:
        response = api.client.request(method, path, headers=stranger)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"] == "/problems/not-found"
    assert api.client.post(f"{BASE}/{cid}/feedback", json={"rating": 5}, headers=stranger).status_code == 404
    assert api.client.get(BASE, headers=stranger).json()["items"] == []
    assert api.client.get(f"{BASE}/{cid}", headers=owner).status_code == 200
    assert api.client.get(f"{BASE}/{uuid.uuid4()}", headers=owner).status_code == 404


def test_rate_limit_answers_429_with_retry_after(api):
    _, headers = api.tenant(rate_per_s=0.5, burst=2)
    codes = [api.client.post(BASE, json=REQUEST, headers=headers) for _ in range(3)]
    assert [r.status_code for r in codes] == [202, 202, 429]
    assert int(codes[2].headers["retry-after"]) >= 1
    assert codes[2].json()["type"] == "/problems/rate-limited"
    assert api.client.get(BASE, headers=headers).status_code == 200  # reads are not rate limited


def test_in_flight_cap_answers_429(api):
    tenant, headers = api.tenant(max_in_flight=2)
    ids = [api.client.post(BASE, json=REQUEST, headers=headers) for _ in range(3)]
    assert [r.status_code for r in ids] == [202, 202, 429]
    assert ids[2].headers["retry-after"] and ids[2].json()["type"] == "/problems/too-many-in-flight"
    api.project(tenant, ids[0].json()["id"])  # one finishes: room for one more
    assert api.client.post(BASE, json=REQUEST, headers=headers).status_code == 202


def test_body_over_the_limit_is_413(api):
    _, headers = api.tenant()
    response = api.client.post(BASE, content=b"{" + b" " * 70_000 + b"}", headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["status"] == 413

    def chunks():
        for _ in range(20):
            yield b" " * 4096
    streamed = api.client.post(BASE, content=chunks(), headers={**headers, "Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_list_is_paginated_and_filtered_by_status(api):
    tenant, headers = api.tenant()
    ids = [api.client.post(BASE, json={**REQUEST, "theme": f"song {i}"}, headers=headers).json()["id"] for i in range(5)]
    api.project(tenant, ids[1])
    seen, cursor = [], None
    while True:
        page = api.client.get(BASE, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    done = api.client.get(BASE, params={"status": "completed"}, headers=headers).json()["items"]
    assert [item["id"] for item in done] == [ids[1]]
    assert api.client.get(BASE, params={"cursor": "garbage!"}, headers=headers).status_code == 422


def test_cancel_goes_through_the_outbox_once(api):
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    first = api.client.post(f"{BASE}/{cid}/cancel", headers=headers)
    again = api.client.post(f"{BASE}/{cid}/cancel", headers=headers)
    assert first.status_code == again.status_code == 202
    [event] = api.outbox("compositions.control", cid)
    assert isinstance(event, CancelRequested) and event.tenant_id == tenant
    assert api.client.get(f"{BASE}/{cid}", headers=headers).json()["status"] == "cancelling"
    api.project(tenant, cid, "cancelled")
    assert api.client.get(f"{BASE}/{cid}", headers=headers).json()["status"] == "cancelled"
    assert api.client.post(f"{BASE}/{cid}/cancel", headers=headers).status_code == 409


def test_feedback_is_published_for_completed_compositions(api):
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    assert api.client.post(f"{BASE}/{cid}/feedback", json={"rating": 4}, headers=headers).status_code == 409
    api.project(tenant, cid, None)  # running
    assert api.client.post(f"{BASE}/{cid}/feedback", json={"rating": 4}, headers=headers).status_code == 409
    api.project(tenant, cid)
    bad = api.client.post(f"{BASE}/{cid}/feedback", json={"rating": 6}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rating"
    ok = api.client.post(f"{BASE}/{cid}/feedback", json={"rating": 4, "tags": ["catchy"], "comment": "nice"},
                         headers=headers)
    assert ok.status_code == 202, ok.text
    [event] = api.outbox("compositions.feedback", cid)
    assert isinstance(event, FeedbackSubmitted) and event.rating == 4 and event.tags == ["catchy"]


def test_songwriter_controls_travel_in_the_request(api):
    _, headers = api.tenant()
    controls = {"bpm": 96, "key": "f# minor", "meter": "3/4", "title": "Open Road", "hook": "take the long way home",
                "lyrics": "[verse]\nwe drive all night\n[chorus]\ntake the long way home"}
    response = api.client.post(BASE, json={**REQUEST, **controls}, headers=headers)
    assert response.status_code == 202, response.text
    [event] = api.outbox("compositions.requests", response.json()["id"])
    r = event.request
    assert (r.bpm, r.key, r.meter, r.title, r.hook) == (96.0, "F# minor", "3/4", "Open Road", "take the long way home")
