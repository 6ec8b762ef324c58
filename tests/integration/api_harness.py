"""The API in-process (Starlette's TestClient) against the session's real PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from producers.outbox import OutboxMessage
from schemas.serde import decode
from tenancy.keys import create_tenant

REQUEST = {"mood": "happy", "genres": [{"genre": "pop", "weight": 0.7}, {"genre": "funk", "weight": 0.3}],
           "theme": "a summer road trip", "duration_s": 60, "seed": 7}


@dataclass
class Api:
    client: TestClient
    app: object
    artifact_dir: Path

    @property
    def sessions(self):
        return self.app.state.sessions

    def tenant(self, *, rate_per_s: float = 0, burst: int = 1000, max_in_flight: int = 0) -> tuple[str, dict[str, str]]:
        """A fresh tenant; returns its id and the headers that authenticate as it."""
        tenant_id = f"t-{uuid.uuid4().hex[:10]}"
        key = create_tenant(self.sessions, tenant_id, rate_per_s=rate_per_s, burst=burst, max_in_flight=max_in_flight)
        return tenant_id, {"X-API-Key": key}

    def project(self, tenant: str, cid: str | uuid.UUID, ending: str | None = "completed") -> None:
        """What the projector makes of the saga's events: two progress events, then ``ending``
        (completed, cancelled or None); the projector itself is tested in test_projector.py."""
        from composition.events import CompositionCancelled, CompositionCompleted
        from infra.database import transaction
        from readmodel.projection import project
        from storage.local import LocalArtifactStore

        composition_id = uuid.UUID(str(cid))
        events = progress_events(composition_id, tenant)
        if ending == "completed":
            context = completed_context(LocalArtifactStore(self.artifact_dir), composition_id)
            events.append(CompositionCompleted(composition_id=composition_id, tenant_id=tenant, context=context,
                                               duration_ms=1234))
        elif ending == "cancelled":
            events.append(CompositionCancelled(composition_id=composition_id, tenant_id=tenant, reason="test",
                                               compensated=[]))
        with transaction(self.sessions) as session:
            for event in events:
                project(session, event)

    def outbox(self, topic_suffix: str, composition_id: str | uuid.UUID) -> list:
        with self.sessions() as session:
            rows = session.execute(select(OutboxMessage).where(OutboxMessage.key == str(composition_id).encode())
                                   .order_by(OutboxMessage.id)).scalars().all()
        return [decode(r.value) for r in rows if r.topic.endswith(topic_suffix)]


@pytest.fixture
def api(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CADENZA_TOPIC_PREFIX", f"api{uuid.uuid4().hex[:6]}.")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # tests that need Kafka say so
    settings = ApiSettings(artifact_dir=tmp_path / "artifacts", key_cache_s=0, sse_poll_s=0.05)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, app, settings.artifact_dir)


@pytest.fixture
def fresh_database(postgres_server: str) -> Iterator[str]:
    """A database of this test's own (migrated): for tests that read the whole outbox."""
    from infra.stack import fresh_database

    with fresh_database(postgres_server, "cadenza_own") as url:
        yield url


def completed_context(store, composition_id: uuid.UUID):
    """A full context (fake sections; the arrangement, vocals, stems and master really stored)."""
    from composition.models import (
        SONG_STAGES,
        CompositionContext,
        CompositionRequest,
        GenreWeight,
        Mood,
    )
    from tests.integration.fake_providers import section

    request = CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)],
                                 theme="a test", duration_s=30)
    context = CompositionContext(request=request)
    for stage in SONG_STAGES:
        context = context.with_section(stage, section(stage, store, str(composition_id), "local"))
    return context


def progress_events(composition_id: uuid.UUID, tenant: str):
    """Two progress events, then the completion (with a real stored master)."""
    from composition.events import CompositionProgressed, StageProgress
    from composition.models import SONG_STAGES, StageName

    stages = [StageProgress(stage=s, status="pending") for s in SONG_STAGES]
    first = CompositionProgressed(composition_id=composition_id, tenant_id=tenant, progress=0.1, stage=StageName.PLAN,
                                  status="completed",
                                  stages=[StageProgress(stage=StageName.PLAN, status="completed", attempt=1,
                                                        provider="local", duration_ms=12), *stages[1:]])
    second = CompositionProgressed(composition_id=composition_id, tenant_id=tenant, progress=0.3,
                                   stage=StageName.HARMONY, status="running",
                                   stages=[*first.stages[:1],
                                           StageProgress(stage=StageName.HARMONY, status="running", attempt=1,
                                                         provider="backup"), *stages[2:]])
    return [first, second]
