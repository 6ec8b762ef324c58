"""`cadenza compose --offline ...`: compose a song in this process, without Kafka, into a folder."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, help="Compose a song.")


def parse_genres(values: list[str]) -> list[tuple[str, float]]:
    """``["pop=0.7", "funk=0.3"]`` -> weights normalised to sum to 1; a bare name weighs 1."""
    pairs = []
    for value in values:
        name, _, weight = value.partition("=")
        try:
            pairs.append((name.strip().lower(), float(weight) if weight else 1.0))
        except ValueError:
            raise typer.BadParameter(f"{value!r}: expected GENRE or GENRE=WEIGHT", param_hint="--genre") from None
    total = sum(w for _, w in pairs)
    if total <= 0:
        raise typer.BadParameter("weights must be positive", param_hint="--genre")
    return [(g, w / total) for g, w in pairs]


@app.callback(invoke_without_command=True)
def compose(
    offline: bool = typer.Option(False, "--offline", help="run the whole engine in this process (no Kafka)"),
    mood: str = typer.Option("happy", help="a mood label, e.g. happy, sad, calm, energetic"),
    genre: list[str] = typer.Option(["pop"], "--genre", help="GENRE or GENRE=WEIGHT, repeatable"),
    theme: str = typer.Option("a summer road trip", help="what the song is about"),
    duration: float = typer.Option(60.0, help="length in seconds"),
    lyrics_file: Path | None = typer.Option(None, "--lyrics-file", exists=True, dir_okay=False,
                                            help="sing these lyrics instead of writing some"),
    voice: str = typer.Option("alto", help="alto or tenor"),
    instrumental: bool = typer.Option(False, "--instrumental", help="no lyrics, no vocals"),
    seed: int | None = typer.Option(None, help="same request + seed = same song"),
    out: Path = typer.Option(Path("song"), "--out", help="folder to write the song into"),
) -> None:
    """Compose a song and write master.wav/.flac/.mp3, arrangement.mid, vocals.wav, lyrics.txt,
    context.json and spectrogram.png into --out."""
    from pydantic import ValidationError

    from composition.models import CompositionRequest, GenreWeight, Mood
    from music.errors import StageError

    if not offline:
        typer.echo("only --offline is available from the command line for now; the Kafka pipeline takes "
                   "requests through the API", err=True)
        raise typer.Exit(2)
    try:
        request = CompositionRequest(
            mood=Mood.from_label(mood),
            genres=[GenreWeight(genre=g, weight=w) for g, w in parse_genres(genre)],
            theme=theme, duration_s=duration, voice=voice, instrumental=instrumental, seed=seed,
            lyrics=lyrics_file.read_text() if lyrics_file else None,
        )
    except (ValidationError, ValueError) as exc:
        typer.echo(f"invalid request: {exc}", err=True)
        raise typer.Exit(2) from None
    import tempfile

    from music.offline import compose_offline
    from storage.local import LocalArtifactStore

    try:
        with tempfile.TemporaryDirectory(prefix="cadenza-offline-") as scratch:
            song = compose_offline(request, out, LocalArtifactStore(scratch))
    except StageError as exc:
        typer.echo(f"composition failed: {exc}", err=True)
        raise typer.Exit(1) from None
    for stage, seconds in song.stage_seconds.items():
        typer.echo(f"  {stage:12s} {song.providers.get(stage, ''):12s} {seconds:6.2f} s")
    metrics = song.context.master.metrics
    typer.echo(f"loudness {metrics.integrated_lufs:.1f} LUFS, true peak {metrics.true_peak_dbtp:.1f} dBTP, "
               f"{metrics.duration_s:.1f} s, energy/loudness rho {metrics.energy_loudness_correlation:.2f}"
               + (f", vocal pitch error {metrics.vocal_pitch_error_cents:.1f} cents"
                  if metrics.vocal_pitch_error_cents is not None else ""))
    for name, path in sorted(song.files.items()):
        typer.echo(f"  {path}")
