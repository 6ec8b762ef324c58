"""Lyrics stage: lines written from the theme and mood to the plan's syllable slots, or the user's own.

Generated lines come from ``music.songwriter`` (frames filled from the theme's WordNet field, exact
syllable counts, natural stress, rhyme). A chorus is written once and sung the same every time,
opening and closing on the hook. User lyrics are syllabified (CMUdict with a letter-to-sound
fallback) and their rhyme scheme is read from their line endings.
"""

from __future__ import annotations

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
from music.errors import StageError
from music.phonetics import line_syllables, rhyme_key, tokenize
from music.songwriter import SongWriter, request_hook, singable_hook
from music.stage import BaseProvider, song_plan, stage_rng
from music.themefield import theme_field
from music.userlyrics import read_stanzas


def write_lyrics(plan: PlanSection, theme: str, hook: str | None = None) -> LyricsSection:
    """Generated lyrics for every vocal section: verses move on (scene, then development), choruses
    and prechoruses repeat, a bridge turns; ``hook`` (else the theme, when singable) opens and
    closes every chorus."""
    rng = stage_rng(plan.seed, "lyrics")
    writer = SongWriter(theme_field(theme), plan.mood.valence, rng, hook or singable_hook(theme))
    written: dict[str, SectionLyrics] = {}
    seen: dict[str, int] = {}
    sections = []
    for s in plan.form:
        if not s.vocals or not s.phrase_syllables:
            continue
        repeat = s.kind in ("chorus", "prechorus") and s.kind in written
        if not repeat:
            written[s.kind], _ = writer.section(s.kind, list(s.phrase_syllables), seen.get(s.kind, 0))
            seen[s.kind] = seen.get(s.kind, 0) + 1
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
    stanzas = [st for st in read_stanzas(text) if st.sung]
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
    return write_lyrics(plan, request.theme, request_hook(request))


class BankLyricist(BaseProvider):
    """The lyrics stage's built-in provider: the theme's WordNet field in the curated frame and image
    bank, CMUdict, and the user's own words. (Still named "bank": policies and hints name it.)"""

    stage = StageName.LYRICS
    name = "bank"
    version = "2"  # 2: the WordNet song writer (1: the phrase bank)
    capabilities = frozenset({"generated", "user-lyrics", "cmudict", "wordnet", "letter-to-sound", "language:en"})

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> LyricsSection:
        return make_lyrics(ctx.request, song_plan(ctx, self.stage))
