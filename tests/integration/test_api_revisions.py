"""Revisions through the API: 202 with a number and a Location, what a stage takes (422 naming the
change), 409 before completion or while another runs, idempotency, the current revision's files and
every kept revision's, deletion of an earlier revision's own files, and another tenant's 404."""

from __future__ import annotations

import uuid

import pytest

from composition.events import (
    CompositionCompleted,
    CompositionFailed,
    Error,
    RevisionDeleted,
    RevisionDeleteRequested,
    RevisionRequested,
)
from composition.models import SONG_STAGES, CompositionContext, StageName
from infra.database import transaction
from readmodel.projection import project
from storage.local import LocalArtifactStore
from tests.integration.api_harness import REQUEST, api  # noqa: F401 - the fixture
from tests.integration.fake_providers import section

pytestmark = pytest.mark.integration
BASE = "/api/v2/compositions"


def completed(api) -> tuple[str, dict, str]:
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    api.project(tenant, cid)
    return tenant, headers, cid


def finish_revision(api, tenant: str, cid: str, number: int, stages: list[StageName]) -> None:
    """What the projector would make of a completed revision: the revised stages' new files."""
    [requested] = [e for e in api.outbox("compositions.requests", cid) if isinstance(e, RevisionRequested)
                   and e.revision == number]
    store = LocalArtifactStore(api.artifact_dir)
    context = CompositionContext(request=requested.request)
    for stage in SONG_STAGES:
        namespace = f"{cid}.r{number}" if stage in stages else cid
        context = context.with_section(stage, section(stage, store, namespace, "local"))
    with transaction(api.sessions) as session:
        project(session, CompositionCompleted(composition_id=uuid.UUID(cid), tenant_id=tenant, context=context,
                                              duration_ms=321, revision=number, stages_run=stages))


def test_a_revision_is_accepted_with_its_number_and_carries_the_revised_request(api):
    tenant, headers, cid = completed(api)
    body = {"stage": "vocals", "changes": {"voice": "tenor"}}
    response = api.client.post(f"{BASE}/{cid}/revisions", json=body, headers={**headers, "Idempotency-Key": "r1"})
    assert response.status_code == 202, response.text
    assert response.json()["number"] == 1 and response.headers["location"] == f"{BASE}/{cid}/revisions/1"
    [event] = [e for e in api.outbox("compositions.requests", cid) if isinstance(e, RevisionRequested)]
    assert event.revision == 1 and event.stage is StageName.VOCALS and event.request.voice == "tenor"
    assert event.changes == ["voice"] and event.tenant_id == tenant
    again = api.client.post(f"{BASE}/{cid}/revisions", json=body, headers={**headers, "Idempotency-Key": "r1"})
    assert again.status_code == 202 and again.json()["number"] == 1 and again.headers["idempotent-replayed"] == "true"
    other = api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                            headers={**headers, "Idempotency-Key": "r1"})
    assert other.status_code == 422
    busy = api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                           headers=headers)
    assert busy.status_code == 409 and busy.json()["type"] == "/problems/revision-in-flight"
    listed = api.client.get(f"{BASE}/{cid}/revisions", headers=headers).json()["items"]
    assert [(r["number"], r["status"], r["current"]) for r in listed] == [(0, "completed", True), (1, "accepted", False)]


@pytest.mark.parametrize("body,field", [
    ({"stage": "master", "changes": {"voice": "tenor"}}, "changes.voice"),
    ({"stage": "vocals", "changes": {"voice": "kazoo"}}, "changes.voice"),
    ({"stage": "master", "changes": {}}, "changes"),
    ({"stage": "master", "changes": {"mix": {"lufs": 3}}}, "changes.mix"),
    ({"stage": "chorus", "changes": {"seed": 1}}, "stage"),
])
def test_a_change_the_stage_does_not_take_is_a_422_naming_it(api, body, field):
    _, headers, cid = completed(api)
    response = api.client.post(f"{BASE}/{cid}/revisions", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]] or response.json()["errors"][0]["field"].startswith(field)


def test_a_revision_of_a_composition_that_has_not_completed_is_a_409(api):
    tenant, headers = api.tenant()
    cid = api.client.post(BASE, json=REQUEST, headers=headers).json()["id"]
    body = {"stage": "master", "changes": {"mix": {"lufs": -12}}}
    assert api.client.post(f"{BASE}/{cid}/revisions", json=body, headers=headers).status_code == 409
    api.project(tenant, cid, None)  # running
    response = api.client.post(f"{BASE}/{cid}/revisions", json=body, headers=headers)
    assert response.status_code == 409 and response.json()["type"] == "/problems/not-completed"


