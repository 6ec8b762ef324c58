"""One short song through the whole stack with the real music engine (music.registry)."""

from __future__ import annotations

import io
import wave

import pytest

from tests.e2e.stack import REQUEST

pytestmark = pytest.mark.e2e
PROVIDERS = "music.registry:default_registry"


def test_a_real_song_through_the_api(stack):
    with stack.tenant() as client:
        cid = client.post("/api/v2/compositions", json={**REQUEST, "duration_s": 15, "theme": "city lights"}).json()["id"]
        end = stack.wait_terminal(client, cid, timeout=240)
        assert end["type"] == "CompositionCompleted", end
        body = client.get(f"/api/v2/compositions/{cid}").json()
        quality = body["quality"]
        assert -20 < quality["integrated_lufs"] < -8 and quality["true_peak_dbtp"] <= 0
        names = {a["name"]: a for a in body["artifacts"]}
        assert {"master.wav", "vocals.wav"} <= set(names)
        with wave.open(io.BytesIO(client.get(names["master.wav"]["url"]).content)) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        assert abs(seconds - quality["duration_s"]) < 0.5
        assert {s["stage"] for s in body["stages"] if s["status"] == "completed"} == {
            "plan", "harmony", "lyrics", "melody", "arrangement", "vocals", "render", "master"}
