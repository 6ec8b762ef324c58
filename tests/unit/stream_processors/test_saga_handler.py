"""The saga's handler against plain dicts for its tables: state kept, wake-ups indexed, outputs routed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from composition.errors import InvalidInput
from composition.events import CompositionProgressed, StageRequested
from composition.models import StageName
from composition.saga_state import SagaState, Tick
from infra.topics import COMPENSATIONS, EVENTS, Topics
from stream_processors.saga.handler import TICK_RESEND_S, SagaHandler, tick_for
from tests.unit.composition.saga_fakes import T0, Inputs, saga_policy

TOPICS = Topics("t.")


def handler() -> tuple[SagaHandler, dict, dict]:
    sagas, wakeups = {}, {}
    return SagaHandler(saga_policy(), TOPICS, sagas, wakeups), sagas, wakeups


def test_a_request_stores_state_indexes_the_plan_deadline_and_routes_the_outputs():
    h, sagas, wakeups = handler()
    inputs = Inputs()
    out = h.handle(inputs.requested(), T0)
    key = str(inputs.composition_id).encode()
    state = SagaState.model_validate_json(sagas[key])
    assert state.phase == "running" and state.stage(StageName.PLAN).status == "running"
    assert float(wakeups[key]) == state.stage(StageName.PLAN).deadline_at.timestamp()
    routes = {type(o.event): o.topic for o in out}
    assert routes[StageRequested] == "t.compositions.stage-requests.plan"
    assert routes[CompositionProgressed] == TOPICS.name(EVENTS)
    assert key in h.in_flight


def test_due_ticks_once_until_the_resend_interval_then_again():
    h, _, wakeups = handler()
    inputs = Inputs()
    h.handle(inputs.requested(), T0)
    key = str(inputs.composition_id).encode()
    deadline = float(wakeups[key])
    assert h.due(deadline - 1) == []
    assert h.due(deadline + 0.1) == [key]
    assert h.due(deadline + 0.2) == []  # ticked already, not processed yet
    assert h.due(deadline + 0.2 + TICK_RESEND_S) == [key]


def test_a_tick_past_the_deadline_retries_and_a_finished_composition_leaves_the_index():
    h, sagas, wakeups = handler()
    inputs = Inputs()
    h.handle(inputs.requested(), T0)
    key = str(inputs.composition_id).encode()
    plan_deadline = SagaState.model_validate_json(sagas[key]).stage(StageName.PLAN).deadline_at
    out = h.handle(Tick(composition_id=inputs.composition_id), plan_deadline + timedelta(seconds=1))
    assert any(o.event.status == "retrying" for o in out if isinstance(o.event, CompositionProgressed))
    retry_at = SagaState.model_validate_json(sagas[key]).stage(StageName.PLAN).next_retry_at
    assert float(wakeups[key]) == retry_at.timestamp()
    out = h.handle(Tick(composition_id=inputs.composition_id), retry_at)
    assert [o.event.attempt for o in out if isinstance(o.event, StageRequested)] == [2]
    # a permanent failure of attempt 2: nothing completed, so nothing to undo, and the composition ends
    h.handle(inputs.failed(StageName.PLAN, attempt=2, retryable=False), retry_at + timedelta(seconds=1))
    assert SagaState.model_validate_json(sagas[key]).phase == "failed"
    assert key not in wakeups and key not in h.in_flight


def test_compensation_requests_go_to_the_compensations_topic():
    h, sagas, _ = handler()
    inputs = Inputs()
    out = h.handle(inputs.requested(), T0)
    plan = next(o.event for o in out if isinstance(o.event, StageRequested))
    out = h.handle(inputs.completing(plan), T0 + timedelta(seconds=1))
    running = [o.event for o in out if isinstance(o.event, StageRequested)]  # harmony and lyrics
    h.handle(inputs.cancel(), T0 + timedelta(seconds=2))
    out = [o for request in running for o in h.handle(inputs.completing(request), T0 + timedelta(seconds=3))]
    compensations = [o for o in out if type(o.event).__name__ == "CompensationRequested"]
    assert compensations and {o.topic for o in compensations} == {TOPICS.name(COMPENSATIONS)}


def test_a_bad_tick_is_invalid_input_with_its_reason():
    with pytest.raises(InvalidInput) as error:
        tick_for(b"not a uuid")
    assert error.value.reason == "bad_tick"
    assert tick_for(b"00000000-0000-0000-0000-000000000001").composition_id.int == 1
