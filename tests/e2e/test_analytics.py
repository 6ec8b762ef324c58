"""Analytics through the whole stack: a composition and its rating reach /api/v2/analytics (the
analytics consumer reading the real topics) and the web page draws them as SVG charts."""

from __future__ import annotations

import time

import pytest

from tests.e2e.stack import REQUEST

pytestmark = pytest.mark.e2e


def wait_figures(client, predicate, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        figures = client.get("/api/v2/analytics", params={"days": 2}).json()
        if predicate(figures):
            return figures
        time.sleep(0.5)
    raise AssertionError(f"analytics never showed it: {figures}")


def test_a_composition_and_its_rating_in_the_figures_and_the_charts(stack, browser, tmp_path):  # noqa: F811
    with stack.tenant() as client:
        created = client.post("/api/v2/compositions", json={**REQUEST, "mood": "calm"})
        assert created.status_code == 202, created.text
        cid = created.json()["id"]
        assert stack.wait_terminal(client, cid)["type"] == "CompositionCompleted"
        assert client.post(f"/api/v2/compositions/{cid}/feedback", json={"rating": 4}).status_code == 202
        figures = wait_figures(client, lambda f: f["ratings"] and f["latency"]["completed"] == 1)
        [day] = figures["daily"]
        assert day["by_status"] == {"completed": 1} and day["by_genre"] == {"pop": 1} and day["by_mood"] == {"calm": 1}
        assert {s["stage"] for s in figures["stages"]} >= {"plan", "render", "master"}
        assert all(s["failure_rate"] == 0 for s in figures["stages"])
        assert figures["latency"]["duration_ms"]["p50"] > 0
        [rating] = figures["ratings"]
        assert rating["genre"] == "pop" and rating["ratings"] == 1 and rating["mean_rating"] == 4
        key = client.headers["X-API-Key"]

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(stack.url + "/")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    page.click("#analytics-refresh")
    page.wait_for_selector("#charts svg rect", timeout=10_000)
    assert page.locator("#charts svg").count() == 7
    bars = page.eval_on_selector_all("#charts svg rect", "els => els.map(e => [e.dataset.label, e.dataset.value])")
    assert [label for label, _ in bars if label == "calm"] == ["calm"]
    assert any(label.endswith(" completed") and value == "1" for label, value in bars)
    assert any(label.startswith("pop ") and value == "4" for label, value in bars)
    assert page.inner_text("#analytics-error") == ""
    assert errors == []
    page.locator("#analytics").screenshot(path=str(tmp_path / "analytics.png"))  # for a person to look at
