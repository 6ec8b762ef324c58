"""Every Cadenza topic, declared once: name, partitions, key and configs; created idempotently.

All topics are keyed by composition id (so one composition's events stay ordered), except the policy
topic (keyed by policy name, compacted) and the feedback process's internal ratings topic. The
topics keyed by composition id share one partition count (a setting, default 4), so every
composition's inputs are co-partitioned; the tables that follow them take the same count. A
:class:`Topics` (from the settings) gives the real names, with a prefix that tests use to get fresh
topics of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from composition.models import StageName

DAY_MS = 24 * 3600 * 1000
COMPOSITION_PARTITIONS = 0
"""``TopicSpec.partitions`` of the topics keyed by composition id: the configured count."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int  # COMPOSITION_PARTITIONS: the configured count
    key: str
    doc: str
    config: dict[str, str] = field(default_factory=dict)


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
DLQ_REPLAYS = "compositions.dlq-replays"


def stage_requests(stage: StageName | str) -> str:
    return f"compositions.stage-requests.{StageName(stage).value}"


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(REQUESTS, COMPOSITION_PARTITIONS, "composition id", "CompositionRequested, from the outbox relay / CLI", _RETAINED),
    TopicSpec(CONTROL, COMPOSITION_PARTITIONS, "composition id", "CancelRequested, from the API", _RETAINED),
    *(
        TopicSpec(stage_requests(stage), COMPOSITION_PARTITIONS, "composition id", f"StageRequested for the {stage.value} workers", _RETAINED)
        for stage in StageName
    ),
    TopicSpec(STAGE_RESULTS, COMPOSITION_PARTITIONS, "composition id", "StageCompleted/StageFailed/StageCompensated from workers", _RETAINED),
    TopicSpec(COMPENSATIONS, COMPOSITION_PARTITIONS, "composition id", "CompensationRequested, from the saga", _RETAINED),
    TopicSpec(EVENTS, COMPOSITION_PARTITIONS, "composition id", "the public lifecycle and progress stream", {**_RETAINED, "retention.ms": str(30 * DAY_MS)}),
    # as many partitions as compositions.events: the feedback process joins the two by composition id
    TopicSpec(FEEDBACK, COMPOSITION_PARTITIONS, "composition id", "FeedbackSubmitted, from the API", _RETAINED),
    TopicSpec(POLICY, 1, "policy name", "PolicyUpdated, latest per policy",
              {"cleanup.policy": "compact", "min.compaction.lag.ms": "0", "segment.ms": str(3600 * 1000)}),
    TopicSpec(SAGA_TICKS, COMPOSITION_PARTITIONS, "composition id", "internal to the saga: wake-ups for due deadlines and retries (JSON)",
              {"cleanup.policy": "delete", "retention.ms": str(DAY_MS)}),
    TopicSpec(FEEDBACK_BY_POLICY, COMPOSITION_PARTITIONS, "policy name", "internal to the feedback process: one rating of one arm (JSON)",
              {"cleanup.policy": "delete", "retention.ms": str(DAY_MS)}),
    TopicSpec(DLQ, 1, "original key", "messages a consumer could not decode or process, with the reason in headers",
              {**_RETAINED, "retention.ms": str(30 * DAY_MS)}),
    # written in the transaction that replays a letter, so a letter is marked exactly when its replay is visible
    TopicSpec(DLQ_REPLAYS, 1, "dead letter (partition:offset)", "which dead letters were replayed (JSON), `cadenza dlq`",
              {"cleanup.policy": "compact,delete", "retention.ms": str(30 * DAY_MS), "min.compaction.lag.ms": "0"}),
)


_DECLARED = {spec.name: spec for spec in TOPICS}


@dataclass(frozen=True)
class Topics:
    """The declared topics as this deployment names and sizes them."""

    prefix: str = ""
    partitions: int = 4
    replication_factor: int = 1

    def name(self, declared: str) -> str:
        """The real name of a declared topic (``REQUESTS``, ``stage_requests(stage)``, ...)."""
        if declared not in _DECLARED:
            raise KeyError(f"{declared!r} is not a declared topic (infra/topics.py)")
        return self.prefix + declared

    def stage_requests(self, stage: StageName | str) -> str:
        return self.name(stage_requests(stage))

    def partitions_of(self, declared: str) -> int:
        spec = _DECLARED[declared]
        return self.partitions if spec.partitions == COMPOSITION_PARTITIONS else spec.partitions

    def config_of(self, declared: str) -> dict[str, str]:
        config = dict(_DECLARED[declared].config)
        if self.replication_factor >= 3:
            config.setdefault("min.insync.replicas", "2")  # an acknowledged write survives one broker
        return config

    def declared(self) -> list[str]:
        return [spec.name for spec in TOPICS]


def ensure_topics(bootstrap_servers: str, topics: Topics, timeout: float = 60.0) -> list[str]:
    """Create every declared topic that does not exist yet; return the names created."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [name for name in topics.declared() if topics.name(name) not in existing]
    if not wanted:
        return []
    created = _create(admin, [NewTopic(topics.name(name), num_partitions=topics.partitions_of(name),
                                       replication_factor=topics.replication_factor, config=topics.config_of(name))
                              for name in wanted], timeout)
    _wait_visible(admin, [topics.name(name) for name in wanted], timeout)
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


def ensure_compacted(bootstrap_servers: str, partitions_by_name: dict[str, int], replication_factor: int = 1,
                     timeout: float = 30.0, configs: dict[str, dict[str, object]] | None = None) -> list[str]:
    """Create compacted topics that do not exist yet (faust's table changelogs) and wait until visible.

    faust creates its changelog topics itself at start, then reads their partition count at once; on
    a broker whose metadata lags (a freshly formatted one) it finds none and the agent crashes with
    PartitionsMismatch. Creating them before the worker starts avoids the race.
    """
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = {name: count for name, count in partitions_by_name.items() if name not in existing}
    config = {"cleanup.policy": "compact", **({"min.insync.replicas": "2"} if replication_factor >= 3 else {})}
    extra = configs or {}  # a table's own topic settings (segment.ms ...), as faust would create it
    created = _create(admin, [NewTopic(name, num_partitions=count, replication_factor=replication_factor,
                                       config={**config, **{k: str(v) for k, v in extra.get(name, {}).items()}})
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
