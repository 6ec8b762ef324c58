"""Dependencies of the routes, as ``Annotated`` aliases: settings, a database session, the service's
commands, the artifact store, the tenant. All are built once in ``api.app.create_app``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from api.problems import Problem
from api.ratelimit import RateLimiter
from api.settings import ApiSettings
from composition.artifacts import ArtifactStore
from composition.errors import Busy
from service.commands import Commands
from tenancy.keys import KeyVerifier, TenantInfo

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the tenant's API key")
bearer = HTTPBearer(auto_error=False, description="the tenant's API key as a bearer token")


def get_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def get_commands(request: Request) -> Commands:
    return request.app.state.commands


def get_store(request: Request) -> ArtifactStore:
    return request.app.state.store


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_tenant(request: Request, key: Annotated[str | None, Depends(api_key_header)],
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> TenantInfo:
    """The caller's tenant, from X-API-Key or Authorization: Bearer; 401 without a valid key."""
    value = key or (credentials.credentials if credentials else None)
    challenge = {"WWW-Authenticate": 'Bearer realm="cadenza"'}
    if not value:
        raise Problem(401, "an API key is required (X-API-Key or Authorization: Bearer)", kind="unauthorized",
                      headers=challenge)
    verifier: KeyVerifier = request.app.state.keys
    tenant = verifier.tenant_for(value)
    if tenant is None:
        raise Problem(401, "the API key is not valid", kind="unauthorized", headers=challenge)
    request.state.tenant = tenant.id
    return tenant


def get_writing_tenant(request: Request, tenant: Annotated[TenantInfo, Depends(get_tenant)]) -> TenantInfo:
    """The tenant, after taking a token from its write-rate bucket (429 + Retry-After when empty)."""
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.acquire(tenant.id, tenant.rate_per_s, tenant.burst)
    if wait:
        raise Busy(f"rate limit of {tenant.rate_per_s:g} writes/s (burst {tenant.burst}) exceeded",
                   kind="rate-limited", retry_after_s=wait)
    return tenant


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
SessionDep = Annotated[Session, Depends(get_session)]
CommandsDep = Annotated[Commands, Depends(get_commands)]
StoreDep = Annotated[ArtifactStore, Depends(get_store)]
TenantDep = Annotated[TenantInfo, Depends(get_tenant)]
WriterDep = Annotated[TenantInfo, Depends(get_writing_tenant)]
