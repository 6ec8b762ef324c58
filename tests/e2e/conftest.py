"""The whole stack, once per e2e module (processes are slow to start; tests use fresh tenants).
A module sets ``PROVIDERS = "module:function"`` to choose the stage providers (default: the fakes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack


@pytest.fixture(scope="module")
def stack(request, bootstrap_servers: str, postgres_server: str, tmp_path_factory) -> Iterator[Stack]:
    from infra.stack import fresh_database

    providers = getattr(request.module, "PROVIDERS", "tests.e2e.providers:registry")
    with fresh_database(postgres_server, "cadenza_e2e") as url:
        stack = Stack(bootstrap_servers, url, tmp_path_factory.mktemp("stack"), providers=providers)
        try:
            stack.up()
            yield stack
        finally:
            stack.down()
