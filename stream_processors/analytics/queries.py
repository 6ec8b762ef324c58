"""One tenant's figures from the analytics tables, aggregated when asked (the API's /api/v2/analytics).

Per day: compositions by status, genre and mood; over the window: stage attempts, failure rates and
duration percentiles by stage and provider, end-to-end latency percentiles of completed
compositions (overall and per day), and ratings by genre and tempo third.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from stream_processors.analytics.models import AttemptFact, CompositionFact, RatingFact

PERCENTILES = (0.5, 0.9, 0.95, 0.99)


def _pct(column, q: float):
    return func.percentile_cont(q).within_group(column)


def figures(session: Session, tenant_id: str, days: int, today: date | None = None) -> dict:
    """The figures of ``tenant_id`` for the ``days`` UTC days up to ``today`` (default: the database's today)."""
    today = today or session.execute(select(func.timezone("UTC", func.now()).cast(CompositionFact.day.type))).scalar_one()
    since = today - timedelta(days=days - 1)
    comp_window = and_(CompositionFact.tenant_id == tenant_id, CompositionFact.day >= since,
                       CompositionFact.day <= today)
    return {"tenant_id": tenant_id, "from": since.isoformat(), "to": today.isoformat(),
            "daily": _daily(session, comp_window), "stages": _stages(session, tenant_id, since, today),
            "latency": _latency(session, comp_window), "ratings": _ratings(session, tenant_id, since, today)}


def _daily(session: Session, window) -> list[dict]:
    by_day: dict[date, dict] = {}
    for dimension in ("status", "genre", "mood"):
        column = getattr(CompositionFact, dimension)
        rows = session.execute(select(CompositionFact.day, column, func.count()).where(window)
                               .group_by(CompositionFact.day, column))
        for day, value, count in rows:
            entry = by_day.setdefault(day, {"day": day.isoformat(), "total": 0, "by_status": {}, "by_genre": {},
                                            "by_mood": {}})
            entry[f"by_{dimension}"][value or "unknown"] = count
            if dimension == "status":
                entry["total"] += count
    return [by_day[d] for d in sorted(by_day)]


def _stages(session: Session, tenant_id: str, since: date, today: date) -> list[dict]:
    a = AttemptFact
    finished = a.outcome.in_(("completed", "failed"))
    rows = session.execute(
        select(a.stage, a.provider, func.count().filter(finished), func.count().filter(a.outcome == "failed"),
               *(_pct(a.duration_ms, q) for q in (0.5, 0.95)), func.avg(a.duration_ms))
        .where(a.tenant_id == tenant_id, a.day >= since, a.day <= today)
        .group_by(a.stage, a.provider).order_by(a.stage, a.provider))
    return [{"stage": stage, "provider": provider, "attempts": attempts, "failed": failed,
             "failure_rate": failed / attempts if attempts else None,
             "duration_ms": {"p50": p50, "p95": p95, "mean": float(mean) if mean is not None else None}}
            for stage, provider, attempts, failed, p50, p95, mean in rows]


def _latency(session: Session, window) -> dict:
    c = CompositionFact
    done = and_(window, c.status == "completed", c.duration_ms.is_not(None))
    overall = session.execute(select(func.count(), *(_pct(c.duration_ms, q) for q in PERCENTILES)).where(done)).one()
    daily = session.execute(select(c.day, func.count(), *(_pct(c.duration_ms, q) for q in PERCENTILES))
                            .where(done).group_by(c.day).order_by(c.day))

    def quantiles(values) -> dict:
        return {f"p{round(q * 100)}": v for q, v in zip(PERCENTILES, values)}

    return {"completed": overall[0], "duration_ms": quantiles(overall[1:]),
            "daily": [{"day": day.isoformat(), "completed": n, "duration_ms": quantiles(rest)}
                      for day, n, *rest in daily]}


def _ratings(session: Session, tenant_id: str, since: date, today: date) -> list[dict]:
    r, c = RatingFact, CompositionFact
    rows = session.execute(
        select(c.genre, c.tempo_third, func.count(), func.avg(r.rating))
        .select_from(r).join(c, c.composition_id == r.composition_id, isouter=True)
        .where(r.tenant_id == tenant_id, r.day >= since, r.day <= today)
        .group_by(c.genre, c.tempo_third))
    out = []
    for genre, third, count, mean in rows:
        out.append({"genre": genre or "unknown", "tempo_third": third or "unknown", "ratings": count,
                    "mean_rating": round(float(mean), 3)})
    order = {"slow": 0, "mid": 1, "fast": 2}
    return sorted(out, key=lambda row: (row["genre"], order.get(row["tempo_third"], 3)))
