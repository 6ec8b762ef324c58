"""A language-model lyricist: any OpenAI-compatible chat-completions endpoint writes the lines.

For teams that run a model. The endpoint comes down from the process's settings
(``CADENZA_LLM_URL``, ``_MODEL``, ``_API_KEY``, ``_TIMEOUT_S`` in stream_processors/settings.py) as
``EngineConfig.llm``. The provider asks for the lines of each vocal section with their
syllable counts, then fits them to the plan's slots with the engine's pure
:func:`music.fitlines.fit_sections`, so what it returns scans like the offline writer's. On any
error -- connection, timeout, an HTTP error status, a body that is not the JSON asked for, lines
that cannot be fitted -- it raises a retryable :class:`StageError` and never falls back by itself:
the saga owns fallback (a new attempt on the next provider, visible as an event).
"""

from __future__ import annotations

import json

import httpx
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr

from composition.artifacts import ArtifactStore
from composition.models import CompositionContext, LyricsSection, PlanSection, StageName
from music.config import EngineConfig
from music.errors import StageError
from music.fitlines import fit_sections
from music.registry import ProviderRegistry, default_registry
from music.songwriter import request_hook, singable_hook
from music.stage import BaseProvider, require


class LlmSettings(BaseModel):
    """The endpoint, validated (from ``EngineConfig.llm``, or given by a test)."""

    url: AnyHttpUrl | None = None
    """Base URL of the endpoint, e.g. http://127.0.0.1:8080/v1 (``/chat/completions`` is appended)."""
    model: str = "default"
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600)

    @classmethod
    def of(cls, config: EngineConfig | None) -> "LlmSettings":
        llm = config.llm if config is not None else None
        if llm is None:
            return cls(url=None)
        return cls(url=llm.url, model=llm.model, api_key=llm.api_key, timeout_s=llm.timeout_s)


def prompt(ctx: CompositionContext, plan: PlanSection) -> str:
    request = ctx.request
    hook = request_hook(request) or singable_hook(request.theme)
    wanted, seen = [], set()
    for s in plan.form:
        if not s.vocals or not s.phrase_syllables or (s.kind in ("chorus", "prechorus") and s.kind in seen):
            continue
        seen.add(s.kind)
        key = s.kind if s.kind in ("chorus", "prechorus") else s.name
        wanted.append(f'"{key}": {len(s.phrase_syllables)} lines of {", ".join(map(str, s.phrase_syllables))} syllables')
    mood = request.mood.label or f"valence {request.mood.valence:+.1f}, arousal {request.mood.arousal:.1f}"
    return (
        f"Write song lyrics about: {request.theme}. Mood: {mood}. "
        + (f'The chorus opens and closes with the line "{hook}". ' if hook else "")
        + "Verses move the story on, the chorus states the hook, a bridge turns. Rhyme line endings in pairs. "
        "Answer with JSON only: {\"sections\": {name: [lines]}} with exactly these sections: " + "; ".join(wanted) + "."
    )


class LlmLyricist(BaseProvider):
    """The lyrics stage through an OpenAI-compatible chat-completions endpoint."""

    stage = StageName.LYRICS
    name = "llm"
    version = "1"
    capabilities = frozenset({"generated", "language:en"})

    def __init__(self, settings: LlmSettings, transport: httpx.BaseTransport | None = None) -> None:
        if settings.url is None:
            raise ValueError("CADENZA_LLM_URL is not set")
        self.settings = settings
        self.transport = transport

    def _ask(self, text: str) -> dict[str, list[str]]:
        s = self.settings
        headers = {"Authorization": f"Bearer {s.api_key.get_secret_value()}"} if s.api_key else {}
        body = {"model": s.model, "temperature": 0.8, "messages": [
            {"role": "system", "content": "You are a songwriter. You answer with JSON only."},
            {"role": "user", "content": text}]}
        url = str(s.url).rstrip("/") + "/chat/completions"
        try:
            with httpx.Client(timeout=s.timeout_s, transport=self.transport) as client:
                response = client.post(url, json=body, headers=headers)
                response.raise_for_status()
                content = response.json()["choices"][0]["message"]["content"]
            content = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```")
            sections = json.loads(content)["sections"]
            if not isinstance(sections, dict) or not all(isinstance(v, list) for v in sections.values()):
                raise ValueError("sections is not an object of line lists")
            return {str(k): [str(x) for x in v] for k, v in sections.items()}
        except httpx.TimeoutException as exc:
            raise StageError("llm_unavailable", f"the language model at {url} did not answer in {s.timeout_s:g} s",
                             retryable=True) from exc
        except httpx.HTTPError as exc:
            raise StageError("llm_unavailable", f"the language model at {url} failed: {exc}", retryable=True) from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise StageError("llm_bad_answer", f"the language model's answer is not the lyrics JSON asked for: {exc}",
                             retryable=True) from exc

    def run(self, ctx: CompositionContext, store: ArtifactStore, namespace: str) -> LyricsSection:
        (plan,) = require(ctx, "plan")
        return fit_sections(plan, self._ask(prompt(ctx, plan)))


def registry(config: EngineConfig | None = None, settings: LlmSettings | None = None) -> ProviderRegistry:
    """The built-in providers, with the language-model lyricist first in the lyrics chain when
    ``CADENZA_LLM_URL`` is set (``CADENZA_PROVIDERS=lyricists.llm:registry``)."""
    settings = settings or LlmSettings.of(config)
    base = default_registry(config)
    if settings.url is None:
        base.unavailable["lyrics/llm"] = "CADENZA_LLM_URL is not set"
        return base
    out = ProviderRegistry()
    out.unavailable.update(base.unavailable)
    for stage in base.stages():
        if stage == StageName.LYRICS:
            out.register(LlmLyricist(settings))
        for provider in base.providers_for(stage):
            out.register(provider)
    return out
