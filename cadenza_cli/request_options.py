"""The one parser of a composition request's command-line options, for `cadenza compose` online and
offline alike: the same options give the same request either way."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from composition.models import CompositionRequest, GenreWeight, Mood

OPTION_OF = {"mood": "--mood", "genres": "--genre", "theme": "--theme", "duration_s": "--duration",
             "lyrics": "--lyrics-file", "voice": "--voice", "instrumental": "--instrumental", "seed": "--seed",
             "title": "--title", "hook": "--hook", "bpm": "--bpm", "key": "--key", "meter": "--meter"}
"""The command-line option of each request field."""


def parse_genres(values: list[str]) -> list[tuple[str, float]]:
    """``GENRE=WEIGHT`` keeps its weight; bare ``GENRE``s share what is left of 1 equally.

    ``["pop=0.7", "funk"]`` -> pop 0.7, funk 0.3; ``["pop", "rock"]`` -> 0.5 each. The weights must
    come to 1 (BadParameter naming --genre otherwise)."""
    pairs: list[tuple[str, float | None]] = []
    for value in values:
        name, _, weight = value.partition("=")
        try:
            pairs.append((name.strip().lower(), float(weight) if weight else None))
        except ValueError:
            raise typer.BadParameter(f"{value!r}: expected GENRE or GENRE=WEIGHT", param_hint="--genre") from None
    given = sum(w for _, w in pairs if w is not None)
    bare = [name for name, w in pairs if w is None]
    if bare:
        if given >= 1.0:
            raise typer.BadParameter(f"the weights given already sum to {given:g}; nothing is left for "
                                     f"{', '.join(bare)}", param_hint="--genre")
        share = (1.0 - given) / len(bare)
        pairs = [(name, share if w is None else w) for name, w in pairs]
    elif abs(given - 1.0) > 1e-6:
        raise typer.BadParameter(f"the weights sum to {given:g}; they must sum to 1", param_hint="--genre")
    return [(name, float(w)) for name, w in pairs]


def parse_mood(value: str) -> Mood:
    """A mood label (happy, sad, ...) or ``valence,arousal``."""
    try:
        if "," in value:
            valence, arousal = (float(x) for x in value.split(",", 1))
            return Mood(valence=valence, arousal=arousal)
        return Mood.from_label(value)
    except (ValueError, ValidationError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--mood") from None


def build_request(*, mood: str, genres: list[str], theme: str, duration: float, lyrics_file: Path | None = None,
                  voice: str = "alto", instrumental: bool = False, seed: int | None = None,
                  **controls: str | float | None) -> CompositionRequest:
    """The domain request; an invalid one is a BadParameter naming the first field at fault."""
    try:
        return CompositionRequest(
            mood=parse_mood(mood), genres=[GenreWeight(genre=g, weight=w) for g, w in parse_genres(genres)],
            theme=theme, duration_s=duration, voice=voice, instrumental=instrumental, seed=seed,
            lyrics=lyrics_file.read_text() if lyrics_file else None, **controls)  # title, hook, bpm, key, meter
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = (error.get("ctx") or {}).get("error")
        field = getattr(cause, "field", None) or (str(error["loc"][0]) if error["loc"] else "")
        raise typer.BadParameter(getattr(cause, "message", None) or error["msg"],
                                 param_hint=OPTION_OF.get(field, field or "the request")) from None


def api_body(request: CompositionRequest) -> dict:
    """The request as the API's JSON body (a labelled mood as its label)."""
    body = request.model_dump(mode="json", exclude_none=True)
    body["mood"] = request.mood.label or {"valence": request.mood.valence, "arousal": request.mood.arousal}
    return body
