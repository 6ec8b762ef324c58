"""The registry of stage providers, and the explicit list of the built-in ones.

Each stage has an ordered list of providers (registration order is preference order). Which of them
suit a request follows from their declared capabilities (:func:`supports`). The built-in list is
written out in :func:`default_registry`; a provider this machine cannot run (a missing program) is
left out there and said in ``unavailable``, never hidden by catching an import failure.
"""

from __future__ import annotations

from composition.models import CompositionRequest, StageName
from composition.providers import ProviderInfo
from composition.providers import supports as info_supports
from music.config import EngineConfig
from music.stage import StageProvider


class ProviderRegistry:
    """Providers by stage, in registration order."""

    def __init__(self) -> None:
        self._providers: dict[StageName, dict[str, StageProvider]] = {}
        self.unavailable: dict[str, str] = {}  # "stage/provider" -> why this machine cannot run it

    def register(self, provider: StageProvider) -> StageProvider:
        stage = StageName(provider.stage)
        by_name = self._providers.setdefault(stage, {})
        if provider.name in by_name:
            raise ValueError(f"a {stage.value} provider named {provider.name!r} is already registered")
        by_name[provider.name] = provider
        return provider

    def providers_for(self, stage: StageName | str) -> list[StageProvider]:
        return list(self._providers.get(StageName(stage), {}).values())

    def get(self, stage: StageName | str, name: str) -> StageProvider:
        return self._providers[StageName(stage)][name]

    def stages(self) -> list[StageName]:
        return [s for s in StageName if self._providers.get(s)]

    def chain(self, stage: StageName | str, request: CompositionRequest | None = None) -> list[str]:
        """The names of ``stage``'s providers that suit ``request``, preferred first."""
        return [p.name for p in self.providers_for(stage) if supports(p, request)]

    def catalog(self) -> dict[StageName, tuple[ProviderInfo, ...]]:
        """Every provider as the saga chooses among them: stage, name and capabilities, preferred first."""
        return {stage: tuple(info_of(p) for p in self.providers_for(stage)) for stage in self.stages()}


def info_of(provider: StageProvider) -> ProviderInfo:
    return ProviderInfo(stage=StageName(provider.stage), name=provider.name, capabilities=frozenset(provider.capabilities))


def supports(provider: StageProvider, request: CompositionRequest | None) -> bool:
    """Whether a provider's declared capabilities cover a request (``composition.providers.supports``)."""
    return info_supports(info_of(provider), request)


def default_registry(config: EngineConfig | None = None) -> ProviderRegistry:
    """Every built-in provider this machine can run, preferred first within each stage."""
    from music import vocals, voiceprint
    from music.arrangement import MidiArranger
    from music.dj.providers import providers as dj_providers
    from music.harmony import RulesHarmonizer
    from music.lyrics import BankLyricist
    from music.master import PedalboardMaster
    from music.melody import RulesMelodist
    from music.plan import RulesPlanner
    from music.render import FluidSynthRenderer

    config = config or EngineConfig()
    registry = ProviderRegistry()
    for provider in (RulesPlanner(), RulesHarmonizer(), BankLyricist(), RulesMelodist(), MidiArranger(),
                     *vocals.providers(), FluidSynthRenderer(config.soundfont, threads=config.threads),
                     PedalboardMaster(config.measure_intelligibility, config.recogniser, threads=config.threads),
                     *voiceprint.providers(), *dj_providers()):
        registry.register(provider)
    registry.unavailable.update(vocals.unavailable())
    return registry
