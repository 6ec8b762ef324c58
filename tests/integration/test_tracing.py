"""Traces in-process with OpenTelemetry's in-memory exporter: the API's server span (the child of the
caller's traceparent) is the parent of the relay's publish span, whose context is what the message on
compositions.requests carries (the saga's span is its child: tests/e2e/test_traces.py follows the
rest across processes)."""

from __future__ import annotations

import os
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infra.topics import REQUESTS, Topics, ensure_topics
from producers.outbox_relay import OutboxRelay
from producers.tracing import HEADER
from stream_processors.dead_letter import header
from tests.integration.api_harness import REQUEST, api, fresh_database  # noqa: F401 - fixtures
from tests.integration.kafka_helpers import consume

pytestmark = pytest.mark.integration
EXPORTER = InMemorySpanExporter()


@pytest.fixture
def database_url(fresh_database: str) -> str:  # noqa: F811 - the relay reads the whole outbox: a database of our own
    return fresh_database


@pytest.fixture
def spans():
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    EXPORTER.clear()
    return EXPORTER


def test_the_api_span_is_the_relays_parent_and_the_message_carries_the_relay_span(api, spans, bootstrap_servers,  # noqa: F811
                                                                                  group_id):
    prefix = api.app.state.settings.topic_prefix
    ensure_topics(bootstrap_servers, Topics(prefix))
    trace_id, root = uuid.uuid4().hex, os.urandom(8).hex()
    _, auth = api.tenant()
    created = api.client.post("/api/v2/compositions", json=REQUEST,
                              headers={**auth, "traceparent": f"00-{trace_id}-{root}-01"})
    assert created.status_code == 202, created.text

    relay = OutboxRelay(api.sessions, bootstrap_servers)
    try:
        assert relay.run_once() == 1
    finally:
        relay.close()
    [message] = consume(bootstrap_servers, [prefix + REQUESTS], group_id, 1)

    ours = [s for s in spans.get_finished_spans() if f"{s.context.trace_id:032x}" == trace_id]
    [server] = [s for s in ours if s.kind == trace.SpanKind.SERVER]
    [published] = [s for s in ours if s.name == f"relay {prefix}{REQUESTS}"]
    assert server.name == "POST /api/v2/compositions" and f"{server.parent.span_id:016x}" == root
    assert published.parent.span_id == server.context.span_id
    assert published.kind == trace.SpanKind.PRODUCER
    assert published.attributes["cadenza.event_type"] == "CompositionRequested"
    assert header(message.headers(), HEADER) == f"00-{trace_id}-{published.context.span_id:016x}-01"
