"""The `cadenza` command. Each sub-command group lives in its own module and registers here."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Cadenza: songs composed by an event-driven pipeline.")

# (module, attribute, name): a module that is missing or fails to import is reported, not hidden.
_GROUPS: list[tuple[str, str, str]] = [
    ("cadenza_cli.infra", "app", "infra"),
    ("cadenza_cli.tenants", "app", "tenants"),
    ("cadenza_cli.up", "run_app", "run"),
    ("cadenza_cli.worker", "app", "worker"),
]


def _register() -> None:
    for module_name, attr, name in _GROUPS:
        module = importlib.import_module(module_name)
        app.add_typer(getattr(module, attr), name=name)


_register()
app.command(name="demo")(importlib.import_module("cadenza_cli.demo").demo)
app.command(name="up")(importlib.import_module("cadenza_cli.up").up)
app.command(name="demo-song")(importlib.import_module("cadenza_cli.up").demo_song)
app.command(name="compose")(importlib.import_module("cadenza_cli.compose_api").compose)

if __name__ == "__main__":
    app()
