"""Voice profiles through the whole stack with the real engine: an upload becomes a ready profile
with a preview, a song is sung with it, bad uploads are refused naming the problem (at the API, or
by the analysis, which then keeps nothing of the recording), cancel, delete, and tenancy."""

from __future__ import annotations

import io
import time
import uuid

import numpy as np
import pytest
import soundfile as sf

from composition.artifacts import ArtifactNotFound
from readmodel.voices import Voice
from storage.local import LocalArtifactStore
from tests.e2e.stack import REQUEST
from tests.unit.music.voice_signals import RATE, two_voices, voice, wav

pytestmark = pytest.mark.e2e
PROVIDERS = "tests.e2e.voice_providers:registry"  # the real engine; a preview fails for one name
BASE = "/api/v2/voices"
DONE = {"ready", "failed", "cancelled"}


def upload(client, data: bytes, name: str = "my voice", consent: str = "true", filename: str = "me.wav"):
    return client.post(BASE, files={"audio": (filename, data, "audio/wav")}, data={"name": name, "consent": consent})


def wait_voice(client, voice_id: str, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"{BASE}/{voice_id}").json()
        if body["status"] in DONE:
            return body
        time.sleep(0.5)
    raise AssertionError(f"voice {voice_id} did not finish: {body}")


def recording_uri(stack, voice_id: str) -> str:
    with stack.sessions() as session:
        return session.get(Voice, uuid.UUID(voice_id)).recording["uri"]


def stored(stack, uri: str) -> bool:
    try:
        LocalArtifactStore(stack.workdir / "artifacts").get(uri)
        return True
    except ArtifactNotFound:
        return False


@pytest.fixture(scope="module")
def ready_voice(stack):
    """One tenant's ready voice profile, made from a synthesised A3 singer."""
    client = stack.tenant()
    accepted = upload(client, wav(voice(220.0, 8.0)))
    assert accepted.status_code == 202, accepted.text
    voice_id = accepted.json()["id"]
    assert accepted.headers["Location"] == f"{BASE}/{voice_id}"
    body = wait_voice(client, voice_id)
    assert body["status"] == "ready", (body, stack.logs())
    yield client, voice_id, body
    client.close()


