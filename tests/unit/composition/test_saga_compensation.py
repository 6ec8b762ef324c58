"""The saga's way back: compensation after a terminal failure or a cancel."""

from datetime import timedelta

from composition.events import (
    CompensationRequested,
    CompositionCancelled,
    CompositionFailed,
    StageRequested,
)
from composition.models import StageName as S
from composition.pipeline import spec_of
from composition.saga_state import next_wakeup
from tests.unit.composition.saga_fakes import Driver, Inputs

FORWARD = (S.PLAN, S.HARMONY, S.LYRICS, S.MELODY)


def compensations(outputs):
    return [o.stage for o in outputs if isinstance(o, CompensationRequested)]


def driver_failing_at_arrangement() -> Driver:
    """plan..melody and vocals completed, then arrangement fails for good."""
    d = Driver()
    d.start()
    d.complete(*FORWARD, S.VOCALS)
    return d


def test_terminal_failure_compensates_completed_stages_in_waves_of_reverse_dependency_order():
    d = driver_failing_at_arrangement()
    outputs = d.send(d.inputs.failed(S.ARRANGEMENT, retryable=False, code="bad_midi"))
    assert compensations(outputs) == [S.VOCALS]  # melody waits for vocals, which needs it
    assert d.of_type(CompositionFailed) == []
    vocals = d.of_type(CompensationRequested, outputs)[0]
    assert [a.name for a in vocals.artifacts] == ["vocals.wav"]  # the claim check travels with it
    assert compensations(d.send(d.inputs.compensated(S.VOCALS))) == [S.MELODY]
    assert compensations(d.send(d.inputs.compensated(S.MELODY))) == [S.LYRICS, S.HARMONY]  # in parallel
    assert compensations(d.send(d.inputs.compensated(S.LYRICS))) == []
    assert compensations(d.send(d.inputs.compensated(S.HARMONY))) == [S.PLAN]
    outputs = d.send(d.inputs.compensated(S.PLAN))
    failed = d.of_type(CompositionFailed, outputs)
    assert len(failed) == 1
    assert failed[0].stage is S.ARRANGEMENT and failed[0].error.code == "bad_midi"
    assert failed[0].compensated == [S.VOCALS, S.MELODY, S.LYRICS, S.HARMONY, S.PLAN]
    assert failed[0].compensation_timed_out is False
    assert d.state.phase == "failed" and next_wakeup(d.state) is None


def test_no_stage_is_requested_once_failure_began():
    d = driver_failing_at_arrangement()
    d.send(d.inputs.failed(S.ARRANGEMENT, retryable=False))
    before = len(d.of_type(StageRequested))
    d.send(d.inputs.compensated(S.VOCALS))
    d.tick(d.now + timedelta(hours=1))
    assert len(d.of_type(StageRequested)) == before


def test_compensation_deadline_ends_the_composition_and_says_so():
    d = driver_failing_at_arrangement()
    d.send(d.inputs.failed(S.ARRANGEMENT, retryable=False))
    deadline = d.state.stage(S.VOCALS).compensation_deadline_at
    assert next_wakeup(d.state) == deadline
    assert d.tick(deadline - timedelta(milliseconds=1)) == []
    outputs = d.tick(deadline)
    assert compensations(outputs) == [S.MELODY, S.LYRICS, S.HARMONY, S.PLAN]  # the rest, all at once, in order
    failed = d.of_type(CompositionFailed, outputs)
    assert len(failed) == 1 and failed[0].compensation_timed_out is True and failed[0].compensated == []
    assert d.send(d.inputs.compensated(S.VOCALS)) == []  # a late confirmation changes nothing visible


def test_duplicate_compensation_confirmations_are_harmless():
    d = driver_failing_at_arrangement()
    d.send(d.inputs.failed(S.ARRANGEMENT, retryable=False))
    d.send(d.inputs.compensated(S.VOCALS))
    state = d.state
    assert d.send(d.inputs.compensated(S.VOCALS)) == [] and d.state == state
    assert d.send(d.inputs.compensated(S.PLAN)) == [] and d.state == state  # not requested yet


