"""The S3 artifact store against a real S3 server (the project's S3Proxy, filesystem backend).

Each test writes under its own key prefix and namespace, so counts of objects are its own.
"""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest

from composition.artifacts import ArtifactNotFound, ArtifactStoreError
from storage.s3 import S3ArtifactStore, S3Config

pytestmark = pytest.mark.integration


@pytest.fixture
def store(s3_endpoint: str) -> S3ArtifactStore:
    return S3ArtifactStore(S3Config(endpoint=s3_endpoint, prefix=f"t{uuid.uuid4().hex[:8]}/artifacts"))


@pytest.fixture
def namespace() -> str:
    return f"comp-{uuid.uuid4()}"


def _objects(store: S3ArtifactStore) -> list[str]:
    listing = store.client.list_objects_v2(Bucket=store.settings.bucket, Prefix=store.settings.prefix + "/")
    return [item["Key"] for item in listing.get("Contents", [])]


def test_put_then_get_returns_the_bytes_under_a_content_address(store: S3ArtifactStore, namespace: str) -> None:
    data = b"MThd" + bytes(range(256)) * 40
    artifact = store.put(namespace, "arrangement.mid", data, "audio/midi")
    sha = hashlib.sha256(data).hexdigest()
    assert artifact.uri == f"cas://{namespace}/{sha}/arrangement.mid"
    assert (artifact.sha256, artifact.size_bytes, artifact.media_type) == (sha, len(data), "audio/midi")
    assert store.get(artifact.uri) == data
    assert _objects(store) == [f"{store.settings.prefix}/{namespace}/{sha[:2]}/{sha}-arrangement.mid"]
    head = store.client.head_object(Bucket=store.settings.bucket, Key=_objects(store)[0])
    assert head["ContentType"] == "audio/midi" and head["Metadata"]["sha256"] == sha


def test_writing_the_same_bytes_twice_stores_one_object(store: S3ArtifactStore, namespace: str) -> None:
    first = store.put(namespace, "master.flac", b"same bytes", "audio/flac")
    second = store.put(namespace, "master.flac", b"same bytes", "audio/flac")
    assert first == second
    assert len(_objects(store)) == 1
    other = store.put(namespace, "master.flac", b"other bytes", "audio/flac")
    assert other.uri != first.uri and len(_objects(store)) == 2


def test_a_body_changed_in_transit_is_refused_by_the_server(store: S3ArtifactStore, namespace: str) -> None:
    """The signed x-amz-content-sha256 (our content address) is checked by S3 against what arrives."""
    def corrupt(request, **_):
        request.body = b"RIFF....WAVX"  # same length, one byte changed, after signing

    store.client.meta.events.register("before-send.s3.PutObject", corrupt)
    with pytest.raises(ArtifactStoreError, match="XAmzContentSHA256Mismatch|BadDigest"):
        store.put(namespace, "render.wav", b"RIFF....WAVE", "audio/wav")
    store.client.meta.events.unregister("before-send.s3.PutObject", corrupt)
    assert _objects(store) == []


def test_an_existing_key_with_other_bytes_is_not_taken_for_ours(store: S3ArtifactStore, namespace: str) -> None:
    artifact = store.put(namespace, "a.bin", b"original", "application/octet-stream")
    key = _objects(store)[0]
    store.client.put_object(Bucket=store.settings.bucket, Key=key, Body=b"tampered!", Metadata={"sha256": "0" * 64})
    with pytest.raises(ArtifactStoreError, match="holds other bytes"):
        store.put(namespace, "a.bin", b"original", "application/octet-stream")
    assert store.size(artifact.uri) == len(b"tampered!")


def test_get_range_is_inclusive_like_http_range(store: S3ArtifactStore, namespace: str) -> None:
    data = bytes(range(100))
    uri = store.put(namespace, "r.bin", data, "application/octet-stream").uri
    assert store.get_range(uri, 0, 0) == data[:1]
    assert store.get_range(uri, 10, 19) == data[10:20]
    assert store.get_range(uri, 99, 99) == data[99:]
    assert store.get_range(uri, 0, 99) == data
    assert store.get_range(uri, 90, 10_000) == data[90:]  # an end past the size is cut to it
    with pytest.raises(ValueError, match="starts past the end"):
        store.get_range(uri, 100, 120)
    with pytest.raises(ValueError, match="start <= end"):
        store.get_range(uri, 5, 4)
    with pytest.raises(ValueError, match="start <= end"):
        store.get_range(uri, -1, 4)
    with pytest.raises(ArtifactNotFound):
        store.get_range(uri.replace(namespace, namespace + "x"), 0, 1)


