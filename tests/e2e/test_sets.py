"""DJ sets through the whole stack on the real services: songs composed through the API (instant fake
song stages, real click-and-chord masters at the asked tempo and key), then sets built from them by
the real DJ engine on the stage workers; bad requests, tenancy, cancel and compensation."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest
import soundfile as sf

from tests.e2e.set_providers import FAILING_BARS, SLOW_BARS
from tests.e2e.stack import REQUEST

pytestmark = pytest.mark.e2e
PROVIDERS = "tests.e2e.set_providers:registry"
SONGS = [("Night Drive", 126, "A minor"), ("Open Road", 120, "C major"), ("Late Bloom", 116, "E minor")]


def compose(stack, client: httpx.Client, title: str, bpm: float, key: str, theme: str = "a set song") -> str:
    body = {**REQUEST, "theme": theme, "title": title, "bpm": bpm, "key": key, "duration_s": 24}
    response = client.post("/api/v2/compositions", json=body)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def wait_set(stack, client: httpx.Client, set_id: str, timeout: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v2/sets/{set_id}").json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"set {set_id} did not end within {timeout} s:\n{stack.logs()}")


@pytest.fixture(scope="module")
def songs(stack):
    client = stack.tenant()
    ids = [compose(stack, client, *song) for song in SONGS]
    for cid in ids:
        assert stack.wait_terminal(client, cid)["type"] == "CompositionCompleted"
    yield client, ids
    client.close()


def test_a_set_of_three_songs_is_mixed_mastered_and_downloadable(stack, songs):
    client, ids = songs
    response = client.post("/api/v2/sets", json={"compositions": ids, "order": "auto", "transition_bars": 4})
    assert response.status_code == 202, response.text
    set_id = response.json()["id"]
    assert response.headers["Location"] == f"/api/v2/sets/{set_id}"
    body = wait_set(stack, client, set_id)
    assert body["status"] == "completed", body
    result = body["result"]
    assert abs(result["integrated_lufs"] + 14) <= 0.5 and result["true_peak_dbtp"] <= -1.0
    assert len(result["beat_alignment_ms"]) == 2 and sum(result["beat_alignment_ms"]) / 2 < 10  # the median of two
    assert max(result["key_distances"]) <= 1  # 8A, 8B, 9A: every step a smooth mix in auto order
    assert len(body["tracklist"]) == 3
    assert {t["composition_id"] for t in body["tracklist"]} == set(ids)
    assert {s["stage"] for s in body["stages"] if s["status"] == "completed"} == {
        "set_analyse", "set_order", "set_transitions", "set_master"}
    files = {a["name"]: a for a in body["artifacts"]}
    assert set(files) == {"set.flac", "set.mp3", "set.cue", "tracklist.json"}
    audio, rate = sf.read(io.BytesIO(client.get(files["set.flac"]["url"]).content), always_2d=True)
    assert abs(len(audio) / rate - result["duration_s"]) < 0.1
    listing = client.get(files["tracklist.json"]["url"]).json()
    assert [t["title"] for t in listing["tracks"]] == [t["title"] for t in body["tracklist"]]
    part = client.get(files["set.mp3"]["url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert "INDEX 01 00:00:00" in client.get(files["set.cue"]["url"]).text
    assert any(s["id"] == set_id for s in client.get("/api/v2/sets").json()["items"])


def test_bad_sets_are_refused_naming_the_problem(stack, songs):
    client, ids = songs
    one = client.post("/api/v2/sets", json={"compositions": ids[:1]})
    assert one.status_code == 422 and "compositions" in one.text
    many = client.post("/api/v2/sets", json={"compositions": [ids[0]] * 21})
    assert many.status_code == 422 and "compositions" in many.text
    twice = client.post("/api/v2/sets", json={"compositions": [ids[0], ids[0]]})
    assert twice.status_code == 422 and "once" in twice.text
    unknown = client.post("/api/v2/sets", json={"compositions": [ids[0], "00000000-0000-4000-8000-000000000000"]})
    assert unknown.status_code == 404 and "00000000-0000-4000-8000-000000000000" in unknown.text
    bars = client.post("/api/v2/sets", json={"compositions": ids[:2], "transition_bars": 0})
    assert bars.status_code == 422 and "transition_bars" in bars.text


def test_a_failed_song_cannot_be_in_a_set(stack, songs):
    client, ids = songs
    failed = compose(stack, client, "Broken", 120, "C major", theme="script: melody=fatal")
    assert stack.wait_terminal(client, failed)["type"] == "CompositionFailed"
    response = client.post("/api/v2/sets", json={"compositions": [ids[0], failed]})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert failed in problem["detail"] and "failed" in problem["detail"]
    assert any(e.get("field") == "compositions[1]" for e in problem.get("errors", [])) or "compositions[1]" in response.text


def test_another_tenants_songs_and_sets_are_not_found(stack, songs):
    client, ids = songs
    with stack.tenant() as other:
        assert other.post("/api/v2/sets", json={"compositions": ids[:2]}).status_code == 404
        mine = client.post("/api/v2/sets", json={"compositions": ids[:2], "transition_bars": SLOW_BARS}).json()["id"]
        assert other.get(f"/api/v2/sets/{mine}").status_code == 404
        assert other.post(f"/api/v2/sets/{mine}/cancel").status_code == 404
        assert other.get(f"/api/v2/sets/{mine}/artifacts/set.flac").status_code == 404
        assert all(s["id"] != mine for s in other.get("/api/v2/sets").json()["items"])
    client.post(f"/api/v2/sets/{mine}/cancel")


def test_a_cancelled_set_stops_and_keeps_nothing(stack, songs):
    client, ids = songs
    set_id = client.post("/api/v2/sets", json={"compositions": ids, "transition_bars": SLOW_BARS,
                                                "announcer": True}).json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/api/v2/sets/{set_id}").json()["status"] != "running":  # its analysis under way
        assert time.monotonic() < deadline, stack.logs()
        time.sleep(0.2)
    cancel = client.post(f"/api/v2/sets/{set_id}/cancel")
    assert cancel.status_code == 202 and cancel.json()["status"] == "cancelling"
    body = wait_set(stack, client, set_id)
    assert body["status"] == "cancelled" and body["artifacts"] == [] and body["error"]["code"] == "cancelled"
    assert client.post(f"/api/v2/sets/{set_id}/cancel").status_code == 409
    assert not list((stack.workdir / "artifacts" / set_id).rglob("*.*"))


def test_a_failing_mix_compensates_every_file_of_the_set(stack, songs):
    client, ids = songs
    set_id = client.post("/api/v2/sets", json={"compositions": ids, "transition_bars": FAILING_BARS,
                                                "announcer": True}).json()["id"]
    body = wait_set(stack, client, set_id)
    assert body["status"] == "failed", body
    assert body["error"]["code"] == "scripted_mix_failure" and body["error"]["stage"] == "set_master"
    assert "set_transitions" in body["error"]["compensated"]  # its announcements were deleted
    assert not list((stack.workdir / "artifacts" / set_id).rglob("*.*")), "set files left behind"
    for cid in ids:  # the songs themselves are untouched
        assert client.get(f"/api/v2/compositions/{cid}/artifacts/master.wav").status_code == 200


PLAY_FROM_TRACK = """async (n) => {
    const audio = document.getElementById('set-player');
    if (audio.readyState < 1) await new Promise((ok) => audio.addEventListener('loadedmetadata', ok, {once: true}));
    const row = document.querySelectorAll('#set-tracklist tbody tr')[n - 1];
    row.click();
    const start = Number(row.dataset.start);
    const list = document.getElementById('set-tracklist');
    await new Promise((ok) => { const t = () => !audio.paused && audio.currentTime > start + 0.2
                                                && list.dataset.playing === String(n) ? ok() : setTimeout(t, 20); t(); });
    audio.pause();
    return {duration: audio.duration, at: audio.currentTime,
            playing: document.getElementById('set-tracklist').dataset.playing};
}"""


def test_the_web_page_builds_a_set_and_plays_it_with_its_tracklist(stack, songs, browser):
    client, ids = songs
    page = browser.new_page()
    page.goto(f"{stack.url}/#key={client.headers['X-API-Key']}")
    for cid in ids[:1]:
        page.check(f"#set-songs input[value='{cid}']", timeout=20_000)
    page.click("#set-submit")  # one song: the API's 422, shown with the field
    page.wait_for_function("() => document.getElementById('set-error').textContent.includes('compositions')")
    for cid in ids[1:]:
        page.check(f"#set-songs input[value='{cid}']")
    page.fill("#set-bars", "4")
    page.select_option("#set-order", "given")
    page.click("#set-submit")
    page.wait_for_function("() => document.getElementById('set-run').dataset.status === 'completed'", timeout=240_000)
    set_id = page.get_attribute("#set-run", "data-id")
    body = client.get(f"/api/v2/sets/{set_id}").json()
    assert [t["composition_id"] for t in body["tracklist"]] == ids  # given order: as ticked
    assert page.locator("#set-tracklist tbody tr").count() == 3
    assert "LUFS" in page.inner_text("#set-measures")
    third = body["tracklist"][2]["start_s"]
    played = page.evaluate(PLAY_FROM_TRACK, 3)
    assert abs(played["duration"] - body["result"]["duration_s"]) < 0.5
    assert played["at"] > third and played["playing"] == "3"
    assert page.locator("#sets tbody tr[data-id='%s']" % set_id).count() == 1
    page.close()


def test_the_cli_builds_a_set_and_prints_its_files(stack, songs, tmp_path):
    import subprocess
    import sys

    from tests.e2e.stack import ROOT

    client, ids = songs
    done = subprocess.run([sys.executable, "-m", "cadenza_cli.main", "set", *ids[:2], "--auto", "--bars", "2",
                           "--quiet", "--out", str(tmp_path)],
                          env=stack.env(CADENZA_API_URL=stack.url, CADENZA_API_KEY=client.headers["X-API-Key"]),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + stack.logs()
    printed = {line.rsplit("/", 1)[-1] for line in done.stdout.split()}
    assert printed == {"set.flac", "set.mp3", "set.cue", "tracklist.json"}
    listing = json.loads(next(tmp_path.glob("set-*/tracklist.json")).read_text())
    assert len(listing["tracks"]) == 2 and "LUFS" in done.stderr
