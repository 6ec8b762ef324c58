"""The artifact store's interface, as the S3 adapter codes against it.

Temporary home: the interface moves to composition/artifacts.py (the local store to storage/local.py)
in a parallel change; this module keeps the S3 adapter importable until then and is to be merged
into that one.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple, Protocol

from composition.models import Artifact


_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")
_URI = re.compile(r"^cas://(?P<namespace>[A-Za-z0-9._-]+)/(?P<sha256>[0-9a-f]{64})/(?P<name>[A-Za-z0-9._-]+)$")


class ArtifactAddress(NamedTuple):
    """The parts of a content-addressed URI ``cas://<namespace>/<sha256>/<name>``."""

    namespace: str
    sha256: str
    name: str

    @property
    def uri(self) -> str:
        return f"cas://{self.namespace}/{self.sha256}/{self.name}"


def address_of(namespace: str, name: str, data: bytes) -> ArtifactAddress:
    """Where ``data`` lives; ValueError naming the field if namespace or name holds other than [A-Za-z0-9._-]."""
    for label, value in (("namespace", namespace), ("name", name)):
        if not isinstance(value, str) or not _SAFE.match(value) or value in (".", ".."):
            raise ValueError(f"artifact {label} {value!r} may only hold letters, digits, '.', '_' and '-'")
    return ArtifactAddress(namespace, hashlib.sha256(data).hexdigest(), name)


def parse_uri(uri: str) -> ArtifactAddress:
    """The address in ``uri``; ValueError if it is not a ``cas://`` artifact URI."""
    match = _URI.match(uri) if isinstance(uri, str) else None
    if not match or match["namespace"] in (".", "..") or match["name"] in (".", ".."):
        raise ValueError(f"not an artifact URI: {uri!r} (expected cas://<namespace>/<sha256>/<name>)")
    return ArtifactAddress(match["namespace"], match["sha256"], match["name"])


class ArtifactNotFound(LookupError):
    """The URI names no stored artifact (never written, or deleted by a compensation)."""


class ArtifactStoreError(RuntimeError):
    """The store could not be reached, refused a request, or holds an object that fails verification."""


class ArtifactStore(Protocol):
    def put(self, namespace: str, name: str, data: bytes, media_type: str) -> Artifact:
        """Store ``data`` by content: ``cas://<namespace>/<sha256>/<name>``; the same bytes twice store one object."""
        ...

    def get(self, uri: str) -> bytes: ...

    def get_range(self, uri: str, start: int, end: int) -> bytes:
        """Bytes ``start``..``end`` inclusive, like an HTTP Range (an ``end`` past the size is cut to it)."""
        ...

    def size(self, uri: str) -> int: ...

    def delete(self, uri: str) -> bool:
        """Remove the artifact; False if it was already gone (compensation is idempotent)."""
        ...

    def presigned_url(self, uri: str, expires_s: int) -> str | None:
        """A GET URL anyone can fetch until expiry, or None where the store has no such thing."""
        ...
