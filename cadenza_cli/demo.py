"""`cadenza demo`: bring up the stack and show a composition request travelling through Kafka."""

from __future__ import annotations

import time
import uuid

import typer

from composition.events import CompositionRequested
from composition.models import CompositionRequest, GenreWeight, Mood


def demo(keep: bool = typer.Option(False, "--keep", help="leave the services running afterwards")) -> None:
    """Start Kafka and PostgreSQL, publish a CompositionRequested, read it back, stop the services."""
    from confluent_kafka import Consumer

    from infra import stack
    from infra.topics import REQUESTS, topic
    from producers.kafka_publisher import KafkaPublisher
    from schemas.serde import decode, encode

    typer.echo("starting Kafka (KRaft) and PostgreSQL ...")
    services = stack.start()
    typer.echo(f"  kafka    {services.bootstrap_servers}\n  postgres {services.database_url}")
    try:
        request = CompositionRequest(
            mood=Mood.from_label("happy"), theme="a summer road trip", duration_s=60, seed=42,
            genres=[GenreWeight(genre="pop", weight=0.7), GenreWeight(genre="funk", weight=0.3)],
        )
        event = CompositionRequested(composition_id=uuid.uuid4(), tenant_id="demo", request=request)
        started = time.perf_counter()
        with KafkaPublisher(services.bootstrap_servers, client_id="cadenza-demo") as publisher:
            publisher.publish(topic(REQUESTS), event)
        del publisher  # the producer's threads end with it, before the broker stops
        consumer = Consumer({"bootstrap.servers": services.bootstrap_servers, "group.id": f"demo-{uuid.uuid4()}",
                             "auto.offset.reset": "latest", "isolation.level": "read_committed"})
        # read from the offset just before our message, on its partition
        from confluent_kafka import TopicPartition

        metadata = consumer.list_topics(topic(REQUESTS), timeout=10).topics[topic(REQUESTS)]
        offsets = []
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic(REQUESTS), partition), timeout=10)
            offsets.append(TopicPartition(topic(REQUESTS), partition, max(low, high - 1)))
        consumer.assign(offsets)
        received = None
        deadline = time.monotonic() + 15
        while received is None and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and not message.error() and message.key() == str(event.composition_id).encode():
                received = decode(message.value())
        consumer.close()
        if received != event:
            raise typer.Exit(f"the event did not come back from {topic(REQUESTS)}")
        elapsed = (time.perf_counter() - started) * 1000
        typer.echo(f"published and read back CompositionRequested {event.composition_id} "
                   f"({len(encode(event))} bytes of Avro) in {elapsed:.1f} ms via {topic(REQUESTS)}")
        typer.echo(f"  request: {request.model_dump_json()}")
    finally:
        if not keep:
            stack.stop()
            typer.echo("services stopped")
