"""The saga's handler: one input in, the composition's state updated, the messages to publish out.

It wraps the pure transition function (``composition.saga.transition``) with what the process
keeps: each composition's state in a table (JSON), the next wake-up per composition in a second
table (so timers survive a restart), and which wake-ups were already ticked. The tables are any
``MutableMapping[bytes, bytes]``: faust's changelog-backed tables in the process, dicts in unit tests.

Retention (``keep_s``): a finished composition gets its purge instant, its end plus ``keep_s``, in a
third table (``purges``, scanned far less often than the wake-ups, which stay as small as the work in
flight); the tick sent then deletes its state, wake-up and purge entry (tombstones on the tables'
compacted changelogs, in the transaction that consumes the tick, so exactly-once holds) and sends
CompositionPurged to the stage workers, which forget its finished attempts. A state waiting for its request (a cancel came first)
is dropped ``keep_s`` after it was made. What may come afterwards cannot bring a purged composition
back to life: a start request older than ``keep_s`` is dropped (a purged composition's request is
always older: it ended ``keep_s`` ago), a revision is refused (no state), results and ticks of an
unknown composition change nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import MutableMapping
from datetime import datetime, timedelta

from composition.circuit import CircuitBreaker
from composition.errors import InvalidInput
from composition.events import (
    CompensationRequested,
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionPurged,
    CompositionRequested,
    Envelope,
    SetRequested,
    StageCompleted,
    StageFailed,
    StageRequested,
    VoiceRequested,
)
from composition.policy import SagaPolicy
from composition.saga import SagaInput, transition
from composition.saga_state import SagaState, Tick, next_wakeup
from infra.topics import COMPENSATIONS, EVENTS, Topics
from stream_processors import metrics as m
from stream_processors.inbox import Outgoing

log = logging.getLogger("cadenza.saga")

TICK_RESEND_S = 5.0
"""A due wake-up whose tick has not been processed yet is ticked again after this long."""


def tick_for(value: bytes) -> Tick:
    """A tick message (the composition id as text) as the saga's Tick input."""
    try:
        return Tick(composition_id=uuid.UUID(value.decode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"a saga tick must be a composition id, got {value[:60]!r}", reason="bad_tick") from exc


class SagaHandler:
    """``breaker`` sees every attempt's outcome; the policy each transition gets skips open circuits."""

    def __init__(self, policy: SagaPolicy, topics: Topics, sagas: MutableMapping[bytes, bytes],
                 wakeups: MutableMapping[bytes, bytes], breaker: CircuitBreaker | None = None,
                 purges: MutableMapping[bytes, bytes] | None = None, keep_s: float | None = None) -> None:
        self.policy = policy
        self.purges = purges
        self.keep_s = keep_s if purges is not None else None
        self.topics = topics
        self.sagas = sagas
        self.wakeups = wakeups
        self.breaker = breaker or CircuitBreaker()
        self.in_flight: set[bytes] = set()
        self._ticked: dict[bytes, float] = {}

    def handle(self, message: SagaInput, now: datetime) -> list[Outgoing]:
        """Apply one input at ``now``; store the new state and wake-up; return what to publish."""
        key = str(message.composition_id).encode()
        stored = self.sagas.get(key)
        state = SagaState.model_validate_json(stored) if stored else None
        if isinstance(message, Tick) and self._expired(key, state, now):
            return self._purge(key, state)
        if state is None and self._too_old(message, now):
            log.warning("dropped %s of %s: older than the retention of %.0f s (a purged composition's)",
                        type(message).__name__, message.composition_id, self.keep_s)
            m.EXPIRED_INPUTS.inc()
            return []
        self._record_outcome(message, now)
        policy = self.policy.model_copy(update={"open_circuits": self.breaker.skipped(now)})
        new_state, outputs = transition(state, message, now, policy)
        if new_state is not None and new_state is not state:
            self.sagas[key] = new_state.model_dump_json().encode()
        self._index_wakeup(key, new_state)
        self._index_purge(key, new_state, now)
        self._observe(message, state, new_state, outputs, key)
        return [Outgoing(self._route(output), output) for output in outputs]

    def _record_outcome(self, message: SagaInput, now: datetime) -> None:
        """A completed attempt closes its provider's circuit; a failure that says something about the
        provider (retryable: an outage, a timeout, a crash) counts towards opening it."""
        if isinstance(message, StageCompleted):
            self.breaker.record(message.stage, message.provider, True, now)
        elif isinstance(message, StageFailed) and message.error.retryable:
            self.breaker.record(message.stage, message.provider, False, now)

    def due(self, now_s: float) -> list[bytes]:
        """Keys of compositions whose wake-up has passed and that were not ticked in the last few seconds."""
        due, overdue, oldest = [], 0, 0.0
        for key, when in list(self.wakeups.items()):
            late = now_s - float(when)
            if late >= 0 and self._ticked.get(key, 0.0) < now_s - TICK_RESEND_S:
                self._ticked[key] = now_s
                due.append(key)
            if late > m.OVERDUE_AFTER_S:
                overdue += 1
                oldest = max(oldest, late)
        m.OVERDUE.set(overdue)
        m.OLDEST_OVERDUE.set(oldest)
        return due

    def _index_wakeup(self, key: bytes, state: SagaState | None) -> None:
        wake = next_wakeup(state)
        current = self.wakeups.get(key)
        if wake is not None:
            value = str(wake.timestamp()).encode()
            if value != current:  # each write is a changelog message in the transaction
                self.wakeups[key] = value
        elif current is not None:
            del self.wakeups[key]
        self._ticked.pop(key, None)

    # ------------------------------------------------------------ retention

    def due_purges(self, now_s: float) -> list[bytes]:
        """Keys of compositions whose purge instant has passed (each is ticked; the tick purges it)."""
        if self.purges is None:
            return []
        return [key for key, when in list(self.purges.items()) if float(when) <= now_s]

    def _index_purge(self, key: bytes, state: SagaState | None, now: datetime) -> None:
        """A finished composition is purged ``keep_s`` after its end, one waiting for its request ``keep_s``
        after it was first stored; a running one has no purge instant."""
        if self.purges is None or self.keep_s is None:
            return
        current = self.purges.get(key)
        when = None
        if state is not None and state.terminal and state.ended_at is not None:
            when = str((state.ended_at + timedelta(seconds=self.keep_s)).timestamp()).encode()
        elif state is not None and state.phase == "awaiting_request":
            when = current or str((now + timedelta(seconds=self.keep_s)).timestamp()).encode()
        if when is not None and when != current:
            self.purges[key] = when
        elif when is None and current is not None:
            del self.purges[key]

    def _expired(self, key: bytes, state: SagaState | None, now: datetime) -> bool:
        """Whether this tick is the purge of a long-finished (or never requested) composition."""
        if self.keep_s is None or self.purges is None or state is None:
            return False
        when = self.purges.get(key)
        waiting = state.terminal or state.phase == "awaiting_request"
        return waiting and when is not None and now.timestamp() >= float(when)

    def _too_old(self, message: SagaInput, now: datetime) -> bool:
        """A start request for a composition the saga does not know, older than the retention: it can only
        belong to a composition already purged (or one that waited longer than any topic keeps it)."""
        return (self.keep_s is not None and isinstance(message, CompositionRequested | VoiceRequested | SetRequested)
                and message.occurred_at < now - timedelta(seconds=self.keep_s))

    def _purge(self, key: bytes, state: SagaState) -> list[Outgoing]:
        """Delete the composition's state and wake-up (tombstones in this transaction); tell the workers."""
        del self.sagas[key]
        for table in (self.wakeups, self.purges):
            if table is not None and table.get(key) is not None:
                del table[key]
        self._ticked.pop(key, None)
        self.in_flight.discard(key)
        m.PURGED.inc()
        attempts = {name.value: st.attempt for name, st in state.stages.items() if st.attempt > 0}
        if not attempts:
            return []
        purged = CompositionPurged(event_id=uuid.uuid5(state.composition_id, "purged"),
                                   composition_id=state.composition_id, tenant_id=state.tenant_id, attempts=attempts)
        return [Outgoing(self.topics.name(COMPENSATIONS), purged)]

    def _route(self, output: Envelope) -> str:
        if isinstance(output, StageRequested):
            return self.topics.stage_requests(output.stage)
        if isinstance(output, CompensationRequested):
            return self.topics.name(COMPENSATIONS)
        return self.topics.name(EVENTS)

    def _observe(self, message: SagaInput, old: SagaState | None, state: SagaState | None,
                 outputs: list[Envelope], key: bytes) -> None:
        if isinstance(message, StageFailed):
            m.FAILURES.labels(message.stage.value, message.error.code).inc()
        for output in outputs:
            if isinstance(output, StageRequested):
                if output.attempt > 1:
                    m.RETRIES.labels(output.stage.value).inc()
            elif isinstance(output, CompensationRequested):
                m.COMPENSATIONS.labels(output.stage.value, "requested").inc()
            elif isinstance(output, CompositionCompleted):
                m.END_TO_END.observe(output.duration_ms / 1000)
                m.TERMINAL.labels("completed").inc()
            elif isinstance(output, CompositionFailed):
                m.TERMINAL.labels("failed").inc()
            elif isinstance(output, CompositionCancelled):
                m.TERMINAL.labels("cancelled").inc()
        if isinstance(message, Tick) and state is not None and old is not None:
            for name, st in state.stages.items():
                before = old.stages.get(name)
                if (st.last_error is not None and st.last_error.code == "deadline_exceeded"
                        and (before is None or before.last_error != st.last_error or before.attempt != st.attempt)):
                    m.TIMEOUTS.labels(name.value).inc()
        if state is not None and not state.terminal and state.phase != "awaiting_request":
            self.in_flight.add(key)
        else:
            self.in_flight.discard(key)
        m.IN_FLIGHT.set(len(self.in_flight))
