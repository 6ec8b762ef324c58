"""Measures of what lyrics say: on theme, not repeating themselves, pairings people say, the mood's words.

Distinct lines are counted once (a chorus sung three times counts once), so repetition cannot lift
a share.

- ``on_theme_share``: of the content words of the distinct lines (words outside the function-word,
  stop-word and filler lists, e.g. not "I", "the", "oh", "still"), the share that are on theme by
  :meth:`music.themefield.ThemeField.on_theme` -- one of the word's WordNet base forms is the theme's
  own word, its WordNet neighbour, or a key or image of a topic the theme falls under.
- ``lines_on_theme``: share of distinct lines with at least one on-theme word.
- ``repeated_lines``: lines outside the choruses and prechoruses (which repeat by design) sung more
  than once in the song, or equal to a chorus line.
- ``collocations_licensed``: share of adjective-noun pairings (an adjective of ``music.frames`` before
  a noun) where the noun is of a kind that adjective is listed for (its kinds: WordNet's, by
  ``music.themefield.kinds_of``, and the curated bank's).
- ``valence``: mean valence of the words found in the VADER sentiment lexicon (Hutto and Gilbert
  2014, shipped in the ``vaderSentiment`` wheel, MIT licence; -4 very negative .. 4 very positive),
  an outside judge of the words a mood chose.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

from composition.models import LyricsSection
from music.frames import ADJECTIVES
from music.imagery import bank_kinds
from music.phonetics import FUNCTION_WORDS, tokenize
from music.themefield import kinds_of, theme_field
from music.wordbank import STOPWORDS

FILLERS = frozenset("oh yeah still now so just la na hey ooh ah i'll you'll we'll i've we've i'd you'd there's "
                    "it's that's let's can't don't won't ain't nobody's".split())
_REPEATING = ("chorus", "prechorus")


@dataclass(frozen=True)
class LyricMetrics:
    on_theme_share: float
    lines_on_theme: float
    repeated_lines: int
    collocations_licensed: float | None
    valence: float | None
    content_words: int

    def as_dict(self) -> dict:
        return asdict(self)


def _distinct_lines(lyrics: LyricsSection) -> list[str]:
    return list(dict.fromkeys(line.text for s in lyrics.sections for line in s.lines))


def content_words(text: str) -> list[str]:
    return [w for w in tokenize(text) if w not in FUNCTION_WORDS and w not in STOPWORDS and w not in FILLERS]


def repeated_lines(lyrics: LyricsSection) -> int:
    """Lines outside choruses/prechoruses that occur twice or echo a chorus line (distinct sections only)."""
    repeating = {line.text.lower() for s in lyrics.sections if s.section.rstrip("0123456789") in _REPEATING
                 for line in s.lines}
    seen: dict[str, int] = {}
    for s in lyrics.sections:
        if s.section.rstrip("0123456789") in _REPEATING:
            continue
        for line in s.lines:
            key = line.text.lower()
            seen[key] = seen.get(key, 0) + 1 + (key in repeating)
    return sum(n - 1 for n in seen.values() if n > 1)


def _licensed_kinds() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for kind, columns in ADJECTIVES.items():
        for words in columns.values():
            for adj in words:
                out.setdefault(adj, set()).add(kind)
    return out


def collocations_licensed(lines: list[str]) -> float | None:
    licensed = _licensed_kinds()
    banked = bank_kinds()
    checked = kept = 0
    for text in lines:
        words = tokenize(text)
        for adj, noun in zip(words, words[1:]):
            kinds = kinds_of(noun) | banked.get(noun, set())
            if adj in licensed and kinds:
                checked += 1
                kept += bool(licensed[adj] & kinds)
    return kept / checked if checked else None


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    lexicon = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isalpha():
            lexicon[parts[0].lower()] = float(parts[1])
    return lexicon


def valence(lines: list[str]) -> float | None:
    lexicon = vader_lexicon()
    scores = [lexicon[w] for text in lines for w in tokenize(text) if w in lexicon]
    return sum(scores) / len(scores) if scores else None


def lyric_metrics(lyrics: LyricsSection, theme: str) -> LyricMetrics:
    field = theme_field(theme)
    lines = _distinct_lines(lyrics)
    words = [w for text in lines for w in content_words(text)]
    on = [w for w in words if field.on_theme(w)]
    with_theme = [t for t in lines if any(field.on_theme(w) for w in content_words(t))]
    return LyricMetrics(
        on_theme_share=len(on) / len(words) if words else 0.0,
        lines_on_theme=len(with_theme) / len(lines) if lines else 0.0,
        repeated_lines=repeated_lines(lyrics),
        collocations_licensed=collocations_licensed(lines),
        valence=valence(lines),
        content_words=len(words),
    )
