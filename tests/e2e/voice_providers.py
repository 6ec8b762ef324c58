"""The real engine, with one scripted failure for the compensation test: the preview of a voice
named "fail the preview" fails permanently after its analysis completed, so the saga compensates
the analysis (which deletes the recording it took over). Injected with
CADENZA_PROVIDERS=tests.e2e.voice_providers:registry."""

from __future__ import annotations

from composition.models import StageName
from music.errors import StageError
from music.registry import ProviderRegistry, default_registry
from music.voiceprint.preview import VoicePreviewSinger

FAILING_NAME = "fail the preview"


class ScriptedPreview(VoicePreviewSinger):
    def run(self, ctx, store, namespace):
        if ctx.request.name == FAILING_NAME:
            raise StageError("scripted_fatal", "the preview fails (scripted)")
        return super().run(ctx, store, namespace)


def registry(config=None) -> ProviderRegistry:
    real = default_registry(config)
    reg = ProviderRegistry()
    for stage in real.stages():
        for provider in real.providers_for(stage):
            if stage is StageName.VOICE_PREVIEW:
                provider = ScriptedPreview(provider.singer)
            reg.register(provider)
    return reg
