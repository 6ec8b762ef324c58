"""Lyrics stage: lines written from the theme and mood to the plan's syllable slots, or the user's own.

Generated lines come from the phrase bank (``music.wordbank``): each has exactly the planned number of
syllables, fits its four strong beats with natural stress (``music.rhythm``), and ends on a noun from
a rhyme family chosen for its letter of the section's rhyme scheme. A chorus is written once and sung
the same every time; its first line carries the theme. User lyrics are syllabified (CMUdict with a
letter-to-sound fallback) and their rhyme scheme is read from their line endings.
"""

from __future__ import annotations

import random
from functools import lru_cache

from composition.artifacts import ArtifactStore
from composition.models import (
    CompositionContext,
    CompositionRequest,
    LyricLine,
    LyricsSection,
    PlanSection,
    SectionLyrics,
    StageName,
)
from music import wordbank as bank
from music.errors import StageError
from music.phonetics import line_syllables, rhyme_key, tokenize
from music.plan import LINE_SLOTS
from music.rhythm import fits
from music.stage import BaseProvider, require, stage_rng
from music.userlyrics import read_stanzas


@lru_cache(maxsize=4096)
def _shape(text: str) -> tuple[int, ...]:
    return tuple(s.stress for s in line_syllables(text))


def _tags(valence: float) -> tuple[str, ...]:
    if valence >= 0.15:
        return ("bright", "any")
    if valence <= -0.15:
        return ("dark", "any")
    return ("bright", "dark", "any")


