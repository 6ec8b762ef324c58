"""The artifact half of retention: mark and sweep per finished composition.

Artifacts are content-addressed per namespace (``<id>`` for the composition, ``<id>.r<n>`` for its
revision n), so one object may be what several attempts wrote (same bytes, same URI). Which attempt
wrote an object does not matter: what must stay is what a *kept* run references, and the read model
has that exactly (``revisions.artifacts``: every artifact of a completed run's context, the stages
it carried over included). So, ``grace_s`` after a composition's last run ended, every object in its
namespaces that no completed, undeleted run references is deleted: the outputs of superseded and
stale attempts, of late results, and whatever a compensation could not delete (a failed or
cancelled run keeps nothing). A composition is swept again only when a later run has ended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from composition.artifacts import ArtifactStore
from readmodel.models import TERMINAL
from retention.models import ArtifactSweep

_CANDIDATES = text("""
    SELECT r.composition_id, max(r.finished_at) AS ended, array_agg(r.number) AS numbers
    FROM revisions r LEFT JOIN artifact_sweeps s ON s.composition_id = r.composition_id
    GROUP BY r.composition_id, s.through
    HAVING bool_and(r.status IN :terminal AND r.finished_at IS NOT NULL)
       AND max(r.finished_at) < now() - make_interval(secs => :grace_s)
       AND (s.through IS NULL OR max(r.finished_at) > s.through)
    ORDER BY max(r.finished_at) LIMIT :batch
""").bindparams(bindparam("terminal", expanding=True))

_KEPT = text("""
    SELECT jsonb_array_elements(artifacts) ->> 'uri' FROM revisions
    WHERE composition_id = :id AND status = 'completed' AND deleted_at IS NULL AND artifacts IS NOT NULL
    UNION
    SELECT jsonb_array_elements(artifacts) ->> 'uri' FROM compositions WHERE id = :id AND artifacts IS NOT NULL
""")


@dataclass(frozen=True)
class Swept:
    compositions: int
    deleted: int
    kept: int


def namespaces(composition_id: uuid.UUID, numbers: list[int]) -> list[str]:
    """Where a composition's runs stored their artifacts (stream_processors.stage.handler.namespace_of)."""
    return [str(composition_id)] + [f"{composition_id}.r{n}" for n in sorted(set(numbers)) if n > 0]


def sweep_artifacts(sessions: sessionmaker[Session], store: ArtifactStore, grace_s: float, batch: int) -> Swept:
    """Sweep up to ``batch`` compositions whose last run ended more than ``grace_s`` ago."""
    with sessions() as session:
        candidates = session.execute(_CANDIDATES, {"terminal": list(TERMINAL), "grace_s": grace_s,
                                                   "batch": batch}).all()
    deleted = kept_total = 0
    for composition_id, ended, numbers in candidates:
        with sessions() as session, session.begin():
            kept = {uri for (uri,) in session.execute(_KEPT, {"id": composition_id}) if uri}
        for namespace in namespaces(composition_id, numbers):
            for uri in store.list(namespace):
                if uri in kept:
                    kept_total += 1
                elif store.delete(uri):
                    deleted += 1
        _mark(sessions, composition_id, ended)
    return Swept(len(candidates), deleted, kept_total)


def _mark(sessions: sessionmaker[Session], composition_id: uuid.UUID, ended: datetime) -> None:
    with sessions() as session, session.begin():
        session.execute(insert(ArtifactSweep)
                        .values(composition_id=composition_id, through=ended, swept_at=text("now()"))
                        .on_conflict_do_update(index_elements=["composition_id"],
                                               set_={"through": ended, "swept_at": text("now()")}))
