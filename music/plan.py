"""Plan stage: mood and genre blend in, key, mode, tempo, meter, form, energy curve and syllable slots out.

The form is a verse/(prechorus)/chorus cycle from the blend's template, repeated and trimmed so the
song fits the requested duration; the tempo is then nudged (within the blend's range) so the planned
length matches the request. A vocal section's bars are shared equally by its lines: each line owns a
window of whole bars (four strong beats for generated lyrics) and ``phrase_syllables`` gives the
syllable slots per line. With user lyrics the lines come from the user and the windows grow to fit them.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from composition.artifacts import ArtifactStore
from composition.controls import parse_key, parse_meter
from composition.feedback_policy import ARMS, arm_bounds, policy_name
from composition.models import (
    GENRES,
    CompositionContext,
    CompositionRequest,
    FormSection,
    PlanSection,
    StageName,
)
from music.errors import StageError
from music.genres import Blend, blend
from music.policy import current as current_policies
from music.rhythm import slots_needed
from music.songwriter import hook_syllables
from music.stage import BaseProvider, stage_rng
from music.theory import MINOR_FAMILY, strong_beat_spacing
from music.userlyrics import Stanza, read_stanzas

LINE_SLOTS = 4  # strong beats per generated lyric line
ROLES = ["drums", "bass", "chords", "pad", "lead"]
_MODE_VALENCE = {"major": 1.6, "mixolydian": 0.8, "dorian": -0.8, "minor": -1.6}
_KEYS = {"major": ("C", "D", "Eb", "E", "F", "G", "A", "Bb"), "minor": ("A", "E", "D", "B", "C", "G", "F#", "F")}
_BASE_ENERGY = {"intro": 0.3, "verse": 0.5, "prechorus": 0.62, "chorus": 0.8, "bridge": 0.6, "outro": 0.32}
_SHORT = (0, 1, 2, 4, 8)


def derive_seed(request: CompositionRequest) -> int:
    """A seed from the request's content, for requests that carry none."""
    unset = {f for f in ("title", "hook", "bpm", "key", "meter") if getattr(request, f) is None}  # seeds as before them
    digest = hashlib.sha256(request.model_dump_json(exclude={"seed"} | unset).encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31)


def bars_per_line(beats_per_bar: int, slots: int = LINE_SLOTS) -> int:
    return max(1, math.ceil(slots * strong_beat_spacing(beats_per_bar) / beats_per_bar))


@dataclass(frozen=True)
class _Part:
    kind: str
    bars: int
    vocal: bool
    lines: int = 0
    stanza: int = -1  # index into the user's stanzas


def _generated_candidates(b: Blend, bpl: int):
    t = b.form
    for n in range(0, 16):
        for verse_lines in sorted({2, t.verse_lines, 2 * t.verse_lines}):
            for pre in sorted({t.prechorus, False}):
                for bridge in sorted({t.bridge, False}):
                    if n < 2 and bridge:
                        continue
                    parts: list[_Part] = []
                    for _ in range(n):
                        parts.append(_Part("verse", verse_lines * bpl, True, verse_lines))
                        if pre:
                            parts.append(_Part("prechorus", 2 * bpl, True, 2))
                        parts.append(_Part("chorus", t.chorus_lines * bpl, True, t.chorus_lines))
                    if bridge:
                        parts += [_Part("bridge", 2 * bpl, True, 2), _Part("chorus", t.chorus_lines * bpl, True, t.chorus_lines)]
                    if n == 0:
                        parts = [_Part("chorus", verse_lines * bpl, True, verse_lines)]
                    cost = (0.12 if n == 0 else 0.04 if n == 1 else 0.015 * max(0, n - 3))
                    cost += 0.04 * (verse_lines != t.verse_lines) + 0.03 * (pre != t.prechorus)
                    cost += 0.03 * (bridge != t.bridge)
                    yield parts, cost


_TAG_BARS = {"intro": 4, "outro": 4, "bridge": 8}  # an instrumental tagged section


