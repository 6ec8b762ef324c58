"""Words the lyric writer and its measures leave out of a theme: articles, prepositions, fillers."""

from __future__ import annotations

STOPWORDS = frozenset(
    """a an the and or but of to in on at by for with from as is are was were be my your our their his her
    its this that these those about into over under after before through song songs music track tune
    some any all very really just""".split()
)
