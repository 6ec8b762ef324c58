"""Words to sung syllables: CMUdict pronunciations (via ``pronouncing``, shipped in its wheel),
a letter-to-sound fallback for unknown words, syllable splitting, natural stress and rhyme.

Stress follows CMUdict with one sung-English adjustment: one-syllable function words ("the", "and",
"to", "my") are unstressed, because singers do not accent them.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pronouncing

from composition.models import Syllable

FUNCTION_WORDS = frozenset(
    """a an the and or but nor of to in on at by for with from as is am are was were be been it its
    i you we they he she me my your our their his her him us them that this than so if do does did
    can will would could should shall may might must not no up out off per via has have had i'm
    you're we're they're it's there their what when where who how while till yet""".split()
)

_VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
_ONSETS = frozenset(
    """P R|T R|K R|B R|D R|G R|F R|TH R|SH R|P L|K L|B L|G L|F L|S L|S T|S P|S K|S M|S N|S W|T W|K W|
    D W|S T R|S P R|S K R|S P L|S K W|P Y|K Y|B Y|F Y|M Y|HH Y|V Y|G W""".replace("\n", "").split("|")
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def is_vowel(phone: str) -> bool:
    return phone[:2] in _VOWELS


def tokenize(text: str) -> list[str]:
    """Lower-case words of a line (letters and inner apostrophes); punctuation and digits dropped."""
    return _WORD.findall(text.lower().replace("’", "'"))


@lru_cache(maxsize=8192)
def pronounce(word: str) -> tuple[str, ...]:
    """ARPAbet phones of ``word``: CMUdict's shortest sung form, else the letter-to-sound rules."""
    options = pronouncing.phones_for_word(word)
    if options:
        best = min(options, key=lambda p: sum(1 for ph in p.split() if is_vowel(ph)))
        return tuple(best.split())
    return tuple(letter_to_sound(word))


def in_dictionary(word: str) -> bool:
    return bool(pronouncing.phones_for_word(word))


_LTS_MULTI = [
    ("tch", ["CH"]), ("igh", ["AY1"]), ("sh", ["SH"]), ("ch", ["CH"]), ("th", ["TH"]), ("ph", ["F"]),
    ("wh", ["W"]), ("ck", ["K"]), ("ng", ["NG"]), ("qu", ["K", "W"]), ("wr", ["R"]), ("gh", []),
    ("ee", ["IY1"]), ("ea", ["IY1"]), ("oo", ["UW1"]), ("ou", ["AW1"]), ("ow", ["OW1"]), ("oi", ["OY1"]),
    ("oy", ["OY1"]), ("ai", ["EY1"]), ("ay", ["EY1"]), ("au", ["AO1"]), ("aw", ["AO1"]), ("ie", ["IY1"]),
    ("ey", ["IY1"]), ("ll", ["L"]), ("ss", ["S"]), ("tt", ["T"]), ("pp", ["P"]), ("nn", ["N"]),
    ("mm", ["M"]), ("rr", ["R"]), ("ff", ["F"]), ("dd", ["D"]), ("bb", ["B"]), ("gg", ["G"]), ("zz", ["Z"]),
]
_LTS_SINGLE = {
    "a": "AE1", "e": "EH1", "i": "IH1", "o": "AA1", "u": "AH1", "b": "B", "d": "D", "f": "F", "g": "G",
    "h": "HH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "p": "P", "q": "K", "r": "R", "s": "S",
    "t": "T", "v": "V", "w": "W", "z": "Z",
}
_LONG = {"a": "EY1", "e": "IY1", "i": "AY1", "o": "OW1", "u": "UW1"}


