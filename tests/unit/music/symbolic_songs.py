"""Songs from fixed seeds for the symbolic stages' tests, composed once per test session."""

from __future__ import annotations

import tempfile
from functools import lru_cache

from composition.models import CompositionContext, CompositionRequest, GenreWeight, Mood
from music.engine import SYMBOLIC_STAGES, compose
from storage.local import LocalArtifactStore

SONGS: dict[str, dict] = {
    "pop-happy": dict(genres={"pop": 1.0}, mood="happy", duration_s=180, seed=1, theme="summer road trip with friends"),
    "pop-funk": dict(genres={"pop": 0.7, "funk": 0.3}, mood="energetic", duration_s=150, seed=2, theme="dancing in the city"),
    "ballad-waltz": dict(genres={"ballad": 1.0}, mood="sad", duration_s=120, seed=3, voice="tenor", theme="letters from the sea"),
    "folk-lofi": dict(genres={"folk": 0.5, "lofi": 0.5}, mood="nostalgic", duration_s=90, seed=4, theme="old photographs"),
    "rock-short": dict(genres={"rock": 1.0}, mood="angry", duration_s=30, seed=6, theme="broken engines"),
    "house-instrumental": dict(genres={"house": 1.0}, mood="euphoric", duration_s=200, seed=5, instrumental=True, theme="sunrise"),
    "lofi-instrumental": dict(genres={"lofi": 0.6, "ballad": 0.4}, mood="calm", duration_s=60, seed=8, instrumental=True, theme="rain"),
}
SUNG = [name for name, spec in SONGS.items() if not spec.get("instrumental")]
INSTRUMENTAL = [name for name, spec in SONGS.items() if spec.get("instrumental")]

USER_LYRICS = """Walking down the empty street tonight
Counting every window full of light
I can hear the music from below
Singing of a place I used to know

Hold on, hold on, the morning will come
Hold on, hold on, we are never done

The city sleeps beneath a silver sky
I keep the memory and wonder why

Hold on, hold on, the morning will come
Hold on, hold on, we are never done
"""


def request(name: str, **overrides) -> CompositionRequest:
    spec = {**SONGS[name], **overrides}
    genres = [GenreWeight(genre=g, weight=w) for g, w in spec.pop("genres").items()]
    mood = spec.pop("mood")
    mood = mood if isinstance(mood, Mood) else Mood.from_label(mood)
    return CompositionRequest(genres=genres, mood=mood, **spec)


def user_request(**overrides) -> CompositionRequest:
    base = dict(genres=[GenreWeight(genre="pop", weight=1.0)], mood=Mood.from_label("hopeful"), theme="night city",
                duration_s=120, seed=9, lyrics=USER_LYRICS)
    return CompositionRequest(**{**base, **overrides})


_STORE = LocalArtifactStore(tempfile.mkdtemp(prefix="cadenza-symbolic-"))


def store() -> LocalArtifactStore:
    return _STORE


@lru_cache(maxsize=None)
def song(name: str) -> CompositionContext:
    """The named test song's context with every symbolic section filled."""
    return compose(request(name), _STORE, f"song-{name}", only=SYMBOLIC_STAGES).context


@lru_cache(maxsize=None)
def user_song() -> CompositionContext:
    return compose(user_request(), _STORE, "song-user", only=SYMBOLIC_STAGES).context
