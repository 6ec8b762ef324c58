"""Property tests: the saga against simulated workers that succeed, fail, hang, duplicate and reorder.

A :class:`Simulation` plays every other party: workers answer StageRequested and CompensationRequested
with random outcomes (some duplicated, some late, some never), time passes in random jumps, a user
may cancel, and already-delivered messages are delivered again. After a random run it drains
everything and ticks far into the future. The invariants are checked on every transition.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from composition.events import (
    CompensationRequested,
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    StageCompensated,
    StageCompleted,
    StageRequested,
)
from composition.models import SONG_STAGES, StageName
from composition.pipeline import needs_of, stages_for
from composition.policy import SagaPolicy
from composition.retry import Backoff
from composition.saga import transition
from composition.saga_state import SagaState, Tick, next_wakeup
from tests.unit.composition.saga_fakes import T0, Inputs, saga_policy

TERMINAL = (CompositionCompleted, CompositionFailed, CompositionCancelled)
TICK_JUMPS_S = (0.1, 1, 3, 10, 40, 120, 400)


class Simulation:
    def __init__(self, rnd: random.Random, instrumental: bool, policy: SagaPolicy, cancel_rate: float) -> None:
        self.rnd = rnd
        # the id comes from the drawn randomness: a uuid4 would change the retry jitter (a hash of the id)
        # from one replay of an example to the next, and hypothesis would see a different run
        self.inputs = Inputs(composition_id=uuid.UUID(int=rnd.getrandbits(128), version=4), instrumental=instrumental)
        self.policy = policy
        self.cancel_rate = cancel_rate
        self.stages = stages_for(self.inputs.request)
        self.state: SagaState | None = None
        self.now = T0
        self.network: list = []  # messages on their way to the saga, delivered in random order
        self.hung: list = []  # results of hung attempts, maybe released late
        self.delivered: list = []
        self.log: list = []  # (input, now) in delivery order, for replay
        self.emitted: list = []
        self.last_progress = 0.0
        self.completed_seen: set[StageName] = set()  # stages some StageCompleted was delivered for
        self.compensation_order: list[StageName] = []
        self.confirmed: set[StageName] = set()

    # ------------------------------------------------------------ driving

    def deliver(self, message) -> None:
        self.delivered.append(message)
        self.log.append((message, self.now))
        if isinstance(message, StageCompleted):
            self.completed_seen.add(message.stage)
        if isinstance(message, StageCompensated) and message.stage in self.compensation_order:
            self.confirmed.add(message.stage)
        self.state, outputs = transition(self.state, message, self.now, self.policy)
        if self.state is not None:
            assert SagaState.model_validate_json(self.state.model_dump_json()) == self.state
        for output in outputs:
            self.check(output)
            self.emitted.append(output)
            self.respond(output)

    def tick(self, jump_s: float) -> None:
        self.now += timedelta(seconds=jump_s)
        released = [m for m in self.hung if self.rnd.random() < 0.3]
        self.hung = [m for m in self.hung if m not in released]
        self.network += released
        self.deliver(Tick(composition_id=self.inputs.composition_id))

    def respond(self, output) -> None:
        """What the workers do with a command."""
        rnd = self.rnd
        if isinstance(output, StageRequested):
            roll = rnd.random()
            if roll < 0.55:
                replies = [self.inputs.completing(output)]
            elif roll < 0.8:
                replies = [self.inputs.failed(output.stage, output.attempt, retryable=True)]
            elif roll < 0.83:
                replies = [self.inputs.failed(output.stage, output.attempt, retryable=False)]
            else:
                if rnd.random() < 0.7:
                    self.hung.append(self.inputs.completing(output))
                return
            if rnd.random() < 0.1:
                replies *= 2
            self.network += replies
        elif isinstance(output, CompensationRequested):
            if rnd.random() < 0.9:
                self.network += [self.inputs.compensated(output.stage)] * (2 if rnd.random() < 0.1 else 1)

    def run(self, steps: int) -> None:
        rnd = self.rnd
        if rnd.random() < 0.05:
            self.deliver(self.inputs.cancel())
        self.deliver(self.inputs.requested())
        for _ in range(steps):
            roll = rnd.random()
            if roll < self.cancel_rate:
                self.deliver(self.inputs.cancel())
            elif roll < 0.75 and self.network:
                self.deliver(self.network.pop(rnd.randrange(len(self.network))))
            elif roll < 0.82 and self.delivered:
                self.deliver(rnd.choice(self.delivered))  # a duplicate, maybe of a stale attempt
            else:
                self.tick(rnd.choice(TICK_JUMPS_S))
        self.drain()

    def drain(self) -> None:
        """Deliver everything, release every hung result, tick until nothing is timed any more."""
        for _ in range(5000):
            if self.network:
                self.deliver(self.network.pop(self.rnd.randrange(len(self.network))))
            elif self.hung:
                self.network += self.hung
                self.hung = []
            elif (wakeup := next_wakeup(self.state)) is not None:
                self.tick(max(0.0, (wakeup - self.now).total_seconds()))
            else:
                return
        raise AssertionError("the saga did not settle")

    # ------------------------------------------------------------ invariants

    def terminals(self) -> list:
        return [o for o in self.emitted if isinstance(o, TERMINAL)]

    def check(self, output) -> None:
        ended = bool(self.terminals())
        if isinstance(output, TERMINAL):
            assert not ended, "a second terminal event"
        if isinstance(output, StageRequested):
            assert not ended, "a stage requested after the end"
            assert output.stage in self.stages
            for need in needs_of(output.stage, self.stages):
                assert output.context.section(need) is not None, f"{output.stage} dispatched before {need}"
        if isinstance(output, CompositionProgressed):
            assert output.progress >= self.last_progress, "progress went backward"
            self.last_progress = output.progress
        if isinstance(output, CompensationRequested):
            assert output.stage in self.completed_seen, f"{output.stage} compensated without completing"
            assert output.stage not in self.compensation_order, f"{output.stage} compensated twice"
            self.compensation_order.append(output.stage)
        if isinstance(output, (CompositionFailed, CompositionCancelled)):
            assert set(output.compensated) <= self.confirmed
            if not output.compensation_timed_out:
                assert set(self.compensation_order) <= self.confirmed, "ended before compensations were confirmed"
            assert not [n for n, s in self.state.stages.items() if s.status == "completed"], "a completed stage left"
        if isinstance(output, CompositionCompleted):
            assert not self.compensation_order
            assert all(output.context.section(stage) is not None for stage in self.stages)

    def check_final(self) -> None:
        terminals = self.terminals()
        assert len(terminals) == 1, f"{len(terminals)} terminal events"
        assert self.state.terminal and next_wakeup(self.state) is None
        if isinstance(terminals[0], CompositionCompleted):
            return
        accepted = [n for n, s in self.state.stages.items() if s.status in ("compensating", "compensated")]
        assert sorted(accepted) == sorted(self.compensation_order)
        assert not [n for n, s in self.state.stages.items() if s.status == "completed"]
        position = {stage: i for i, stage in enumerate(self.compensation_order)}
        for stage in self.compensation_order:
            for need in needs_of(stage, self.stages):
                if need in position and not self.state.stage(stage).late:
                    assert position[stage] < position[need], f"{need} compensated before {stage}, which needs it"


POLICIES = st.sampled_from(
    [
        saga_policy(backoff=Backoff(base_s=0.5, cap_s=20)),
        saga_policy({s: ("primary", "backup") for s in SONG_STAGES}, backoff=Backoff(base_s=1, cap_s=60)),
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rnd=st.randoms(use_true_random=False),
    instrumental=st.booleans(),
    policy=POLICIES,
    steps=st.integers(min_value=0, max_value=150),
    cancel_rate=st.sampled_from([0.0, 0.0, 0.003, 0.02]),
)
def test_every_composition_ends_once_and_undoes_exactly_what_completed(rnd, instrumental, policy, steps, cancel_rate):
    sim = Simulation(rnd, instrumental, policy, cancel_rate)
    sim.run(steps)
    sim.check_final()
    terminal = sim.terminals()[0]
    event(type(terminal).__name__ + (" (compensation timed out)" if getattr(terminal, "compensation_timed_out", 0) else ""))
    event("a late result was compensated" if any(s.late for s in sim.state.stages.values()) else "no late result")


@settings(max_examples=30, deadline=None)
@given(rnd=st.randoms(use_true_random=False), steps=st.integers(min_value=0, max_value=80))
def test_replaying_the_same_inputs_gives_the_same_outputs_and_state(rnd, steps):
    sim = Simulation(rnd, False, saga_policy(), cancel_rate=0.01)
    sim.run(steps)
    state, replayed = None, []
    for message, now in sim.log:
        state, outputs = transition(state, message, now, sim.policy)
        replayed += outputs
    assert replayed == sim.emitted
    assert state == sim.state
