"""The artifact store on a local folder: content-addressed files, shared by the processes of one machine.

Layout: ``<root>/<namespace>/<sha256[:2]>/<sha256>-<name>``. A write goes to a temporary file first and
is renamed into place, so a reader never sees half a file and a crash leaves no artifact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from composition.artifacts import ArtifactAddress, ArtifactNotFound, address_for, address_of
from composition.errors import InvalidInput
from composition.models import Artifact


class LocalArtifactStore:
    """``composition.artifacts.ArtifactStore`` on the folder ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, namespace: str, name: str, data: bytes, media_type: str) -> Artifact:
        address = address_for(namespace, name, data)
        target = self.path(address.uri)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        return Artifact(name=name, uri=address.uri, sha256=address.sha256, size_bytes=len(data), media_type=media_type)

    def path(self, uri: str) -> Path:
        """Where the artifact's file is (or would be) on this machine."""
        address = address_of(uri)
        return self.root / address.namespace / address.sha256[:2] / f"{address.sha256}-{address.name}"

    def get(self, uri: str) -> bytes:
        try:
            return self.path(uri).read_bytes()
        except FileNotFoundError:
            raise ArtifactNotFound(uri) from None

    def get_range(self, uri: str, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise InvalidInput(f"range {start}-{end}: need 0 <= start <= end (inclusive byte positions)", field="range")
        try:
            with open(self.path(uri), "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if start >= size:
                    raise InvalidInput(f"range {start}-{end}: starts past the end of {uri} ({size} bytes)", field="range")
                handle.seek(start)
                return handle.read(min(end, size - 1) - start + 1)
        except FileNotFoundError:
            raise ArtifactNotFound(uri) from None

    def size(self, uri: str) -> int:
        try:
            return self.path(uri).stat().st_size
        except FileNotFoundError:
            raise ArtifactNotFound(uri) from None

    def delete(self, uri: str) -> bool:
        try:
            self.path(uri).unlink()
            return True
        except FileNotFoundError:
            return False

    def presigned_url(self, uri: str, expires_s: int) -> str | None:
        return None  # the API streams local files itself

    def list(self, namespace: str) -> list[str]:
        folder = self.root / address_for(namespace, "x", b"").namespace
        uris = []
        for path in sorted(folder.glob("??/*")) if folder.is_dir() else []:
            sha, _, name = path.name.partition("-")
            if len(sha) == 64 and name and path.parent.name == sha[:2]:  # not a temporary file of a write
                uris.append(ArtifactAddress(namespace, sha, name).uri)
        return uris
