"""Tenants and their API keys: keys are shown once, stored as sha256 hashes, checked per request.

A key is ``cz_`` + 256 random bits (URL-safe base64), so a plain sha256 is a safe verifier (no
dictionary to attack) and a lookup by hash is one indexed query, cached for a short while.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from composition.errors import Conflict, InvalidInput, NotFound
from tenancy.models import ApiKey, Tenant

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class TenantInfo:
    """What a request needs to know about its tenant."""

    id: str
    rate_per_s: float
    burst: int
    max_in_flight: int


class TenantExists(Conflict):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} exists; use `cadenza tenants add-key {tenant_id}`", kind="tenant-exists")


def new_key() -> str:
    return "cz_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_tenant(sessions: sessionmaker[Session], tenant_id: str, *, rate_per_s: float = 5.0, burst: int = 20,
                  max_in_flight: int = 10) -> str:
    """Create the tenant and its first API key; returns the key (the only time it is visible)."""
    if not TENANT_ID.match(tenant_id):
        raise InvalidInput(f"tenant name {tenant_id!r}: lowercase letters, digits, '-' and '_', at most 64",
                           field="name")
    with sessions() as session, session.begin():
        if session.get(Tenant, tenant_id) is not None:
            raise TenantExists(tenant_id)
        session.add(Tenant(id=tenant_id, rate_per_s=rate_per_s, burst=burst, max_in_flight=max_in_flight))
        session.flush()
        return _add_key(session, tenant_id)


def add_key(sessions: sessionmaker[Session], tenant_id: str) -> str:
    with sessions() as session, session.begin():
        if session.get(Tenant, tenant_id) is None:
            raise NotFound(f"tenant {tenant_id!r}")
        return _add_key(session, tenant_id)


def _add_key(session: Session, tenant_id: str) -> str:
    key = new_key()
    session.add(ApiKey(tenant_id=tenant_id, key_hash=hash_key(key), prefix=key[:10]))
    return key


class KeyVerifier:
    """Maps an API key to its tenant; remembers verified keys for ``cache_s`` seconds."""

    def __init__(self, sessions: sessionmaker[Session], cache_s: float = 30.0) -> None:
        self.sessions = sessions
        self.cache_s = cache_s
        self._cache: dict[str, tuple[TenantInfo, float]] = {}
        self._lock = threading.Lock()

    def tenant_for(self, key: str) -> TenantInfo | None:
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit and hit[1] > now:
            return hit[0]
        with self.sessions() as session:
            row = session.execute(
                select(Tenant.id, Tenant.rate_per_s, Tenant.burst, Tenant.max_in_flight)
                .join(ApiKey, ApiKey.tenant_id == Tenant.id)
                .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        info = TenantInfo(row.id, row.rate_per_s, row.burst, row.max_in_flight)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (info, now + self.cache_s)
        return info


def development_key(sessions: sessionmaker[Session], key_file: Path, tenant_id: str = "dev") -> str:
    """The local development tenant's key: created once (tenant ``dev``, no limits) and kept in
    ``key_file`` (readable by its owner only), so `cadenza up` can print it at every start."""
    if key_file.exists():
        key = key_file.read_text().strip()
        if KeyVerifier(sessions, cache_s=0).tenant_for(key) is not None:
            return key
    try:
        key = create_tenant(sessions, tenant_id, rate_per_s=0, burst=1, max_in_flight=0)
    except TenantExists:
        key = add_key(sessions, tenant_id)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(key + "\n")
    return key
