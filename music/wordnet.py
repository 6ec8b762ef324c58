"""A small reader of the Princeton WordNet 3.0 database as Debian's ``wordnet-base`` installs it.

The lyric writer expands a song's theme into related words through WordNet (synonyms, hypernyms,
hyponyms, parts, derivations, glosses). Debian ships the database files (``index.*``, ``data.*``,
``*.exc``, ``cntlist.rev``) in ``/usr/share/wordnet`` but not the ``lexnames`` file nltk's reader
needs, so this reads the documented format (wndb(5)) itself: the index is loaded once, a synset is
read by seeking to its byte offset in the data file. WordNet 3.0 licence: Princeton's, permissive
(use, copy, modify, distribute with the copyright notice).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from music.errors import StageError

WORDNET_DIR = "/usr/share/wordnet"
POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_DETACH = {
    "n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y")],
    "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
    "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "r": [],
}


@dataclass(frozen=True)
class Synset:
    """One WordNet synset: its words (single words only, lower case), lexicographer file, pointers, gloss."""

    pos: str  # n, v, a (satellites too), r
    offset: int
    lexname: str
    words: tuple[str, ...]
    pointers: tuple[tuple[str, str, int], ...]  # (symbol, pos, offset)
    gloss: str

    def related(self, *symbols: str) -> list["Synset"]:
        return [synset(pos, off) for sym, pos, off in self.pointers if sym in symbols]


class WordNet:
    """The database in one directory; ``synsets(word, pos)`` lists senses most frequent first."""

    def __init__(self, root: str = WORDNET_DIR) -> None:
        if not os.path.exists(os.path.join(root, "data.noun")):
            raise StageError("wordnet_missing", f"WordNet is not installed at {root} (Debian package wordnet-base)")
        self.root = root
        self.index: dict[str, dict[str, tuple[int, ...]]] = {p: {} for p in POS}
        for pos, name in POS.items():
            with open(os.path.join(root, f"index.{name}"), encoding="latin-1") as f:
                for line in f:
                    if line.startswith(" "):
                        continue
                    parts = line.split()
                    n_synsets, n_ptrs = int(parts[2]), int(parts[3])
                    offsets = parts[6 + n_ptrs:6 + n_ptrs + n_synsets]
                    self.index[pos][parts[0]] = tuple(int(o) for o in offsets)
        self.exceptions: dict[str, dict[str, str]] = {p: {} for p in POS}
        for pos, name in POS.items():
            with open(os.path.join(root, f"{name}.exc"), encoding="latin-1") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2:
                        self.exceptions[pos].setdefault(parts[0], parts[1])
        self.counts: dict[tuple[str, str], int] = {}
        with open(os.path.join(root, "cntlist.rev"), encoding="latin-1") as f:
            for line in f:
                key, _, count = line.split()
                lemma, _, rest = key.partition("%")
                pos = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}.get(rest[:1], "n")
                self.counts[(lemma, pos)] = self.counts.get((lemma, pos), 0) + int(count)
        self._files = {pos: open(os.path.join(root, f"data.{name}"), "rb") for pos, name in POS.items()}

    def read(self, pos: str, offset: int) -> Synset:
        f = self._files["a" if pos == "s" else pos]
        f.seek(offset)
        line = f.readline().decode("latin-1")
        data, _, gloss = line.partition(" | ")
        parts = data.split()
        lexname = LEXNAMES[int(parts[1])]
        n_words = int(parts[3], 16)
        words = tuple(w.lower().split("(")[0] for w in parts[4:4 + 2 * n_words:2])
        k = 4 + 2 * n_words
        n_ptrs = int(parts[k])
        pointers = tuple((parts[k + 1 + 4 * i], parts[k + 3 + 4 * i], int(parts[k + 2 + 4 * i])) for i in range(n_ptrs))
        return Synset("a" if pos == "s" else pos, offset, lexname, words, pointers, gloss.strip())

    def lemmas(self, word: str, pos: str) -> list[str]:
        """Base forms of ``word`` as ``pos`` that WordNet knows (the word itself, an exception, a detachment)."""
        word = word.lower()
        found = [word] if word in self.index[pos] else []
        if word in self.exceptions[pos] and self.exceptions[pos][word] in self.index[pos]:
            found.append(self.exceptions[pos][word])
        for suffix, ending in _DETACH[pos]:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[: len(word) - len(suffix)] + ending
                if base in self.index[pos]:
                    found.append(base)
        return list(dict.fromkeys(found))

    def synsets(self, word: str, pos: str) -> list[Synset]:
        return [synset(pos, off) for lemma in self.lemmas(word, pos) for off in self.index[pos][lemma]]

    def familiarity(self, word: str, pos: str | None = None) -> int:
        """How often the word was sense-tagged (as ``pos``, or any) in WordNet's corpus (cntlist): a rough commonness."""
        if pos is not None:
            return self.counts.get((word, pos), 0)
        return sum(self.counts.get((word, p), 0) for p in POS)


@lru_cache(maxsize=1)
def wordnet() -> WordNet:
    return WordNet()


@lru_cache(maxsize=200_000)
def synset(pos: str, offset: int) -> Synset:
    return wordnet().read(pos, offset)


def available(root: str = WORDNET_DIR) -> bool:
    return os.path.exists(os.path.join(root, "data.noun"))
