"""The web page in Debian's headless Chromium (driven by Playwright): submit, progress to 100%, audio plays."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e


def test_submit_watch_progress_and_play(stack, browser):
    from tenancy.keys import create_tenant

    key = create_tenant(stack.sessions, f"web-{uuid.uuid4().hex[:8]}", rate_per_s=0, max_in_flight=0)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(stack.url + "/")
    page.fill("#api-key", key)
    page.dispatch_event("#api-key", "change")
    page.fill("#theme", "a song for the browser")
    page.select_option("#mood", "calm")
    page.check("[data-genre=lofi]")
    page.click("#submit")
    page.wait_for_selector("#current:not([hidden])", timeout=10_000)
    page.wait_for_function("document.getElementById('overall-label').textContent === '100%'", timeout=90_000)
    # every stage bar of the finished song is full
    widths = page.eval_on_selector_all("#stages li.completed .bar > div", "els => els.map(e => e.style.width)")
    assert widths and all(w == "100%" for w in widths), widths
    page.wait_for_function("document.getElementById('player').src.startsWith('blob:')", timeout=20_000)
    duration = page.evaluate("""() => new Promise((resolve, reject) => {
        const audio = document.getElementById('player');
        if (audio.readyState >= 1) return resolve(audio.duration);
        audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
        audio.addEventListener('error', () => reject(new Error('audio error ' + (audio.error && audio.error.code))));
    })""")
    assert 0.9 < duration < 1.1  # the e2e master is a one-second sine
    assert page.locator("#downloads a", has_text="master.wav").count() == 1
    page.wait_for_selector("#history tbody tr", timeout=10_000)
    assert "a song for the browser" in page.inner_text("#history")
    assert errors == []
