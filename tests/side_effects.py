"""What a kill -9 must not leave twice (issue 15.6): each stage's completion once in the read model (the
saga turns an accepted StageCompleted into one CompositionProgressed with that stage and status
"completed"; a duplicated result or a replayed attempt must not make a second),
and no second stored object for any artifact name of a composition (a stage that ran again after a
crash wrote the same content-addressed object, or compensated its own)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from composition.models import SONG_STAGES


def stage_completions(database_url: str, ids: list[str]) -> dict[tuple[str, str], int]:
    """(composition id, stage) -> how many completions of that stage (its first run) the read model holds."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT composition_id::text, payload->>'stage', count(*) FROM composition_events "
                "WHERE composition_id::text = ANY(:ids) AND type = 'CompositionProgressed' AND revision = 0 "
                "AND payload->>'status' = 'completed' GROUP BY 1, 2"),
                {"ids": ids}).all()
    finally:
        engine.dispose()
    return {(cid, stage): count for cid, stage, count in rows}


def assert_stages_completed_once(database_url: str, ids: list[str]) -> None:
    counts = stage_completions(database_url, ids)
    expected = {(cid, stage.value): 1 for cid in ids for stage in SONG_STAGES}
    assert counts == expected, {k: v for k, v in counts.items() if v != 1} or set(expected) - set(counts)


def assert_one_object_per_artifact(artifact_root: Path, ids: list[str]) -> None:
    """The local store keeps ``<root>/<namespace>/<sha[:2]>/<sha>-<name>``: one file per name and composition."""
    for cid in ids:
        names = Counter(p.name.split("-", 1)[1] for p in (artifact_root / cid).rglob("*") if p.is_file())
        assert names and all(n == 1 for n in names.values()), (cid, names)
