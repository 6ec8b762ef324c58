"""Generated lyrics that tell something about the theme, fitted to the plan's syllable slots.

Each line is a frame of its part of the song (``music.frames``: scene, develop, build, hook, turn)
with its slots filled from the theme's field (``music.themefield``): the theme's own words first,
then WordNet's neighbours, then the images of the theme's topics; an off-theme general word only
when no field word of the kind rhymes. A line has exactly the planned number of syllables, fits its
strong beats with natural stress (``music.rhythm``) and ends on a rhyme of its letter. The chorus
opens and closes on the hook (the request's hook, else its title, else the theme itself when it is
singable) and is sung the same every time; no other line is used twice in a song.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache

from composition.models import LyricLine, SectionLyrics
from music.errors import StageError
from music.frames import ADJECTIVES, FRAMES, LEADS, moods, parts
from music.imagery import BRIGHT_WORDS, DARK_WORDS, KINDS
from music.metrics_lyrics import content_words
from music.phonetics import line_syllables, rhyme_key
from music.rhythm import fits
from music.themefield import ThemeField

LINE_SLOTS = 4
PART_OF = {"verse": "scene", "prechorus": "build", "chorus": "hook", "bridge": "turn"}
_CONJUNCTIONS = ("and ", "but ", "so ", "if ", "now ", "oh ", "here ")
_TAILS = ("", "again", "tonight", "oh", "forever", "oh oh")


@lru_cache(maxsize=8192)
def shape(text: str) -> tuple[int, ...]:
    return tuple(s.stress for s in line_syllables(text))


@dataclass
class Line:
    text: str
    end: str
    nouns: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # (adjective, noun) pairings the line makes
    frame: str


@dataclass
class _Memory:
    frames: set[str] = field(default_factory=set)
    nouns: dict[str, int] = field(default_factory=dict)
    texts: set[str] = field(default_factory=set)
    ends: set[str] = field(default_factory=set)


def fit_hook(hook: str, syllables: int) -> str | None:
    """The hook padded with a lead or tail word to ``syllables``, or None when it cannot fit."""
    for lead in ("", "oh", "and", "oh oh", "yeah"):
        for tail in _TAILS:
            text = " ".join(p for p in (lead, hook.strip(" ,.!?"), tail) if p)
            stresses = list(shape(text))
            if len(stresses) == syllables and fits(stresses, LINE_SLOTS):
                return text[0].upper() + text[1:]
    return None


def singable_hook(theme: str) -> str | None:
    """The theme as a chorus hook when it is a short singable phrase (at most 10 syllables, four strong beats)."""
    text = " ".join(theme.split()).strip(" ,.!?")
    stresses = list(shape(text))
    if 1 <= len(stresses) <= 10 and fits(stresses, LINE_SLOTS) and len(text) <= 60:
        return text
    return None


def request_hook(request) -> str | None:
    """The line every chorus is built around: the request's hook, else its title (None: the theme's)."""
    return request.hook or request.title


def hook_syllables(request) -> int | None:
    """Syllables of the hook line the plan gives the chorus's first and last slots (None: no hook)."""
    hook = request_hook(request) or singable_hook(request.theme)
    n = len(shape(hook)) if hook else 0
    if request_hook(request) and not (n <= 10 and fits(list(shape(hook)), LINE_SLOTS)):
        field = "hook" if request.hook else "title"
        raise StageError("hook_too_long", f"the {field} {hook!r} has {n} syllables; a sung line holds at most 10 "
                         "(four strong beats)")
    if 1 <= n < 4:
        n = 4  # a short hook is padded ("first love again")
    return n if 4 <= n <= 10 else None


