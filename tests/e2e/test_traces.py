"""One composition is one trace: every process of the stack writes its spans as JSON lines
(CADENZA_TRACE_DIR, the console exporter's format into a file per process), and the spans of one
POST form one connected tree over the API, the relay, the saga, the stage worker, its process pool,
the projector and analytics."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator

import pytest

from composition.models import SONG_STAGES
from tests.e2e.stack import REQUEST, Stack

pytestmark = pytest.mark.e2e


class TracedStack(Stack):
    def env(self, **extra: str) -> dict[str, str]:
        return super().env(CADENZA_TRACE_DIR=str(self.workdir / "traces"), **extra)


@pytest.fixture(scope="module")
def traced(bootstrap_servers: str, postgres_server: str, tmp_path_factory) -> Iterator[TracedStack]:
    from infra.stack import fresh_database

    with fresh_database(postgres_server, "cadenza_traces") as url:
        stack = TracedStack(bootstrap_servers, url, tmp_path_factory.mktemp("traced"))
        try:
            stack.up()
            yield stack
        finally:
            stack.down()


def spans_of(folder, trace_id: str) -> list[dict]:
    spans = []
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                span = json.loads(line)
                if span["context"]["trace_id"] == "0x" + trace_id:
                    spans.append(span)
    return spans


def test_one_composition_is_one_trace_from_post_to_master(traced):
    trace_id, root = uuid.uuid4().hex, os.urandom(8).hex()
    with traced.tenant() as client:
        created = client.post("/api/v2/compositions", json=REQUEST, headers={"traceparent": f"00-{trace_id}-{root}-01"})
        assert created.status_code == 202, created.text
        assert traced.wait_terminal(client, created.json()["id"])["type"] == "CompositionCompleted"

    def services(spans):
        return {s["resource"]["attributes"]["service.name"] for s in spans}

    wanted = {"api", "relay", "cadenza-saga", "cadenza-stage-all", "stage-pool", "projector", "analytics"}
    deadline = time.monotonic() + 30
    while not wanted <= services(spans := spans_of(traced.workdir / "traces", trace_id)):
        assert time.monotonic() < deadline, f"services in the trace: {services(spans)}\n{traced.logs()}"
        time.sleep(0.5)
    names = [s["name"] for s in spans]
    assert "POST /api/v2/compositions" in names
    for stage in SONG_STAGES:
        assert f"attempt {stage.value} #1" in names and f"run {stage.value}" in names, stage
    assert names.count("saga CompositionRequested") == 1
    assert names.count("saga StageCompleted") == len(SONG_STAGES)
    assert names.count("stage-all StageRequested") == len(SONG_STAGES)
    assert any(n == "projector " + traced.prefix + "compositions.events" for n in names)
    # one tree: every span's parent is our root or another span of the trace
    ids = {s["context"]["span_id"] for s in spans}
    orphans = [s["name"] for s in spans if s["parent_id"] not in ids and s["parent_id"] != "0x" + root]
    assert orphans == []
    [post] = [s for s in spans if s["name"] == "POST /api/v2/compositions" and s["kind"] == "SpanKind.SERVER"]
    assert post["parent_id"] == "0x" + root
    pool = [s for s in spans if s["resource"]["attributes"]["service.name"] == "stage-pool"]
    by_id = {s["context"]["span_id"]: s for s in spans}
    assert all(by_id[s["parent_id"]]["name"].startswith("attempt ") for s in pool)
