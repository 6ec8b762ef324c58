"""Artifacts in S3-compatible object storage (AWS S3, S3Proxy, MinIO, ...), through boto3.

Same contract as the local store: an artifact is named by the sha256 of its bytes under its
namespace (the composition id), at ``<prefix>/<namespace>/<sha[:2]>/<sha>-<name>``, so a repeated
write stores nothing new and a namespace's delete can only reach its own keys. A put is verified by
the server: the request signs the body's SHA-256 (``x-amz-content-sha256``, which is our content
address) and carries its MD5, and S3 refuses a body that does not match either.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from composition.artifacts import (
    ArtifactAddress,
    ArtifactNotFound,
    ArtifactStoreError,
    address_for,
    address_of,
)
from composition.models import Artifact

MAX_PRESIGN_S = 7 * 24 * 3600  # SigV4 pre-signed URLs live at most a week
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^([A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)?$")


class S3Config(BaseModel):
    """Where artifacts go, from the settings tree (``ServiceSettings.s3``: CADENZA_S3_*); the defaults are
    the project's own S3Proxy (infra/s3proxy/server.py). ``endpoint`` None is AWS itself (boto3 then finds
    the region's endpoint, and the credentials too when the keys are None)."""

    model_config = ConfigDict(frozen=True)

    bucket: str = "cadenza-artifacts"
    prefix: str = Field(default="artifacts", description="key prefix inside the bucket, no leading/trailing '/'")
    endpoint: str | None = "http://127.0.0.1:29000"
    region: str = "us-east-1"
    access_key: str | None = "cadenza"  # None: boto3's default credential chain (env, profile, instance role)
    secret_key: SecretStr | None = SecretStr("cadenza-local-secret")  # the local S3Proxy's fixed credential

    @field_validator("endpoint", "access_key", "secret_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not _BUCKET.match(value) or ".." in value:
            raise ValueError(f"CADENZA_S3_BUCKET: {value!r} is not an S3 bucket name (3-63 of a-z 0-9 . -)")
        return value

    @field_validator("prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError(f"CADENZA_S3_PREFIX: {value!r} must be path segments of [A-Za-z0-9._-] joined by '/'")
        return value

    @field_validator("endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"CADENZA_S3_ENDPOINT: {value!r} is not an http(s):// URL")
        return value


class S3ArtifactStore:
    """The content-addressed artifact store on an S3 bucket (implements composition.artifacts.ArtifactStore)."""

    def __init__(self, settings: S3Config | None = None) -> None:
        self.settings = settings or S3Config()
        self._client: Any = None

    def __getstate__(self) -> dict:  # picklable into a process pool; each process makes its own client
        return {"settings": self.settings, "_client": None}

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            s = self.settings
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=s.endpoint, region_name=s.region, aws_access_key_id=s.access_key,
                aws_secret_access_key=s.secret_key.get_secret_value() if s.secret_key else None,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path", "payload_signing_enabled": True},
                    # flexible checksums (x-amz-checksum-*) only when an operation needs them: S3-compatible
                    # servers such as S3Proxy 3.1 answer them with 501 NotImplemented
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries={"max_attempts": 4, "mode": "standard"},
                ),
            )
        return self._client

    def key(self, address: ArtifactAddress) -> str:
        """The object key of an artifact."""
        sha = address.sha256
        key = f"{address.namespace}/{sha[:2]}/{sha}-{address.name}"
        return f"{self.settings.prefix}/{key}" if self.settings.prefix else key

    # ------------------------------------------------------------ the interface

    def put(self, namespace: str, name: str, data: bytes, media_type: str) -> Artifact:
        address = address_for(namespace, name, data)
        key = self.key(address)
        existing = self._head(key)
        if existing is None:
            try:
                response = self.client.put_object(
                    Bucket=self.settings.bucket, Key=key, Body=data, ContentType=media_type,
                    ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
                    Metadata={"sha256": address.sha256}, IfNoneMatch="*")
                _check_etag(response.get("ETag", ""), data, key)
            except Exception as exc:
                if _code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise _wrap(exc, f"put {key}") from exc
                existing = self._head(key)  # another writer stored it first: verify theirs
        if existing is not None:
            _check_existing(existing, address, len(data), key)
        return Artifact(name=name, uri=address.uri, sha256=address.sha256, size_bytes=len(data), media_type=media_type)

    def get(self, uri: str) -> bytes:
        key = self.key(address_of(uri))
        return self._read(uri, Bucket=self.settings.bucket, Key=key)

    def get_range(self, uri: str, start: int, end: int) -> bytes:
        key = self.key(address_of(uri))
        if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end < start:
            raise ValueError(f"range {start!r}-{end!r}: need 0 <= start <= end (inclusive byte positions)")
        try:
            return self._read(uri, Bucket=self.settings.bucket, Key=key, Range=f"bytes={start}-{end}")
        except ArtifactStoreError as exc:
            if _code(exc.__cause__) == "InvalidRange":
                raise ValueError(f"range {start}-{end}: starts past the end of {uri} ({self.size(uri)} bytes)") from exc
            raise

    def size(self, uri: str) -> int:
        key = self.key(address_of(uri))
        head = self._head(key)
        if head is None:
            raise ArtifactNotFound(uri)
        return int(head["ContentLength"])

    def delete(self, uri: str) -> bool:
        """Remove the artifact; False if it was already gone (S3's DELETE succeeds either way, so HEAD first)."""
        key = self.key(address_of(uri))
        if self._head(key) is None:
            return False
        try:
            self.client.delete_object(Bucket=self.settings.bucket, Key=key)
        except Exception as exc:
            raise _wrap(exc, f"delete {key}") from exc
        return True

    def presigned_url(self, uri: str, expires_s: int) -> str | None:
        """A SigV4 pre-signed GET URL; ArtifactNotFound if there is nothing to fetch."""
        if not isinstance(expires_s, int) or not 1 <= expires_s <= MAX_PRESIGN_S:
            raise ValueError(f"expires_s {expires_s!r} must be 1..{MAX_PRESIGN_S} seconds")
        self.size(uri)
        key = self.key(address_of(uri))
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.settings.bucket, "Key": key}, ExpiresIn=expires_s)

    def list(self, namespace: str) -> list[str]:
        """Every artifact under the namespace's key prefix (ListObjectsV2, page by page)."""
        address_for(namespace, "x", b"")  # checks the namespace
        start = self.key(ArtifactAddress(namespace, "0" * 64, "x")).rsplit("/", 2)[0] + "/"
        uris = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.settings.bucket,
                                                                              Prefix=start):
                for item in page.get("Contents", []):
                    sha, _, name = item["Key"][len(start):].rpartition("/")[2].partition("-")
                    if len(sha) == 64 and name:
                        uris.append(ArtifactAddress(namespace, sha, name).uri)
        except Exception as exc:
            raise _wrap(exc, f"list {start}") from exc
        return uris

    # ------------------------------------------------------------ helpers

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.settings.bucket, Key=key)
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise _wrap(exc, f"head {key}") from exc

    def _read(self, uri: str, **request: Any) -> bytes:
        try:
            return self.client.get_object(**request)["Body"].read()
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise ArtifactNotFound(uri) from None
            raise _wrap(exc, f"get {request['Key']}") from exc


def _code(exc: BaseException | None) -> str | None:
    """The S3 error code of a botocore ClientError (``NoSuchKey``, ``404``, ...), else None."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _wrap(exc: Exception, what: str) -> ArtifactStoreError:
    return ArtifactStoreError(f"S3 {what}: {exc}")


def _check_etag(etag: str, data: bytes, key: str) -> None:
    etag = etag.strip('"')
    if re.fullmatch(r"[0-9a-f]{32}", etag) and etag != hashlib.md5(data).hexdigest():
        raise ArtifactStoreError(f"S3 put {key}: the server stored an object whose MD5 is {etag}, not ours")


def _check_existing(head: dict, address: ArtifactAddress, size: int, key: str) -> None:
    stored = head.get("Metadata", {}).get("sha256")
    if int(head["ContentLength"]) != size or (stored is not None and stored != address.sha256):
        raise ArtifactStoreError(
            f"S3 {key} exists but holds other bytes ({head['ContentLength']} bytes, sha256 {stored}); "
            f"expected {size} bytes with sha256 {address.sha256}")
