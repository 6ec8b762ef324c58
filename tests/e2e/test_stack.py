"""Through the whole stack: HTTP in, Kafka through saga and stage workers, read model out."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import text

from tests.e2e.stack import REQUEST

pytestmark = pytest.mark.e2e
BASE = "/api/v2/compositions"


def test_a_composition_from_post_to_a_downloadable_master(stack):
    with stack.tenant() as client:
        response = client.post(BASE, json=REQUEST)
        assert response.status_code == 202, response.text
        cid = response.json()["id"]
        end = stack.wait_terminal(client, cid)
        assert end["type"] == "CompositionCompleted", end
        progress = [data["progress"] for kind, data in end["events"] if kind == "CompositionProgressed"]
        assert progress == sorted(progress) and progress
        body = client.get(f"{BASE}/{cid}").json()
        assert body["status"] == "completed" and body["progress"] == 1.0
        assert {s["stage"] for s in body["stages"] if s["status"] == "completed"} >= {"plan", "master"}
        assert all(s["provider"] for s in body["stages"] if s["status"] == "completed")
        master = next(a for a in body["artifacts"] if a["name"] == "master.wav")
        audio = client.get(master["url"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        assert hashlib.sha256(audio.content).hexdigest() == master["sha256"]
        part = client.get(master["url"], headers={"Range": "bytes=0-11"})
        assert part.status_code == 206 and part.content == audio.content[:12]


def test_idempotent_submit_makes_one_composition(stack):
    with stack.tenant() as client:
        first = client.post(BASE, json=REQUEST, headers={"Idempotency-Key": "same"})
        again = client.post(BASE, json=REQUEST, headers={"Idempotency-Key": "same"})
        assert first.json()["id"] == again.json()["id"]
        assert stack.wait_terminal(client, first.json()["id"])["type"] == "CompositionCompleted"
        assert len(client.get(BASE).json()["items"]) == 1
        with stack.sessions() as session:
            rows = session.execute(text("SELECT count(*) FROM outbox WHERE key = :k"),
                                   {"k": first.json()["id"].encode()}).scalar_one()
        assert rows == 1


def test_cancel_ends_cancelled_and_compensated(stack):
    with stack.tenant() as client:
        cid = client.post(BASE, json={**REQUEST, "theme": "script: render=hang:6"}).json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until the work is under way
            stages = {s["stage"]: s["status"] for s in client.get(f"{BASE}/{cid}").json()["stages"]}
            if stages.get("render") == "running":
                break
            time.sleep(0.2)
        assert client.post(f"{BASE}/{cid}/cancel").status_code == 202
        end = stack.wait_terminal(client, cid)
        assert end["type"] == "CompositionCancelled", end
        body = client.get(f"{BASE}/{cid}").json()
        assert body["status"] == "cancelled"
        assert end["compensated"], end
        assert client.post(f"{BASE}/{cid}/cancel").status_code == 409


def test_another_tenant_gets_404_for_everything(stack):
    with stack.tenant() as owner, stack.tenant() as stranger:
        cid = owner.post(BASE, json=REQUEST).json()["id"]
        assert stack.wait_terminal(owner, cid)["type"] == "CompositionCompleted"
        for path in (f"{BASE}/{cid}", f"{BASE}/{cid}/events", f"{BASE}/{cid}/artifacts/master.wav"):
            refused = stranger.get(path)
            assert refused.status_code == 404 and refused.json()["type"] == "/problems/not-found", path
            with owner.stream("GET", path) as response:  # the event stream too: its headers, not its end
                assert response.status_code == 200, path
                if path.endswith("/events"):
                    assert response.headers["content-type"].startswith("text/event-stream")
        assert stranger.post(f"{BASE}/{cid}/feedback", json={"rating": 1}).status_code == 404
        assert owner.post(f"{BASE}/{cid}/feedback", json={"rating": 5, "tags": ["e2e"]}).status_code == 202


def test_requests_accepted_while_kafka_is_unreachable_all_complete_later(stack):
    """Kafka 'down' as the relay sees it: the relay process runs against an address where nothing
    listens (the shared broker keeps serving other tests). The API keeps answering 202; the outbox
    holds the requests; a relay that reaches the broker then delivers every one."""
    stack.stop("relay")
    stack.start("relay-down", "run", "relay", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    with stack.tenant() as client:
        ids = []
        for i in range(6):
            response = client.post(BASE, json={**REQUEST, "theme": f"offline {i}"})
            assert response.status_code == 202
            ids.append(response.json()["id"])
        time.sleep(3)
        assert all(client.get(f"{BASE}/{cid}").json()["status"] == "accepted" for cid in ids)
        with stack.sessions() as session:
            unsent = session.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar_one()
        assert unsent >= 6
        stack.stop("relay-down")
        stack.start("relay", "run", "relay")
        for cid in ids:
            assert stack.wait_terminal(client, cid)["type"] == "CompositionCompleted"
        with stack.sessions() as session:
            assert session.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")).scalar_one() == 0
