"""Every Cadenza topic, declared once: name, partitions, key and configs; created idempotently.

All topics are keyed by composition id (so one composition's events stay ordered), except the policy
topic (keyed by policy name, compacted) and the feedback process's internal ratings topic. Names can carry a prefix (CADENZA_TOPIC_PREFIX) so tests get
fresh topics of their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from composition.models import StageName

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    doc: str
    config: dict[str, str] = field(default_factory=dict)

    def prefixed(self, prefix: str) -> "TopicSpec":
        return TopicSpec(prefix + self.name, self.partitions, self.key, self.doc, dict(self.config))


_RETAINED = {"cleanup.policy": "delete", "retention.ms": str(7 * DAY_MS), "max.message.bytes": "1048576"}

REQUESTS = "compositions.requests"
CONTROL = "compositions.control"
STAGE_RESULTS = "compositions.stage-results"
COMPENSATIONS = "compositions.compensations"
EVENTS = "compositions.events"
FEEDBACK = "compositions.feedback"
POLICY = "compositions.policy"
DLQ = "compositions.dlq"
SAGA_TICKS = "compositions.saga-ticks"
FEEDBACK_BY_POLICY = "compositions.feedback-by-policy"


def stage_requests(stage: StageName | str) -> str:
    return f"compositions.stage-requests.{StageName(stage).value}"


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(REQUESTS, 4, "composition id", "CompositionRequested, from the outbox relay / CLI", _RETAINED),
    TopicSpec(CONTROL, 4, "composition id", "CancelRequested, from the API", _RETAINED),
    *(
        TopicSpec(stage_requests(stage), 4, "composition id", f"StageRequested for the {stage.value} workers", _RETAINED)
        for stage in StageName
    ),
    TopicSpec(STAGE_RESULTS, 4, "composition id", "StageCompleted/StageFailed/StageCompensated from workers", _RETAINED),
    TopicSpec(COMPENSATIONS, 4, "composition id", "CompensationRequested, from the saga", _RETAINED),
    TopicSpec(EVENTS, 4, "composition id", "the public lifecycle and progress stream", {**_RETAINED, "retention.ms": str(30 * DAY_MS)}),
    # as many partitions as compositions.events: the feedback process joins the two by composition id
    TopicSpec(FEEDBACK, 4, "composition id", "FeedbackSubmitted, from the API", _RETAINED),
    TopicSpec(POLICY, 1, "policy name", "PolicyUpdated, latest per policy",
              {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", "segment.ms": str(3600 * 1000)}),
    TopicSpec(SAGA_TICKS, 4, "composition id", "internal to the saga: wake-ups for due deadlines and retries (JSON)",
              {"cleanup.policy": "delete", "retention.ms": str(DAY_MS)}),
    TopicSpec(FEEDBACK_BY_POLICY, 4, "policy name", "internal to the feedback process: one rating of one arm (JSON)",
              {"cleanup.policy": "delete", "retention.ms": str(DAY_MS)}),
    TopicSpec(DLQ, 1, "original key", "messages a consumer could not decode or process, with the reason in headers",
              {**_RETAINED, "retention.ms": str(30 * DAY_MS)}),
)


def topic_prefix() -> str:
    return os.environ.get("CADENZA_TOPIC_PREFIX", "")


def all_topics(prefix: str | None = None) -> list[TopicSpec]:
    prefix = topic_prefix() if prefix is None else prefix
    return [spec.prefixed(prefix) for spec in TOPICS]


def topic(name: str, prefix: str | None = None) -> str:
    """The real name of one of the declared topics (with the configured prefix)."""
    if name not in {spec.name for spec in TOPICS}:
        raise KeyError(f"{name!r} is not a declared topic (infra/topics.py)")
    return (topic_prefix() if prefix is None else prefix) + name


def ensure_topics(bootstrap_servers: str, prefix: str | None = None, timeout: float = 30.0) -> list[str]:
    """Create every declared topic that does not exist yet; return the names created."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [spec for spec in all_topics(prefix) if spec.name not in existing]
    if not wanted:
        return []
    created = _create(admin, [NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=1,
                                       config=spec.config) for spec in wanted], timeout)
    _wait_visible(admin, [spec.name for spec in wanted], timeout)
    return created


def _create(admin, topics: list, timeout: float) -> list[str]:
    """Create ``topics``; one that another process created meanwhile is fine. Returns those we created."""
    from confluent_kafka import KafkaException

    created = []
    for name, future in admin.create_topics(topics, operation_timeout=timeout).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].code() != exc.args[0].TOPIC_ALREADY_EXISTS:  # another process won the race
                raise
    return created


def ensure_compacted(bootstrap_servers: str, partitions_by_name: dict[str, int], timeout: float = 30.0) -> list[str]:
    """Create compacted topics that do not exist yet (faust's table changelogs) and wait until visible.

    faust creates its changelog topics itself at start, then reads their partition count at once; on
    a broker whose metadata lags (a freshly formatted one) it finds none and the agent crashes with
    PartitionsMismatch. Creating them before the worker starts avoids the race.
    """
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = {name: count for name, count in partitions_by_name.items() if name not in existing}
    created = _create(admin, [NewTopic(name, num_partitions=count, replication_factor=1,
                                       config={"cleanup.policy": "compact"})
                              for name, count in wanted.items()], timeout) if wanted else []
    _wait_visible(admin, list(partitions_by_name), timeout)
    return created


def _wait_visible(admin, names: list[str], timeout: float) -> None:
    """Wait until the broker's metadata shows every topic with a leader for each partition.

    CreateTopics returns once the controller has the topics; a consumer that asks for metadata a
    moment later can still miss them, and faust then ignores the missing topic for good.
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        topics = admin.list_topics(timeout=timeout).topics
        missing = [n for n in names if n not in topics or topics[n].error is not None
                   or any(p.leader < 0 for p in topics[n].partitions.values())]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics not visible after {timeout}s: {', '.join(missing[:5])}")
        time.sleep(0.1)
