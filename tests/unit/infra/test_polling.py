"""The polling loop: it backs off through an outage, logs it as one line each way, and stops on a bug."""

from __future__ import annotations

import logging

import pytest

from composition.errors import TransientError
from composition.retry import Backoff
from infra.polling import PollingLoop


def test_an_outage_is_logged_when_it_starts_and_ends_not_per_attempt(caplog):
    outcomes = iter([TransientError("broker down")] * 5 + [3, 0])
    loop = None

    def step():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        if outcome == 0:
            loop.stop()
        return outcome

    loop = PollingLoop(step, name="relay", log=logging.getLogger("test.polling"), idle_s=0,
                       backoff=Backoff(base_s=0.001, cap_s=0.002, jitter=0), report_s=3600)
    with caplog.at_level(logging.WARNING, logger="test.polling"):
        loop.run()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "outage began" in messages[0] and "outage ended" in messages[1] and "5 failed attempts" in messages[1]


def test_a_bug_is_not_retried():
    loop = PollingLoop(lambda: 1 / 0, name="projector", log=logging.getLogger("test.polling"), idle_s=0)
    with pytest.raises(ZeroDivisionError):
        loop.run()
