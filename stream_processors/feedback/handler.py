"""The feedback/RL handlers: listeners' ratings into the planner's tempo policies.

:meth:`FeedbackHandler.join` reads the public event stream and the ratings (both keyed by composition
id and co-partitioned): for each completed composition it remembers which policy and arm its plan used
(the blend's dominant genre, the third of the blend's tempo range its tempo fell in); each rating
becomes ``{policy, arm, rating}`` forwarded, keyed by policy name, to the learner. A rating that
arrives before its completion waits in the same table. :meth:`FeedbackHandler.learn`, keyed by policy
name, keeps each policy's statistics and publishes PolicyUpdated. Learning itself is
``composition.feedback_policy``.

Forwards and policy updates go through a :class:`DirectSender` (a plain idempotent producer in the
process, delivered before the consuming transaction commits), not through faust: under exactly-once a
faust send goes into the transaction of the destination partition, which commits only when that
partition has input of its own. So the forward is at-least-once, and the learner drops a rating it has
seen (by the rating's id); a PolicyUpdated sent again after a crash is the same message (its event id
is uuid5(policy, samples)).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import MutableMapping
from typing import Protocol

from composition.errors import InvalidInput
from composition.events import (
    CompositionCompleted,
    Envelope,
    FeedbackSubmitted,
    PolicyUpdated,
    of_a_song,
)
from composition.feedback_policy import arm_of, policy_name, samples, update, weights
from infra.topics import FEEDBACK_BY_POLICY, POLICY, Topics
from music.genres import blend

SYSTEM_TENANT = "cadenza"
POLICY_NAMESPACE = uuid.UUID("7d3c6a52-1f0e-5b8a-9c4d-2e6f8a1b3c5d")
RECENT_RATINGS = 1000  # rating ids a policy remembers to drop a re-forwarded one


class DirectSender(Protocol):
    """Sends outside the consuming transaction; ``delivered`` returns once the broker acknowledged all."""

    def send_raw(self, topic: str, value: bytes, key: bytes, traceparent: str | None) -> None: ...

    def send(self, topic: str, event: Envelope, key: bytes, traceparent: str | None) -> None: ...

    async def delivered(self) -> None: ...


def policy_id(name: str) -> uuid.UUID:
    """The envelope's composition id for a policy's events: uuid5 of the policy name (no composition owns it)."""
    return uuid.uuid5(POLICY_NAMESPACE, name)


class FeedbackHandler:
    """Both agents' handlers: ``songs`` is keyed by composition id, ``stats`` by policy name."""

    def __init__(self, songs: MutableMapping[bytes, bytes], stats: MutableMapping[bytes, bytes],
                 sender: DirectSender, topics: Topics) -> None:
        self.songs = songs
        self.stats = stats
        self.sender = sender
        self.ratings_topic = topics.name(FEEDBACK_BY_POLICY)
        self.policy_topic = topics.name(POLICY)

    async def join(self, message: Envelope, traceparent: str | None) -> list:
        """Join one event or rating; nothing to publish in the transaction (forwards go direct)."""
        if not of_a_song(message):
            return []  # a voice profile or a DJ set: nothing to learn for the planner
        key = str(message.composition_id).encode()
        stored = self.songs.get(key)
        song = json.loads(stored) if stored else {"rated": [], "pending": []}
        if isinstance(message, CompositionCompleted):
            if "policy" in song or message.context.plan is None:
                return []
            plan = message.context.plan
            b = blend(plan.genres, plan.seed)
            song.update(policy=policy_name(b.dominant), arm=arm_of(plan.tempo_bpm, b.tempo))
            for early in song.pop("pending"):
                await self._forward(song, early, traceparent)
            song["pending"] = []
        elif isinstance(message, FeedbackSubmitted):
            if str(message.event_id) in song["rated"]:
                return []  # the same rating delivered twice
            song["rated"].append(str(message.event_id))
            rating = {"rating": message.rating, "rating_id": str(message.event_id)}
            if "policy" in song:
                await self._forward(song, rating, traceparent)
            else:
                song["pending"].append(rating)
        else:
            return []  # progress and the other lifecycle events teach nothing
        self.songs[key] = json.dumps(song).encode()
        return []

    async def _forward(self, song: dict, rating: dict, traceparent: str | None) -> None:
        value = {"policy": song["policy"], "arm": song["arm"], **rating}
        self.sender.send_raw(self.ratings_topic, json.dumps(value).encode(), song["policy"].encode(), traceparent)
        await self.sender.delivered()

    async def learn(self, value: bytes, traceparent: str | None) -> list:
        """Learn from one forwarded rating; the policy update goes direct, nothing in the transaction."""
        await self.learned(value, traceparent)
        return []

    async def learned(self, value: bytes, traceparent: str | None) -> PolicyUpdated | None:
        """Learn from one forwarded rating; publish and return the policy's new weights (None for a repeat)."""
        name, arm, score, rating_id = rating_of(value)
        key = name.encode()
        stored = self.stats.get(key)
        known = json.loads(stored) if stored else {"stats": {}, "recent": []}
        if rating_id in known["recent"]:
            return None  # forwarded again after a crash
        learned = update({name: known["stats"]}, name, arm, score)[name]
        recent = (known["recent"] + [rating_id])[-RECENT_RATINGS:]
        self.stats[key] = json.dumps({"stats": learned, "recent": recent}).encode()
        pid, count = policy_id(name), samples(learned)
        updated = PolicyUpdated(event_id=uuid.uuid5(pid, str(count)), composition_id=pid, tenant_id=SYSTEM_TENANT,
                                policy=name, weights=weights(learned), samples=count)
        self.sender.send(self.policy_topic, updated, key, traceparent)
        await self.sender.delivered()
        return updated


def rating_of(value: bytes) -> tuple[str, str, int, str]:
    """(policy, arm, rating 1-5, rating id) of a forwarded rating; InvalidInput naming what is wrong."""
    try:
        rating = json.loads(value)
        name, arm, score, rating_id = str(rating["policy"]), str(rating["arm"]), int(rating["rating"]), str(rating["rating_id"])
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"not a forwarded rating: {exc!r}", reason="bad_rating") from exc
    if not 1 <= score <= 5:
        raise InvalidInput(f"rating {score} outside 1-5", field="rating", reason="bad_rating")
    return name, arm, score, rating_id