class SongWriter:
    """Writes a song's sections in order, remembering what it has said."""

    def __init__(self, fieldset: ThemeField, valence: float, rng: random.Random, hook: str | None = None) -> None:
        self.field = fieldset
        self.rng = rng
        self.cols = moods(valence)
        self.hook = hook
        self.memory = _Memory()
        self.max_tier = 3
        self.avoid_keys: set[str] = set()
        self.section_frames: set[str] = set()
        self.mood_adjectives = {a for kind in ADJECTIVES.values() for c in self.cols if c != "any" for a in kind[c]}
        self.pools = {kind: {w: t for w, t in fieldset.pool(kind, general=True).items()
                             if t == 0 or w not in (DARK_WORDS if valence >= 0.15 else BRIGHT_WORDS if valence <= -0.15 else ())}
                      for kind in KINDS}
        self.families: dict[str, set[str]] = {}
        for pool in self.pools.values():
            for word in pool:
                self.families.setdefault(rhyme_key(word), set()).add(word)

    def _nouns(self, kinds: tuple[str, ...], key: str | None, exclude: set[str], strict: bool, need: int,
               last_slot: bool = True) -> list[str]:
        found: dict[str, int] = {}
        for kind in kinds:
            for word, tier in self.pools[kind].items():
                if word in exclude or tier > self.max_tier or (tier > 2 and not last_slot):
                    continue
                if last_slot and strict and word in self.memory.ends:
                    continue
                if key is not None and rhyme_key(word) != key:
                    continue
                if key is None and rhyme_key(word) in self.avoid_keys:
                    continue
                if key is None and need > 1 and len(self.families[rhyme_key(word)] - exclude) < need + 1:
                    continue
                found[word] = min(tier, found.get(word, 9))
        words = sorted(found)
        self.rng.shuffle(words)
        size = {w: len(self.families[rhyme_key(w)] - exclude) for w in words} if key is None and need > 1 else {}
        return sorted(words, key=lambda w: (found[w] + 2 * self.memory.nouns.get(w, 0) - min(size.get(w, 0), 6) / 3, ))

    def _adjectives(self, kind: str) -> list[str]:
        adjs = sorted({a for c in self.cols for a in ADJECTIVES[kind][c]})
        self.rng.shuffle(adjs)
        return [""] + adjs

    def line(self, part: str, syllables: int, key: str | None, exclude: set[str], need: int,
             strict: bool = True) -> Line:
        """The best line of ``part`` with exactly ``syllables`` syllables ending on a rhyme of ``key``
        (any when None): field words over general ones, fresh words and frames, few fillers."""
        frames = sorted({f for c in self.cols for f in FRAMES[part].get(c, ())} - self.section_frames)
        self.rng.shuffle(frames)
        leads = sorted({lead for c in self.cols for lead in LEADS[c]})
        levels = ((2, True), (3, True), (3, False)) if strict else ((3, False),)
        for self.max_tier, on_theme in levels:
            found = [c for f in frames for c in self._candidates(f, syllables, key, exclude, need, on_theme, leads)]
            if found:
                return min(found, key=lambda c: c[0])[1]
        if not strict:  # last resort: a frame of another part of the song
            others = sorted({f for p, cols in FRAMES.items() if p != part for c in self.cols for f in cols.get(c, ())}
                            - self.section_frames)
            found = [c for f in others for c in self._candidates(f, syllables, key, exclude, need, False, leads)]
            if found:
                return min(found, key=lambda c: c[0])[1]
        raise StageError("lyrics_unfit", f"no {part} line of {syllables} syllables fits the field of {self.field.theme!r}")

    def _score(self, combo: list[tuple[str, str, int]], lead: str, frame: str) -> float:
        score = sum(tier for _, _, tier in combo) / len(combo) + 0.6 * len(shape(lead))
        score += sum(0.1 if adj in self.mood_adjectives else 0.4 for adj, _, _ in combo if adj)  # the mood's words
        score += 2.5 * sum(self.memory.nouns.get(w, 0) for _, w, _ in combo)
        score += 1.5 * (frame in self.memory.frames)
        return score + 0.8 * self.rng.random()

    def _candidates(self, frame, syllables, key, exclude, need, strict, leads) -> list[tuple[float, Line]]:
        pieces = parts(frame)
        slots = [i for i, p in enumerate(pieces) if isinstance(p, tuple)]
        literal = sum(len(shape(p)) for p in pieces if isinstance(p, str))
        choices: list[list[tuple[str, str, int]]] = []
        for n, i in enumerate(slots):
            adj_ok, kinds = pieces[i]
            last = n == len(slots) - 1
            nouns = self._nouns(kinds, key if last else None, exclude, strict, need if last else 0, last)[: 16 if last else 6]
            tier = {w: min(self.pools[k][w] for k in kinds if w in self.pools[k]) for w in nouns}
            kind_of = {w: next(k for k in kinds if w in self.pools[k]) for w in nouns}
            adjs = lambda w: self._adjectives(kind_of[w])[:5] if adj_ok else [""]
            choices.append([(a, w, tier[w]) for w in nouns for a in adjs(w)])
        combos: list[list[tuple[str, str, int]]] = [[]]
        for options in choices:
            combos = [c + [o] for c in combos for o in options if o[1] not in {w for _, w, _ in c}][:300]
        out = []
        for combo in combos:
            fill = sum(len(shape(" ".join(x for x in pair[:2] if x))) for pair in combo)
            for lead in leads if not frame.startswith(_CONJUNCTIONS) else ("",):
                if literal + fill + len(shape(lead)) != syllables:
                    continue
                words, k = [], 0
                for p in pieces:
                    if isinstance(p, str):
                        words.append(p)
                    else:
                        words.append(" ".join(x for x in combo[k][:2] if x))
                        k += 1
                text = " ".join(x for x in [lead] + words if x)
                if text.lower() in self.memory.texts or not fits(list(shape(text)), LINE_SLOTS):
                    continue
                if strict and not any(self.field.on_theme(w) for w in content_words(text)):
                    continue
                line = Line(text[0].upper() + text[1:], combo[-1][1], tuple(w for _, w, _ in combo),
                            tuple((a, w) for a, w, _ in combo if a), frame)
                out.append((self._score(combo, lead, frame), line))
        return out

    def _remember(self, line: Line) -> None:
        self.memory.frames.add(line.frame)
        self.memory.texts.add(line.text.lower())
        self.memory.ends.add(line.end)
        for w in line.nouns:
            self.memory.nouns[w] = self.memory.nouns.get(w, 0) + 1

    def section(self, kind: str, slots: list[int], ordinal: int) -> tuple[SectionLyrics, list[Line]]:
        """A section's lines, retried with fresh choices when a rhyme family runs dry."""
        part = "develop" if kind == "verse" and ordinal > 0 else PART_OF.get(kind, "scene")
        hook_text = fit_hook(self.hook, slots[0]) if kind == "chorus" and self.hook else None
        if hook_text and len(slots) >= 2 and slots[-1] == slots[0]:  # a two-line chorus sings the hook twice
            scheme = "A" + "".join(chr(ord("B") + i // 2) for i in range(len(slots) - 2)) + "A"
        elif hook_text:
            scheme = "A" + "".join(chr(ord("B") + i // 2) for i in range(len(slots) - 1))
        else:
            scheme = self.rng.choice(["ABAB", "AABB"]) if len(slots) == 4 else "".join(chr(ord("A") + i // 2) for i in range(len(slots)))
        failed: StageError | None = None
        for attempt in range(10):
            strict = attempt < 8
            keys: dict[str, str] = {}
            ends: dict[str, set[str]] = {}
            lines: list[Line] = []
            try:
                for i, (count, letter) in enumerate(zip(slots, scheme)):
                    if hook_text and letter == "A" and (i == 0 or i == len(slots) - 1):
                        end = line_syllables(hook_text)[-1].word.lower()
                        lines.append(Line(hook_text, end, (), (), "<hook>"))
                        keys.setdefault(letter, rhyme_key(end))
                        continue
                    need = scheme.count(letter) - (1 if letter in keys else 0)
                    self.avoid_keys = set(keys.values())
                    self.section_frames = {ln.frame for ln in lines}
                    taken = ends.setdefault(letter, set()) | {w for ln in lines for w in ln.nouns}
                    try:
                        line = self.line(part, count, keys.get(letter), taken, need, strict)
                    except StageError:
                        if strict or letter not in keys:
                            raise
                        letter = next(x for x in "ABCDEFGHIJKLMNOP" if x not in scheme)  # left unrhymed
                        scheme = scheme[:i] + letter + scheme[i + 1:]
                        line = self.line(part, count, None, taken, 1, strict)
                        ends[letter] = set()
                    keys.setdefault(letter, rhyme_key(line.end))
                    ends[letter].add(line.end)
                    lines.append(line)
            except StageError as exc:
                failed = exc
                continue
            for line in lines:
                if line.frame != "<hook>":
                    self._remember(line)
            out = [LyricLine(text=ln.text, syllables=line_syllables(ln.text), rhyme=letter) for ln, letter in zip(lines, scheme)]
            return SectionLyrics(section="", lines=out, rhyme_scheme=scheme), lines
        assert failed is not None
        raise failed
