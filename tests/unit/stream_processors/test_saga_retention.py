"""The saga's retention against dict tables: a finished composition's state is purged ``keep_s`` after
its end (state, wake-up and purge entry deleted, CompositionPurged to the stage workers), and nothing
that comes afterwards brings it back."""

from __future__ import annotations

from datetime import timedelta

from composition.events import (
    CompositionCompleted,
    CompositionFailed,
    CompositionPurged,
    RevisionRequested,
    StageRequested,
)
from composition.models import StageName
from composition.saga_state import SagaState, Tick
from infra.topics import COMPENSATIONS, Topics
from stream_processors.saga.handler import SagaHandler
from tests.unit.composition.saga_fakes import T0, TENANT, Inputs, saga_policy

TOPICS = Topics("t.")
KEEP_S = 3600.0


def retaining() -> tuple[SagaHandler, dict, dict, dict]:
    sagas, wakeups, purges = {}, {}, {}
    return SagaHandler(saga_policy(), TOPICS, sagas, wakeups, purges=purges, keep_s=KEEP_S), sagas, wakeups, purges


def complete(h: SagaHandler, inputs: Inputs) -> SagaState:
    """Run a composition to its end, each stage completing at once (the first attempt of each)."""
    pending = [o.event for o in h.handle(inputs.requested(), T0) if isinstance(o.event, StageRequested)]
    while pending:
        command = pending.pop(0)
        out = h.handle(inputs.completing(command), T0 + timedelta(seconds=1))
        pending += [o.event for o in out if isinstance(o.event, StageRequested)]
    key = str(inputs.composition_id).encode()
    return SagaState.model_validate_json(h.sagas[key])


def test_a_finished_composition_is_purged_once_its_retention_has_passed():
    h, sagas, wakeups, purges = retaining()
    inputs = Inputs()
    key = str(inputs.composition_id).encode()
    state = complete(h, inputs)
    assert state.phase == "completed" and key not in wakeups
    purge_at = state.ended_at + timedelta(seconds=KEEP_S)
    assert float(purges[key]) == purge_at.timestamp()
    assert h.due_purges(purge_at.timestamp() - 1) == []
    assert h.due_purges(purge_at.timestamp()) == [key]
    # a tick before the retention has passed changes nothing
    assert h.handle(Tick(composition_id=inputs.composition_id), purge_at - timedelta(seconds=1)) == []
    assert key in sagas
    [out] = h.handle(Tick(composition_id=inputs.composition_id), purge_at)
    assert key not in sagas and key not in purges and key not in wakeups
    assert out.topic == TOPICS.name(COMPENSATIONS) and isinstance(out.event, CompositionPurged)
    assert out.event.attempts == {name.value: st.attempt for name, st in state.stages.items() if st.attempt}
    assert out.event.attempts["master"] == 1


def test_a_revision_after_the_purge_is_refused_and_stores_nothing():
    h, sagas, _, _ = retaining()
    inputs = Inputs()
    state = complete(h, inputs)
    purge_at = state.ended_at + timedelta(seconds=KEEP_S)
    h.handle(Tick(composition_id=inputs.composition_id), purge_at)
    revision = RevisionRequested(composition_id=inputs.composition_id, tenant_id=TENANT, occurred_at=purge_at,
                                 revision=1, stage=StageName.MASTER, request=inputs.request)
    [refused] = [o.event for o in h.handle(revision, purge_at + timedelta(seconds=1))]
    assert isinstance(refused, CompositionFailed) and refused.revision == 1
    assert refused.error.code == "revision_refused" and "purged" in refused.error.message
    assert sagas == {}


def test_a_redelivered_request_after_the_purge_does_not_start_the_composition_again():
    h, sagas, _, purges = retaining()
    inputs = Inputs()
    state = complete(h, inputs)
    purge_at = state.ended_at + timedelta(seconds=KEEP_S)
    h.handle(Tick(composition_id=inputs.composition_id), purge_at)
    assert h.handle(inputs.requested(), purge_at + timedelta(seconds=1)) == []  # requested at T0: too old
    # a late result or tick of the purged composition changes nothing either
    assert h.handle(inputs.completed(StageName.MASTER, attempt=2), purge_at) == []
    assert h.handle(Tick(composition_id=inputs.composition_id), purge_at) == []
    assert sagas == {} and purges == {}
    # a fresh request (within the retention) still starts
    assert any(isinstance(o.event, StageRequested) for o in h.handle(Inputs().requested(), T0))


def test_a_cancel_whose_request_never_comes_is_dropped_after_the_retention():
    h, sagas, _, purges = retaining()
    inputs = Inputs()
    key = str(inputs.composition_id).encode()
    assert h.handle(inputs.cancel(), T0) == []
    assert SagaState.model_validate_json(sagas[key]).phase == "awaiting_request"
    assert float(purges[key]) == (T0 + timedelta(seconds=KEEP_S)).timestamp()
    h.handle(inputs.cancel("again"), T0 + timedelta(seconds=10))  # the first instant stays
    assert float(purges[key]) == (T0 + timedelta(seconds=KEEP_S)).timestamp()
    assert h.handle(Tick(composition_id=inputs.composition_id), T0 + timedelta(seconds=KEEP_S)) == []
    assert sagas == {} and purges == {}


def test_a_revision_moves_the_purge_to_the_end_of_the_latest_run():
    h, sagas, _, purges = retaining()
    inputs = Inputs()
    key = str(inputs.composition_id).encode()
    complete(h, inputs)
    later = T0 + timedelta(seconds=600)
    revision = RevisionRequested(composition_id=inputs.composition_id, tenant_id=TENANT, occurred_at=later,
                                 revision=1, stage=StageName.MASTER, request=inputs.request)
    [command] = [o.event for o in h.handle(revision, later) if isinstance(o.event, StageRequested)]
    assert key not in purges  # a run in flight is never purged
    out = h.handle(inputs.completing(command).model_copy(update={"attempt": command.attempt}), later)
    assert any(isinstance(o.event, CompositionCompleted) for o in out)
    assert float(purges[key]) == (later + timedelta(seconds=KEEP_S)).timestamp()


def test_without_a_retention_nothing_is_purged():
    sagas, wakeups = {}, {}
    h = SagaHandler(saga_policy(), TOPICS, sagas, wakeups)
    inputs = Inputs()
    state = complete(h, inputs)
    assert h.due_purges((state.ended_at + timedelta(days=3650)).timestamp()) == []
    assert h.handle(Tick(composition_id=inputs.composition_id), state.ended_at + timedelta(days=3650)) == []
    assert str(inputs.composition_id).encode() in sagas
