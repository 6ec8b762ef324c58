"""The whole stack, once per e2e module (processes are slow to start; tests use fresh tenants).
A module sets ``PROVIDERS = "module:function"`` to choose the stage providers (default: the fakes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack


@pytest.fixture(scope="module")
def stack(request, bootstrap_servers: str, postgres_server: str, tmp_path_factory) -> Iterator[Stack]:
    import uuid

    import sqlalchemy

    from infra.stack import migrate

    name = f"cadenza_e2e_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    providers = getattr(request.module, "PROVIDERS", "tests.e2e.providers:registry")
    stack = Stack(bootstrap_servers, url, tmp_path_factory.mktemp("stack"), providers=providers)
    try:
        stack.up()
        yield stack
    finally:
        stack.down()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