def rhyme_scheme(lines: int, rng: random.Random) -> str:
    """A rhyme scheme for a section of ``lines`` lines (couplets, or alternate rhymes for quatrains)."""
    if lines == 4:
        return rng.choice(["ABAB", "AABB"])
    if lines == 8:
        return rng.choice(["ABABCDCD", "AABBCCDD"])
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(letters[i // 2] for i in range(lines))


def theme_phrases(theme: str) -> list[str]:
    """Singable phrases taken from the theme: the whole theme when short, pairs of adjacent content
    words, and single content words with an article."""
    tokens = tokenize(theme)
    content = [w for w in tokens if w not in bank.STOPWORDS and len(line_syllables(w)) <= 3]
    phrases = [" ".join(tokens)] if 0 < len(line_syllables(theme)) <= 5 else []
    phrases += [f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if a in content and b in content][:2]
    phrases += [f"the {w}" for w in content[:3]]
    return list(dict.fromkeys(phrases)) or ["you"]


class LyricWriter:
    """Writes lines to syllable counts from the phrase bank, remembering what it has used."""

    def __init__(self, theme: str, valence: float, rng: random.Random) -> None:
        self.rng = rng
        tags = _tags(valence)
        self.openers = [o for t in tags for o in bank.OPENERS[t]]
        self.theme_openers = [t.format(t=p) for t in bank.THEME_OPENERS for p in theme_phrases(theme)]
        ends = sorted({w for t in tags for w in bank.END_NOUNS[t]})
        families: dict[str, list[str]] = {}
        for word in ends:
            families.setdefault(rhyme_key(word), []).append(word)
        self.families = {k: v for k, v in sorted(families.items()) if len(v) >= 2}
        leads = sorted({f for t in tags for f in bank.LEAD_FILLERS[t]})
        self.fillers: dict[int, list[tuple[str, str]]] = {}
        for lead in leads:
            for mid in bank.MID_FILLERS:
                n = len(_shape(lead)) + len(_shape(mid))
                self.fillers.setdefault(n, []).append((lead, mid))
        self.used_openers: set[str] = set()
        self.last_opener = ""
        self.used_ends: set[str] = set()
        self.used_families: set[str] = set()

    def family(self, size: int) -> str:
        options = [k for k, v in self.families.items() if len(v) >= size]
        fresh = [k for k in options if k not in self.used_families] or options
        key = self.rng.choice(fresh)
        self.used_families.add(key)
        return key

    def _ordered(self, items: list[str], used: set[str]) -> list[str]:
        items = list(items)
        self.rng.shuffle(items)
        return [i for i in items if i not in used] + [i for i in items if i in used]

    def line(self, syllables: int, family: str, taken: set[str], theme: bool = False,
             avoid: frozenset[str] = frozenset()) -> tuple[str, str]:
        """A line of exactly ``syllables`` syllables ending on an untaken word of the rhyme family;
        openers in ``avoid`` (already in this section) are not reused."""
        ends = self._ordered([w for w in self.families[family] if w not in taken], self.used_ends)
        openers = self._ordered([o for o in self.openers if o not in avoid], self.used_openers)
        if theme:
            openers = self._ordered([o for o in self.theme_openers if o not in avoid], self.used_openers) + openers
        connectors = self._ordered(list(bank.CONNECTORS), set())
        passes = ((0,), (0, 1), (0, 1, 2), (0, 1, 2, 3))  # plain, lead filler, any filler, any noun bare
        for allowed in passes:
            for end in ends:
                n_end = len(_shape(end))
                for opener in openers:
                    n_open = len(_shape(opener))
                    for connector in connectors:
                        need = syllables - n_end - n_open - len(_shape(connector))
                        for lead, mid in self.fillers.get(need, []):
                            if (2 if mid else 1 if lead else 0) not in allowed:
                                continue
                            if connector.endswith(" a") and end[0] in "aeiou":
                                continue
                            if connector in bank.BARE_CONNECTORS and end not in bank.MASS_NOUNS and 3 not in allowed:
                                continue
                            text = " ".join(p for p in (lead, opener, mid, connector, end) if p)
                            if fits(list(_shape(text)), LINE_SLOTS):
                                self.last_opener = opener
                                self.used_openers.add(opener)
                                self.used_ends.add(end)
                                return text[0].upper() + text[1:], end
        raise StageError("lyrics_unfit", f"no line of {syllables} syllables rhyming on {family!r} fits the bank")

    def section(self, slots: list[int], theme_line: int | None) -> SectionLyrics:
        scheme = rhyme_scheme(len(slots), self.rng)
        failed: StageError | None = None
        for _ in range(8):  # a rhyme family that cannot fill a slot is swapped for another
            families = {letter: self.family(scheme.count(letter)) for letter in dict.fromkeys(scheme)}
            taken: dict[str, set[str]] = {letter: set() for letter in families}
            lines, openers = [], set()
            try:
                for i, (count, letter) in enumerate(zip(slots, scheme)):
                    text, end = self.line(count, families[letter], taken[letter], theme=i == theme_line,
                                          avoid=frozenset(openers))
                    openers.add(self.last_opener)
                    taken[letter].add(end)
                    lines.append(LyricLine(text=text, syllables=line_syllables(text), rhyme=letter))
            except StageError as exc:
                failed = exc
                continue
            return SectionLyrics(section="", lines=lines, rhyme_scheme=scheme)
        assert failed is not None
        raise failed


def write_lyrics(plan: PlanSection, theme: str) -> LyricsSection:
    """Generated lyrics for every vocal section; sections of one kind after the first verse repeat
    (choruses and prechoruses) while verses and bridges get new lines."""
    rng = stage_rng(plan.seed, "lyrics")
    writer = LyricWriter(theme, plan.mood.valence, rng)
    written: dict[str, SectionLyrics] = {}
    sections = []
    for s in plan.form:
        if not s.vocals or not s.phrase_syllables:
            continue
        repeat = s.kind in ("chorus", "prechorus") and s.kind in written
        if not repeat:
            theme_line = 0 if s.kind == "chorus" else (2 if s.kind == "verse" and len(s.phrase_syllables) > 2 else None)
            written[s.kind] = writer.section(list(s.phrase_syllables), theme_line)
        sections.append(written[s.kind].model_copy(update={"section": s.name}))
    return LyricsSection(source="generated", sections=sections)


def scheme_of(lines: list[str]) -> str:
    """Rhyme letters read from line endings: lines whose last words share a rhyme key share a letter."""
    letters, keys = [], {}
    for line in lines:
        words = tokenize(line)
        key = rhyme_key(words[-1]) if words else ""
        if key not in keys:
            keys[key] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(keys) % 26]
        letters.append(keys[key])
    return "".join(letters)


def _reflow(words: list[str], slots: list[int]) -> tuple[list[str], list[str]]:
    """Words poured into lines of at most ``slots[i]`` syllables; returns (lines, leftover words)."""
    lines, k = [], 0
    for size in slots:
        line: list[str] = []
        count = 0
        while k < len(words):
            n = len(line_syllables(words[k]))
            if line and count + n > size:
                break
            line.append(words[k])
            count += n
            k += 1
        lines.append(" ".join(line))
    return lines, words[k:]


def align_user_lyrics(plan: PlanSection, text: str) -> LyricsSection:
    """The user's lyrics on the plan's vocal sections: stanza by stanza when the plan was made from
    them, poured into the syllable slots otherwise; lyrics left over are a permanent error."""
    stanzas = read_stanzas(text)
    vocal = [s for s in plan.form if s.vocals and s.phrase_syllables]
    shapes = [[len(line) for line in st.syllables] for st in stanzas]
    chorus = next((st for st in reversed(stanzas) if st.kind == "chorus"), None)
    sections: list[SectionLyrics] = []
    if [list(s.phrase_syllables) for s in vocal[: len(stanzas)]] == shapes and len(vocal) >= len(stanzas):
        for i, s in enumerate(vocal):
            st = stanzas[i] if i < len(stanzas) else chorus
            if st is None or [len(x) for x in st.syllables] != list(s.phrase_syllables):
                raise StageError("lyrics_misaligned", f"section {s.name} has no stanza of its shape")
            sections.append(_section(s.name, list(st.lines)))
        return LyricsSection(source="user", sections=sections)
    words = [w for st in stanzas for line in st.lines for w in tokenize(line)]
    for s in vocal:
        lines, words = _reflow(words, list(s.phrase_syllables))
        sections.append(_section(s.name, lines))
    if words:
        raise StageError(
            "lyrics_too_long",
            f"{len(words)} words of the lyrics do not fit the song's {sum(map(sum, (s.phrase_syllables for s in vocal)))} "
            "syllable slots; shorten the lyrics or ask for a longer song",
        )
    return LyricsSection(source="user", sections=sections)


def _section(name: str, lines: list[str]) -> SectionLyrics:
    scheme = scheme_of(lines)
    return SectionLyrics(
        section=name,
        lines=[LyricLine(text=t, syllables=line_syllables(t), rhyme=r) for t, r in zip(lines, scheme)],
        rhyme_scheme=scheme,
    )


def make_lyrics(request: CompositionRequest, plan: PlanSection) -> LyricsSection:
    """The lyrics stage: the user's lyrics aligned when given, generated ones otherwise."""
    if request.instrumental:
        raise StageError("instrumental", "an instrumental request has no lyrics stage")
    if request.lyrics is not None:
        return align_user_lyrics(plan, request.lyrics)
    return write_lyrics(plan, request.theme)


class BankLyricist(BaseProvider):
    """The lyrics stage's built-in provider: the phrase bank, CMUdict and the user's own words."""

    stage = StageName.LYRICS
    name = "bank"
    version = "1"
    capabilities = frozenset({"generated", "user-lyrics", "cmudict", "letter-to-sound", "language:en"})

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> LyricsSection:
        (plan,) = require(ctx, "plan")
        return make_lyrics(ctx.request, plan)
