"""A song's theme expanded into a field of related words, each sorted into the kind of slot it fills.

The field has three rings (``tier``): 0 the theme's own content words (as WordNet lemmas), 1 their
WordNet neighbours (synonyms, hypernyms, hyponyms, parts and wholes, derivations, similar words, for
the two most frequent senses, familiar single words only), 2 the images of the
curated topics (``music.imagery``) the theme falls under, by a word of rings 0-1 among a topic's
keys or a hypernym of one of its senses among the topic's anchors. Slot nouns are the topics' images
and, of the WordNet rings, the theme's own nouns, their synonyms and direct hypernyms (the wider
ring holds too many rare senses to sing). :meth:`ThemeField.on_theme` is the
on-theme test the metrics use: a word is on theme when one of its base forms is in the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from music.imagery import GENERAL, KINDS, TOPICS
from music.phonetics import in_dictionary, syllable_count, tokenize
from music.wordbank import STOPWORDS
from music.wordnet import Synset, wordnet

MIN_FAMILIARITY = 2  # times sense-tagged in WordNet's corpus: drops "begetter", "pater"
_ROOM_ROOTS = ("room", "building", "municipality", "urban_area", "vehicle", "district", "thoroughfare", "yard", "garden")
_PLACE_ROOTS = ("road", "path", "passage", "structure", "way", "room", "area", "facility", "building", "geological_formation", "land", "region")
_NOUN_KIND = {
    "noun.person": "person", "noun.group": "person", "noun.location": "place", "noun.object": "nature",
    "noun.phenomenon": "nature", "noun.plant": "nature", "noun.animal": "nature", "noun.substance": "nature",
    "noun.food": "thing", "noun.time": "time", "noun.event": "event", "noun.act": "event", "noun.body": "body",
    "noun.feeling": "feeling", "noun.state": "feeling", "noun.cognition": "feeling", "noun.motive": "feeling",
    "noun.attribute": "feeling", "noun.communication": "word", "noun.artifact": "thing",
}


def _closure(s: Synset, depth: int = 10) -> set[int]:
    seen: set[int] = set()
    frontier = [s]
    for _ in range(depth):
        frontier = [h for f in frontier for h in f.related("@", "@i") if h.offset not in seen]
        seen.update(h.offset for h in frontier)
    return seen


@lru_cache(maxsize=64)
def _first_noun(word: str) -> int | None:
    offsets = wordnet().index["n"].get(word)
    return offsets[0] if offsets else None


@lru_cache(maxsize=20000)
def kinds_of(word: str) -> frozenset[str]:
    """The slot kinds WordNet's first three noun senses of ``word`` put it in."""
    found: set[str] = set()
    places = {o for o in (_first_noun(r) for r in _PLACE_ROOTS) if o is not None}
    rooms = {o for o in (_first_noun(r) for r in _ROOM_ROOTS) if o is not None}
    for s in wordnet().synsets(word, "n")[:3]:
        if (_closure(s) | {s.offset}) & rooms:
            found.update(("room", "place"))
        kind = _NOUN_KIND.get(s.lexname)
        if kind is None:
            continue
        found.add(kind)
        if s.lexname in ("noun.artifact", "noun.object") and (_closure(s) | {s.offset}) & places:
            found.add("place")
        if s.lexname == "noun.substance":
            found.add("thing")
    return frozenset(found)


@lru_cache(maxsize=1)
def general_nouns() -> dict[str, tuple[str, ...]]:
    """Off-theme words any song may rhyme on (``music.imagery.GENERAL``)."""
    found: dict[str, set[str]] = {k: set(v) for k, v in GENERAL.items()}
    for w in GENERAL["place"]:
        if "room" in kinds_of(w):
            found["room"].add(w)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def singable(word: str) -> bool:
    return word.isalpha() and in_dictionary(word) and 1 <= syllable_count(word) <= 3 and word not in STOPWORDS


def base_forms(word: str) -> set[str]:
    wn = wordnet()
    return {word} | {lemma for pos in ("n", "v", "a") for lemma in wn.lemmas(word, pos)}


