"""The language-model lyricist against a fake OpenAI-compatible server (a real HTTP server on loopback:
the model is an outside service, so a fake is right here)."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from composition.models import CompositionContext, StageName
from lyricists.llm import LlmLyricist, LlmSettings, prompt, registry
from music.errors import StageError
from music.plan import make_plan
from music.rhythm import fits
from storage.local import LocalArtifactStore
from tests.unit.music.symbolic_songs import request

LINES = ["I drive the road into the summer sun", "The windows down, the radio is on",
         "We sing along to every song we know", "And leave the little town so far below",
         "Oh the highway is calling me", "Out to the open sea"]


class FakeModel(BaseHTTPRequestHandler):
    mode = "ok"
    seen: list[dict] = []

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeModel.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if FakeModel.mode == "500":
            self.send_response(500)
            self.end_headers()
            return
        if FakeModel.mode == "slow":
            time.sleep(1.5)
        asked = body["messages"][-1]["content"]
        wanted = re.findall(r'"(\w+)": \d+ lines of ([\d, ]+) syllables', asked)
        sections = {name: self.lines_for([int(x) for x in counts.split(", ")]) for name, counts in wanted}
        content = "this is not json" if FakeModel.mode == "bad" else json.dumps({"sections": sections})
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    @staticmethod
    def lines_for(counts: list[int]) -> list[str]:
        from music.fitlines import fit_line
        pool = LINES + [" ".join(line.split()[:n]) for line in LINES for n in range(2, 9)]
        return [next((l for l in pool if fit_line(l, count)), LINES[0]) for count in counts]


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def run(url: str, mode: str, timeout: float = 5.0):
    FakeModel.mode = mode
    req = request("pop-happy", duration_s=30)
    plan = make_plan(req)
    ctx = CompositionContext(request=req, plan=plan)
    provider = LlmLyricist(LlmSettings(url=url, model="fake", api_key="k", timeout_s=timeout))
    return plan, provider.run(ctx, LocalArtifactStore("/tmp/cadenza-llm-test"), "ns")


def test_lines_come_back_fitted_to_the_slots(server):
    FakeModel.seen.clear()
    plan, lyrics = run(server, "ok")
    form = {s.name: s for s in plan.form}
    assert lyrics.sections and FakeModel.seen[0]["path"] == "/v1/chat/completions"
    assert FakeModel.seen[0]["auth"] == "Bearer k" and FakeModel.seen[0]["body"]["model"] == "fake"
    for section in lyrics.sections:
        assert [len(line.syllables) for line in section.lines] == form[section.section].phrase_syllables
        assert all(fits([s.stress for s in line.syllables], 4) for line in section.lines)
        assert all(any(w in line.text.lower() for w in ("road", "radio", "sing", "town", "highway", "sea", "window"))
                   for line in section.lines)


@pytest.mark.parametrize("mode, code", [("bad", "llm_bad_answer"), ("500", "llm_unavailable"), ("slow", "llm_unavailable")])
def test_every_failure_is_retryable_and_never_falls_back_inside(server, mode, code):
    with pytest.raises(StageError) as err:
        run(server, mode, timeout=0.5)
    assert err.value.code == code and err.value.retryable


def test_unreachable_endpoint_is_retryable():
    with pytest.raises(StageError) as err:
        run("http://127.0.0.1:9/v1", "ok", timeout=0.5)
    assert err.value.code == "llm_unavailable" and err.value.retryable


def test_registry_puts_the_llm_first_only_when_configured(server):
    names = lambda reg: [p.name for p in reg.providers_for(StageName.LYRICS)]
    assert names(registry(settings=LlmSettings(url=server))) == ["llm", "bank"]
    plain = registry(settings=LlmSettings(url=None))
    assert names(plain) == ["bank"] and "lyrics/llm" in plain.unavailable


def test_prompt_names_every_section_and_the_hook():
    req = request("pop-happy", duration_s=60)
    plan = make_plan(req)
    text = prompt(CompositionContext(request=req, plan=plan), plan)
    assert "chorus" in text and "summer road trip with friends" in text.lower()
