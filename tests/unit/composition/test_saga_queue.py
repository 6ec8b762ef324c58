"""Deadlines measure the work, not the queue: an attempt's own deadline starts when a worker starts
it (StageStarted); until then it may wait up to the policy's queue bound. A cancel does not wait for
attempts no worker has started."""

from __future__ import annotations

from datetime import timedelta

from composition.events import CompensationRequested, CompositionCancelled
from composition.models import StageName as S
from composition.pipeline import spec_of
from tests.unit.composition.saga_fakes import T0, Driver, saga_policy

RUN_S = spec_of(S.PLAN).deadline_s


def queued() -> Driver:
    d = Driver(policy=saga_policy(queue_timeout_s=600), auto_start=False)
    d.start()
    return d


def test_an_attempt_waiting_in_the_queue_does_not_expire_at_its_run_deadline():
    d = queued()
    d.tick(T0 + timedelta(seconds=RUN_S * 3))
    assert d.state.stage(S.PLAN).status == "running" and d.state.stage(S.PLAN).attempt == 1
    d.tick(T0 + timedelta(seconds=600 + RUN_S))  # lost in the queue: the bound on waiting plus the run
    assert d.state.stage(S.PLAN).status == "retrying"
    assert d.state.stage(S.PLAN).last_error.code == "deadline_exceeded"


def test_the_deadline_counts_from_when_a_worker_starts():
    d = queued()
    start = T0 + timedelta(seconds=200)
    d.send(d.inputs.started(d.last_request(S.PLAN), at=start), at=start)
    assert d.state.stage(S.PLAN).started_at == start
    assert d.state.stage(S.PLAN).deadline_at == start + timedelta(seconds=RUN_S)
    d.tick(start + timedelta(seconds=RUN_S - 1))
    assert d.state.stage(S.PLAN).status == "running"
    d.tick(start + timedelta(seconds=RUN_S))
    assert d.state.stage(S.PLAN).status == "retrying"


def test_a_stale_or_repeated_start_changes_nothing():
    d = queued()
    request = d.last_request(S.PLAN)
    first = T0 + timedelta(seconds=10)
    d.send(d.inputs.started(request, at=first), at=first)
    before = d.state
    d.send(d.inputs.started(request, at=first + timedelta(seconds=50)))  # the same attempt again: ignored
    assert d.state == before
    stale = request.model_copy(update={"attempt": 7})
    d.send(d.inputs.started(stale, at=first))
    assert d.state == before


def test_a_cancel_does_not_wait_for_attempts_no_worker_started():
    d = queued()
    d.send(d.inputs.started(d.last_request(S.PLAN)))
    d.complete(S.PLAN)  # harmony and lyrics are dispatched and wait in the queue
    outputs = d.send(d.inputs.cancel())
    compensated = [o.stage for o in outputs if isinstance(o, CompensationRequested)]
    assert compensated == [S.PLAN]  # nothing to wait for: the queued attempts are abandoned
    assert d.state.stage(S.HARMONY).abandoned and d.state.stage(S.LYRICS).abandoned
    d.send(d.inputs.compensated(S.PLAN))
    assert len(d.of_type(CompositionCancelled)) == 1
    late = d.send(d.inputs.completing(d.last_request(S.HARMONY)))  # a worker ran it anyway: undone on arrival
    assert [o.stage for o in late if isinstance(o, CompensationRequested)] == [S.HARMONY]
