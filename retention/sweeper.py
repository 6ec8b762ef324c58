"""`cadenza run sweeper`: the retention sweeper, one process beside the stack.

Each step runs one batch of every sweep (sent outbox rows, the event log of long-finished
compositions, the unreferenced artifacts of finished ones) and returns what it deleted; the loop
steps again at once while there is more and waits ``interval_s`` when a pass found nothing. It holds
no state of its own beyond the ``artifact_sweeps`` table, so any number may run (the deletes are
idempotent; two sweepers only repeat each other's work). The saga's and stage workers' tables are
not here: a faust table can only be changed inside its own process (see stream_processors/saga).
"""

from __future__ import annotations

import logging
import signal
import time

from prometheus_client import Counter, Gauge
from sqlalchemy.orm import Session, sessionmaker

from composition.artifacts import ArtifactStore
from infra.polling import PollingLoop
from retention.artifacts import sweep_artifacts
from retention.settings import SweeperSettings
from retention.sweeps import sweep_event_log, sweep_outbox

log = logging.getLogger("cadenza.sweeper")

DELETED = Counter("cadenza_retention_deleted_total", "What the sweeper deleted, by kind", ["kind"])
SWEPT = Counter("cadenza_retention_compositions_swept_total", "Finished compositions whose artifacts were swept")
PASS_SECONDS = Gauge("cadenza_retention_last_pass_seconds", "Duration of the last sweep step")


class Sweeper:
    def __init__(self, sessions: sessionmaker[Session], store: ArtifactStore, settings: SweeperSettings) -> None:
        self.sessions = sessions
        self.store = store
        self.settings = settings
        self.loop = PollingLoop(self.step, name="sweeper", log=log, idle_s=settings.interval_s)

    def step(self) -> int:
        """One batch of each sweep; how many rows and objects it deleted."""
        s, started = self.settings, time.monotonic()
        with self.sessions() as session, session.begin():
            outbox = sweep_outbox(session, s.outbox_keep_s, s.batch_size)
        with self.sessions() as session, session.begin():
            events = sweep_event_log(session, s.event_log_keep_s, s.batch_size)
        swept = sweep_artifacts(self.sessions, self.store, s.artifact_grace_s, s.batch_size)
        for kind, count in (("outbox", outbox), ("events", events), ("artifacts", swept.deleted)):
            DELETED.labels(kind).inc(count)
        SWEPT.inc(swept.compositions)
        PASS_SECONDS.set(time.monotonic() - started)
        if outbox or events or swept.compositions:
            log.info("swept %d outbox row(s), %d event-log row(s), %d artifact(s) of %d composition(s)",
                     outbox, events, swept.deleted, swept.compositions)
        return outbox + events + swept.compositions

    def run(self) -> None:
        self.loop.run()

    def stop(self, *_args: object) -> None:
        self.loop.stop()


def main() -> None:
    """`cadenza run sweeper` in the foreground until SIGINT/SIGTERM."""
    from infra.database import make_engine, make_session_factory
    from storage import open_store
    from stream_processors.metrics import serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = SweeperSettings()
    serve(settings.metrics_port, settings.metrics_host)
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=0)
    sweeper = Sweeper(make_session_factory(engine), open_store(settings.store_config), settings)
    signal.signal(signal.SIGTERM, sweeper.stop)
    signal.signal(signal.SIGINT, sweeper.stop)
    log.info("sweeper started (outbox %.0f s, event log %.0f s, artifacts %.0f s after the end)",
             settings.outbox_keep_s, settings.event_log_keep_s, settings.artifact_grace_s)
    try:
        sweeper.run()
    finally:
        engine.dispose()
        log.info("sweeper stopped")
