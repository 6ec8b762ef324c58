"""The artifact store as the domain names it: large outputs kept by content, travelling as URIs.

A stage stores MIDI and audio and passes a claim check (:class:`~composition.models.Artifact`) in
its result instead of the bytes. An artifact lives under a namespace (the composition id) and is
named by the sha256 of its bytes, ``cas://<namespace>/<sha256>/<name>``: writing the same bytes twice
stores one object and returns the same URI, and deleting one namespace's artifact cannot touch
another's. Adapters (``storage/``) implement :class:`ArtifactStore` on a local folder or on S3.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from composition.errors import InvalidInput, TransientError
from composition.models import Artifact

_URI = re.compile(r"^cas://(?P<namespace>[A-Za-z0-9._-]+)/(?P<sha>[0-9a-f]{64})/(?P<name>[A-Za-z0-9._-]+)$")
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


class ArtifactNotFound(LookupError):
    """The URI names no stored artifact (never written, or deleted by a compensation)."""


class ArtifactStoreError(TransientError):
    """The store could not be reached, refused a request, or holds an object that fails verification."""


@dataclass(frozen=True)
class ArtifactAddress:
    """The parts of an artifact URI."""

    namespace: str
    sha256: str
    name: str

    @property
    def uri(self) -> str:
        return f"cas://{self.namespace}/{self.sha256}/{self.name}"


def address_of(uri: str) -> ArtifactAddress:
    """Parse ``cas://namespace/sha256/name``; anything else is InvalidInput naming the URI."""
    match = _URI.match(uri) if isinstance(uri, str) else None
    if not match or match["namespace"] in (".", "..") or match["name"] in (".", ".."):
        raise InvalidInput(f"not an artifact URI: {uri!r}", field="uri", reason="bad_artifact_uri")
    return ArtifactAddress(match["namespace"], match["sha"], match["name"])


def address_for(namespace: str, name: str, data: bytes) -> ArtifactAddress:
    """Where ``data`` stored as ``name`` in ``namespace`` lives; names are checked here, once for every store."""
    for label, value in (("namespace", namespace), ("name", name)):
        if not isinstance(value, str) or not _SAFE.match(value) or value in (".", ".."):
            raise InvalidInput(f"artifact {label} {value!r} may only hold letters, digits, '.', '_' and '-'",
                               field=label, reason="bad_artifact_name")
    return ArtifactAddress(namespace, hashlib.sha256(data).hexdigest(), name)


class ArtifactStore(Protocol):
    """Content-addressed storage for artifacts. Writes are idempotent, deletes too."""

    def put(self, namespace: str, name: str, data: bytes, media_type: str) -> Artifact: ...

    def get(self, uri: str) -> bytes:
        """The bytes; ArtifactNotFound if absent."""
        ...

    def get_range(self, uri: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` inclusive (as in an HTTP Range; an ``end`` past the size is cut to it).
        InvalidInput unless 0 <= start <= end and start is inside the artifact; ArtifactNotFound if absent."""
        ...

    def size(self, uri: str) -> int:
        """Size in bytes; ArtifactNotFound if absent."""
        ...

    def delete(self, uri: str) -> bool:
        """Remove it; False if it was already gone (compensation is idempotent)."""
        ...

    def presigned_url(self, uri: str, expires_s: int) -> str | None:
        """A URL anyone may GET until it expires, or None where the store cannot hand one out."""
        ...

    def list(self, namespace: str) -> list[str]:
        """The URIs of every artifact stored under ``namespace`` (the retention sweeper's view of it)."""
        ...
