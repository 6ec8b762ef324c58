"""Dead letters end to end on the real broker and database: a rating the analytics consumer could not
record (its table was missing: a deployment ahead of its migration) is dead-lettered, shown by
`cadenza dlq`, replayed once after the fix and then recorded; a second replay does nothing; purge
keeps what is younger than its age and what was never replayed."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from cadenza_cli.main import app
from composition.events import FeedbackSubmitted
from infra.database import make_engine, make_session_factory
from infra.topics import FEEDBACK
from producers.kafka_publisher import KafkaPublisher
from stream_processors.analytics.consumer import AnalyticsConsumer
from stream_processors.analytics.models import RatingFact
from tests.integration.kafka_helpers import consume

pytestmark = pytest.mark.integration


@pytest.fixture
def database(postgres_server):
    from infra.stack import fresh_database

    with fresh_database(postgres_server, "cadenza_dlq") as url:
        engine = make_engine(url, pool_size=2)
        yield make_session_factory(engine), engine
        engine.dispose()


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, ["dlq", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run_until(consumer: AnalyticsConsumer, done, rounds: int = 60) -> None:
    for _ in range(rounds):
        consumer.poll_once()
        if done():
            return
    raise AssertionError("the analytics consumer did not get there")


def test_a_letter_that_failed_for_a_fixed_reason_is_replayed_once_and_processed(database, bootstrap_servers,
                                                                                 topics, group_id):
    sessions, engine = database
    rating = FeedbackSubmitted(composition_id=uuid.uuid4(), tenant_id="acme", rating=5)
    with engine.begin() as conn:  # the consumer runs before its migration: the table is not there
        conn.execute(text("ALTER TABLE analytics_ratings RENAME TO analytics_ratings_later"))
    with KafkaPublisher(bootstrap_servers) as publisher:
        publisher.publish(topics.name(FEEDBACK), rating, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    consumer = AnalyticsConsumer(sessions, bootstrap_servers, topics, group_id=group_id, batch_size=10)
    try:
        run_until(consumer, lambda: consumer.dead_lettered == 1)

        [listed] = [json.loads(line) for line in cli("list", "--json").splitlines()]
        assert listed["reason"] == "processing_error" and listed["consumer"] == "analytics"
        assert listed["origin"] == {"topic": topics.name(FEEDBACK), "partition": listed["origin"]["partition"],
                                    "offset": 0}
        assert listed["replayed"] is None
        shown = json.loads(cli("show", listed["id"]))
        assert "analytics_ratings" in shown["error"]  # ProgrammingError: relation "analytics_ratings" does not exist
        assert shown["payload"]["type"] == "FeedbackSubmitted"
        assert shown["payload"]["event"]["event_id"] == str(rating.event_id)
        assert shown["headers"]["traceparent"] == "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
        assert "run with --yes" in cli("purge", "--older-than", "0s")  # without --yes: says what, deletes nothing
        assert "deleted 0 dead letter(s)" in cli("purge", "--older-than", "0s", "--yes")  # never replayed: kept
        assert "1 dead letter(s)" in cli("list")

        with engine.begin() as conn:  # the fix: the migration ran
            conn.execute(text("ALTER TABLE analytics_ratings_later RENAME TO analytics_ratings"))
        assert f"{listed['id']}: replayed ({topics.name(FEEDBACK)})" in cli("replay", listed["id"])
        with sessions() as session:
            run_until(consumer, lambda: session.execute(select(RatingFact).where(
                RatingFact.event_id == rating.event_id)).first() is not None)
        assert consumer.dead_lettered == 1

        assert f"{listed['id']}: already replayed" in cli("replay", listed["id"])
        assert "nothing to replay" in cli("replay", "--all")
        replayed = consume(bootstrap_servers, [topics.name(FEEDBACK)], group_id + "-count", 3, timeout=8)
        assert len(replayed) == 2  # the original and exactly one replay
        assert replayed[1].value() == replayed[0].value()
        assert dict(replayed[1].headers()) == dict(replayed[0].headers())
        [after] = [json.loads(line) for line in cli("list", "--json").splitlines()]
        assert after["replayed"]["topic"] == topics.name(FEEDBACK)
    finally:
        consumer.close()

    assert "deleted 0 dead letter(s)" in cli("purge", "--older-than", "1d", "--yes")  # younger than a day: kept
    assert "deleted 1 dead letter(s)" in cli("purge", "--older-than", "0s", "--yes")
    assert cli("list").strip() == "0 dead letter(s)"