def letter_to_sound(word: str) -> list[str]:
    """A small English letter-to-sound rule set for words CMUdict lacks; first vowel stressed."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if w.startswith("kn"):
        w = w[1:]
    magic = len(w) >= 3 and w.endswith("e") and w[-3] in _LONG and w[-2] not in "aeiouy"
    if magic:
        w = w[:-1]
    phones: list[str] = []
    i = 0
    while i < len(w):
        for graph, sound in _LTS_MULTI:
            if w.startswith(graph, i):
                phones += sound
                i += len(graph)
                break
        else:
            ch = w[i]
            nxt = w[i + 1] if i + 1 < len(w) else ""
            if magic and i == len(w) - 2 and ch in _LONG:
                phones.append(_LONG[ch])
            elif ch == "c":
                phones.append("S" if nxt in ("e", "i", "y") else "K")
            elif ch == "x":
                phones += ["K", "S"]
            elif ch == "y":
                phones.append("Y" if i == 0 else ("IY1" if i == len(w) - 1 else "IH1"))
            elif ch in _LTS_SINGLE:
                phones.append(_LTS_SINGLE[ch])
            i += 1
    vowels = [k for k, ph in enumerate(phones) if is_vowel(ph)]
    if not vowels:
        phones.append("AH1")
        vowels = [len(phones) - 1]
    for n, k in enumerate(vowels):
        phones[k] = phones[k][:2] + ("1" if n == 0 else "0")
    return phones


def split_phones(phones: tuple[str, ...] | list[str]) -> list[list[str]]:
    """Phones grouped into syllables, consonants between vowels split by the maximal legal onset."""
    nuclei = [i for i, ph in enumerate(phones) if is_vowel(ph)]
    if not nuclei:
        return [list(phones)]
    bounds = [0]
    for a, b in zip(nuclei, nuclei[1:]):
        cluster = list(phones[a + 1 : b])
        take = 0
        for size in range(min(3, len(cluster)), 0, -1):
            onset = " ".join(cluster[len(cluster) - size :])
            if size == 1 or onset in _ONSETS:
                take = size
                break
        bounds.append(b - take)
    bounds.append(len(phones))
    return [list(phones[s:e]) for s, e in zip(bounds, bounds[1:])]


def split_letters(word: str, count: int) -> list[str]:
    """The word's spelling cut into ``count`` pieces at plausible syllable boundaries."""
    if count <= 1:
        return [word]
    groups = [m.span() for m in re.finditer(r"[aeiouy]+", word.lower())]
    if len(groups) > count and word.lower().endswith("e") and groups[-1] == (len(word) - 1, len(word)):
        groups = groups[:-1]
    if len(groups) != count:
        step = len(word) / count
        cuts = [round(step * k) for k in range(count + 1)]
        return [word[a:b] for a, b in zip(cuts, cuts[1:])]
    cuts = [0]
    for (_, end), (start, _) in zip(groups, groups[1:]):
        between = start - end
        cuts.append(end + (between // 2 if between > 1 else 0) if between > 0 else start)
    cuts.append(len(word))
    return [word[a:b] for a, b in zip(cuts, cuts[1:])]


@lru_cache(maxsize=8192)
def word_syllables(word: str) -> tuple[Syllable, ...]:
    """A word's sung syllables: spelling piece, stress (0/1/2) and ARPAbet phones each."""
    phones = pronounce(word.lower())
    groups = split_phones(phones)
    texts = split_letters(word, len(groups))
    result = []
    for text, group in zip(texts, groups):
        stress = next((int(ph[2]) for ph in group if is_vowel(ph) and len(ph) > 2), 0)
        if len(groups) == 1:
            stress = 0 if word.lower() in FUNCTION_WORDS else 1
        result.append(Syllable(text=text, word=word, stress=stress, phonemes=group))
    return tuple(result)


def line_syllables(text: str) -> list[Syllable]:
    """Every sung syllable of a line of text, in order."""
    return [s for w in tokenize(text) for s in word_syllables(w)]


def syllable_count(text: str) -> int:
    return len(line_syllables(text))


@lru_cache(maxsize=8192)
def rhyme_key(word: str) -> str:
    """The part of a word that must match for a rhyme: last stressed vowel to the end."""
    phones = pronounce(word.lower())
    stressed = [i for i, ph in enumerate(phones) if is_vowel(ph) and ph[-1] in "12"]
    start = stressed[-1] if stressed else max((i for i, ph in enumerate(phones) if is_vowel(ph)), default=0)
    tail = [ph.rstrip("012") for ph in phones[start:]]
    return " ".join(tail[:1] + ["R" if ph == "ER" else ph for ph in tail[1:]])


def rhymes(a: str, b: str) -> bool:
    """Whether two words rhyme (same rhyme key) without being the same word."""
    return a.lower() != b.lower() and rhyme_key(a) == rhyme_key(b)


def last_word(text: str) -> str:
    words = tokenize(text)
    return words[-1] if words else ""
