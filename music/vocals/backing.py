"""Backing vocals where the genre calls for them: the choruses doubled or harmonised.

What each genre does (the blend takes the kind with the most weight; a tie goes to the first):
pop, house and folk harmonise the chorus a diatonic third above the lead (a sixth below where the
third would leave the voice's range by more than a tone); rock doubles it in unison (18 ms late, with
its own vibrato rate, as a second take is); funk, lofi and ballad keep a single voice. The
backing is sung by the same singer and voice from the same spoken lines, with less vibrato and more
breath, and the master mixes it 8 LU under the lead into the same vocal bus (``music.master``).
"""

from __future__ import annotations

from dataclasses import replace

from composition.models import GenreWeight, PlanSection
from music.theory import scale_pcs
from music.vocals.style import SungNote, VocalStyle, VoiceProfile

BACKING_KIND: dict[str, str] = {"pop": "harmony", "house": "harmony", "folk": "harmony", "rock": "double",
                                "funk": "none", "lofi": "none", "ballad": "none"}
DOUBLE_DELAY_S = 0.018


def backing_kind(genres: list[GenreWeight]) -> str:
    """"harmony", "double" or "none" for a genre blend."""
    weight: dict[str, float] = {}
    for g in genres:
        kind = BACKING_KIND.get(g.genre, "none")
        weight[kind] = weight.get(kind, 0.0) + g.weight
    return max(weight, key=lambda k: (weight[k], -list(weight).index(k))) if weight else "none"


def _third_above(pitch: int, scale: list[int], voice: VoiceProfile) -> int:
    """The diatonic third above ``pitch`` (two scale steps), or the sixth below it (the third an
    octave down) when the third is more than a tone above the voice's range."""
    above = [p for p in range(pitch + 1, pitch + 13) if p % 12 in scale]
    third = above[1] if len(above) > 1 else pitch + 4
    return third - 12 if third > voice.high + 2 else third


def backing_notes(notes: list[SungNote], plan: PlanSection, voice: VoiceProfile, kind: str) -> list[SungNote]:
    """The chorus notes the backing sings (harmony: a third above; double: the lead's pitches,
    slightly late). Empty for "none" or a song without a sung chorus."""
    if kind == "none":
        return []
    chorus = {s.name for s in plan.form if s.kind == "chorus"}
    scale = scale_pcs(plan.key, plan.mode)
    chosen = [n for n in notes if n.line_key[0] in chorus]
    out = []
    for i, note in enumerate(chosen):
        following = chosen[i + 1] if i + 1 < len(chosen) else None
        phrase_end = note.phrase_end or following is None or following.index != note.index + 1
        if kind == "harmony":
            out.append(replace(note, index=i, pitch=_third_above(note.pitch, scale, voice), phrase_end=phrase_end))
        else:
            out.append(replace(note, index=i, start_s=note.start_s + DOUBLE_DELAY_S, end_s=note.end_s + DOUBLE_DELAY_S,
                               phrase_end=phrase_end))
    return out


def backing_style(style: VocalStyle, kind: str) -> VocalStyle:
    """The backing sings straighter and airier than the lead, its vibrato at another rate."""
    return replace(style, vibrato_cents=0.5 * style.vibrato_cents, breathiness=min(1.0, style.breathiness + 0.1),
                   vibrato_rate_hz=style.vibrato_rate_hz * (1.07 if kind == "double" else 0.95))
