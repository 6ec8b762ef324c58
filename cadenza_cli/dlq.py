"""`cadenza dlq list|show|replay|purge`: the dead letters of this deployment (stream_processors/dlq_admin.py)."""

from __future__ import annotations

import json
import re

import typer

app = typer.Typer(no_args_is_help=True, help="Read, replay and purge dead letters (compositions.dlq).")

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _letters():
    from infra.settings import ServiceSettings
    from schemas import wire
    from stream_processors.dlq_admin import DeadLetters

    settings = ServiceSettings()
    wire.configure(settings.schema_settings)  # letters in either encoding show decoded
    return DeadLetters(settings.bootstrap_servers, settings.topics)


def parse_age(text: str) -> float:
    match = _AGE.match(text.strip())
    if not match:
        raise typer.BadParameter(f"{text!r} is not an age like 90s, 30m, 12h or 7d", param_hint="--older-than")
    return float(match[1]) * _UNIT_S[match[2]]


@app.command("list")
def list_letters(as_json: bool = typer.Option(False, "--json", help="one JSON object per line")) -> None:
    """Every dead letter: id, reason, consumer, origin topic/partition/offset, whether it was replayed."""
    letters = _letters().letters()
    for letter in letters:
        summary = letter.summary()
        if as_json:
            typer.echo(json.dumps(summary))
            continue
        origin = summary["origin"]
        replayed = f"replayed {summary['replayed']['replayed_at']}" if summary["replayed"] else "not replayed"
        typer.echo(f"{summary['id']:>8}  {summary['reason'] or '?':<22} {summary['consumer'] or '?':<28} "
                   f"{origin['topic']}[{origin['partition']}]@{origin['offset']}  {replayed}")
    if not as_json:
        typer.echo(f"{len(letters)} dead letter(s)")


@app.command()
def show(letter_id: str = typer.Argument(..., help="partition:offset (or the offset: partition 0)")) -> None:
    """One letter in full: reason, error, origin, consumer, headers and the payload decoded where possible."""
    try:
        letter = _letters().get(letter_id)
    except (LookupError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(letter.details(), indent=2))


@app.command()
def replay(letter_ids: list[str] = typer.Argument(None, help="letters to replay (partition:offset)"),
           all_unreplayed: bool = typer.Option(False, "--all", help="every letter not replayed yet"),
           reason: str = typer.Option(None, help="with --all: only letters dead-lettered for this reason")) -> None:
    """Publish the original bytes and headers back to the origin topic, once per letter."""
    letters = _letters()
    if all_unreplayed:
        letter_ids = [l.id for l in letters.letters() if l.replayed is None and (reason is None or l.dlq("reason") == reason)]
    if not letter_ids:
        typer.echo("nothing to replay")
        return
    try:
        results = letters.replay(letter_ids)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for result in results:
        typer.echo(f"{result.letter_id}: {result.status}" + (f" ({result.marker['topic']})" if result.marker else ""))
    if any(r.status in ("missing", "no origin topic") for r in results):
        raise typer.Exit(1)


@app.command()
def purge(older_than: str = typer.Option("7d", help="delete letters older than this (90s, 30m, 12h, 7d)"),
          include_unreplayed: bool = typer.Option(False, help="also delete letters never replayed"),
          yes: bool = typer.Option(False, "--yes", help="do it (else: say what would be deleted)")) -> None:
    """Delete old letters, oldest first; by default it stops at the first letter not yet replayed."""
    age = parse_age(older_than)
    letters = _letters()
    if not yes:
        import time

        cutoff_ms = (time.time() - age) * 1000
        candidates = [l for l in letters.letters() if l.timestamp_ms <= cutoff_ms]
        typer.echo(f"{len(candidates)} letter(s) older than {older_than}; run with --yes to delete "
                   f"({'all of them' if include_unreplayed else 'up to the first not replayed'})")
        return
    typer.echo(f"deleted {letters.purge(age, include_unreplayed)} dead letter(s)")
