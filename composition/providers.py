"""What the saga knows of a stage's providers: their names and declared capabilities.

The provider registry (``music.registry``) describes every provider it can run as a
:class:`ProviderInfo`; the saga builds each stage's chain from those, in preference order, keeping
the providers whose capabilities suit the request (:func:`supports`). That is the one place where a
provider is chosen; the worker runs exactly the provider the saga names.
"""

from __future__ import annotations

from composition.models import CompositionRequest, Frozen, StageName


class ProviderInfo(Frozen):
    """A provider as the chain sees it: its stage, name and capability tags (``genres:a,b``, ``user-lyrics``,
    ``sung-only``, ``instrumental`` ...)."""

    stage: StageName
    name: str
    capabilities: frozenset[str] = frozenset()


def supports(info: ProviderInfo, request: object) -> bool:
    """Whether a provider's declared capabilities cover a request (genres, user lyrics, instrumental)."""
    if not isinstance(request, CompositionRequest):
        return True  # a voice or set request: capabilities name song traits only
    caps = info.capabilities
    for cap in caps:
        if cap.startswith("genres:"):
            allowed = set(cap.split(":", 1)[1].split(","))
            if any(g.genre not in allowed for g in request.genres):
                return False
    if info.stage is StageName.LYRICS and request.lyrics is not None and "user-lyrics" not in caps:
        return False
    if request.instrumental and "sung-only" in caps:
        return False
    return True
