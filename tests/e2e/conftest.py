"""The whole stack, once per e2e module (processes are slow to start; tests use fresh tenants).
A module sets ``PROVIDERS = "module:function"`` to choose the stage providers (default: the fakes).
``browser``: Debian's headless Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import uuid
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


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture
def browser(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (infra/apt-packages.txt)")
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / f"profile-{uuid.uuid4().hex[:6]}"),
                                                       executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield context
        context.close()
