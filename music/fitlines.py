"""Lines written elsewhere (a language model) fitted to the plan's syllable slots, or refused.

A line fits a slot when, after at most one filler word is added in front ("oh", "and", "so",
"yeah", "oh oh") or a leading filler is dropped, it has exactly the slot's syllables and its
stresses fit the strong beats (``music.rhythm``). Anything that cannot be fitted is a retryable
``lyrics_unfit`` error: another attempt (or another provider) may write lines that do.
"""

from __future__ import annotations

from composition.models import LyricLine, LyricsSection, PlanSection, SectionLyrics
from music.errors import StageError
from music.lyrics import scheme_of
from music.phonetics import line_syllables, tokenize
from music.rhythm import fits
from music.songwriter import LINE_SLOTS, shape

_PADS = ("", "oh", "and", "so", "yeah", "oh oh", "and so", "oh and")
_FILLERS = ("oh", "and", "so", "yeah", "now", "well")


def fit_line(text: str, syllables: int) -> str | None:
    """``text`` fitted to ``syllables`` (see the module doc), or None."""
    words = " ".join(w for w in text.replace("\u2019", "'").split() if tokenize(w))
    if not words:
        return None
    bases = [words]
    first = words.split()[0].lower().strip(",")
    if first in _FILLERS and len(words.split()) > 1:
        bases.append(words.split(" ", 1)[1])
    for base in bases:
        for pad in _PADS:
            candidate = f"{pad} {base}".strip()
            stresses = list(shape(candidate))
            if len(stresses) == syllables and fits(stresses, LINE_SLOTS):
                return candidate[0].upper() + candidate[1:]
    return None


def fit_sections(plan: PlanSection, written: dict[str, list[str]]) -> LyricsSection:
    """``written`` (section name or kind -> lines) on the plan's vocal sections; choruses and
    prechoruses may be given once by kind. Every slot must be filled by a line that fits."""
    sections = []
    for s in plan.form:
        if not s.vocals or not s.phrase_syllables:
            continue
        lines = written.get(s.name) or written.get(s.kind)
        if not lines or len(lines) < len(s.phrase_syllables):
            raise StageError("lyrics_unfit", f"section {s.name} needs {len(s.phrase_syllables)} lines, got {len(lines or [])}",
                             retryable=True)
        fitted = []
        for text, count in zip(lines, s.phrase_syllables):
            line = fit_line(str(text), count)
            if line is None:
                raise StageError("lyrics_unfit", f"section {s.name}: {text!r} cannot be sung in {count} syllables",
                                 retryable=True)
            fitted.append(line)
        scheme = scheme_of(fitted)
        sections.append(SectionLyrics(section=s.name, rhyme_scheme=scheme, lines=[
            LyricLine(text=t, syllables=line_syllables(t), rhyme=r) for t, r in zip(fitted, scheme)]))
    return LyricsSection(source="generated", sections=sections)
