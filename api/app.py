"""The Cadenza HTTP API: ``create_app()`` builds it (uvicorn: ``api.app:create_app --factory``)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api import (
    problems,
    routes_analytics,
    routes_artifacts,
    routes_compositions,
    routes_events,
    routes_health,
    routes_revisions,
    routes_voices,
    routes_sets,
)
from api.middleware import BodyLimit, Metrics
from api.ratelimit import RateLimiter
from api.settings import ApiSettings
from infra import tracing
from infra.database import make_engine, make_session_factory
from schemas import wire
from service.admission import Admission
from service.commands import Commands
from service.revisions import Revisions
from service.voices import Voices
from storage import open_store
from tenancy.keys import KeyVerifier

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("cadenza.api")


class LazyAdmin:
    """One Kafka AdminClient for readiness checks, made on first use (the API starts without Kafka)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._admin = None

    def __call__(self):
        if self._admin is None:
            from confluent_kafka.admin import AdminClient

            self._admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "socket.timeout.ms": 2000,
                                       "log_level": 2})  # /readyz reports the failure, no log spam
        return self._admin


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    tracing.setup("api", settings.trace_config)
    wire.configure(settings.schema_settings)  # the outbox rows are written in the configured format
    # no pre-ping: it is a round trip per request; a connection broken by a database restart fails one
    # request and is then replaced (SQLAlchemy invalidates the pool on disconnect errors)
    engine = make_engine(settings.database_url, pool_size=20, max_overflow=20, pool_pre_ping=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        engine.dispose()

    # FastAPI's own OpenTelemetry server span per request (the child of the caller's traceparent); what
    # a request writes to the outbox carries it (producers/tracing.py). Metrics stay Prometheus's.
    telemetry = {"tracing": True, "operation_spans": False, "metrics": False, "logs": False}
    app = FastAPI(title="Cadenza API", version="2.0.0", lifespan=lifespan, telemetry=telemetry,
                  description="Compose songs: submit a request, follow its progress, download the result. "
                              "Authenticate with `X-API-Key` or `Authorization: Bearer`; errors are RFC 9457 "
                              "problem details.")
    app.state.settings = settings
    app.state.sessions = make_session_factory(engine)
    admission = Admission(app.state.sessions, settings.max_backlog, check_s=settings.backlog_check_s)
    app.state.commands = Commands(app.state.sessions, settings.topics,
                                  in_flight_retry_after_s=settings.in_flight_retry_after_s, admission=admission)
    app.state.revisions = Revisions(app.state.sessions, settings.topics, admission)
    app.state.keys = KeyVerifier(app.state.sessions, settings.key_cache_s)
    app.state.limiter = RateLimiter(engine)
    app.state.store = open_store(settings.store_config)
    app.state.voices = Voices(app.state.sessions, settings.topics, app.state.store)
    app.state.kafka_admin = LazyAdmin(settings.bootstrap_servers)
    problems.install(app)
    for module in (routes_compositions, routes_events, routes_artifacts, routes_revisions, routes_health,
                   routes_analytics, routes_voices, routes_sets):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       uploads={routes_voices.PREFIX: settings.voice_max_bytes + 64 * 1024})
    app.add_middleware(Metrics)
    return app
