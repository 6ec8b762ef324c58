"""`cadenza up` prints a key for a local development tenant, created once and kept under the run dir."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from infra.database import make_engine, make_session_factory
from tenancy.keys import KeyVerifier, development_key, hash_key
from tenancy.models import ApiKey
from tests.integration.api_harness import fresh_database  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_the_development_key_is_made_once_and_replaced_when_it_no_longer_works(fresh_database, tmp_path):
    engine = make_engine(fresh_database, pool_size=1)
    sessions = make_session_factory(engine)
    key_file = tmp_path / "run" / "dev-tenant.key"
    first = development_key(sessions, key_file)
    assert KeyVerifier(sessions, cache_s=0).tenant_for(first).id == "dev"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert development_key(sessions, key_file) == first  # the next start prints the same key
    with sessions() as session, session.begin():
        session.execute(update(ApiKey).where(ApiKey.key_hash == hash_key(first)).values(revoked_at=ApiKey.created_at))
    second = development_key(sessions, key_file)
    assert second != first and key_file.read_text().strip() == second
    engine.dispose()
