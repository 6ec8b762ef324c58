"""Record one event into the analytics tables, once per event id.

What each event tells: CompositionRequested what was asked (genre, mood, the day); a
CompositionProgressed one stage attempt's step (dispatched on a provider, retried or failed,
completed with its duration); CompositionCompleted/Failed/Cancelled where the composition ended
(and, completed, its end-to-end time and the plan's tempo third); FeedbackSubmitted a rating. The
requests and the events travel on different topics, so each upsert fills only what its event knows
and either may come first.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from composition.errors import InvalidInput
from composition.events import (
    CompositionCancelled,
    CompositionCompleted,
    CompositionFailed,
    CompositionProgressed,
    CompositionRequested,
    Envelope,
    FeedbackSubmitted,
    of_a_song,
)
from composition.feedback_policy import arm_of
from composition.models import MOOD_LABELS, CompositionContext, CompositionRequest, Mood
from music.genres import blend
from stream_processors.analytics.models import (
    AttemptFact,
    CompositionFact,
    RatingFact,
    SeenEvent,
)

RECORDED = (CompositionRequested, CompositionProgressed, CompositionCompleted, CompositionFailed,
            CompositionCancelled, FeedbackSubmitted)


def day_of(event: Envelope) -> date:
    return event.occurred_at.date()  # occurred_at is UTC


def mood_of(mood: Mood) -> str:
    """The mood's label, or the nearest named mood for a bare valence/arousal."""
    if mood.label:
        return mood.label
    return min(MOOD_LABELS, key=lambda name: (MOOD_LABELS[name][0] - mood.valence) ** 2
               + (MOOD_LABELS[name][1] - mood.arousal) ** 2)


def dominant_genre(request: CompositionRequest) -> str:
    return max(request.genres, key=lambda g: g.weight).genre


def record(session: Session, event: Envelope) -> bool:
    """Apply ``event`` unless its id was applied before; True if it was new."""
    if not of_a_song(event):
        return False  # voice profiles and DJ sets are not songs: analytics counts songs
    if not isinstance(event, RECORDED):
        raise InvalidInput(f"{type(event).__name__} is not an event analytics reads", reason="unexpected_type")
    fresh = session.execute(insert(SeenEvent).values(event_id=event.event_id, type=type(event).__name__)
                            .on_conflict_do_nothing().returning(SeenEvent.event_id)).first()
    if fresh is None:
        return False
    if isinstance(event, CompositionRequested):
        _composition(session, event, day=day_of(event), requested_at=event.occurred_at,
                     genre=dominant_genre(event.request), mood=mood_of(event.request.mood))
    elif isinstance(event, CompositionProgressed):
        _composition(session, event)
        _attempt(session, event)
    elif isinstance(event, CompositionCompleted | CompositionFailed | CompositionCancelled) and event.revision:
        pass  # a revision's end: the composition's own status and facts stay (its stage attempts still count)
    elif isinstance(event, CompositionCompleted):
        _composition(session, event, status="completed", ended_at=event.occurred_at, duration_ms=event.duration_ms,
                     **_plan_facts(event.context))
    elif isinstance(event, CompositionFailed | CompositionCancelled):
        status = "failed" if isinstance(event, CompositionFailed) else "cancelled"
        _composition(session, event, status=status, ended_at=event.occurred_at)
    elif isinstance(event, FeedbackSubmitted):
        session.execute(insert(RatingFact).values(event_id=event.event_id, composition_id=event.composition_id,
                                                  tenant_id=event.tenant_id, day=day_of(event), rating=event.rating)
                        .on_conflict_do_nothing())
    return True


def _plan_facts(context: CompositionContext) -> dict:
    facts = {"genre": dominant_genre(context.request), "mood": mood_of(context.request.mood)}
    if context.plan is not None:
        b = blend(context.plan.genres, context.plan.seed)
        facts.update(genre=b.dominant, tempo_bpm=context.plan.tempo_bpm,
                     tempo_third=arm_of(context.plan.tempo_bpm, b.tempo))
    return facts


def _composition(session: Session, event: Envelope, **facts) -> None:
    """Create the composition's row (dated by this event until the request is read) and set ``facts``."""
    values = {"composition_id": event.composition_id, "tenant_id": event.tenant_id, "day": day_of(event), **facts}
    statement = insert(CompositionFact).values(**values)
    if facts:
        statement = statement.on_conflict_do_update(index_elements=[CompositionFact.composition_id], set_=facts)
    else:
        statement = statement.on_conflict_do_nothing()
    session.execute(statement)


def _attempt(session: Session, event: CompositionProgressed) -> None:
    """The attempt this progress step is about: dispatched (running), retried/failed, or completed."""
    step = next((s for s in event.stages if s.stage == event.stage), None)
    if step is None or step.attempt < 1 or step.provider is None:
        return  # a step with no attempt behind it (skipped, or compensation of a stage never run)
    key = {"composition_id": event.composition_id, "stage": event.stage.value, "attempt": step.attempt}
    outcome = {"running": "running", "retrying": "failed", "failed": "failed", "completed": "completed"}.get(event.status)
    if outcome is None:
        return  # compensating/compensated: about undoing, not about the attempt
    changes = {"outcome": outcome, "provider": step.provider}
    if outcome == "completed":
        changes["duration_ms"] = step.duration_ms
    statement = insert(AttemptFact).values(**key, tenant_id=event.tenant_id, day=day_of(event), **changes)
    session.execute(statement.on_conflict_do_nothing() if outcome == "running" else
                    statement.on_conflict_do_update(index_elements=list(key), set_=changes))
    if outcome == "running" and step.attempt > 1:
        # a fallback dispatches the next attempt without a "retrying" step: the previous one failed
        session.execute(update(AttemptFact).where(
            AttemptFact.composition_id == event.composition_id, AttemptFact.stage == event.stage.value,
            AttemptFact.attempt == step.attempt - 1, AttemptFact.outcome == "running").values(outcome="failed"))
