"""The saga and stage workers as real processes on the real broker, stage behaviour scripted through
the provider router (tests/integration/fake_providers.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from composition.models import SONG_STAGES, StageName
from infra.net import free_port
from infra.topics import REQUESTS
from tests.integration.pipeline_harness import Pipeline

S = StageName
SUNG_ORDER = [S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER]


@pytest.fixture(scope="module")
def pipeline(bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """One saga and one all-stages worker shared by this module's tests (compositions are independent)."""
    pipe = Pipeline(bootstrap_servers, tmp_path_factory.mktemp("pipeline"), extra_env={
        "CADENZA_SAGA_PROVIDERS": ";".join(f"{s.value}=local,backup" for s in SONG_STAGES),
        "CADENZA_DEADLINE_SCALE": "0.1",  # vocals 30 s, harmony 3 s: a scripted hang of 6 s overruns
    })
    pipe.metrics_ports = {"saga": free_port(), "stages": free_port()}
    pipe.start_saga(pipe.metrics_ports["saga"])
    pipe.start_stages(pipe.metrics_ports["stages"])
    yield pipe
    pipe.close()


def scrape(port: int) -> dict[str, float]:
    """Prometheus text format -> {'name{labels}': value}."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def total(samples: dict[str, float], prefix: str, **labels: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(prefix)
               and all(f'{key}="{val}"' in k for key, val in labels.items()))


def completed_stages(pipe: Pipeline, cid) -> list[StageName]:
    return [e.stage for e in pipe.of_type(cid, "StageCompleted", source="results")]


def test_happy_path_through_the_whole_dag(pipeline: Pipeline) -> None:
    cid = pipeline.request()
    terminal = pipeline.wait_terminal(cid, timeout=90)
    assert type(terminal).__name__ == "CompositionCompleted"
    context = terminal.context
    assert all(context.section(s) is not None for s in SUNG_ORDER)
    assert sorted(completed_stages(pipeline, cid)) == sorted(SUNG_ORDER)
    progress = [e.progress for e in pipeline.of_type(cid, "CompositionProgressed")]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    # the stage DAG's joins: melody only after harmony and lyrics, master last
    order = completed_stages(pipeline, cid)
    assert order.index(S.MELODY) > max(order.index(S.HARMONY), order.index(S.LYRICS))
    assert order[-1] is S.MASTER
    assert (pipeline.artifact_dir / str(cid)).is_dir()


def test_instrumental_skips_lyrics_and_vocals(pipeline: Pipeline) -> None:
    cid = pipeline.request(instrumental=True)
    terminal = pipeline.wait_terminal(cid, timeout=90)
    assert type(terminal).__name__ == "CompositionCompleted"
    assert set(completed_stages(pipeline, cid)) == set(SUNG_ORDER) - {S.LYRICS, S.VOCALS}


def test_a_stage_that_fails_twice_then_succeeds(pipeline: Pipeline) -> None:
    cid = pipeline.request("script: harmony@local=fail:2")
    terminal = pipeline.wait_terminal(cid, timeout=90)
    assert type(terminal).__name__ == "CompositionCompleted"
    failures = pipeline.of_type(cid, "StageFailed", source="results")
    assert [(f.stage, f.attempt, f.provider) for f in failures] == [(S.HARMONY, 1, "local"), (S.HARMONY, 2, "local")]
    harmony = [e for e in pipeline.of_type(cid, "StageCompleted", source="results") if e.stage is S.HARMONY]
    assert [(h.attempt, h.provider) for h in harmony] == [(3, "local")]


def test_a_failing_provider_falls_back_to_the_next(pipeline: Pipeline) -> None:
    cid = pipeline.request("script: render@local=fail:always")
    terminal = pipeline.wait_terminal(cid, timeout=120)
    assert type(terminal).__name__ == "CompositionCompleted"
    render = [e for e in pipeline.of_type(cid, "StageCompleted", source="results") if e.stage is S.RENDER]
    assert [r.provider for r in render] == ["backup"]
    failed = [f for f in pipeline.of_type(cid, "StageFailed", source="results") if f.stage is S.RENDER]
    assert failed and all(f.provider == "local" for f in failed)


def test_a_stage_that_hangs_past_its_deadline_is_retried(pipeline: Pipeline) -> None:
    cid = pipeline.request("script: harmony=hang:6")
    terminal = pipeline.wait_terminal(cid, timeout=120)
    assert type(terminal).__name__ == "CompositionCompleted"
    harmony = [e for e in pipeline.of_type(cid, "StageCompleted", source="results") if e.stage is S.HARMONY]
    assert harmony and harmony[-1].attempt >= 2
    progressed = pipeline.of_type(cid, "CompositionProgressed")
    assert any(st.stage is S.HARMONY and st.attempt >= 2 for e in progressed for st in e.stages)


def test_permanent_failure_compensates_completed_stages_in_reverse(pipeline: Pipeline) -> None:
    cid = pipeline.request("script: master=fatal")
    terminal = pipeline.wait_terminal(cid, timeout=120)
    assert type(terminal).__name__ == "CompositionFailed"
    assert terminal.stage is S.MASTER and not terminal.error.retryable
    compensated = [e.stage for e in pipeline.of_type(cid, "StageCompensated", source="results")]
    assert sorted(compensated) == sorted(set(SUNG_ORDER) - {S.MASTER})
    assert sorted(terminal.compensated) == sorted(compensated)
    # children before parents: reverse dependency order
    assert compensated.index(S.RENDER) < compensated.index(S.ARRANGEMENT) < compensated.index(S.MELODY)
    assert compensated.index(S.MELODY) < compensated.index(S.PLAN)
    # their artifacts are gone
    assert not [p for p in (pipeline.artifact_dir / str(cid)).rglob("*") if p.is_file()]


def test_cancel_mid_flight(pipeline: Pipeline) -> None:
    cid = pipeline.request("script: vocals=hang:8")
    pipeline.wait_for(lambda: S.ARRANGEMENT in completed_stages(pipeline, cid), 90, "arrangement to complete")
    pipeline.cancel(cid)
    terminal = pipeline.wait_terminal(cid, timeout=90)
    assert type(terminal).__name__ == "CompositionCancelled"
    completed = set(completed_stages(pipeline, cid))
    compensated = {e.stage for e in pipeline.of_type(cid, "StageCompensated", source="results")}
    assert completed <= compensated | {S.VOCALS}  # a late vocals result is compensated too, if it came
    assert S.MASTER not in completed


def test_duplicated_result_and_poison_messages_are_harmless(pipeline: Pipeline) -> None:
    pipeline.publish_raw(REQUESTS, b"poison", b"\xc3\x01 definitely not avro")
    cid = pipeline.request()
    pipeline.wait_for(lambda: S.PLAN in completed_stages(pipeline, cid), 60, "plan to complete")
    from infra.topics import STAGE_RESULTS

    plan_result = [e for e in pipeline.of_type(cid, "StageCompleted", source="results") if e.stage is S.PLAN][0]
    pipeline.publisher.publish(pipeline.prefix + STAGE_RESULTS, plan_result)  # the same result again
    pipeline.publisher.flush()
    terminal = pipeline.wait_terminal(cid, timeout=90)
    assert type(terminal).__name__ == "CompositionCompleted"
    requested_plan = [e for e in pipeline.of_type(cid, "CompositionProgressed") if e.stage is S.HARMONY]
    assert requested_plan  # the DAG went on once
    from infra.topics import DLQ
    from tests.integration.kafka_helpers import consume

    letters = consume(pipeline.bootstrap, [pipeline.prefix + DLQ], "dlq-reader-" + pipeline.prefix, 1, timeout=10)
    assert letters and letters[0].key() == b"poison"


def test_processes_export_prometheus_metrics(pipeline: Pipeline) -> None:
    """After the tests above (failures, a hang, compensation, a poison message) the counters show it."""
    saga, stages = scrape(pipeline.metrics_ports["saga"]), scrape(pipeline.metrics_ports["stages"])
    assert total(saga, "cadenza_events_in_total", type="CompositionRequested") >= 8
    assert total(saga, "cadenza_events_out_total", type="CompositionCompleted") >= 6
    assert total(saga, "cadenza_stage_retries_total", stage="harmony") >= 2
    assert total(saga, "cadenza_stage_timeouts_total", stage="harmony") >= 1
    assert total(saga, "cadenza_stage_failures_total", stage="master", code="scripted_fatal") >= 1
    assert total(saga, "cadenza_compensations_total", phase="requested") >= 7
    assert total(saga, "cadenza_dead_letters_total") >= 1
    assert total(saga, "cadenza_composition_duration_seconds_count") >= 6
    assert total(stages, "cadenza_stage_duration_seconds_count", stage="render", provider="backup") >= 1
    assert total(stages, "cadenza_compensations_total", phase="done") >= 7
    assert "cadenza_compositions_in_flight" in saga
    assert any(k.startswith("cadenza_consumer_lag_messages") for k in stages)


def all_complete(pipe: Pipeline, ids: list, timeout: float = 180) -> None:
    for cid in ids:
        terminal = pipe.wait_terminal(cid, timeout=timeout)
        assert type(terminal).__name__ == "CompositionCompleted"


def test_kill_9_of_worker_and_saga_mid_run(bootstrap_servers: str, tmp_path: Path) -> None:
    pipe = Pipeline(bootstrap_servers, tmp_path, extra_env={"CADENZA_DEADLINE_SCALE": "0.2"})
    try:
        saga = pipe.start_saga()
        stages = pipe.start_stages()
        ids = [pipe.request("script: render=hang:4") for _ in range(3)]
        pipe.wait_for(lambda: all(S.ARRANGEMENT in completed_stages(pipe, cid) for cid in ids), 120,
                      "arrangements to complete")
        stages.kill9()
        stages.name = "killed"
        saga.kill9()
        saga.name = "killed"
        pipe.start_stages()
        pipe.start_saga()
        all_complete(pipe, ids)
    finally:
        pipe.close()


def scale_out_then_in(bootstrap_servers: str, tmp_path: Path, before_the_leave: Callable) -> None:
    """Six compositions on one worker; a second joins mid-run, ``before_the_leave(pipe, second, ids)``,
    then the first leaves cleanly; every composition ends once. The saga's queue bound is its default
    30 minutes, so a request a rebalance strands fails the test instead of being sent again."""
    pipe = Pipeline(bootstrap_servers, tmp_path, extra_env={"CADENZA_DEADLINE_SCALE": "0.2"})
    try:
        pipe.start_saga()
        first = pipe.start_stages()
        ids = [pipe.request("script: render=hang:2") for _ in range(6)]
        pipe.wait_for(lambda: any(S.PLAN in completed_stages(pipe, cid) for cid in ids), 90, "a plan to complete")
        second = pipe.start("stages", "stage", "all", env={"CADENZA_LOG_LEVEL": "info"})  # scale out
        before_the_leave(pipe, second, ids)
        first.stop()  # scale in: a clean leave, another rebalance
        first.name = "killed"
        all_complete(pipe, ids)
    finally:
        pipe.close()


def test_scaling_out_and_in_rebalances_without_losing_work(bootstrap_servers: str, tmp_path: Path) -> None:
    """Two stage workers share the partitions; one joins mid-run and another leaves: faust rebalances
    under exactly-once (the path of the known 0.13-0.14 AttributeError) and every composition ends once."""
    def joined_then_half_done(pipe: Pipeline, second, ids: list) -> None:
        # the join done (it holds partitions, its tables restored) before the leave
        pipe.wait_for(lambda: "Worker ready" in second.log.read_text(errors="replace"), 120, "the second worker ready")
        pipe.wait_for(lambda: sum(S.ARRANGEMENT in completed_stages(pipe, cid) for cid in ids) >= 3, 120,
                      "half the arrangements")
    scale_out_then_in(bootstrap_servers, tmp_path, joined_then_half_done)


def test_a_leave_during_a_join_strands_no_request(bootstrap_servers: str, tmp_path: Path) -> None:
    """The first worker leaves 2 s into the second's join: two rebalances back to back, with records
    fetched and dropped between them. A request at offset 0 of a partition nothing was committed for was
    never run (aiokafka sought such a partition nowhere; faust_fixes)."""
    scale_out_then_in(bootstrap_servers, tmp_path, lambda pipe, second, ids: time.sleep(2))
