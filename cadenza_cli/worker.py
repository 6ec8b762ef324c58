"""`cadenza worker saga|feedback` and `cadenza worker stage <stage|all>`: each stream processor runs alone."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Run one stream-processing process in the foreground.")


def _run(faust_app, settings) -> None:
    from faust.worker import Worker

    from infra import outage_log, tracing
    from schemas import wire
    from stream_processors.metrics import serve

    _prepare_changelogs(faust_app, settings)
    serve(settings.metrics_port, settings.metrics_host)
    tracing.setup(faust_app.conf.id.removeprefix(settings.topics.prefix), settings.trace_config)
    wire.configure(settings.schema_settings)
    class _Worker(Worker):
        def on_setup_root_logger(self, logger, level) -> None:
            super().on_setup_root_logger(logger, level)
            outage_log.install_on_handlers(logger)  # and a client logger made later: on the root's handlers

    worker = _Worker(faust_app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
    outage_log.install()  # a broker outage is a line when it starts, a count, a line when it ends
    worker.spinner = None  # a terminal spinner: cursor escape codes in every log that is not a terminal
    worker.execute_from_commandline()


def _prepare_changelogs(faust_app, settings) -> None:
    """Create the app's table changelog topics up front (see infra.topics.ensure_compacted)."""
    from infra.topics import ensure_compacted

    wanted = {table.changelog_topic.get_topic_name(): table.partitions or faust_app.conf.topic_partitions
              for table in faust_app.tables.values()}
    configs = {table.changelog_topic.get_topic_name(): dict(table.changelog_topic.config or {})
               for table in faust_app.tables.values()}
    if wanted:
        ensure_compacted(settings.bootstrap_servers, wanted, settings.topics.replication_factor, configs=configs)


@app.command()
def saga() -> None:
    """The saga: owns each composition's state, dispatches stages, retries, compensates."""
    from stream_processors.saga.app import build
    from stream_processors.settings import SagaSettings

    settings = SagaSettings()
    _run(build(settings), settings)


@app.command()
def stage(names: list[str] = typer.Argument(..., help="stage names (plan, harmony, ...) or 'all'")) -> None:
    """A stage worker for one or more stages (one agent per stage topic, work in a process pool)."""
    from composition.models import StageName
    from stream_processors.settings import StageWorkerSettings
    from stream_processors.stage.app import build

    try:
        stages = list(StageName) if names == ["all"] else [StageName(n) for n in names]
    except ValueError as exc:
        raise typer.BadParameter(f"{exc}; stages: {', '.join(s.value for s in StageName)} or 'all'") from None
    settings = StageWorkerSettings()
    _run(build(stages, settings), settings)


@app.command()
def feedback() -> None:
    """The feedback/RL learner: ratings into the planner's tempo policies (compositions.policy)."""
    from stream_processors.feedback.app import build
    from stream_processors.settings import FeedbackSettings

    settings = FeedbackSettings()
    _run(build(settings), settings)
