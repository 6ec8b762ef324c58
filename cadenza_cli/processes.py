"""The processes `cadenza up` runs, declared once: name, command, environment and /metrics port.

``cadenza up`` starts them in this order (and stops them in reverse); the Prometheus configuration
(infra/observability) scrapes exactly these, and the docker-compose file is checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_METRICS_BASE_PORT = 9100
DEFAULT_API_PORT = 8000


@dataclass(frozen=True)
class ProcessSpec:
    """One child of the stack: ``cadenza <args>`` with ``env`` on top of the stack's environment."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    metrics_port: int | None = None
    """Where its Prometheus /metrics answer (None: it exports none)."""


def stack_processes(*, per_stage: bool = True, metrics_base_port: int = DEFAULT_METRICS_BASE_PORT,
                    api_port: int = DEFAULT_API_PORT) -> list[ProcessSpec]:
    """Every process of the stack, in start order; the stream processors' /metrics ports count up
    from ``metrics_base_port`` (0: none), the API serves its own /metrics on ``api_port``."""
    from composition.models import SONG_STAGES
    from composition.pipeline import SET, VOICE

    ports = iter(range(metrics_base_port, metrics_base_port + 100))
    specs: list[ProcessSpec] = []

    def add(name: str, *args: str, prefix: str = "CADENZA_") -> None:
        port = next(ports) if metrics_base_port else None
        env = {f"{prefix}METRICS_PORT": str(port)} if port else {}
        specs.append(ProcessSpec(name, args, env, port))

    add("relay", "run", "relay", prefix="CADENZA_RELAY_")
    add("projector", "run", "projector", prefix="CADENZA_PROJECTOR_")
    add("saga", "worker", "saga")
    if per_stage:
        for stage in SONG_STAGES:
            add(stage.value, "worker", "stage", stage.value)
    else:
        add("stages", "worker", "stage", "all")
    add("feedback", "worker", "feedback")
    add("analytics", "run", "analytics", prefix="CADENZA_ANALYTICS_")
    if per_stage:  # after the others, so their ports stay what they were before these workflows came
        add("voices", "worker", "stage", *(s.value for s in VOICE.stage_names))
        add("sets", "worker", "stage", *(s.value for s in SET.stage_names))
    specs.append(ProcessSpec("api", ("run", "api"), {}, api_port))
    add("sweeper", "run", "sweeper", prefix="CADENZA_SWEEPER_")  # last, so the ports before it stay
    return specs
