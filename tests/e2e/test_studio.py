"""The studio view of the web page in Debian's headless Chromium, against the whole stack (every
process real, instant fake providers whose master is a short WAV with a tone of its own per run):
the key from the address, a song composed, opened from the history; a lyrics revision and a voice
revision followed live to the end; the A/B player with both revisions' audio; the API's 422 shown with
the field's message; an earlier revision deleted."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

RECORD_LABELS = """() => {
    window.runLabels = [];
    new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes) window.runLabels.push(n.textContent);
    }).observe(document.getElementById('studio-run-label'), {childList: true});
}"""

PLAY = """async (id) => {
    const audio = document.getElementById(id);
    if (audio.readyState < 1) await new Promise((ok) => audio.addEventListener('loadedmetadata', ok, {once: true}));
    audio.currentTime = 0;
    await audio.play();
    await new Promise((ok) => { const t = () => audio.currentTime > 0.05 ? ok() : setTimeout(t, 20); t(); });
    audio.pause();
    return {duration: audio.duration, position: audio.currentTime};
}"""

SWITCH_WHILE_PLAYING = """async () => {
    const a = document.getElementById('ab-a'), b = document.getElementById('ab-b');
    a.currentTime = 0.4;
    await a.play();
    document.getElementById('ab-switch').click();
    const now = () => document.getElementById('ab-now').textContent;
    await new Promise((ok) => { const t = () => !b.paused && now().includes(' B') ? ok() : setTimeout(t, 10); t(); });
    return {aPaused: a.paused, aAt: a.currentTime, bAt: b.currentTime,
            now: now()};
}"""


def run_to_end(page, number: int) -> list[str]:
    """Wait until the studio's live panel shows revision ``number`` completed; the labels it showed."""
    page.wait_for_function(f"""() => {{ const run = document.getElementById('studio-run');
        return run.dataset.number === '{number}' && ['completed', 'failed', 'cancelled'].includes(run.dataset.status); }}""",
        timeout=60_000)
    assert page.get_attribute("#studio-run", "data-status") == "completed", page.inner_text("#studio-run")
    return page.evaluate("window.runLabels")


def row(page, number: int):
    return page.locator(f"#revisions tr[data-number='{number}']")


