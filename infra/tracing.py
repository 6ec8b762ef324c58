"""OpenTelemetry tracing for every process: where spans go, and spans around a Kafka message.

``setup(service, settings)`` is called once at a process's entry point. Spans are exported over
OTLP/HTTP when ``CADENZA_OTLP_ENDPOINT`` is set (a collector, Jaeger, Tempo ...), else written as JSON
lines to ``CADENZA_TRACE_DIR/<service>-<pid>.jsonl`` when that is set (what the end-to-end test reads
back), else to the console with ``CADENZA_TRACE_CONSOLE=1``, else nowhere (no provider: the API's
no-op tracer, near zero cost). The context travels between processes in the W3C ``traceparent``
Kafka header (``producers/tracing.py``): each hop starts its span as the child of the header it
read, and what it publishes carries that span's context, so one composition is one trace.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from producers.tracing import HEADER

_PROPAGATOR = TraceContextTextMapPropagator()
_configured: list[str] = []


@dataclass(frozen=True)
class TraceConfig:
    """Where spans go (picklable: a stage worker hands it to its pool processes)."""

    otlp_endpoint: str | None = None
    directory: Path | None = None
    console: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.otlp_endpoint or self.directory or self.console)


def setup(service: str, config: TraceConfig) -> bool:
    """Install the tracer provider of this process (once); False when tracing is off."""
    if not config.enabled or _configured:
        return bool(_configured)
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if config.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        endpoint = config.otlp_endpoint.rstrip("/")
        endpoint = endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    elif config.directory:
        config.directory.mkdir(parents=True, exist_ok=True)
        out = open(config.directory / f"{service}-{os.getpid()}.jsonl", "a", buffering=1)
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(
            out=out, formatter=lambda span: span.to_json(indent=None) + "\n")))
    else:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)
    _configured.append(service)
    return True


def tracer() -> trace.Tracer:
    return trace.get_tracer("cadenza")


def parent_context(traceparent: str | None) -> otel_context.Context:
    """The context a ``traceparent`` header names (an empty one, a new trace, when it is missing or bad)."""
    return _PROPAGATOR.extract({HEADER: traceparent} if traceparent else {})


def traceparent_of(span: Span | None = None) -> str | None:
    """The ``traceparent`` of ``span`` (default: the current one), None if it is not a real span."""
    span = span or trace.get_current_span()
    if not span.get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(HEADER)


@contextmanager
def span(name: str, traceparent: str | None = None, kind: SpanKind = SpanKind.INTERNAL,
         **attributes: str | int | float | bool) -> Iterator[Span]:
    """A span made current for the block: the child of ``traceparent`` if given, else of the current span."""
    context = parent_context(traceparent) if traceparent is not None else None
    with tracer().start_as_current_span(name, context=context, kind=kind,
                                        attributes={k: v for k, v in attributes.items() if v is not None}) as current:
        yield current
