"""The vocals stage's provider base: every singer finds the sung notes the same way, sings them with
its own ``sing`` and stores vocals.wav (the lead) and, where the genre calls for it, backing.wav
(the choruses doubled or harmonised, ``music.vocals.backing``)."""

from __future__ import annotations

import numpy as np

from composition.artifacts import ArtifactStore
from composition.models import CompositionContext, StageName, VocalsSection
from music.audio import SAMPLE_RATE, wav_bytes
from music.errors import StageError
from music.stage import BaseProvider, song_plan
from music.vocals.profile_voice import singer_voice
from music.vocals.backing import backing_kind, backing_notes, backing_style
from music.vocals.style import (
    SungNote,
    VocalStyle,
    VoiceProfile,
    sung_notes,
    vocal_duration_s,
    vocal_style,
)


class VocalsProvider(BaseProvider):
    """Shared run: find the notes, sing them with ``self.sing``, store vocals.wav."""

    stage = StageName.VOCALS
    name = "?"
    version = "1"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        self.sample_rate = sample_rate

    def sing(self, notes: list[SungNote], voice: VoiceProfile, style: VocalStyle, duration_s: float,
             seed: int) -> np.ndarray:
        raise NotImplementedError

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> VocalsSection:
        if ctx.request.instrumental or (ctx.melody is not None and not ctx.melody.sung):
            raise StageError("not_sung", "an instrumental composition has no vocals")
        notes = sung_notes(ctx)
        if not notes:
            raise StageError("no_sung_notes", "the melody carries no syllables to sing")
        plan = song_plan(ctx, self.stage)  # the request's voice and genres: a revision may change them
        voice = singer_voice(plan.voice, ctx.request.voice_profile)  # a stock voice or the user's own
        style = vocal_style(plan.genres, voice)
        audio = self.sing(notes, voice, style, vocal_duration_s(ctx), plan.seed)
        artifact = store.put(namespace, "vocals.wav", wav_bytes(audio, self.sample_rate), "audio/wav")
        kind = backing_kind(plan.genres)
        backing = None
        chorus = backing_notes(notes, plan, voice, kind)
        if chorus:
            sung = self.sing(chorus, voice, backing_style(style, kind), vocal_duration_s(ctx), plan.seed + 1)
            backing = store.put(namespace, "backing.wav", wav_bytes(sung, self.sample_rate), "audio/wav")
        return VocalsSection(audio=artifact, voice=voice.name, sample_rate=self.sample_rate, backing=backing)
