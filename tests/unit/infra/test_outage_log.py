"""The outage filter: a storm of connection errors becomes a first line, a count, and an end line."""

from __future__ import annotations

import logging
import time

from infra.outage_log import OutageLog


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def logger_with(flt: OutageLog, name: str) -> tuple[logging.Logger, Lines]:
    logger, lines = logging.getLogger(name), Lines()
    logger.handlers[:] = [lines]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addFilter(flt)
    end = logging.getLogger("cadenza.kafka")
    end.handlers[:] = [lines]
    end.propagate = False
    return logger, lines


def test_a_storm_of_connection_errors_is_one_line_a_count_and_an_end() -> None:
    flt = OutageLog(report_s=0.3, quiet_s=0.4)
    log, lines = logger_with(flt, "test.outage.aiokafka")
    log.info("normal line before")
    started = time.monotonic()
    while time.monotonic() - started < 0.7:
        log.error("Unable connect to node with id %s: %s", 1, "[Errno 111] Connect call failed ('127.0.0.1', 1)")
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError:
            log.exception("Unable to update metadata from [1]")  # a traceback per retry, in aiokafka
        time.sleep(0.01)
    log.warning("Timer commit is overlapping (interval=0.05 runtime=0.2)")  # an outage's side effect
    deadline = time.monotonic() + 3
    while not any("reachable again" in line for line in lines.lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    log.info("normal line after")
    assert lines.lines[0] == "normal line before"
    assert lines.lines[1].startswith("kafka unreachable: Unable connect to node with id 1")
    assert any(line.startswith("kafka still unreachable after") for line in lines.lines[2:-2])
    assert "reachable again: the outage lasted" in lines.lines[-2] and lines.lines[-1] == "normal line after"
    assert len(lines.lines) <= 6 and flt.count > 50  # ~100 failures logged as a handful of lines
    assert not any("Timer commit" in line for line in lines.lines)


def test_other_lines_pass_and_a_later_outage_is_reported_again() -> None:
    flt = OutageLog(report_s=30, quiet_s=0.2)
    log, lines = logger_with(flt, "test.outage.librdkafka")
    log.warning("Timer commit is overlapping (interval=0.05 runtime=0.2)")  # no outage: passes
    for _ in range(2):
        for _ in range(20):
            log.error("FAIL [thrd:127.0.0.1:1/bootstrap]: Connect to ipv4#127.0.0.1:1 failed: Connection refused")
        time.sleep(0.6)
    assert flt.outages == 2
    assert [line.split(":")[0] for line in lines.lines] == [
        "Timer commit is overlapping (interval=0.05 runtime=0.2)".split(":")[0],
        "kafka unreachable", "kafka reachable again", "kafka unreachable", "kafka reachable again"]


def test_a_logger_made_after_install_is_filtered_at_the_root_handler_and_a_record_is_judged_once() -> None:
    from infra import outage_log

    flt = outage_log.install(("test.late",))
    root, lines = logging.getLogger(), Lines()
    saved = root.handlers[:]
    root.handlers[:] = [lines]
    try:
        outage_log.install_on_handlers(root, ("test.late",))
        early = logging.getLogger("test.late")  # has the filter on the logger and passes the handler's
        late = logging.getLogger("test.late.made.after")  # only the handler's
        late.propagate = early.propagate = True
        before = flt.count
        for _ in range(30):
            early.error("Unable connect to node with id 1: Connect call failed")
            late.error("Unable connect to node with id 1: Connect call failed")
        logging.getLogger("test.other").error("Connection refused by the database")  # not a client of ours
        kafka_lines = [line for line in lines.lines if "Unable connect" in line]
        assert len(kafka_lines) <= 1, kafka_lines  # 60 failures, at most the outage's first line
        assert flt.count in (60, before + 60), flt.count  # each record counted once, not on logger and handler both
        assert "Connection refused by the database" in lines.lines
    finally:
        root.handlers[:] = saved
