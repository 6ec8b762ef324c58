"""Align a text-to-speech voice's timed phones to a lyric line's syllables.

The TTS voice speaks the whole line with its own pronunciation (flite: CMU lexicon plus letter to
sound rules); the lyrics carry ours (CMUdict, or the user-lyrics syllabifier). A global alignment
(Needleman-Wunsch: matches free, vowel for vowel or consonant for consonant cheaper than a gap)
maps every spoken phone to one of our syllables, so the words land on the notes the melody gives
them even where the two pronunciations differ. Each syllable then has a spoken span with its vowel
(the nucleus) marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from music.vocals.style import VOWELS

# flite's US English phone set is ARPAbet in lower case, with "ax" for the reduced vowel and "pau"
_FLITE_TO_ARPABET = {"ax": "AH"}
_GAP = 0.8
_SAME_CLASS = 0.6
_OTHER = 1.0


@dataclass(frozen=True)
class Phone:
    """A spoken phone (ARPAbet, no stress digit) and its span in seconds."""

    symbol: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SpokenSyllable:
    """Where one of our syllables is in the spoken line: [start, end) seconds, vowel [vowel_start,
    vowel_end)."""

    start_s: float
    vowel_start_s: float
    vowel_end_s: float
    end_s: float


def parse_flite_segments(text: str) -> list[Phone]:
    """flite ``-psdur`` output (``ph:end ph:end ...``, end times in seconds) as phones; pauses kept
    as ``PAU`` so the spans stay right."""
    phones: list[Phone] = []
    start = 0.0
    for token in text.split():
        name, _, end = token.rpartition(":")
        if not name:
            continue
        try:
            end_s = float(end)
        except ValueError:
            raise ValueError(f"flite segment {token!r} has no end time") from None
        symbol = _FLITE_TO_ARPABET.get(name, name).upper()
        phones.append(Phone(symbol, start, end_s))
        start = end_s
    return phones


def _cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return _SAME_CLASS if (a in VOWELS) == (b in VOWELS) else _OTHER


def align(ours: list[str], spoken: list[str]) -> list[int | None]:
    """For each spoken phone, the index of the phone of ``ours`` it aligns with (None: inserted)."""
    n, m = len(ours), len(spoken)
    score = np.zeros((n + 1, m + 1))
    score[:, 0] = np.arange(n + 1) * _GAP
    score[0, :] = np.arange(m + 1) * _GAP
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            score[i, j] = min(score[i - 1, j - 1] + _cost(ours[i - 1], spoken[j - 1]),
                              score[i - 1, j] + _GAP, score[i, j - 1] + _GAP)
    result: list[int | None] = [None] * m
    i, j = n, m
    while i > 0 and j > 0:
        if np.isclose(score[i, j], score[i - 1, j - 1] + _cost(ours[i - 1], spoken[j - 1])):
            result[j - 1] = i - 1
            i, j = i - 1, j - 1
        elif np.isclose(score[i, j], score[i - 1, j] + _GAP):
            i -= 1
        else:
            j -= 1
    return result


def syllable_spans(syllables: list[list[str]], phones: list[Phone]) -> list[SpokenSyllable] | None:
    """Each syllable's spoken span, from our phonemes per syllable (ARPAbet, stress digits allowed)
    and the voice's timed phones; None when some syllable gets no spoken phone at all (the caller
    then speaks the line from our phonemes instead)."""
    ours: list[str] = []
    owner: list[int] = []
    for k, phonemes in enumerate(syllables):
        for p in phonemes:
            ours.append(p.rstrip("012").upper())
            owner.append(k)
    speech = [p for p in phones if p.symbol != "PAU"]
    if not ours or not speech:
        return None
    matched = align(ours, [p.symbol for p in speech])
    assigned: list[int | None] = [owner[i] if i is not None else None for i in matched]
    # an inserted phone belongs to the syllable before it (or after it, at the line's start)
    last = next((a for a in assigned if a is not None), None)
    if last is None:
        return None
    for j, a in enumerate(assigned):
        if a is None:
            assigned[j] = last
        else:
            last = a
    spans: list[SpokenSyllable] = []
    for k, phonemes in enumerate(syllables):
        mine = [j for j, a in enumerate(assigned) if a == k]
        if not mine:
            return None
        vowel_of_ours = [i for i in range(len(ours)) if owner[i] == k and ours[i] in VOWELS]
        nucleus = next((j for j in mine if matched[j] in vowel_of_ours), None)
        if nucleus is None:
            nucleus = next((j for j in mine if speech[j].symbol in VOWELS), None)
        if nucleus is None:  # no vowel spoken: the longest phone is held
            nucleus = max(mine, key=lambda j: speech[j].end_s - speech[j].start_s)
        spans.append(SpokenSyllable(speech[mine[0]].start_s, speech[nucleus].start_s, speech[nucleus].end_s,
                                    speech[mine[-1]].end_s))
    return spans