@dataclass(frozen=True)
class ThemeField:
    theme: str
    lemmas: tuple[str, ...]  # the theme's own content words, base forms
    topics: tuple[str, ...]
    tiers: dict[str, int]  # every field word -> its ring (0, 1, 2)
    nouns: dict[str, dict[str, int]]  # kind -> singable noun -> ring

    def on_theme(self, word: str) -> bool:
        return bool(base_forms(word.lower()) & self.tiers.keys())

    def pool(self, kind: str, general: bool = False) -> dict[str, int]:
        """Nouns of a kind with their ring; ``general`` adds the off-theme general words as ring 3."""
        found = dict(self.nouns.get(kind, {}))
        if general:
            for w in general_nouns().get(kind, ()):
                found.setdefault(w, 3)
        return found


def _neighbours(s: Synset) -> set[str]:
    words = set(s.words)
    for r in s.related("@", "~", "+", "%p", "#p", "%m", "#m", "%s", "#s", "&", "^"):
        words.update(r.words)
    return {w for w in words if w.isalpha() and wordnet().familiarity(w) >= MIN_FAMILIARITY}


def _noun_kind(word: str) -> str | None:
    """The kind of a field word used as a slot noun: its first noun sense's, when it is mainly a noun."""
    wn = wordnet()
    nouns = wn.familiarity(word, "n")
    if nouns < MIN_FAMILIARITY or nouns < max(wn.familiarity(word, "v"), wn.familiarity(word, "a")) or not singable(word):
        return None
    first = wn.synsets(word, "n")[:1]
    if not first:
        return None
    kinds = kinds_of(word)
    kind = _NOUN_KIND.get(first[0].lexname)
    return "place" if "place" in kinds and kind in ("thing", "nature") else kind


def theme_words(theme: str) -> list[str]:
    """The theme's content words (possessive endings dropped)."""
    return [t.removesuffix("'s") for t in tokenize(theme) if t not in STOPWORDS and len(t) > 1]


@lru_cache(maxsize=256)
def theme_field(theme: str) -> ThemeField:
    """The field of a theme (cached: the same theme always expands the same way)."""
    wn = wordnet()
    tokens = theme_words(theme)
    lemmas: list[str] = []
    for t in tokens:
        forms = [f for pos in ("n", "v", "a") for f in wn.lemmas(t, pos)]
        lemmas.append(forms[0] if forms else t)
    lemmas = list(dict.fromkeys(lemmas))
    tiers: dict[str, int] = {}
    for t in tokens + lemmas:
        tiers.setdefault(t, 0)
    senses = [s for lemma in lemmas for pos in ("n", "v", "a") for s in wn.synsets(lemma, pos)[:2]]
    synonyms = set(tiers) | {w for s in senses for w in s.words}
    main_pos = {lemma: max("nva", key=lambda p: wn.familiarity(lemma, p)) for lemma in lemmas}  # "first" is an adjective
    firsts = [s for lemma in lemmas for pos in ("n", "v") if pos == main_pos[lemma] for s in wn.synsets(lemma, pos)[:1]]
    close = set(tiers) | {w for s in firsts for w in s.words} | {w for s in firsts for h in s.related("@") for w in h.words}
    for s in senses:
        for w in _neighbours(s):
            tiers.setdefault(w, 1)
    hypernyms = {s.offset for s in senses}.union(*(_closure(s) for s in senses)) if senses else set()
    topics = []
    for topic in TOPICS:
        anchors = {o for o in (_first_noun(a) for a in topic.anchors) if o is not None}
        if topic.keys & synonyms or anchors & hypernyms:
            topics.append(topic)
    for topic in topics:
        for w in topic.keys:
            tiers.setdefault(w, 2)
        for words in topic.images.values():
            for w in words:
                tiers.setdefault(w, 2)
    nouns: dict[str, dict[str, int]] = {k: {} for k in KINDS}
    for topic in topics:
        for kind, words in topic.images.items():
            for w in words:
                for k in (kind, "room") if kind == "place" and "room" in kinds_of(w) else (kind,):
                    nouns[k][w] = min(tiers[w], nouns[k].get(w, 9))
    for w, tier in tiers.items():
        kind = _noun_kind(w) if tier == 0 or (tier == 1 and w in close) else None
        if tier == 1 and kind in ("feeling", "word"):  # WordNet's abstract senses of a neighbour rarely sing
            kind = None
        for k in (kind, "room") if kind == "place" and "room" in kinds_of(w) else (kind,) if kind else ():
            nouns[k][w] = min(tier, nouns[k].get(w, 9))
    return ThemeField(theme, tuple(lemmas), tuple(t.name for t in topics), tiers, nouns)
