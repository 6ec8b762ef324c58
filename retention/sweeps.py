"""The PostgreSQL half of retention: sent outbox rows and the event log of long-finished compositions.

A composition is *finished* when every run of it (its ``revisions`` rows: 0 the composition itself, n
its revisions) is terminal; it *ended* when the latest of them did. Each function deletes at most
``batch`` rows in the caller's transaction and returns how many it deleted, so a caller loops while
there is more. What a user is shown of a composition (its ``compositions`` and ``revisions`` rows, its
stages) is kept; only the history of how it got there goes.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from readmodel.models import TERMINAL

TERMINAL_EVENTS = ("CompositionCompleted", "CompositionFailed", "CompositionCancelled")
"""Kept in the event log for good: the event stream of a finished run still answers with its end."""

_OUTBOX = text("""
    DELETE FROM outbox WHERE id IN (
        SELECT id FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(secs => :keep_s)
        ORDER BY id LIMIT :batch)
""")

_EVENTS = text("""
    WITH ended AS (
        SELECT r.composition_id FROM revisions r
        WHERE r.finished_at < now() - make_interval(secs => :keep_s)
        GROUP BY r.composition_id
        HAVING NOT EXISTS (
                SELECT 1 FROM revisions x WHERE x.composition_id = r.composition_id
                AND (x.status NOT IN :terminal OR x.finished_at IS NULL
                     OR x.finished_at >= now() - make_interval(secs => :keep_s)))
           AND EXISTS (
                SELECT 1 FROM composition_events e WHERE e.composition_id = r.composition_id
                AND e.type NOT IN :terminal_events)
        LIMIT :batch)
    DELETE FROM composition_events e USING ended
    WHERE e.composition_id = ended.composition_id AND e.type NOT IN :terminal_events
""").bindparams(bindparam("terminal", expanding=True), bindparam("terminal_events", expanding=True))


def sweep_outbox(session: Session, keep_s: float, batch: int) -> int:
    """Delete up to ``batch`` outbox rows sent more than ``keep_s`` ago (an unsent row is never touched)."""
    return session.execute(_OUTBOX, {"keep_s": keep_s, "batch": batch}).rowcount


def sweep_event_log(session: Session, keep_s: float, batch: int) -> int:
    """Delete the event-log rows (all but the terminal events) of up to ``batch`` compositions that
    ended more than ``keep_s`` ago; returns the rows deleted."""
    return session.execute(_EVENTS, {"keep_s": keep_s, "batch": batch, "terminal": list(TERMINAL),
                                       "terminal_events": list(TERMINAL_EVENTS)}).rowcount
