"""A user's own lyrics read into stanzas of syllabified lines (shared by the planner and lyrics stage).

Stanzas are separated by blank lines or by structure tags on a line of their own (``[intro]``,
``[verse]``, ``[prechorus]``, ``[chorus]``, ``[bridge]``, ``[outro]``). Untagged, a stanza whose
text appears more than once is a chorus and the others are verses; without blank lines, lines are
grouped four to a verse. Tagged, the tags are the form: a tag's kind is its stanza's, a tag with no
lines is an instrumental section of that kind (an empty ``[chorus]`` after a chorus sings it again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from composition.controls import SECTION_TAGS
from composition.models import Syllable
from music.errors import StageError
from music.phonetics import line_syllables, tokenize

_TAG = re.compile(r"^\[\s*([A-Za-z -]+?)\s*\d*\s*\]$")


@dataclass(frozen=True)
class Stanza:
    kind: str  # "verse", "chorus", ... (a FormSection kind)
    lines: tuple[str, ...]
    syllables: tuple[tuple[Syllable, ...], ...]
    tagged: bool = False

    @property
    def sung(self) -> bool:
        return bool(self.lines)


def _normal(lines: list[str]) -> str:
    return " / ".join(" ".join(tokenize(line)) for line in lines)


def _tag(line: str) -> str | None:
    match = _TAG.match(line)
    if not match:
        return None
    name = match[1].lower().replace(" ", "").replace("-", "")
    return SECTION_TAGS.get(name)


def read_stanzas(text: str | None) -> list[Stanza]:
    """The user's lyrics as stanzas in sung order; empty or unsingable lyrics are a permanent
    ``lyrics_empty`` error."""
    if text is None or not text.strip():
        raise StageError("lyrics_empty", "lyrics are empty or whitespace only; send words or omit lyrics")
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    tagged = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        kind = _tag(line)
        if kind is not None:
            tagged = True
            blocks.append((kind, []))
            continue
        if not line:
            if blocks[-1][1]:
                blocks.append((blocks[-1][0] if not tagged else None, []))
            continue
        if tokenize(line):
            blocks[-1][1].append(line)
    if tagged:
        return _tagged(blocks)
    plain = [b for _, b in blocks if b]
    if not plain:
        raise StageError("lyrics_empty", "lyrics hold no singable words (letters)")
    if len(plain) == 1 and len(plain[0]) > 4:
        lines = plain[0]
        plain = [lines[i : i + 4] for i in range(0, len(lines), 4)]
    counts: dict[str, int] = {}
    for block in plain:
        counts[_normal(block)] = counts.get(_normal(block), 0) + 1
    return [_stanza("chorus" if counts[_normal(b)] > 1 else "verse", b) for b in plain]


def _stanza(kind: str, lines: list[str], tagged: bool = False) -> Stanza:
    return Stanza(kind, tuple(lines), tuple(tuple(line_syllables(line)) for line in lines), tagged)


def _tagged(blocks: list[tuple[str | None, list[str]]]) -> list[Stanza]:
    out: list[Stanza] = []
    last: dict[str, Stanza] = {}
    for kind, lines in blocks:
        if kind is None and not lines:
            continue
        kind = kind or (out[-1].kind if out else "verse")  # lines after a blank line keep the tag's kind
        if lines:
            stanza = _stanza(kind, lines, True)
            last[kind] = stanza
        elif kind in ("chorus", "prechorus") and kind in last:
            stanza = last[kind]
        else:
            stanza = Stanza(kind, (), (), True)
        out.append(stanza)
    if not any(s.sung for s in out):
        raise StageError("lyrics_empty", "the tagged lyrics hold no singable words (letters)")
    return out