def test_a_completed_revision_becomes_current_and_the_earlier_one_stays_downloadable(api):
    tenant, headers, cid = completed(api)
    original = api.client.get(f"{BASE}/{cid}", headers=headers).json()
    assert original["revision"] == 0 and original["plan"]["key"] == "C" and original["lyrics"][0]["lines"] == ["sun"]
    assert original["chords"][0]["chords"][0]["symbol"] == "C"
    api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                    headers=headers)
    finish_revision(api, tenant, cid, 1, [StageName.MASTER])
    now = api.client.get(f"{BASE}/{cid}", headers=headers).json()
    assert now["revision"] == 1 and now["request"]["mix"]["lufs"] == -12
    new_master = api.client.get(f"{BASE}/{cid}/artifacts/master.wav", headers=headers).content
    old_master = api.client.get(f"{BASE}/{cid}/revisions/0/artifacts/master.wav", headers=headers).content
    assert new_master != old_master and new_master.endswith(f"{cid}.r1:master.wav:local".encode()[-10:])
    one = api.client.get(f"{BASE}/{cid}/revisions/1", headers=headers).json()
    assert one["status"] == "completed" and one["current"] and one["stages_run"] == ["master"] and one["stage"] == "master"
    assert {a["name"] for a in one["artifacts"]} >= {"master.wav", "arrangement.mid"}


def test_deleting_an_earlier_revision_deletes_only_its_own_files_and_never_the_current(api):
    tenant, headers, cid = completed(api)
    api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                    headers=headers)
    finish_revision(api, tenant, cid, 1, [StageName.MASTER])
    assert api.client.delete(f"{BASE}/{cid}/revisions/1", headers=headers).status_code == 409  # the current one
    assert api.client.delete(f"{BASE}/{cid}/revisions/0", headers=headers).status_code == 202
    [delete] = [e for e in api.outbox("compositions.control", cid) if isinstance(e, RevisionDeleteRequested)]
    assert delete.revision == 0
    deleted = {(g.stage, a.name) for g in delete.artifacts for a in g.artifacts}
    assert deleted == {(StageName.MASTER, "master.wav")}  # revision 1 keeps using the rest of revision 0's files
    with transaction(api.sessions) as session:
        project(session, RevisionDeleted(composition_id=uuid.UUID(cid), tenant_id=tenant, revision=0))
    zero = api.client.get(f"{BASE}/{cid}/revisions/0", headers=headers).json()
    assert zero["deleted"] and zero["artifacts"] == []
    assert api.client.get(f"{BASE}/{cid}/revisions/0/artifacts/master.wav", headers=headers).status_code == 404


def test_a_failed_revision_leaves_the_composition_as_it_was(api):
    tenant, headers, cid = completed(api)
    api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "vocals", "changes": {"voice": "tenor"}}, headers=headers)
    with transaction(api.sessions) as session:
        project(session, CompositionFailed(composition_id=uuid.UUID(cid), tenant_id=tenant, revision=1,
                                           error=Error(code="scripted", message="no", retryable=False),
                                           stage=StageName.VOCALS, compensated=[]))
    body = api.client.get(f"{BASE}/{cid}", headers=headers).json()
    assert body["status"] == "completed" and body["revision"] == 0
    assert api.client.get(f"{BASE}/{cid}/revisions/1", headers=headers).json()["status"] == "failed"
    again = api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "vocals", "changes": {"voice": "tenor"}},
                            headers=headers)
    assert again.status_code == 202 and again.json()["number"] == 2


def test_cancel_goes_to_the_running_revision(api):
    tenant, headers, cid = completed(api)
    api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                    headers=headers)
    assert api.client.post(f"{BASE}/{cid}/revisions/1/cancel", headers=headers).status_code == 202
    cancels = [e for e in api.outbox("compositions.control", cid) if type(e).__name__ == "CancelRequested"]
    assert [c.revision for c in cancels] == [1]
    assert api.client.get(f"{BASE}/{cid}/revisions/1", headers=headers).json()["status"] == "cancelling"


def test_another_tenants_revisions_are_404_everywhere(api):
    _, headers, cid = completed(api)
    api.client.post(f"{BASE}/{cid}/revisions", json={"stage": "master", "changes": {"mix": {"lufs": -12}}},
                    headers=headers)
    _, stranger = api.tenant()
    body = {"stage": "master", "changes": {"mix": {"lufs": -10}}}
    calls = [("post", f"{BASE}/{cid}/revisions", body), ("get", f"{BASE}/{cid}/revisions", None),
             ("get", f"{BASE}/{cid}/revisions/1", None), ("get", f"{BASE}/{cid}/revisions/0/artifacts/master.wav", None),
             ("get", f"{BASE}/{cid}/revisions/1/events", None), ("post", f"{BASE}/{cid}/revisions/1/cancel", None),
             ("delete", f"{BASE}/{cid}/revisions/0", None)]
    for method, path, json in calls:
        response = getattr(api.client, method)(path, headers=stranger, **({"json": json} if json else {}))
        assert response.status_code == 404, (method, path, response.text)
