"""/healthz (the process answers), /readyz (Kafka and PostgreSQL answer), /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.deps import SettingsDep
from producers import outbox

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database and the Kafka cluster answer",
            responses={503: {"description": "a dependency is down"}})
def readyz(request: Request, settings: SettingsDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
            backlog = outbox.backlog(session)
        checks["database"] = "ok"
        checks["outbox_backlog"] = str(backlog)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        metadata = request.app.state.kafka_admin().list_topics(timeout=settings.kafka_check_timeout_s)
        checks["kafka"] = f"ok ({len(metadata.brokers)} broker(s))"
    except Exception as exc:  # noqa: BLE001
        checks["kafka"] = f"error: {exc}"
    ready = checks["database"] == "ok" and checks["kafka"].startswith("ok")
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse({"type": "/problems/not-ready", "title": "Service unavailable", "status": 503,
                         "detail": "a dependency is not available", "checks": checks},
                        status_code=503, media_type="application/problem+json")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