def test_studio_revise_lyrics_and_voice_listen_a_b_and_delete(stack, browser):
    from tenancy.keys import create_tenant

    key = create_tenant(stack.sessions, f"studio-{uuid.uuid4().hex[:8]}", rate_per_s=0, max_in_flight=0)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # the key from the address (as `cadenza up` prints it): stored, then gone from the address bar
    page.goto(f"{stack.url}/#key={key}")
    assert page.input_value("#api-key") == key
    assert page.evaluate("localStorage.getItem('cadenza-api-key')") == key
    assert "key=" not in page.url and page.evaluate("location.hash") == ""

    # compose a song, then open it in the studio from the history
    page.fill("#theme", "a song for the studio")
    page.click("#submit")
    page.wait_for_function("document.getElementById('overall-label').textContent === '100%'", timeout=60_000)
    page.locator("#history tr", has_text="a song for the studio").locator("button.studio-open").click()
    page.wait_for_selector("#studio:not([hidden])")
    page.wait_for_selector("#studio-form tbody tr[data-section='verse1']")
    assert page.inner_text("#studio-form tbody tr[data-section='verse1']").split("\t")[:3] == ["verse1", "verse", "4"]
    assert "C" in page.inner_text("#studio-form .chords") and "sun" in page.inner_text("#studio-lyrics")
    assert "C major" in page.inner_text("#studio-summary") and "revision 0" in page.inner_text("#studio-summary")
    assert page.input_value("#studio-lyrics-text") == "[verse]\nsun"
    assert row(page, 0).locator(".status").inner_text() == "completed"
    assert row(page, 0).locator("button.revision-delete").is_disabled()  # the current one cannot go

    # edit the lyrics -> revision 1, followed live on its event stream to the end
    page.evaluate(RECORD_LABELS)
    page.fill("#studio-lyrics-text", "[verse]\nnew words for the old tune\n\n[chorus]\nsing it again")
    page.click("#revise-lyrics button[type=submit]")
    labels = run_to_end(page, 1)
    assert labels[-1] == "100%" and any(label not in ("0%", "100%") for label in labels), labels
    assert "kept" in page.get_attribute("#studio-run-stages li[data-stage='plan']", "class")
    assert "completed" in page.get_attribute("#studio-run-stages li[data-stage='master']", "class")
    page.wait_for_function("document.getElementById('studio-summary').textContent.includes('revision 1')")
    assert row(page, 1).locator(".status").inner_text() == "completed"
    assert "new words for the old tune" in row(page, 1).inner_text() and "current" in row(page, 1).inner_text()

    # pick another voice (the choices come from the OpenAPI document) -> revision 2
    voices = page.eval_on_selector_all("#studio-voice option", "os => os.map(o => o.value)")
    assert {"alto", "tenor"} <= set(voices)
    assert page.input_value("#studio-voice") == "alto"
    page.evaluate(RECORD_LABELS)
    page.select_option("#studio-voice", "tenor")
    page.click("#revise-voice button[type=submit]")
    run_to_end(page, 2)
    page.wait_for_function("document.getElementById('studio-summary').textContent.includes('revision 2')")
    assert "voice tenor" in page.inner_text("#studio-summary")
    assert "voice tenor" in row(page, 2).inner_text() and "vocals onwards" in row(page, 2).inner_text()

    # the A/B player: the current revision and the one before it, different files, both play
    page.wait_for_function("document.getElementById('ab-a').dataset.revision === '2' && "
                           "document.getElementById('ab-b').dataset.revision === '1'")
    sides = page.evaluate("""['ab-a', 'ab-b'].map((id) => { const a = document.getElementById(id);
        return {src: a.src, url: a.dataset.url, sha256: a.dataset.sha256}; })""")
    assert all(s["src"].startswith("blob:") for s in sides), sides
    assert sides[0]["url"].endswith("/revisions/2/artifacts/master.wav")
    assert sides[1]["url"].endswith("/revisions/1/artifacts/master.wav")
    assert sides[0]["sha256"] != sides[1]["sha256"]  # two different recordings, not one file twice
    for side in ("ab-a", "ab-b"):
        played = page.evaluate(PLAY, side)
        assert 0.9 < played["duration"] < 1.1 and played["position"] > 0.05, (side, played)
    switched = page.evaluate(SWITCH_WHILE_PLAYING)
    assert switched["aPaused"] and switched["bAt"] >= 0.4, switched  # B goes on where A was
    assert switched["now"] == "listening to B: revision 1"
    page.select_option("#ab-b-pick", "0")  # any two: the first composition against the current
    page.wait_for_function("document.getElementById('ab-b').dataset.url.endsWith('/revisions/0/artifacts/master.wav')")

    # a change the API refuses: its 422 is shown with the field and its message
    page.select_option("#studio-seed-stage", "melody")
    page.fill("#studio-seed", "99999999999")
    page.click("#revise-seed button[type=submit]")
    page.wait_for_function("document.getElementById('studio-error').textContent !== ''")
    message = page.inner_text("#studio-error")
    assert message.startswith("Invalid request: changes.seed:") and "2147483647" in message, message
    assert page.get_attribute("#studio-error", "data-fields") == "changes.seed"
    assert page.locator("#revisions tbody tr").count() == 3  # nothing was accepted

    # delete an earlier revision: it is marked deleted and leaves the A/B choices
    row(page, 0).locator("button.revision-delete").click()
    page.wait_for_function("document.querySelector(\"#revisions tr[data-number='0'] .status\").textContent === 'deleted'",
                           timeout=30_000)
    assert row(page, 0).locator("button.revision-delete").is_disabled()
    assert page.eval_on_selector_all("#ab-b-pick option", "os => os.map(o => o.value)") == ["1", "2"]
    assert page.get_attribute("#ab-b", "data-revision") == "1"
    cid = page.get_attribute("#studio", "data-id")
    gone = httpx.get(f"{stack.url}/api/v2/compositions/{cid}/revisions/0/artifacts/master.wav", headers={"X-API-Key": key})
    assert gone.status_code == 404
    assert page.inner_text("#studio-error") == ""
    assert errors == []