def _user_candidates(stanzas: list[Stanza], beats_per_bar: int):
    per_bar = max(1, beats_per_bar // strong_beat_spacing(beats_per_bar))
    sung: list[_Part] = []
    for k, st in enumerate(stanzas):
        if not st.sung:
            sung.append(_Part(st.kind, _TAG_BARS.get(st.kind, 8), False))
            continue
        need = max(slots_needed([s.stress for s in line]) for line in st.syllables)
        slots = max(LINE_SLOTS, math.ceil(need / per_bar) * per_bar)
        sung.append(_Part(st.kind, len(st.lines) * bars_per_line(beats_per_bar, slots), True, len(st.lines), k))
    if any(st.tagged for st in stanzas):  # the tags are the form
        yield sung, 0.0
        return
    chorus = next((p for p in reversed(sung) if p.kind == "chorus"), None)
    for breaks in range(0, 12):
        for repeats in (0, 1, 2) if chorus else (0,):
            parts = list(sung) + [chorus] * repeats
            gaps = [round((k + 1) * len(parts) / (breaks + 1)) for k in range(breaks)]
            for k, at in enumerate(sorted(gaps, reverse=True)):
                parts.insert(at, _Part("bridge", 8, False))
            yield parts, 0.03 * breaks + 0.01 * repeats


def _fit(candidates, target_bars: float, b: Blend, fixed: bool = False):
    best = None
    t = b.form
    for parts, cost in candidates:
        core = sum(p.bars for p in parts)
        fixed_intro = fixed and any(p.kind == "intro" for p in parts)
        fixed_outro = fixed and any(p.kind == "outro" for p in parts)
        for intro in (0,) if fixed_intro else _SHORT:
            for outro in (0,) if fixed_outro else _SHORT:
                total = core + intro + outro
                score = cost + 4 * abs(total / target_bars - 1) + 0.01 * (abs(intro - t.intro_bars) + abs(outro - t.outro_bars))
                if best is None or score < best[0] - 1e-12:
                    best = (score, intro, parts, outro, total)
    return best


def _name_sections(parts: list[_Part]) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for p in parts:
        counts[p.kind] = counts.get(p.kind, 0) + 1
        names.append(p.kind if p.kind in ("intro", "outro") else f"{p.kind}{counts[p.kind]}")
    return names


def _energy(parts: list[_Part], arousal: float, bias: float) -> list[float]:
    seen: dict[str, int] = {}
    values = []
    for p in parts:
        ordinal = seen.get(p.kind, 0)
        seen[p.kind] = ordinal + 1
        e = _BASE_ENERGY[p.kind] + (arousal - 0.5) * 0.3 + bias + 0.025 * min(ordinal, 3)
        values.append(round(min(0.98, max(0.08, e)), 3))
    return values


def _syllable_slots(parts: list[_Part], b: Blend, tempo: float, rng: random.Random,
                    hook: int | None = None) -> dict[str, list[int]]:
    factor = min(1.15, max(0.85, (110.0 / tempo) ** 0.5))
    lo, hi = round(b.syllables[0] * factor), round(b.syllables[1] * factor)
    slots: dict[str, list[int]] = {}
    for p in parts:
        if p.vocal and p.kind not in slots:
            pair = [min(10, max(4, rng.randint(lo, hi))) for _ in range(2)]
            slots[p.kind] = [pair[i % 2] for i in range(p.lines)]
            if hook is not None and p.kind == "chorus":  # the hook opens and closes the chorus
                slots[p.kind][0] = slots[p.kind][-1] = hook
    return slots


def _tempo_span(b: Blend, policy: dict[str, float] | None, rng: random.Random) -> tuple[float, float]:
    """The tempo interval to plan in: the blend's range, or the third of it drawn from ``policy``."""
    if not policy:
        return b.tempo
    arms = [a for a in ARMS if policy.get(a, 0.0) > 0]
    if not arms:
        return b.tempo
    arm = rng.choices(arms, weights=[policy[a] for a in arms])[0]
    return arm_bounds(arm, b.tempo)


def make_plan(request: CompositionRequest, tempo_policy: dict[str, float] | None = None) -> PlanSection:
    """Plan the song for a request; user lyrics too long for the duration are a permanent StageError.

    ``tempo_policy`` (arm -> probability, composition.feedback_policy) picks the third of the tempo
    range the song is planned in; without one the plan is what it always was.
    """
    seed = request.seed if request.seed is not None else derive_seed(request)
    b = blend(request.genres, seed)
    rng = stage_rng(seed, "plan")
    valence, arousal = request.mood.valence, request.mood.arousal
    modes = {m: w * math.exp(_MODE_VALENCE[m] * valence) for m, w in b.modes.items()}
    mode = rng.choices(list(modes), weights=list(modes.values()))[0]
    key = rng.choice(_KEYS["minor" if mode in MINOR_FAMILY else "major"])
    if request.key is not None:  # the songwriter's key (the draws above still happen: the rest stays the same)
        key, mode = parse_key(request.key)
    lo, hi = _tempo_span(b, tempo_policy, rng)
    tempo0 = lo + (hi - lo) * min(1.0, max(0.0, 0.2 + 0.6 * arousal + rng.uniform(-0.1, 0.1)))
    if request.bpm is not None:
        tempo0 = lo = hi = float(request.bpm)
    bpb = parse_meter(request.meter) if request.meter is not None else b.beats_per_bar
    target = request.duration_s * tempo0 / 60.0 / bpb
    stanzas = read_stanzas(request.lyrics) if request.lyrics is not None else None
    if stanzas is None:
        candidates = _generated_candidates(b, bars_per_line(bpb))
    else:
        candidates = _user_candidates(stanzas, bpb)
    _, intro, parts, outro, total = _fit(candidates, target, b, fixed=bool(stanzas and any(st.tagged for st in stanzas)))
    t_min, t_max = b.tempo[0] * 0.85, b.tempo[1] * 1.15
    nudge_min, nudge_max = (t_min, t_max) if (lo, hi) == b.tempo else (lo, hi)  # a policy's third (or the bpm) holds
    if request.bpm is not None:
        t_max = float(request.bpm)
    tempo = min(nudge_max, max(nudge_min, tempo0 * total / target))
    if stanzas is not None:
        lyric_bars = sum(p.bars for p in parts if p.vocal)
        need_s = lyric_bars * bpb * 60.0 / t_max
        if need_s > request.duration_s * 1.05:
            raise StageError(
                "lyrics_too_long",
                f"the lyrics need at least {need_s:.0f} s to sing at {t_max:.0f} bpm but duration_s is "
                f"{request.duration_s:.0f}; shorten the lyrics or ask for a longer song",
            )
    parts = ([_Part("intro", intro, False)] if intro else []) + list(parts) + ([_Part("outro", outro, False)] if outro else [])
    if request.instrumental:
        parts = [_Part(p.kind, p.bars, False, p.lines) for p in parts]
    names = _name_sections(parts)
    energy = _energy(parts, arousal, b.energy_bias)
    generated_slots = _syllable_slots(parts, b, tempo, rng, hook_syllables(request))
    form = []
    for name, p, e in zip(names, parts, energy):
        if not p.vocal:
            syllables: list[int] = []
        elif stanzas is not None:
            syllables = [len(line) for line in stanzas[p.stanza].syllables]
        else:
            syllables = generated_slots[p.kind]
        form.append(FormSection(name=name, kind=p.kind, bars=p.bars, energy=e, vocals=p.vocal, phrase_syllables=syllables))
    bars = sum(f.bars for f in form)
    return PlanSection(
        key=key, mode=mode, tempo_bpm=round(tempo, 3), beats_per_bar=bpb, beat_unit=4, swing=round(b.swing, 3),
        mood=request.mood, genres=request.genres, form=form, instrumentation=list(ROLES),
        voice=None if request.instrumental else request.voice, seed=seed,
        duration_s=round(bars * bpb * 60.0 / round(tempo, 3), 3),
    )


def section_starts(plan: PlanSection) -> dict[str, float]:
    """Start beat of every section of the form."""
    starts, beat = {}, 0.0
    for section in plan.form:
        starts[section.name] = beat
        beat += section.bars * plan.beats_per_bar
    return starts


def total_beats(plan: PlanSection) -> float:
    return float(sum(s.bars for s in plan.form) * plan.beats_per_bar)


class RulesPlanner(BaseProvider):
    """The plan stage's built-in provider: the genre profiles and rules above."""

    stage = StageName.PLAN
    name = "rules"
    version = "1"
    capabilities = frozenset({"genres:" + ",".join(GENRES), "instrumental", "user-lyrics", "meters:3/4,4/4"})

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> PlanSection:
        dominant = blend(ctx.request.genres, 0).dominant
        policy = current_policies().get(policy_name(dominant))
        return make_plan(ctx.request, dict(policy) if policy else None)
