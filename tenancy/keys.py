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
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
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
    session.add(ApiKey(tenant_id=tenant_id, key_hash=hash_key(key), prefix=key[:PREFIX_LENGTH]))
    return key


PREFIX_LENGTH = 10


@dataclass(frozen=True)
class KeyInfo:
    tenant_id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def list_keys(sessions: sessionmaker[Session], tenant_id: str) -> list[KeyInfo]:
    with sessions() as session:
        if session.get(Tenant, tenant_id) is None:
            raise NotFound(f"tenant {tenant_id!r}")
        rows = session.execute(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id)).scalars()
        return [KeyInfo(k.tenant_id, k.prefix, k.created_at, k.revoked_at) for k in rows]


def revoke_key(sessions: sessionmaker[Session], key_or_prefix: str) -> KeyInfo:
    """Revoke one key, named by the key itself or by its prefix (as ``list_keys`` shows it).

    Every API process stops accepting it once its cached verdict expires (``KeyVerifier.cache_s``).
    """
    with sessions() as session, session.begin():
        if len(key_or_prefix) > PREFIX_LENGTH:
            keys = session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(key_or_prefix))).scalars().all()
        else:
            keys = session.execute(select(ApiKey).where(ApiKey.prefix == key_or_prefix)).scalars().all()
        if not keys:
            raise NotFound(f"API key {key_or_prefix[:PREFIX_LENGTH]!r}")
        if len(keys) > 1:
            raise InvalidInput(f"{len(keys)} keys start with {key_or_prefix!r}; give the whole key", field="key")
        key = keys[0]
        if key.revoked_at is None or key.revoked_at > _now(session):
            key.revoked_at = _now(session)
        return KeyInfo(key.tenant_id, key.prefix, key.created_at, key.revoked_at)


def rotate_key(sessions: sessionmaker[Session], tenant_id: str, *, grace_s: float = 0) -> tuple[str, list[str]]:
    """A new key for the tenant; its other keys are revoked ``grace_s`` from now (0: at once), so clients
    can move to the new key meanwhile. Returns the new key and the prefixes of the keys it retires."""
    with sessions() as session, session.begin():
        if session.get(Tenant, tenant_id) is None:
            raise NotFound(f"tenant {tenant_id!r}")
        at = _now(session) + timedelta(seconds=grace_s)
        retired = []
        for key in session.execute(select(ApiKey).where(ApiKey.tenant_id == tenant_id)).scalars():
            if key.revoked_at is None or key.revoked_at > at:
                key.revoked_at = at
                retired.append(key.prefix)
        return _add_key(session, tenant_id), retired


def _now(session: Session) -> datetime:
    return session.execute(select(func.now())).scalar_one()


class KeyVerifier:
    """Maps an API key to its tenant; remembers verified keys for ``cache_s`` seconds (never past a
    revocation already scheduled), so a revoked key stops working in every API process within ``cache_s``."""

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
                select(Tenant.id, Tenant.rate_per_s, Tenant.burst, Tenant.max_in_flight,
                       func.extract("epoch", ApiKey.revoked_at - func.now()).label("left_s"))
                .join(ApiKey, ApiKey.tenant_id == Tenant.id)
                .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None) | (ApiKey.revoked_at > func.now()))
            ).first()
        if row is None:
            return None
        info = TenantInfo(row.id, row.rate_per_s, row.burst, row.max_in_flight)
        trust_s = self.cache_s if row.left_s is None else min(self.cache_s, float(row.left_s))
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (info, now + trust_s)
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
