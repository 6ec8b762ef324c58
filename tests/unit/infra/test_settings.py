"""The settings tree: defaults follow the port settings, bad values fail naming the variable."""

from __future__ import annotations

import pytest

from api.settings import ApiSettings
from infra.settings import ServiceSettings, SettingsError
from stream_processors.settings import StageWorkerSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "CADENZA_KAFKA_PORT", "CADENZA_PG_PORT",
                 "CADENZA_RUN_DIR", "CADENZA_ARTIFACT_DIR", "CADENZA_SOUNDFONT", "CADENZA_TOPIC_PREFIX",
                 "CADENZA_KAFKA_BROKERS", "CADENZA_REPLICATION_FACTOR", "CADENZA_ARTIFACT_STORE", "CADENZA_S3_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def test_default_urls_follow_the_port_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CADENZA_KAFKA_PORT", "39092")
    monkeypatch.setenv("CADENZA_PG_PORT", "35432")
    monkeypatch.setenv("CADENZA_RUN_DIR", str(tmp_path))
    settings = ServiceSettings()
    assert settings.bootstrap_servers == "127.0.0.1:39092" and not settings.kafka_external
    assert settings.database_url == "postgresql+psycopg2://cadenza@127.0.0.1:35432/cadenza"
    assert settings.artifact_dir == tmp_path / "artifacts"
    child = settings.environment()
    assert child["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:39092" and child["CADENZA_ARTIFACT_DIR"] == str(tmp_path / "artifacts")


def test_existing_services_are_external(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db/cadenza")
    settings = ServiceSettings()
    assert settings.kafka_external and settings.database_external
    assert settings.database_url == "postgresql+psycopg2://app@db/cadenza"


@pytest.mark.parametrize("name,value", [("CADENZA_KAFKA_PORT", "ninety"), ("KAFKA_BOOTSTRAP_SERVERS", "no-port"),
                                        ("DATABASE_URL", "mysql://x"), ("CADENZA_PARTITIONS", "0"),
                                        ("CADENZA_KAFKA_BROKERS", "0"), ("CADENZA_ARTIFACT_STORE", "ftp")])
def test_a_bad_value_fails_naming_its_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        ServiceSettings()
    assert name in str(error.value) and error.value.variables == [name]
    assert (f"{name}={value}" in str(error.value)) is (name != "DATABASE_URL")  # a URL may hold a password


@pytest.mark.parametrize("cls,name,value", [(ApiSettings, "CADENZA_API_PORT", "99999"),
                                            (StageWorkerSettings, "CADENZA_POOL_SIZE", "0"),
                                            (ServiceSettings, "CADENZA_S3_ENDPOINT", "ftp://x")])
def test_a_process_setting_is_named_by_its_variable_not_its_field(monkeypatch, cls, name, value):
    monkeypatch.setenv(name, value)
    if name == "CADENZA_S3_ENDPOINT":
        monkeypatch.setenv("CADENZA_ARTIFACT_STORE", "s3")
    with pytest.raises(SettingsError, match=name):
        cls()


def test_a_cluster_of_three_lists_its_nodes_and_replicates_by_three(monkeypatch):
    monkeypatch.setenv("CADENZA_KAFKA_PORT", "39092")
    monkeypatch.setenv("CADENZA_KAFKA_BROKERS", "3")
    settings = ServiceSettings()
    assert settings.bootstrap_servers == "127.0.0.1:39092,127.0.0.1:39094,127.0.0.1:39096"
    assert settings.replication_factor == 3 and settings.topics.replication_factor == 3
    assert settings.environment()["CADENZA_KAFKA_BROKERS"] == "3"
    monkeypatch.setenv("CADENZA_KAFKA_BROKERS", "1")
    assert ServiceSettings().replication_factor == 1
    monkeypatch.setenv("CADENZA_REPLICATION_FACTOR", "3")
    with pytest.raises(SettingsError, match="CADENZA_REPLICATION_FACTOR=3 needs at least as many brokers"):
        ServiceSettings()


def test_a_process_extends_the_tree_under_its_own_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("CADENZA_API_PORT", "8123")
    monkeypatch.setenv("CADENZA_PG_PORT", "35432")
    api = ApiSettings()
    assert api.port == 8123 and api.database_url.endswith(":35432/cadenza")
    font = tmp_path / "font.sf2"
    font.write_bytes(b"RIFF")
    monkeypatch.setenv("CADENZA_SOUNDFONT", str(font))
    assert StageWorkerSettings().engine_config.soundfont == font
    monkeypatch.setenv("CADENZA_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(SettingsError, match="CADENZA_SOUNDFONT"):
        StageWorkerSettings()


def test_the_engine_gets_what_the_worker_is_configured_with(monkeypatch):
    """The engine reads no environment: intelligibility and the LLM endpoint come down in EngineConfig."""
    monkeypatch.setenv("CADENZA_MEASURE_INTELLIGIBILITY", "1")
    monkeypatch.setenv("CADENZA_RECOGNISER", "base")
    monkeypatch.setenv("CADENZA_LLM_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("CADENZA_LLM_API_KEY", "secret")
    config = StageWorkerSettings().engine_config
    assert config.measure_intelligibility and config.recogniser == "base"
    assert config.llm.url == "http://127.0.0.1:8080/v1" and config.llm.api_key == "secret"
    assert "secret" not in repr(config)
    monkeypatch.delenv("CADENZA_LLM_URL")
    assert StageWorkerSettings().engine_config.llm is None
    monkeypatch.setenv("CADENZA_LLM_TIMEOUT_S", "0")
    with pytest.raises(SettingsError, match="CADENZA_LLM_TIMEOUT_S"):
        StageWorkerSettings()
