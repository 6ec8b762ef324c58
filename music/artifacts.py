"""The artifact store: large outputs (MIDI, audio) kept by content, travelling as URIs (claim check).

An artifact lives under its namespace (the composition id) and is named by the sha256 of its bytes,
so writing the same bytes twice - a redelivered stage request - stores one file and returns the same
URI. Deleting a namespace's artifact (compensation) cannot touch another composition's files.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from composition.models import Artifact

_URI = re.compile(r"^cas://(?P<namespace>[A-Za-z0-9._-]+)/(?P<sha>[0-9a-f]{64})/(?P<name>[A-Za-z0-9._-]+)$")
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


class ArtifactNotFound(LookupError):
    """The URI names no stored artifact (never written, or deleted by a compensation)."""


class ArtifactStore(Protocol):
    def put(self, namespace: str, name: str, data: bytes, media_type: str) -> Artifact: ...

    def get(self, uri: str) -> bytes: ...

    def path(self, uri: str) -> Path: ...

    def delete(self, uri: str) -> bool: ...


class LocalArtifactStore:
    """A content-addressed store in a local folder shared by every process on the machine."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, namespace: str, name: str, data: bytes, media_type: str) -> Artifact:
        for label, value in (("namespace", namespace), ("name", name)):
            if not _SAFE.match(value):
                raise ValueError(f"artifact {label} {value!r} may only hold letters, digits, '.', '_' and '-'")
        sha = hashlib.sha256(data).hexdigest()
        uri = f"cas://{namespace}/{sha}/{name}"
        target = self.path(uri)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # write then rename, so a reader never sees half a file and a crash leaves no artifact
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        return Artifact(name=name, uri=uri, sha256=sha, size_bytes=len(data), media_type=media_type)

    def path(self, uri: str) -> Path:
        match = _URI.match(uri)
        if not match:
            raise ValueError(f"not an artifact URI: {uri!r}")
        return self.root / match["namespace"] / match["sha"][:2] / f"{match['sha']}-{match['name']}"

    def get(self, uri: str) -> bytes:
        target = self.path(uri)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFound(uri) from None

    def delete(self, uri: str) -> bool:
        """Remove the artifact; False if it was already gone (compensation is idempotent)."""
        try:
            self.path(uri).unlink()
            return True
        except FileNotFoundError:
            return False
