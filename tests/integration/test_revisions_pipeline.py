"""Revisions through the real saga and stage workers (fake providers): only the chosen stage and what
depends on it run, the kept sections and their files are byte-identical, a failed or cancelled revision
compensates its own files and leaves the composition as it was, kill -9 mid-revision loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from composition.models import SONG_STAGES, StageName
from storage.local import LocalArtifactStore
from tests.integration.pipeline_harness import Pipeline

pytestmark = pytest.mark.integration
S = StageName
ALL = [S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER]


@pytest.fixture(scope="module")
def pipeline(bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipe = Pipeline(bootstrap_servers, tmp_path_factory.mktemp("revisions"), extra_env={
        "CADENZA_SAGA_PROVIDERS": ";".join(f"{s.value}=local,backup" for s in SONG_STAGES),
        "CADENZA_DEADLINE_SCALE": "0.2",
    })
    pipe.start_saga()
    pipe.start_stages()
    yield pipe
    pipe.close()


def composed(pipe: Pipeline, theme: str = "a revised song"):
    cid = pipe.request(theme)
    first = pipe.wait_terminal(cid, timeout=90)
    assert type(first).__name__ == "CompositionCompleted"
    return cid, first


def stages_after(pipe: Pipeline, cid, event) -> list[StageName]:
    """The stages that completed after ``event`` (a revision's own work)."""
    results = pipe.results[cid]
    seen_at = next(i for i, e in enumerate(results) if e.occurred_at >= event.occurred_at)
    return [e.stage for e in results[seen_at:] if type(e).__name__ == "StageCompleted"]


def test_a_master_only_revision_runs_only_master_and_leaves_every_other_artifact_untouched(pipeline: Pipeline):
    cid, first = composed(pipeline)
    pipeline.revise(cid, "master", {"mix": {"lufs": -12}})
    done = pipeline.wait_terminal(cid, timeout=90, revision=1)
    assert type(done).__name__ == "CompositionCompleted" and done.stages_run == [S.MASTER]
    assert stages_after(pipeline, cid, first) == [S.MASTER]
    for stage in set(ALL) - {S.MASTER}:
        assert done.context.section(stage).model_dump_json() == first.context.section(stage).model_dump_json()
    new, old = done.context.master.outputs[0], first.context.master.outputs[0]
    assert new.uri != old.uri and f"{cid}.r1" in new.uri
    store = LocalArtifactStore(pipeline.artifact_dir)
    assert store.get(old.uri) and store.get(new.uri)  # the earlier revision's file is still there


def test_a_lyrics_revision_reruns_from_lyrics_and_keeps_plan_and_harmony_byte_identical(pipeline: Pipeline):
    cid, first = composed(pipeline)
    pipeline.revise(cid, "lyrics", {"lyrics": "words of my own\nsung again"})
    done = pipeline.wait_terminal(cid, timeout=90, revision=1)
    assert type(done).__name__ == "CompositionCompleted", done
    assert set(done.stages_run) == {S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER}
    assert sorted(stages_after(pipeline, cid, first)) == sorted(done.stages_run)
    for stage in (S.PLAN, S.HARMONY):
        assert done.context.section(stage).model_dump_json() == first.context.section(stage).model_dump_json()
    assert done.context.request.lyrics.startswith("words of my own")


def test_a_failing_revision_compensates_its_new_artifacts_and_leaves_the_composition_as_it_was(pipeline: Pipeline):
    cid, first = composed(pipeline)
    pipeline.revise(cid, "lyrics", {"theme": "script: render=fatal"})
    failed = pipeline.wait_terminal(cid, timeout=90, revision=1)
    assert type(failed).__name__ == "CompositionFailed" and failed.stage is S.RENDER
    assert set(failed.compensated) == {S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS}
    store = LocalArtifactStore(pipeline.artifact_dir)
    for artifact in [first.context.arrangement.midi, first.context.vocals.audio, *first.context.master.outputs]:
        assert store.get(artifact.uri)  # the current revision's files are untouched
    revision_files = [p for p in pipeline.artifact_dir.glob(f"{cid}.r1/**/*") if p.is_file()]
    assert revision_files == []  # and the failed revision's own are gone
    pipeline.revise(cid, "master", {"mix": {"lufs": -12}}, number=2)  # the composition takes revisions again
    assert type(pipeline.wait_terminal(cid, timeout=90, revision=2)).__name__ == "CompositionCompleted"


def test_cancel_mid_revision(pipeline: Pipeline):
    cid, _ = composed(pipeline)
    pipeline.revise(cid, "lyrics", {"theme": "script: render=hang:8"})
    pipeline.wait_for(lambda: S.ARRANGEMENT in stages_after(pipeline, cid, pipeline.terminal(cid)[0]), 60,
                      "the revision's arrangement")
    pipeline.cancel(cid, revision=1)
    cancelled = pipeline.wait_terminal(cid, timeout=90, revision=1)
    assert type(cancelled).__name__ == "CompositionCancelled"
    assert S.ARRANGEMENT in cancelled.compensated


def test_kill_9_of_the_saga_and_the_worker_during_a_revision(bootstrap_servers: str, tmp_path: Path):
    pipe = Pipeline(bootstrap_servers, tmp_path, extra_env={"CADENZA_DEADLINE_SCALE": "0.2"})
    try:
        saga, stages = pipe.start_saga(), pipe.start_stages()
        cid, first = composed(pipe)
        pipe.revise(cid, "lyrics", {"theme": "script: render=hang:4"})
        pipe.wait_for(lambda: S.ARRANGEMENT in stages_after(pipe, cid, first), 90, "the revision's arrangement")
        stages.kill9()
        stages.name = "killed"
        saga.kill9()
        saga.name = "killed"
        pipe.start_stages()
        pipe.start_saga()
        done = pipe.wait_terminal(cid, timeout=180, revision=1)  # exactly one terminal event for the revision
        assert type(done).__name__ == "CompositionCompleted", done
        assert pipe.wait_terminal(cid, timeout=5) == first  # and still one for the composition itself
    finally:
        pipe.close()
