"""The `cadenza` command: each sub-command lives in its own module and registers here. A bad setting
ends any command at its start with one line naming the variable (exit status 2), not a traceback."""

from __future__ import annotations

import sys

import typer

from cadenza_cli import dlq, infra, run, tenants, voices, worker
from cadenza_cli.compose import compose
from cadenza_cli.demo import demo
from cadenza_cli.revise import revise
from cadenza_cli.sets import dj_set
from cadenza_cli.up import up

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Cadenza: songs composed by an event-driven pipeline.")
app.add_typer(infra.app, name="infra")
app.add_typer(tenants.app, name="tenants")
app.add_typer(run.app, name="run")
app.add_typer(worker.app, name="worker")
app.add_typer(dlq.app, name="dlq")
app.add_typer(voices.app, name="voices")
app.command(name="up")(up)
app.command(name="demo")(demo)
app.command(name="compose")(compose)
app.command(name="revise")(revise)
app.command(name="set")(dj_set)



def main() -> None:
    """The console script: ``app`` with bad settings reported as one line."""
    from infra.settings import SettingsError

    try:
        app()
    except SettingsError as exc:
        sys.stderr.write(f"cadenza: {exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
