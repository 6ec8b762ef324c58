"""Shared fixtures. Unit tests need nothing; integration and e2e tests get the real services from
the session fixtures in tests/services.py (started once, or taken from KAFKA_BOOTSTRAP_SERVERS /
DATABASE_URL), fresh topics and a fresh consumer group per test."""

pytest_plugins = ["tests.services"]

import os

# The suite's shared database collects thousands of songs that no pipeline ever runs (API tests submit
# without a stack); a global backlog limit would refuse later tests' songs. Admission is tested on a
# database of its own (tests/integration/test_admission.py), with its limit set there.
os.environ.setdefault("CADENZA_API_MAX_BACKLOG", "0")