def test_an_upload_becomes_a_ready_profile_with_a_preview(ready_voice):
    client, voice_id, body = ready_voice
    profile = body["profile"]
    assert profile["f0_median_hz"] == pytest.approx(277, rel=0.05) and len(profile["formants_hz"]) == 3
    assert body["analysis"]["duration_s"] == pytest.approx(8.0, abs=0.3) and body["progress"] == 1.0
    preview = client.get(body["links"]["preview"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(preview.content))
    assert 5 < len(audio) / rate < 20 and np.abs(audio).max() > 0.1
    listed = client.get(BASE).json()["items"]
    assert [v["id"] for v in listed] == [voice_id] and listed[0]["name"] == "my voice"


def test_another_tenant_gets_404_everywhere(stack, ready_voice):
    _, voice_id, _ = ready_voice
    with stack.tenant() as other:
        for method, path in (("GET", f"{BASE}/{voice_id}"), ("GET", f"{BASE}/{voice_id}/preview"),
                             ("DELETE", f"{BASE}/{voice_id}"), ("POST", f"{BASE}/{voice_id}/cancel")):
            assert other.request(method, path).status_code == 404, (method, path)
        assert other.get(BASE).json()["items"] == []
        response = other.post("/api/v2/compositions", json={**REQUEST, "voice": voice_id})
        assert response.status_code == 404 and response.json()["detail"] == "no such voice"
    unknown = str(uuid.uuid4())
    with stack.tenant() as client:
        assert client.post("/api/v2/compositions", json={**REQUEST, "voice": unknown}).status_code == 404


def test_a_song_sung_with_the_profile_keeps_its_audio_after_the_voice_is_deleted(stack, ready_voice):
    client, voice_id, _ = ready_voice
    cid = client.post("/api/v2/compositions", json={**REQUEST, "duration_s": 15, "voice": voice_id}).json()["id"]
    end = stack.wait_terminal(client, cid, timeout=300)
    assert end["type"] == "CompositionCompleted", end
    song = client.get(f"/api/v2/compositions/{cid}").json()
    assert song["request"]["voice"] == voice_id and song["request"]["voice_profile"]["range_low"] > 0
    vocals = next(a for a in song["artifacts"] if a["name"] == "vocals.wav")
    before = client.get(vocals["url"]).content
    unknown = client.post(f"/api/v2/compositions/{cid}/revisions",
                          json={"stage": "vocals", "changes": {"voice": str(uuid.uuid4())}})
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no such voice"
    revision = client.post(f"/api/v2/compositions/{cid}/revisions", json={"stage": "vocals", "changes": {"voice": "tenor"}})
    assert revision.status_code == 202, revision.text

    uri = recording_uri(stack, voice_id)
    assert client.delete(f"{BASE}/{voice_id}").status_code == 204
    assert client.get(f"{BASE}/{voice_id}").status_code == 404
    assert client.get(f"{BASE}/{voice_id}/preview").status_code == 404
    assert not stored(stack, uri)
    assert client.get(vocals["url"]).content == before  # the song keeps what it sang
    again = client.post("/api/v2/compositions", json={**REQUEST, "voice": voice_id})
    assert again.status_code == 404 and "voice" in again.json()["detail"]


@pytest.mark.parametrize(("files", "data", "status", "field"), [
    ({"audio": ("a.wav", wav(voice(220.0, 6.0)), "audio/wav")}, {"name": "x", "consent": "false"}, 422, "consent"),
    (None, {"name": "x", "consent": "true"}, 422, "audio"),
    ({"audio": ("a.wav", wav(voice(220.0, 6.0)), "audio/wav")}, {"consent": "true"}, 422, "name"),
    ({"audio": ("a.wav", b"not audio, just text" * 50, "audio/wav")}, {"name": "x", "consent": "true"}, 422, "audio"),
    ({"audio": ("a.wav", wav(voice(220.0, 2.0)), "audio/wav")}, {"name": "x", "consent": "true"}, 422, "audio"),
    ({"audio": ("a.wav", b"\0" * (21 * 1024 * 1024), "audio/wav")}, {"name": "x", "consent": "true"}, 413, None),
])
def test_bad_uploads_get_a_problem_naming_it(stack, files, data, status, field):
    with stack.tenant() as client:
        response = client.post(BASE, files=files or {"other": ("x", b"x")}, data=data)
        assert response.status_code == status, response.text
        problem = response.json()
        if field is not None:
            assert field in str(problem.get("errors") or problem.get("field") or problem), problem
        assert client.get(BASE).json()["items"] == []


@pytest.mark.parametrize(("samples", "code"), [
    (two_voices(8.0), "several_voices"),
    (0.2 * np.random.default_rng(1).standard_normal(RATE * 8), "no_voiced_frames"),
    (np.clip(8 * voice(220.0, 8.0), -1, 1), "clipped"),
    (np.concatenate([voice(220.0, 6.0), np.zeros(RATE * 20)]), "mostly_silence"),
])
def test_a_failed_analysis_names_the_problem_and_keeps_nothing(stack, samples, code):
    with stack.tenant() as client:
        voice_id = upload(client, wav(samples)).json()["id"]
        uri = recording_uri(stack, voice_id)
        body = wait_voice(client, voice_id)
        assert body["status"] == "failed" and body["error"]["code"] == code, body
        assert body["profile"] is None and body["links"]["preview"] is None
        assert not stored(stack, uri)


def test_a_failed_preview_compensates_the_preview_and_the_recording(stack):
    from tests.e2e.voice_providers import FAILING_NAME

    with stack.tenant() as client:
        voice_id = upload(client, wav(voice(220.0, 6.0)), name=FAILING_NAME).json()["id"]
        uri = recording_uri(stack, voice_id)
        body = wait_voice(client, voice_id)
        assert body["status"] == "failed" and body["error"]["code"] == "scripted_fatal", body
        assert body["error"]["stage"] == "voice_preview" and body["profile"] is None
        assert not stored(stack, uri)  # the analysis was compensated: it had taken the recording over
        assert not list((stack.workdir / "artifacts").glob(f"{voice_id}/**/*.*"))  # nothing of the voice is left


def test_cancel_a_voice_run(stack):
    with stack.tenant() as client:
        voice_id = upload(client, wav(np.tile(voice(200.0, 10.0), 11))).json()["id"]  # 110 s: a long analysis
        assert client.post(f"{BASE}/{voice_id}/cancel").status_code == 202
        assert client.get(f"{BASE}/{voice_id}").json()["status"] in ("cancelling", "cancelled")
        body = wait_voice(client, voice_id)
        assert body["status"] == "cancelled" and body["profile"] is None
        assert client.post(f"{BASE}/{voice_id}/cancel").status_code == 409
        assert client.delete(f"{BASE}/{voice_id}").status_code == 204


def test_the_web_page_records_previews_and_sings_with_the_voice(stack, tmp_path):
    """Headless Chromium records from a fake microphone playing a synthesised singer (MediaRecorder,
    WAV made in the page), the profile becomes ready and its preview plays, the compose form sings
    with it; a two-voice file upload fails naming the problem."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    from tenancy.keys import create_tenant
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    singer = tmp_path / "singer.wav"
    singer.write_bytes(wav(np.concatenate([voice(220.0, 9.0), np.zeros(RATE * 3)])))  # the fake mic loops it
    duet = tmp_path / "duet.wav"
    duet.write_bytes(wav(two_voices(8.0)))
    key = create_tenant(stack.sessions, f"web-{uuid.uuid4().hex[:8]}", rate_per_s=0, max_in_flight=0)
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={singer}"]
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       headless=True, args=args)
        context.grant_permissions(["microphone"])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(stack.url + "/")
        page.fill("#api-key", key)
        page.dispatch_event("#api-key", "change")
        page.click("#voice-record")
        page.wait_for_timeout(9000)
        page.click("#voice-record")
        page.wait_for_function("document.getElementById('voice-recorded').textContent.startsWith('recorded')",
                               timeout=10_000)
        page.fill("#voice-name", "sung in the browser")
        page.click("#voice-upload")
        page.wait_for_function("document.getElementById('voice-error').textContent.includes('consent')", timeout=10_000)
        page.check("#voice-consent")
        page.click("#voice-upload")
        page.wait_for_selector("#voice-list tr[data-status=ready]", timeout=120_000)
        page.wait_for_selector("#voice-list tr[data-status=ready] .voice-preview audio", timeout=20_000)
        duration = page.evaluate("""() => new Promise((resolve, reject) => {
            const audio = document.querySelector('#voice-list .voice-preview audio');
            if (audio.readyState >= 1) return resolve(audio.duration);
            audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
            audio.addEventListener('error', () => reject(new Error('preview error')));
        })""")
        assert 5 < duration < 20
        voice_id = page.get_attribute("#voice-list tr[data-status=ready]", "data-id")
        assert "Hz median" in page.text_content("#voice-list tr[data-status=ready] .voice-detail")
        page.click("#voice-list tr[data-status=ready] .voice-use")
        assert page.input_value("#voice") == voice_id
        page.fill("#duration", "15")
        page.click("#submit")
        page.wait_for_function("document.getElementById('overall-label').textContent === '100%'", timeout=300_000)

        page.set_input_files("#voice-file", str(duet))
        page.fill("#voice-name", "two of us")
        page.click("#voice-upload")
        page.wait_for_selector("#voice-list tr[data-status=failed]", timeout=120_000)
        page.wait_for_function("document.querySelector('#voice-list tr[data-status=failed] .voice-detail')"
                               ".textContent.startsWith('several_voices')", timeout=10_000)
        assert not errors, errors
        context.close()
    with httpx_client(stack, key) as client:
        cid = client.get("/api/v2/compositions").json()["items"][0]["id"]
        song = client.get(f"/api/v2/compositions/{cid}").json()
        assert song["status"] == "completed" and song["request"]["voice"] == voice_id


def httpx_client(stack, key: str):
    import httpx

    return httpx.Client(base_url=stack.url, headers={"X-API-Key": key}, timeout=10)


def test_the_cli_adds_lists_and_deletes_a_voice(stack, tmp_path):
    import subprocess
    import sys

    from tenancy.keys import create_tenant

    key = create_tenant(stack.sessions, f"cli-{uuid.uuid4().hex[:8]}", rate_per_s=0, max_in_flight=0)
    recording = tmp_path / "me.flac"
    sf.write(recording, voice(220.0, 6.0).astype(np.float32), RATE, format="FLAC")
    env = stack.env(CADENZA_API_URL=stack.url, CADENZA_API_KEY=key)

    def cadenza(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cadenza_cli.main", "voices", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)

    refused = cadenza("add", str(recording), "--name", "mine")
    assert refused.returncode == 2 and "--consent" in refused.stderr
    added = cadenza("add", str(recording), "--name", "mine", "--consent", "--out", str(tmp_path / "out"))
    assert added.returncode == 0, added.stderr
    voice_id = added.stdout.strip()
    assert "ready: median" in added.stderr and (tmp_path / "out" / "voices" / voice_id / "preview.wav").stat().st_size
    listed = cadenza("list")
    assert listed.stdout.split() == [voice_id, "ready", "mine"]
    assert cadenza("delete", voice_id).returncode == 0
    gone = cadenza("delete", voice_id)
    assert gone.returncode == 1 and "404" in gone.stderr
    bad = tmp_path / "short.wav"
    bad.write_bytes(wav(voice(220.0, 2.0)))
    short = cadenza("add", str(bad), "--name", "short", "--consent")
    assert short.returncode == 1 and "5 s" in short.stderr, short.stderr
