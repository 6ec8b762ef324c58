"""The project's own services: topics declared once and created idempotently, migrations applied."""

from __future__ import annotations

import uuid

import sqlalchemy
from confluent_kafka.admin import AdminClient, ConfigResource

from infra.topics import POLICY, STAGE_RESULTS, ensure_topics


def test_every_declared_topic_exists_with_its_config(bootstrap_servers: str, topic_prefix: str, topics) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    metadata = admin.list_topics(timeout=10).topics
    for declared in topics.declared():
        name = topics.name(declared)
        assert name in metadata, name
        assert len(metadata[name].partitions) == topics.partitions_of(declared), name

    resources = [ConfigResource(ConfigResource.Type.TOPIC, topic_prefix + name) for name in (POLICY, STAGE_RESULTS)]
    configs = {res.name: future.result() for res, future in admin.describe_configs(resources).items()}
    assert configs[topic_prefix + POLICY]["cleanup.policy"].value == "compact"
    assert configs[topic_prefix + STAGE_RESULTS]["cleanup.policy"].value == "delete"
    assert configs[topic_prefix + STAGE_RESULTS]["retention.ms"].value == str(7 * 24 * 3600 * 1000)


def test_topic_creation_is_idempotent(bootstrap_servers: str, topics) -> None:
    assert ensure_topics(bootstrap_servers, topics) == []


def test_migrations_create_the_outbox(database_url: str) -> None:
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as conn:
        topic = f"test-{uuid.uuid4()}"
        conn.execute(sqlalchemy.text("INSERT INTO outbox (topic, key, value) VALUES (:t, 'k', 'v')"), {"t": topic})
        row = conn.execute(sqlalchemy.text("SELECT topic, sent_at, headers FROM outbox WHERE topic = :t"), {"t": topic}).one()
        version = conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert row.topic == topic and row.sent_at is None and row.headers == {}
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from infra.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert version == ScriptDirectory.from_config(config).get_current_head()
