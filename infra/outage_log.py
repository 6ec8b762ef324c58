"""A broker outage in a process's log: one line when it starts, a count while it lasts, one when it ends.

While Kafka is unreachable every client retries - aiokafka (faust) every 100 ms per client, with no
setting to back off further (aiokafka 0.14 has only a constant ``retry_backoff_ms``, which faust
0.15.3 does not pass on; faust-streaming issue #624), librdkafka at the ``reconnect.backoff.ms`` we
give it - and logs each failure: thousands of lines a minute. :class:`OutageLog` is a logging filter
that lets the first connection error through, counts the others, lets a count through at most every
``report_s``, and logs the end once no connection error came for ``quiet_s`` (longer than any
client's retry interval). :func:`install` puts it on the aiokafka, faust and mode loggers;
:func:`librdkafka_config` gives our confluent clients a backoff and a logger that has it.
"""

from __future__ import annotations

import logging
import re
import threading
import time

CONNECTION_ERROR = re.compile(
    r"Unable connect to node|Unable to (update|request) metadata|Failed fetch messages|Group Coordinator Request failed"
    r"|Heartbeat send request failed|coordinator dead|NodeNotReadyError|KafkaConnectionError|Connect call failed"
    r"|Connection refused|Connect to ipv\S+ failed|Disconnected|brokers are down|Receive failed|Connection reset",
    re.IGNORECASE)
"""The messages aiokafka, faust and librdkafka log for an unreachable broker (measured on a killed broker)."""
DURING_OUTAGE = re.compile(r"Timer \S+ is overlapping|Timer \S+ woke up too late", re.IGNORECASE)
"""Lines that an outage causes (faust's timers wait on the broker); counted with it while it lasts."""
LIBRDKAFKA_BACKOFF = {"reconnect.backoff.ms": 1000, "reconnect.backoff.max.ms": 10000}
"""librdkafka retries an unreachable broker every half ``reconnect.backoff.ms`` (measured: 50 ms at its
default of 100, 500 ms here) and up to ``reconnect.backoff.max.ms``."""

log = logging.getLogger("cadenza.kafka")


class OutageLog(logging.Filter):
    """One instance per process, on every logger whose clients talk to the broker."""

    def __init__(self, *, report_s: float = 30.0, quiet_s: float = 5.0, subject: str = "kafka") -> None:
        super().__init__()
        self.report_s, self.quiet_s, self.subject = report_s, quiet_s, subject
        self._lock = threading.Lock()
        self.started: float | None = None
        self.last_error = self.last_report = 0.0
        self.count = 0
        self.outages = 0

    def filter(self, record: logging.LogRecord) -> bool:
        # on a logger and on the root handlers both: a record is judged once, the second look agrees
        verdict = getattr(record, "cadenza_outage", None)
        if verdict is None:
            verdict = record.cadenza_outage = self._judge(record)
        return verdict

    def _judge(self, record: logging.LogRecord) -> bool:
        if record.name == log.name:
            return True
        message = record.getMessage()
        connection = CONNECTION_ERROR.search(message) is not None
        if not connection and not (self.started is not None and DURING_OUTAGE.search(message)):
            return True
        now = time.monotonic()
        with self._lock:
            self.count += 1
            self.last_error = now
            if self.started is None:
                self.started = self.last_report = now
                self.count = 1
                self.outages += 1
                threading.Thread(target=self._watch_for_the_end, name="outage-log", daemon=True).start()
                text = (f"{self.subject} unreachable: {message} (an outage: further connection errors are "
                        f"counted, not logged)")
            elif now - self.last_report >= self.report_s:
                self.last_report = now
                text = (f"{self.subject} still unreachable after {now - self.started:.0f} s, "
                        f"{self.count} connection errors; last: {message}")
            else:
                return False
        # the message alone: a traceback per retry is what made the log grow
        record.msg, record.args, record.exc_info, record.exc_text, record.stack_info = text, (), None, None, None
        return True

    def _watch_for_the_end(self) -> None:
        while True:
            time.sleep(min(1.0, self.quiet_s / 2))
            with self._lock:
                if time.monotonic() - self.last_error < self.quiet_s:
                    continue
                lasted, count = self.last_error - (self.started or self.last_error), self.count
                self.started = None
            log.warning("%s reachable again: the outage lasted %.1f s (%d connection errors, none for %.0f s)",
                        self.subject, lasted, count, self.quiet_s)
            return


_FILTER = OutageLog()
LOGGER_PREFIXES = ("aiokafka", "faust", "mode", "cadenza.librdkafka")


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    """Whether logger ``name`` is one of ``prefixes`` or a child of one."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def install(prefixes: tuple[str, ...] = LOGGER_PREFIXES) -> OutageLog:
    """Put the process's outage filter on every logger under ``prefixes`` that exists now (call it after
    the clients' modules are imported; a filter on a logger sees the records logged to that logger)."""
    names = [n for n in list(logging.root.manager.loggerDict) if _under(n, prefixes)]
    for name in {*names, *prefixes}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER


class _OnHandlers(logging.Filter):
    """The process's filter on a handler: for the records of the clients' loggers only."""

    def __init__(self, flt: OutageLog, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.flt, self.prefixes = flt, prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        if not _under(record.name, self.prefixes):
            return True
        return self.flt.filter(record)


def install_on_handlers(logger: logging.Logger | None = None,
                        prefixes: tuple[str, ...] = LOGGER_PREFIXES) -> OutageLog:
    """Put the filter on ``logger``'s handlers too (the root's by default; call it once they exist): a
    logger made after :func:`install` (a module imported late, a child logger) is covered there."""
    for handler in (logger or logging.root).handlers:
        if not any(isinstance(f, _OnHandlers) for f in handler.filters):
            handler.addFilter(_OnHandlers(_FILTER, prefixes))
    return _FILTER


def librdkafka_config(client: str = "client") -> dict:
    """What every confluent-kafka client of ours adds to its config: the reconnect backoff, and its
    log through a Python logger that has the outage filter (librdkafka hands its log over on poll)."""
    logger = logging.getLogger(f"cadenza.librdkafka.{client}")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return {**LIBRDKAFKA_BACKOFF, "logger": logger}
