"""Stage providers for the DJ set tests: instant fake song stages whose plan follows the request's bpm,
key and duration and whose master is a real click-and-chord song at that tempo and key; the four set
stages are the real DJ engine, with two fault hooks only these tests use: a set asking for 11-bar
transitions is analysed 20 s late (time to cancel it), one asking for 13 bars fails its mix after the
mix stored its files (a permanent failure: the saga compensates). Injected with
CADENZA_PROVIDERS=tests.e2e.set_providers:registry."""

from __future__ import annotations

import time

from composition.controls import parse_key
from composition.models import SONG_STAGES, FormSection, StageName
from music.audio import wav_bytes
from music.dj.providers import SetAnalyser, SetMixer, SetOrderer, SetTransitionPlanner
from music.errors import StageError
from music.registry import ProviderRegistry
from tests.integration.fake_providers import FakeProvider
from tests.unit.music.dj.tracks import RATE, click_song

SLOW_BARS, FAILING_BARS = 11, 13


def song_shape(request) -> tuple[float, str, str, float, int]:
    key, mode = parse_key(request.key) if request.key else ("C", "major")
    return float(request.bpm or 120), key, mode, float(request.duration_s), int(request.seed or 0)


class ClickPlanner(FakeProvider):
    def run(self, ctx, store, namespace):
        section = super().run(ctx, store, namespace)
        tempo, key, mode, seconds, _ = song_shape(ctx.request)
        bars = max(6, int(seconds * tempo / 240))
        form = [FormSection(name="intro", kind="intro", bars=2, energy=0.3, vocals=False),
                FormSection(name="chorus1", kind="chorus", bars=bars - 4, energy=0.4 + 0.1 * (len(key) % 5),
                            vocals=False),
                FormSection(name="outro", kind="outro", bars=2, energy=0.2, vocals=False)]
        return section.model_copy(update={"key": key, "mode": mode, "tempo_bpm": tempo, "beats_per_bar": 4,
                                          "form": form, "duration_s": seconds})


class ClickMaster(FakeProvider):
    def run(self, ctx, store, namespace):
        section = super().run(ctx, store, namespace)
        tempo, key, mode, seconds, _ = song_shape(ctx.request)
        master = store.put(namespace, "master.wav", wav_bytes(click_song(tempo, key, mode, seconds), RATE), "audio/wav")
        return section.model_copy(update={"outputs": [master], "duration_s": seconds,
                                          "metrics": section.metrics.model_copy(update={"duration_s": seconds})})


class SlowAnalyser(SetAnalyser):
    def run(self, ctx, store, namespace):
        if ctx.request.transition_bars == SLOW_BARS:
            time.sleep(20)
        return super().run(ctx, store, namespace)


class FailingMixer(SetMixer):
    def _mix(self, request, analysis, order, plan, store, namespace, stored):
        section = super()._mix(request, analysis, order, plan, store, namespace, stored)
        if request.transition_bars == FAILING_BARS:
            raise StageError("scripted_mix_failure", f"the mix failed after storing {len(stored)} files (scripted)",
                             retryable=False)
        return section


def registry(config=None) -> ProviderRegistry:
    reg = ProviderRegistry()
    for stage in SONG_STAGES:
        kind = {StageName.PLAN: ClickPlanner, StageName.MASTER: ClickMaster}.get(stage, FakeProvider)
        reg.register(kind(stage, "local"))
    for provider in (SlowAnalyser(), SetOrderer(), SetTransitionPlanner(), FailingMixer()):
        reg.register(provider)
    return reg
