"""A user's own lyrics read into stanzas of syllabified lines (shared by the planner and lyrics stage).

Stanzas are separated by blank lines; a stanza whose text appears more than once is a chorus, the
others are verses. Without blank lines, lines are grouped four to a verse.
"""

from __future__ import annotations

from dataclasses import dataclass

from composition.models import Syllable
from music.errors import StageError
from music.phonetics import line_syllables, tokenize


@dataclass(frozen=True)
class Stanza:
    kind: str  # "verse" or "chorus"
    lines: tuple[str, ...]
    syllables: tuple[tuple[Syllable, ...], ...]


def _normal(lines: list[str]) -> str:
    return " / ".join(" ".join(tokenize(line)) for line in lines)


def read_stanzas(text: str | None) -> list[Stanza]:
    """The user's lyrics as stanzas; empty or unsingable lyrics are a permanent ``lyrics_empty`` error."""
    if text is None or not text.strip():
        raise StageError("lyrics_empty", "lyrics are empty or whitespace only; send words or omit lyrics")
    blocks: list[list[str]] = [[]]
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            if blocks[-1]:
                blocks.append([])
            continue
        if tokenize(line):
            blocks[-1].append(line)
    blocks = [b for b in blocks if b]
    if not blocks:
        raise StageError("lyrics_empty", "lyrics hold no singable words (letters)")
    if len(blocks) == 1 and len(blocks[0]) > 4:
        lines = blocks[0]
        blocks = [lines[i : i + 4] for i in range(0, len(lines), 4)]
    counts: dict[str, int] = {}
    for block in blocks:
        counts[_normal(block)] = counts.get(_normal(block), 0) + 1
    stanzas = []
    for block in blocks:
        kind = "chorus" if counts[_normal(block)] > 1 else "verse"
        stanzas.append(Stanza(kind, tuple(block), tuple(tuple(line_syllables(line)) for line in block)))
    return stanzas
