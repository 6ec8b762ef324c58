"""The stack with its artifacts in object storage (issue 12.1): every process on CADENZA_ARTIFACT_STORE=s3
against the real S3 server (the project's S3Proxy), no artifact folder at all. Downloads stream from
S3 with Range, or redirect to a pre-signed URL; a compensation deletes the objects; another tenant
gets 404."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from storage.s3 import S3ArtifactStore, S3Config
from tests.e2e.stack import REQUEST, Stack

pytestmark = pytest.mark.e2e
BASE = "/api/v2/compositions"


@pytest.fixture(scope="module")
def s3_stack(bootstrap_servers: str, postgres_server: str, s3_endpoint: str, tmp_path_factory) -> Iterator[Stack]:
    from infra.stack import fresh_database

    prefix = f"e2e-{uuid.uuid4().hex[:8]}/artifacts"
    workdir = tmp_path_factory.mktemp("s3stack")
    with fresh_database(postgres_server, "cadenza_e2e_s3") as url:
        stack = Stack(bootstrap_servers, url, workdir, extra_env={
            "CADENZA_ARTIFACT_STORE": "s3", "CADENZA_S3_ENDPOINT": s3_endpoint, "CADENZA_S3_PREFIX": prefix,
            "CADENZA_ARTIFACT_DIR": str(workdir / "no-artifacts-here")})
        stack.store = S3ArtifactStore(S3Config(endpoint=s3_endpoint, prefix=prefix))
        try:
            stack.up()
            yield stack
        finally:
            stack.down()


def keys(stack: Stack, composition_id: str) -> list[str]:
    store = stack.store
    listing = store.client.list_objects_v2(Bucket=store.settings.bucket,
                                           Prefix=f"{store.settings.prefix}/{composition_id}/")
    return [item["Key"] for item in listing.get("Contents", [])]


def test_a_composition_on_s3_downloads_whole_and_by_range_and_is_another_tenants_404(s3_stack: Stack) -> None:
    with s3_stack.tenant() as owner, s3_stack.tenant() as stranger:
        cid = owner.post(BASE, json=REQUEST).json()["id"]
        assert s3_stack.wait_terminal(owner, cid)["type"] == "CompositionCompleted"
        stored = keys(s3_stack, cid)
        assert len(stored) >= 4 and all(cid in key for key in stored)  # arrangement, vocals, stem, master
        assert not (s3_stack.workdir / "no-artifacts-here").exists()
        master = next(a for a in owner.get(f"{BASE}/{cid}").json()["artifacts"] if a["name"] == "master.wav")
        whole = owner.get(master["url"])
        assert whole.status_code == 200 and hashlib.sha256(whole.content).hexdigest() == master["sha256"]
        part = owner.get(master["url"], headers={"Range": "bytes=100-1123"})
        assert part.status_code == 206 and part.content == whole.content[100:1124]
        assert part.headers["Content-Range"] == f"bytes 100-1123/{len(whole.content)}"
        tail = owner.get(master["url"], headers={"Range": "bytes=-16"})
        assert tail.status_code == 206 and tail.content == whole.content[-16:]
        for path in (f"{BASE}/{cid}", master["url"]):
            assert stranger.get(path).status_code == 404, path


def test_downloads_redirect_to_a_presigned_url_when_asked(s3_stack: Stack) -> None:
    from tests.e2e.stack import free_port

    port = free_port()
    s3_stack.start("api-redirect", "run", "api", CADENZA_API_PORT=str(port), CADENZA_API_ARTIFACT_REDIRECT="1",
                   CADENZA_API_ARTIFACT_URL_TTL_S="60")
    redirecting = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(redirecting + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, s3_stack.logs()
            time.sleep(0.2)
    with s3_stack.tenant() as owner, s3_stack.tenant() as stranger:
        cid = owner.post(BASE, json=REQUEST).json()["id"]
        assert s3_stack.wait_terminal(owner, cid)["type"] == "CompositionCompleted"
        master = next(a for a in owner.get(f"{BASE}/{cid}").json()["artifacts"] if a["name"] == "master.wav")
        path = master["url"]
        answer = httpx.get(redirecting + path, headers=owner.headers)
        assert answer.status_code == 307, answer.text
        location = answer.headers["Location"]
        assert location.startswith(s3_stack.store.settings.endpoint) and "X-Amz-Signature=" in location
        assert httpx.get(location).content == owner.get(path).content  # the store's bytes, no API key needed
        part = httpx.get(location, headers={"Range": "bytes=0-11"})
        assert part.status_code == 206 and part.content[:4] == b"RIFF" and len(part.content) == 12
        assert httpx.get(redirecting + path, headers=stranger.headers).status_code == 404
        assert httpx.get(location.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status_code == 403
    s3_stack.stop("api-redirect")


def test_compensation_deletes_the_objects_on_s3(s3_stack: Stack) -> None:
    with s3_stack.tenant() as client:
        cid = client.post(BASE, json={**REQUEST, "theme": "script: master=fatal"}).json()["id"]
        end = s3_stack.wait_terminal(client, cid)
        assert end["type"] == "CompositionFailed", end
        assert set(end["compensated"]) >= {"arrangement", "render", "vocals"}, end
        assert keys(s3_stack, cid) == []  # every stored artifact of the composition is gone
