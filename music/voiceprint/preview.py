"""The ``voice_preview`` stage: a short phrase sung with the new profile, so the user hears it.

The phrase is a little song's first lines composed by the engine's own symbolic stages (plan,
harmony, lyrics on fixed words, melody in the profile's range) and sung by the preferred singer with
the profile's timbre, vibrato and breath, a cappella; stored as ``preview.wav``.
"""

from __future__ import annotations

import numpy as np

from composition.artifacts import ArtifactStore
from composition.models import CompositionContext, CompositionRequest, GenreWeight, Mood, StageName
from composition.voices import VoicePreviewSection, VoiceContext
from music.audio import wav_bytes
from music.errors import StageError
from music.stage import BaseProvider, require
from music.vocals.base import VocalsProvider
from music.vocals.profile_voice import profile_voice
from music.vocals.style import sung_notes, vocal_style

PREVIEW_LYRICS = ("[verse]\nthis is the sound of my own voice\nsinging a song that I can call my own\n"
                  "[chorus]\nhear me now\nsinging out loud")
PREVIEW_S = 12.0  # the preview's notes: those that start before this
SEED = 7


def preview_request(voice_id: str, profile) -> CompositionRequest:
    return CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)],
                              theme="my own voice", duration_s=20, lyrics=PREVIEW_LYRICS, voice=voice_id,
                              voice_profile=profile, seed=SEED)


def preview_context(voice_id: str, profile) -> CompositionContext:
    """The preview song's plan, harmony, lyrics and melody (pure, milliseconds)."""
    from music.harmony import RulesHarmonizer
    from music.lyrics import BankLyricist
    from music.melody import RulesMelodist
    from music.plan import RulesPlanner

    ctx = CompositionContext(request=preview_request(voice_id, profile))
    for provider in (RulesPlanner(), RulesHarmonizer(), BankLyricist(), RulesMelodist()):
        ctx = ctx.with_section(provider.stage, provider.run(ctx, None, voice_id))  # symbolic: no store
    return ctx


class VoicePreviewSinger(BaseProvider):
    """Sings the preview with ``singer`` (the vocals stage's preferred singer on this machine)."""

    stage = StageName.VOICE_PREVIEW
    version = "1"
    capabilities = frozenset({"deterministic"})

    def __init__(self, singer: VocalsProvider) -> None:
        self.singer = singer
        self.name = singer.name

    def run(self, ctx: VoiceContext, store: ArtifactStore, namespace: str) -> VoicePreviewSection:
        (analysis,) = require(ctx, "analysis")
        song = preview_context(namespace, analysis.profile)
        notes = [n for n in sung_notes(song) if n.start_s < PREVIEW_S]
        if not notes:
            raise StageError("no_sung_notes", "the preview phrase has no notes to sing")
        voice = profile_voice(namespace, analysis.profile)
        duration = notes[-1].end_s + 0.8
        audio = self.singer.sing(notes, voice, vocal_style(song.plan.genres, voice), duration, SEED)
        audio = np.asarray(audio, dtype=np.float32)
        artifact = store.put(namespace, "preview.wav", wav_bytes(audio, self.singer.sample_rate), "audio/wav")
        return VoicePreviewSection(audio=artifact, duration_s=round(len(audio) / self.singer.sample_rate, 2))
