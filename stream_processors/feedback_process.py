"""The feedback/RL process: listeners' ratings into the planner's tempo policies.

Two agents. The first reads the public event stream and the ratings (both keyed by composition id and
co-partitioned, so one worker sees a composition's completion and its ratings): for each completed
composition it remembers which policy and arm its plan used (the blend's dominant genre, the third of
the blend's tempo range the planned tempo fell in); for each rating it forwards ``{policy, arm, rating}``
to an internal topic keyed by policy name. A rating that arrives before its composition's completion
waits in the same table. The second agent, keyed by policy name, keeps each policy's statistics and
publishes PolicyUpdated (latest weights, sample count) to the compacted policy topic, where the stage
workers read it. Learning itself is ``composition.feedback_policy``; this is only the adapter.

Both re-keyed sends go through a plain idempotent producer, delivered before the consuming
transaction commits, not through faust: under exactly-once faust puts a send into the transaction of
the *destination* partition, which commits only when that partition has input of its own - a rating
for ``tempo:pop`` would wait until some unrelated message reached the same partition number. So the
forward is at-least-once, and the learner drops a rating it has seen (by the rating's event id); a
PolicyUpdated sent again after a crash is the same message (its event id is uuid5(policy, samples)).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import faust

from composition.events import CompositionCompleted, FeedbackSubmitted, PolicyUpdated
from composition.feedback_policy import arm_of, policy_name, samples, update, weights
from infra.topics import DLQ, EVENTS, FEEDBACK, FEEDBACK_BY_POLICY, POLICY, topic, topic_prefix
from music.genres import blend
from producers.kafka_publisher import KafkaPublisher
from producers.tracing import HEADER as TRACE_HEADER
from producers.tracing import child_of
from stream_processors.faust_app import make_app, table_options
from stream_processors.inbox import Inbox, trace_of
from stream_processors.metrics import EVENTS_OUT
from stream_processors.settings import FeedbackSettings

log = logging.getLogger(__name__)
PROCESS = "feedback"
SYSTEM_TENANT = "cadenza"
POLICY_NAMESPACE = uuid.UUID("7d3c6a52-1f0e-5b8a-9c4d-2e6f8a1b3c5d")
RECENT_RATINGS = 1000  # rating ids a policy remembers to drop a re-forwarded one


def policy_id(name: str) -> uuid.UUID:
    """The envelope's composition id for a policy's events: uuid5 of the policy name (no composition owns it)."""
    return uuid.uuid5(POLICY_NAMESPACE, name)


def build(settings: FeedbackSettings | None = None) -> faust.App:
    settings = settings or FeedbackSettings()
    app = make_app(f"{topic_prefix()}cadenza-feedback", settings)
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    inputs = app.topic(topic(EVENTS), topic(FEEDBACK), **raw)
    ratings = app.topic(topic(FEEDBACK_BY_POLICY), **raw)
    dlq = app.topic(topic(DLQ), **raw)
    publisher: dict[str, KafkaPublisher] = {}
    # composition id -> {"policy", "arm"} once completed, "rated": event ids seen, "pending": early ratings
    songs = app.Table("feedback-songs", partitions=4, options=table_options(settings), key_type=bytes, value_type=bytes)
    # policy name -> {"stats": {arm: {"n", "mean"}}, "recent": the last rating ids}
    stats = app.Table("feedback-stats", partitions=4, options=table_options(settings), key_type=bytes, value_type=bytes)
    inbox = Inbox(app, PROCESS, dlq)

    def producer() -> KafkaPublisher:
        if "publisher" not in publisher:
            publisher["publisher"] = KafkaPublisher(settings.bootstrap_servers, client_id=PROCESS)
        return publisher["publisher"]

    async def delivered() -> None:
        """Wait (off the loop) until every queued message is acknowledged; a failure aborts the transaction."""
        await asyncio.get_running_loop().run_in_executor(None, producer().flush, 30.0)

    async def forward(song: dict, rating: dict, traceparent: str | None) -> None:
        value = {"policy": song["policy"], "arm": song["arm"], **rating}
        producer().publish_raw(topic(FEEDBACK_BY_POLICY), json.dumps(value).encode(), key=song["policy"].encode(),
                               headers=[(TRACE_HEADER, child_of(traceparent).encode())])
        await delivered()

    async def join_one(message, traceparent: str | None) -> None:
        key = str(message.composition_id).encode()
        stored = songs.get(key)
        song = json.loads(stored) if stored else {"rated": [], "pending": []}
        if isinstance(message, CompositionCompleted):
            if "policy" in song or message.context.plan is None:
                return
            plan = message.context.plan
            b = blend(plan.genres, plan.seed)
            song.update(policy=policy_name(b.dominant), arm=arm_of(plan.tempo_bpm, b.tempo))
            for early in song.pop("pending"):
                await forward(song, early, traceparent)
            song["pending"] = []
        elif isinstance(message, FeedbackSubmitted):
            if str(message.event_id) in song["rated"]:
                return  # the same rating delivered twice
            song["rated"].append(str(message.event_id))
            rating = {"rating": message.rating, "rating_id": str(message.event_id)}
            if "policy" in song:
                await forward(song, rating, traceparent)
            else:
                song["pending"].append(rating)
        else:
            return  # progress and the other lifecycle events teach nothing
        songs[key] = json.dumps(song).encode()

    @app.agent(inputs, name="feedback-join")
    async def join(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = await inbox.decode(event)
            if message is None:
                continue
            try:
                await join_one(message, trace_of(event))
            except (ValueError, TypeError, KeyError) as exc:
                log.exception("feedback could not join a message")
                await inbox.dead_letter(event, "processing_error", repr(exc))

    @app.agent(ratings, name="feedback-learn")
    async def learn(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                rating = json.loads(event.value)
                name, arm, value = str(rating["policy"]), str(rating["arm"]), int(rating["rating"])
                if not 1 <= value <= 5:
                    raise ValueError(f"rating {value} outside 1-5")
                rating_id = str(rating["rating_id"])
                key = name.encode()
                stored = stats.get(key)
                known = json.loads(stored) if stored else {"stats": {}, "recent": []}
                if rating_id in known["recent"]:
                    continue  # forwarded again after a crash
                learned = update({name: known["stats"]}, name, arm, value)[name]
            except (ValueError, TypeError, KeyError) as exc:
                await inbox.dead_letter(event, "bad_rating", repr(exc))
                continue
            recent = (known["recent"] + [rating_id])[-RECENT_RATINGS:]
            stats[key] = json.dumps({"stats": learned, "recent": recent}).encode()
            pid, count = policy_id(name), samples(learned)
            updated = PolicyUpdated(event_id=uuid.uuid5(pid, str(count)), composition_id=pid, tenant_id=SYSTEM_TENANT,
                                    policy=name, weights=weights(learned), samples=count)
            producer().publish(topic(POLICY), updated, key=key, traceparent=child_of(trace_of(event)))
            await delivered()
            EVENTS_OUT.labels(PROCESS, "PolicyUpdated").inc()

    @app.on_before_shutdown.connect
    async def flush_publisher(app: faust.App, **_: object) -> None:
        if "publisher" in publisher:
            publisher.pop("publisher").flush(10.0)

    return app
