"""DJ sets at the API: accept one (its row and its SetRequested in one transaction), cancel it, read them.

A set is built from the tenant's finished songs: each id must be one of the tenant's compositions
(else NotFound, 404, naming it), completed, with its master still stored (else InvalidInput, 422,
naming it and why). What the set stages need of each song - its title, master artifact, tempo, key,
meter, form - is taken from the read model here, at submit time, so the stages read nothing but the
set's own context and the artifact store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from composition.artifacts import ArtifactNotFound, ArtifactStore
from composition.errors import InvalidInput, NotFound
from composition.events import SetRequested
from composition.models import Artifact, FormSection
from composition.sets import SetRequest, SetTrack
from infra.topics import REQUESTS, Topics
from producers import outbox
from producers.tracing import child_of
from readmodel.models import TERMINAL
from readmodel.sets import DjSet
from service import queries
from service.cancel import request_cancel
from service.queries import CompositionView
from tenancy.keys import TenantInfo


@dataclass(frozen=True)
class SetAsked:
    """A set as the API body asks for it (before the songs are looked up)."""

    compositions: list[uuid.UUID]
    order: str = "auto"
    transition_bars: int = 8
    target_bpm: float | None = None
    announcer: bool = False


def song_title(view: CompositionView) -> str:
    request = view.request or {}
    return request.get("title") or request.get("theme") or str(view.id)


def set_track(view: CompositionView, field: str, store: ArtifactStore) -> SetTrack:
    """What the set stages need of one finished song; InvalidInput naming ``field`` if it cannot be in a set."""
    if view.status != "completed":
        raise InvalidInput(f"composition {view.id} is {view.status}; only completed songs can be in a set",
                           field=field, reason="song-not-completed")
    master = next((a for a in view.artifacts if a.get("name") == "master.wav"), None)
    plan = view.plan
    if master is None or plan is None:
        raise InvalidInput(f"composition {view.id} has no mastered audio to mix", field=field, reason="song-deleted")
    try:
        store.size(master["uri"])
    except ArtifactNotFound:
        raise InvalidInput(f"composition {view.id}'s master is no longer stored", field=field,
                           reason="song-deleted") from None
    duration = (view.quality or {}).get("duration_s") or plan.get("duration_s")
    form = [FormSection(name=f["name"], kind=f["kind"], bars=f["bars"], energy=f["energy"], vocals=f["vocals"])
            for f in plan.get("form") or []]
    return SetTrack(composition_id=view.id, title=song_title(view)[:200],
                    master=Artifact(**{k: master[k] for k in ("name", "uri", "sha256", "size_bytes", "media_type")}),
                    tempo_bpm=plan["tempo_bpm"], key=plan["key"], mode=plan["mode"],
                    beats_per_bar=plan["beats_per_bar"], duration_s=duration, form=form)


class Sets:
    """The set writes and reads of one API process."""

    def __init__(self, sessions: sessionmaker[Session], topics: Topics, store: ArtifactStore) -> None:
        self.sessions, self.topics, self.store = sessions, topics, store

    def submit(self, tenant: TenantInfo, asked: SetAsked, traceparent: str | None = None) -> uuid.UUID:
        if len(set(asked.compositions)) != len(asked.compositions):
            raise InvalidInput("each composition may be in a set once", field="compositions", reason="duplicate")
        with self.sessions() as session, session.begin():
            tracks = []
            for index, composition_id in enumerate(asked.compositions):
                view = queries.composition(session, tenant.id, composition_id)
                if view is None:
                    raise NotFound(f"composition {composition_id}")
                tracks.append(set_track(view, f"compositions[{index}]", self.store))
            try:
                request = SetRequest(tracks=tracks, order=asked.order, transition_bars=asked.transition_bars,
                                     target_bpm=asked.target_bpm, announcer=asked.announcer)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise InvalidInput(first["msg"], field=".".join(str(p) for p in first["loc"]) or "body") from None
            set_id = uuid.uuid4()
            session.execute(insert(DjSet).values(
                id=set_id, tenant_id=tenant.id, status="accepted", progress=0.0,
                request={"compositions": [str(c) for c in asked.compositions], "order": asked.order,
                         "transition_bars": asked.transition_bars, "target_bpm": asked.target_bpm,
                         "announcer": asked.announcer}))
            outbox.add(session, self.topics.name(REQUESTS),
                       SetRequested(composition_id=set_id, tenant_id=tenant.id, request=request),
                       traceparent=child_of(traceparent))
            return set_id

    def cancel(self, tenant: TenantInfo, set_id: uuid.UUID, reason: str = "cancelled by user",
               traceparent: str | None = None) -> str:
        """Ask the saga to stop the set and delete what it made (CancelRequested on compositions.control)."""
        with self.sessions() as session, session.begin():
            row = session.execute(select(DjSet).where(DjSet.id == set_id, DjSet.tenant_id == tenant.id)
                                  .with_for_update()).scalar_one_or_none()
            if row is None:
                raise NotFound("set")
            return request_cancel(session, self.topics, row, set_id, tenant.id, what="set", status=row.status,
                                  reason=reason, traceparent=traceparent)

    def get(self, session: Session, tenant: TenantInfo, set_id: uuid.UUID) -> DjSet:
        row = session.execute(select(DjSet).where(DjSet.id == set_id, DjSet.tenant_id == tenant.id)).scalar_one_or_none()
        if row is None:
            raise NotFound("set")
        return row

    def page(self, session: Session, tenant: TenantInfo, limit: int) -> list[DjSet]:
        return list(session.execute(select(DjSet).where(DjSet.tenant_id == tenant.id)
                                    .order_by(DjSet.created_at.desc(), DjSet.id.desc()).limit(limit)).scalars())


def status_of(row: DjSet) -> str:
    """The status a user sees: ``cancelling`` between a cancel and the set's end."""
    if row.status not in TERMINAL and row.cancel_requested_at is not None:
        return "cancelling"
    return row.status


def public_artifacts(row: DjSet, prefix: str) -> list[dict[str, Any]]:
    return [{"name": a["name"], "media_type": a["media_type"], "size_bytes": a["size_bytes"], "sha256": a["sha256"],
             "url": f"{prefix}/{row.id}/artifacts/{a['name']}"} for a in row.artifacts or []]
