"""Prometheus metrics of the stream processors, one registry per process (prometheus_client's default)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS_IN = Counter("cadenza_events_in_total", "Messages consumed, by topic kind and event type", ["process", "type"])
EVENTS_OUT = Counter("cadenza_events_out_total", "Messages published, by event type", ["process", "type"])
DEAD_LETTERS = Counter("cadenza_dead_letters_total", "Messages sent to the DLQ, by reason", ["process", "reason"])
STAGE_DURATION = Histogram(
    "cadenza_stage_duration_seconds", "Wall time of one stage attempt in a worker", ["stage", "provider", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
RETRIES = Counter("cadenza_stage_retries_total", "Stage attempts dispatched after the first", ["stage"])
TIMEOUTS = Counter("cadenza_stage_timeouts_total", "Stage attempts whose deadline passed", ["stage"])
FAILURES = Counter("cadenza_stage_failures_total", "StageFailed results, by stage and error code", ["stage", "code"])
COMPENSATIONS = Counter("cadenza_compensations_total", "Compensations requested / done", ["stage", "phase"])
IN_FLIGHT = Gauge("cadenza_compositions_in_flight", "Compositions accepted and not yet terminal (this saga's partitions)")
PURGED = Counter("cadenza_saga_purged_total", "Finished compositions whose saga state was deleted (retention)")
EXPIRED_INPUTS = Counter("cadenza_saga_expired_inputs_total",
                         "Start requests dropped as older than the saga's retention (a purged composition's)")
PURGED_ATTEMPTS = Counter("cadenza_stage_attempts_forgotten_total",
                          "Finished-attempt entries a stage worker deleted for purged compositions", ["stage"])
TERMINAL = Counter("cadenza_compositions_terminal_total", "Compositions that reached a terminal state", ["outcome"])
END_TO_END = Histogram(
    "cadenza_composition_duration_seconds", "Requested to completed, per composition",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
)
CONSUMER_LAG = Gauge("cadenza_consumer_lag_messages", "High watermark minus the offset being processed",
                     ["process", "group", "topic", "partition"])
OVERDUE = Gauge("cadenza_saga_overdue_compositions",
                "Compositions whose next deadline (attempt, retry or compensation) passed more than "
                "OVERDUE_AFTER_S ago without the saga acting on it (this saga's partitions)")
OLDEST_OVERDUE = Gauge("cadenza_saga_oldest_overdue_seconds",
                       "How long ago the most overdue composition's deadline passed (0: none overdue)")
OVERDUE_AFTER_S = 30.0
"""A deadline the saga has not acted on after this long is overdue: ticks come every fraction of a second."""


ROCKSDB_MEMORY = Gauge("cadenza_rocksdb_memory_bytes",
                       "This process's RocksDB memory within its budget: the shared block cache with the memtables "
                       "charged to it (usage), and the memtables alone (memtables)", ["part"])

def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on ``host:port`` (port 0: don't)."""
    if port:
        start_http_server(port, addr=host)
