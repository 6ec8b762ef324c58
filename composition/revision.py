"""A revision's changes applied to a composition's request, checked against what the stage takes.

A revision names the stage to redo and what changes, e.g. ``{"stage": "lyrics", "changes": {"lyrics":
"..."}}``; the stage and everything downstream of it run again with the revised request. Which request
fields a revision from a stage may change is declared with the stage (``StageSpec.changes`` in
``composition.pipeline``). A ``seed`` change gives that one stage new choices (``stage_seeds``); from
the plan it is the song's own seed, so every stage after it chooses anew.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from composition.errors import InvalidInput
from composition.models import CompositionRequest, Mood, StageName, VoiceProfile
from composition.pipeline import REVISE


def revised_request(request: CompositionRequest, stage: str, changes: dict[str, Any],
                    voice_profile: VoiceProfile | None = None) -> tuple[CompositionRequest, list[str]]:
    """``request`` with ``changes`` applied for a revision from ``stage``; returns it and the changed names.
    A changed ``voice`` that names a voice profile comes with its measured ``voice_profile``.

    InvalidInput naming the field (``stage``, ``changes``, ``changes.<name>``) for a stage that does not
    exist, a change the stage does not take, a change that changes nothing, or an invalid value.
    """
    try:
        start = StageName(stage)
    except ValueError:
        raise InvalidInput(f"no stage {stage!r}; stages: {', '.join(s.value for s in REVISE.stage_names)}",
                           field="stage") from None
    if start not in REVISE.applicable(request):
        raise InvalidInput(f"this composition has no {start.value} stage (it is instrumental)", field="stage")
    takes = REVISE.spec(start).changes
    if not changes:
        raise InvalidInput(f"name at least one change; a {start.value} revision takes {', '.join(sorted(takes))}",
                           field="changes")
    for name in changes:
        if name not in takes:
            raise InvalidInput(f"a {start.value} revision does not take {name!r}; it takes {', '.join(sorted(takes))}",
                               field=f"changes.{name}")
    data = request.model_dump()
    for name, value in changes.items():
        if name == "seed" and start is not StageName.PLAN:
            data["stage_seeds"] = {**data["stage_seeds"], start.value: value}
        elif name == "mood" and isinstance(value, str):
            try:
                data["mood"] = Mood.from_label(value).model_dump()
            except ValueError as exc:
                raise InvalidInput(str(exc), field="changes.mood") from None
        elif name == "voice":
            data["voice"] = value
            data["voice_profile"] = voice_profile.model_dump() if voice_profile is not None else None
        elif name == "lyrics" and value is not None and data.get("instrumental"):
            raise InvalidInput("an instrumental composition has no lyrics to change", field="changes.lyrics")
        else:
            data[name] = value
    try:
        revised = CompositionRequest.model_validate(data)
    except ValidationError as exc:
        raise _as_invalid(exc) from None
    changed = [name for name in changes if _differs(request, revised, name, start)]
    if not changed:
        raise InvalidInput("the changes leave the composition as it is", field="changes")
    return revised, changed


def _differs(before: CompositionRequest, after: CompositionRequest, name: str, start: StageName) -> bool:
    if name == "seed" and start is not StageName.PLAN:
        return before.stage_seeds.get(start.value) != after.stage_seeds.get(start.value)
    return getattr(before, name) != getattr(after, name)


def _as_invalid(exc: ValidationError) -> InvalidInput:
    """The first error of a revised request as InvalidInput naming ``changes.<field>``."""
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    loc = [str(p) for p in error.get("loc", ())]
    field = getattr(cause, "field", None) or (loc[0] if loc else "")
    if field == "stage_seeds":  # a later stage's seed is kept there; the user sent it as `seed`
        field = "seed"
    message = getattr(cause, "message", None) or str(error.get("msg", "invalid"))
    return InvalidInput(message.removeprefix("Value error, "), field=f"changes.{field}" if field else "changes")