def test_size_and_missing_artifacts(store: S3ArtifactStore, namespace: str) -> None:
    uri = store.put(namespace, "s.bin", b"12345", "application/octet-stream").uri
    assert store.size(uri) == 5
    missing = f"cas://{namespace}/{'a' * 64}/s.bin"
    with pytest.raises(ArtifactNotFound):
        store.size(missing)
    with pytest.raises(ArtifactNotFound):
        store.get(missing)
    assert isinstance(ArtifactNotFound(missing), LookupError)


def test_delete_twice_is_true_then_false(store: S3ArtifactStore, namespace: str) -> None:
    uri = store.put(namespace, "d.bin", b"to be compensated", "application/octet-stream").uri
    assert store.delete(uri) is True
    assert store.delete(uri) is False
    with pytest.raises(ArtifactNotFound):
        store.get(uri)
    assert _objects(store) == []


def test_another_namespace_cannot_delete_an_artifact(store: S3ArtifactStore, namespace: str) -> None:
    artifact = store.put(namespace, "mine.bin", b"tenant a's bytes", "application/octet-stream")
    other = f"cas://other-{uuid.uuid4()}/{artifact.sha256}/mine.bin"  # same content, other composition
    assert store.delete(other) is False
    with pytest.raises(ValueError, match="not an artifact URI"):
        store.delete(f"cas://../{artifact.sha256}/mine.bin")
    assert store.get(artifact.uri) == b"tenant a's bytes"


def test_a_presigned_url_serves_the_bytes_to_anyone(store: S3ArtifactStore, namespace: str) -> None:
    data = b"fLaC" + b"\x00" * 5000
    uri = store.put(namespace, "master.flac", data, "audio/flac").uri
    url = store.presigned_url(uri, expires_s=60)
    assert url is not None and "X-Amz-Signature=" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "audio/flac"
    ranged = httpx.get(url, headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.content == b"fLaC"
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403
    with pytest.raises(ValueError, match="expires_s"):
        store.presigned_url(uri, expires_s=0)
    with pytest.raises(ArtifactNotFound):
        store.presigned_url(f"cas://{namespace}/{'b' * 64}/x.flac", expires_s=60)


@pytest.mark.parametrize(("namespace_", "name", "field"), [
    ("comp/1", "a.mid", "namespace"),
    ("..", "a.mid", "namespace"),
    ("comp 1", "a.mid", "namespace"),
    ("comp-1", "../a.mid", "name"),
    ("comp-1", "a:b", "name"),
    ("comp-1", "", "name"),
])
def test_bad_characters_are_a_value_error_naming_the_field(store: S3ArtifactStore, namespace_: str, name: str,
                                                           field: str) -> None:
    with pytest.raises(ValueError, match=f"artifact {field} "):
        store.put(namespace_, name, b"x", "application/octet-stream")
    assert _objects(store) == []


def test_bad_settings_name_the_variable() -> None:
    with pytest.raises(ValueError, match="CADENZA_S3_BUCKET"):
        S3Config(bucket="Not_A_Bucket")
    with pytest.raises(ValueError, match="CADENZA_S3_PREFIX"):
        S3Config(prefix="/leading")
    with pytest.raises(ValueError, match="CADENZA_S3_ENDPOINT"):
        S3Config(endpoint="127.0.0.1:29000")


def test_an_unreachable_server_is_a_store_error_not_a_missing_artifact(namespace: str) -> None:
    from infra.net import free_port

    store = S3ArtifactStore(S3Config(endpoint=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ArtifactStoreError, match="head"):
        store.size(f"cas://{namespace}/{'c' * 64}/x.bin")


@pytest.mark.parametrize("kind", ["s3", "local"])
def test_list_names_every_artifact_of_a_namespace_and_only_its_own(kind: str, store: S3ArtifactStore,
                                                                 namespace: str, tmp_path) -> None:
    """What the retention sweeper sweeps from: the same listing on both stores."""
    from storage.local import LocalArtifactStore

    target = store if kind == "s3" else LocalArtifactStore(tmp_path)
    a = target.put(namespace, "master.wav", b"accepted", "audio/wav")
    b = target.put(namespace, "master.wav", b"superseded", "audio/wav")  # same name, other bytes
    again = target.put(namespace, "master.wav", b"accepted", "audio/wav")  # same bytes: one object
    target.put(f"{namespace}.r1", "master.wav", b"a revision's", "audio/wav")  # another namespace
    assert again.uri == a.uri
    assert sorted(target.list(namespace)) == sorted([a.uri, b.uri])
    assert target.delete(b.uri) and target.list(namespace) == [a.uri]
    assert target.list(f"nothing-{uuid.uuid4()}") == []
