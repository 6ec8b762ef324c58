"""The DAG declaration and its helpers."""

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

from composition.models import SONG_STAGES
from composition.models import StageName as S
from composition.pipeline import (
    PIPELINE,
    WORKFLOWS,
    dependents_of,
    needs_of,
    ready_stages,
    reverse_dependency_order,
    spec_of,
    stages_for,
)
from composition.policy import SagaPolicy
from composition.retry import Backoff, jitter_fraction, retry_delay
from tests.unit.composition.saga_fakes import request

SUNG = request(instrumental=False)
INSTRUMENTAL = request(instrumental=True)


@pytest.mark.parametrize("flow", WORKFLOWS.values(), ids=lambda f: f.name)
def test_every_workflow_declares_its_stages_once_in_topological_order(flow):
    names = [spec.name for spec in flow.specs]
    assert len(names) == len(set(names))
    for index, spec in enumerate(flow.specs):
        assert all(need in names[:index] for need in spec.needs)
    assert set(flow.context_type.STAGE_FIELDS) == set(names)  # its context has a section for each


def test_every_stage_belongs_to_a_workflow_and_the_song_stages_are_the_pipeline():
    assert {spec.name for flow in WORKFLOWS.values() for spec in flow.specs} == set(S)
    assert tuple(spec.name for spec in PIPELINE) == SONG_STAGES


def test_sung_request_runs_every_stage():
    assert stages_for(SUNG) == (S.PLAN, S.HARMONY, S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER)


def test_instrumental_request_skips_lyrics_and_vocals_and_their_edges():
    stages = stages_for(INSTRUMENTAL)
    assert S.LYRICS not in stages and S.VOCALS not in stages
    assert needs_of(S.MELODY, stages) == (S.HARMONY,)
    assert needs_of(S.MASTER, stages) == (S.RENDER,)


def test_ready_stages_follow_the_dag():
    assert ready_stages((), (), SUNG) == (S.PLAN,)
    assert ready_stages((S.PLAN,), (), SUNG) == (S.HARMONY, S.LYRICS)
    assert ready_stages((S.PLAN, S.HARMONY), (S.LYRICS,), SUNG) == ()  # melody joins harmony and lyrics
    assert ready_stages((S.PLAN, S.HARMONY, S.LYRICS), (), SUNG) == (S.MELODY,)
    done = (S.PLAN, S.HARMONY, S.LYRICS, S.MELODY)
    assert ready_stages(done, (), SUNG) == (S.ARRANGEMENT, S.VOCALS)
    assert ready_stages((*done, S.ARRANGEMENT, S.VOCALS), (), SUNG) == (S.RENDER,)
    assert ready_stages((*done, S.ARRANGEMENT, S.RENDER), (S.VOCALS,), SUNG) == ()
    assert ready_stages((S.PLAN, S.HARMONY), (), INSTRUMENTAL) == (S.MELODY,)


def test_reverse_dependency_order_puts_dependents_first():
    order = reverse_dependency_order([S.PLAN, S.MELODY, S.MASTER, S.HARMONY, S.RENDER])
    assert order == [S.MASTER, S.RENDER, S.MELODY, S.HARMONY, S.PLAN]
    for later, stage in enumerate(order):
        assert not any(dep in order[later:] for dep in dependents_of(stage, order))


def test_heavy_stages_weigh_more():
    assert spec_of(S.RENDER).weight > spec_of(S.PLAN).weight
    assert spec_of(S.VOCALS).weight > spec_of(S.HARMONY).weight
    assert spec_of(S.MASTER).weight > spec_of(S.MELODY).weight


def test_the_chain_is_the_catalog_in_preferred_order_filtered_by_capabilities():
    from composition.models import CompositionRequest, GenreWeight, Mood
    from composition.providers import ProviderInfo

    catalog = {S.RENDER: (ProviderInfo(stage=S.RENDER, name="fluidsynth"), ProviderInfo(stage=S.RENDER, name="sine")),
               S.LYRICS: (ProviderInfo(stage=S.LYRICS, name="llm"),
                          ProviderInfo(stage=S.LYRICS, name="bank", capabilities=frozenset({"user-lyrics"})))}
    policy = SagaPolicy(catalog=catalog, order={S.RENDER: ("sine",)})
    assert policy.chain(S.RENDER) == ("sine", "fluidsynth")
    assert policy.chain(S.PLAN) == ()  # nothing registered: no chain (the saga fails the stage, naming it)
    own_words = CompositionRequest(mood=Mood.from_label("sad"), genres=[GenreWeight(genre="folk", weight=1.0)],
                                   theme="rain", duration_s=30, lyrics="my own words")
    assert policy.chain(S.LYRICS) == ("llm", "bank") and policy.chain(S.LYRICS, own_words) == ("bank",)
    with pytest.raises(ValidationError, match="order"):
        SagaPolicy(order={S.RENDER: ()})


def test_backoff_grows_exponentially_to_the_cap_with_bounded_jitter():
    backoff = Backoff(base_s=1.0, factor=2.0, cap_s=5.0, jitter=0.5)
    cid = uuid.uuid4()
    delays = [retry_delay(backoff, cid, S.RENDER, attempt=n, retry_number=n) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        raw = min(5.0, 2.0 ** (n - 1))
        assert timedelta(seconds=raw * 0.5) <= delay <= timedelta(seconds=raw)


def test_jitter_is_deterministic_and_spread():
    cid = uuid.uuid4()
    assert jitter_fraction(cid, S.PLAN, 1) == jitter_fraction(cid, S.PLAN, 1)
    values = {jitter_fraction(uuid.uuid4(), S.PLAN, 1) for _ in range(50)}
    assert len(values) == 50 and all(0 <= v < 1 for v in values)
