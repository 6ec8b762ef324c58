"""/api/v2/analytics: the calling tenant's own figures, from the analytics consumer's tables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep, TenantDep
from stream_processors.analytics import queries

router = APIRouter(prefix="/api/v2/analytics", tags=["analytics"])


@router.get("", summary="This tenant's figures per UTC day over the last `days` days")
def analytics(session: SessionDep, tenant: TenantDep,
              days: Annotated[int, Query(ge=1, le=366, description="how many UTC days, today included")] = 30) -> dict:
    """Compositions by status, genre and mood per day; stage attempts, failure rates and durations by
    provider; end-to-end latency percentiles; ratings by genre and tempo third."""
    return queries.figures(session, tenant.id, days)