def test_cancel_compensates_and_ends_cancelled():
    d = Driver()
    d.start()
    d.complete(S.PLAN, S.HARMONY, S.LYRICS)
    outputs = d.send(d.inputs.cancel("no longer needed"))
    assert compensations(outputs) == []  # melody is running: wait for it before undoing its needs
    assert d.state.phase == "compensating"
    outputs = d.complete(S.MELODY)
    assert compensations(outputs) == [S.MELODY]
    assert d.of_type(StageRequested, outputs) == []
    outputs = d.send(d.inputs.compensated(S.MELODY))
    assert compensations(outputs) == [S.LYRICS, S.HARMONY]
    d.send(d.inputs.compensated(S.HARMONY))
    plan = d.send(d.inputs.compensated(S.LYRICS))
    assert compensations(plan) == [S.PLAN]
    outputs = d.send(d.inputs.compensated(S.PLAN))
    cancelled = d.of_type(CompositionCancelled, outputs)
    assert len(cancelled) == 1 and cancelled[0].reason == "no longer needed"
    assert cancelled[0].compensated == [S.MELODY, S.LYRICS, S.HARMONY, S.PLAN]
    assert d.of_type(CompositionFailed) == []


def test_cancel_before_any_result_ends_once_the_running_stage_settles():
    d = Driver()
    d.start()
    d.send(d.inputs.cancel())
    assert d.of_type(CompositionCancelled) == []
    outputs = d.send(d.inputs.failed(S.PLAN))  # the running attempt fails: nothing to undo
    assert len(d.of_type(CompositionCancelled, outputs)) == 1 and compensations(outputs) == []


def test_a_running_stage_is_abandoned_at_its_deadline():
    d = Driver()
    d.start()
    d.complete(S.PLAN)
    d.send(d.inputs.cancel())
    assert d.of_type(CompositionCancelled) == []
    deadline = max(d.last_request(S.HARMONY).deadline_at, d.last_request(S.LYRICS).deadline_at)
    assert compensations(d.tick(deadline)) == [S.PLAN]
    d.send(d.inputs.compensated(S.PLAN))
    assert len(d.of_type(CompositionCancelled)) == 1


def test_a_result_after_the_end_is_compensated_at_once():
    d = Driver()
    d.start()
    d.complete(S.PLAN)
    d.send(d.inputs.cancel())
    d.tick(d.now + timedelta(seconds=spec_of(S.LYRICS).deadline_s))
    d.send(d.inputs.compensated(S.PLAN))
    assert d.state.phase == "cancelled"
    outputs = d.complete(S.HARMONY)
    assert compensations(outputs) == [S.HARMONY] and len(outputs) == 1
    assert d.state.stage(S.HARMONY).late is True
    assert d.complete(S.HARMONY) == []  # a duplicate is not compensated twice
    assert d.send(d.inputs.compensated(S.HARMONY)) == []


def test_cancel_after_the_end_is_ignored_and_cancel_twice_is_one_cancel():
    d = Driver()
    d.start()
    d.send(d.inputs.failed(S.PLAN, retryable=False))
    state = d.state
    assert d.send(d.inputs.cancel()) == [] and d.state == state
    d2 = Driver()
    d2.start()
    d2.complete(S.PLAN)
    d2.send(d2.inputs.cancel())
    state = d2.state
    assert d2.send(d2.inputs.cancel("again")) == [] and d2.state == state


def test_cancel_while_a_stage_waits_to_retry_gives_the_retry_up():
    d = Driver()
    d.start()
    d.complete(S.PLAN)
    d.send(d.inputs.failed(S.HARMONY))
    d.send(d.inputs.failed(S.LYRICS))
    outputs = d.send(d.inputs.cancel())
    assert compensations(outputs) == [S.PLAN]
    d.tick(d.now + timedelta(hours=1))
    assert [o for o in d.of_type(StageRequested) if o.attempt > 1] == []


def test_cancel_overtaking_its_request_ends_it_before_any_work():
    inputs = Inputs()
    d = Driver(inputs)
    assert d.send(inputs.cancel("too late")) == []
    assert d.state.phase == "awaiting_request"
    outputs = d.start()
    assert d.of_type(StageRequested, outputs) == []
    cancelled = d.of_type(CompositionCancelled, outputs)
    assert len(cancelled) == 1 and cancelled[0].reason == "too late" and cancelled[0].compensated == []
    assert d.start() == []
