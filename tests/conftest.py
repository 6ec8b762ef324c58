"""Shared fixtures. Unit tests need nothing; integration and e2e tests get the real services from
the session fixtures in tests/services.py (started once, or taken from KAFKA_BOOTSTRAP_SERVERS /
DATABASE_URL), fresh topics and a fresh consumer group per test."""

pytest_plugins = ["tests.services"]
