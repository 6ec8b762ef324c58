"""Line frames: what a line of each part of a song says, with typed slots for the theme's words.

A frame is words with slots: ``{place}`` takes a noun of that kind, ``{place/thing}`` either kind,
``{a:place}`` an optional adjective licensed for the kind and then the noun. A frame's verb and
preposition were written for the kinds its slots take ("I walk along the {place}", "I miss your
{body}"), and adjectives are listed per kind (:data:`ADJECTIVES`), so every pairing a line makes is
one the bank licenses: that is the collocation check (``music.metrics_lyrics.collocations_licensed``).
Every frame ends on a slot, the line's rhyme. Slots never stand as a subject, so a plural noun reads.

The parts of a song tell a story: ``scene`` (first verse: where and what), ``develop`` (later
verses: what happened, what is kept), ``build`` (prechorus), ``hook`` (chorus lines beside the hook),
``turn`` (bridge: the other side). Each part has frames for bright, dark and any mood.
"""

from __future__ import annotations

import re

FRAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "scene": {
        "any": (
            "I walk out to the {a:place}", "I leave your {thing} beside the {place}", "we sit together by the {place}",
            "I can see the {a:nature}", "you are standing in the {a:room}", "I hear your {word} across the {place}",
            "it's {time} in the {a:room}", "we're talking in the {room}", "I wake up in the {a:room}",
            "I look out at the {a:nature}", "we're driving to the {a:place}", "I see the {nature}",
            "I watch the {nature} above the {place}", "we wait beside the {a:place}", "I find your {thing}",
"I can hear the {nature} outside the {place}",
            "there's a light across the {a:place}", "out by the {place}", "down in the {room}", "I see the {a:place}",
            "I hear the {word}", "I see the {nature} above the {place}",
            "we watch the {nature} from the {place}", "the {nature} fell across the {place}", "the {a:nature} and the {place}",
            "your {thing} is still beside the {place}", "here in the {room}",
        ),
        "bright": (
            "the sun is shining on the {place}", "we're laughing in the {a:room}", "the light is on the {a:place}",
            "you're dancing by the {place}", "we're singing in the {a:room}", "we open up the {thing}",
            "we run together to the {a:place}", "I see you smiling by the {place}",
        ),
        "dark": (
            "it's quiet in the {a:room}", "nobody's in the {a:room}", "the rain is falling on the {place}",
            "I'm alone inside the {a:room}", "I'm sitting in the {a:room}", "I stand alone beside the {place}",
            "the wind is cold outside the {place}", "I close the {thing}",
        ),
    },
    "develop": {
        "any": (
            "I remember your {a:thing}", "you showed me the {a:place}", "I keep your {thing} beside the {place}",
            "I still remember the {a:time}", "I carry all your {word}", "now I hold the {a:thing}",
            "we found our way back to the {place}", "we used to drive out to the {place}", "you gave me the {a:thing}",
            "I think about the {a:time}", "we left the {thing} beside the {place}", "you told me all about the {a:place}",
            "I keep the {thing}", "you left your {thing} beside the {place}", "we took the {thing} out to the {place}",
            "you held my {body} in the {room}", "I found your {thing} inside the {room}", "we watched the {nature} from the {place}",
            "the {time} went by in the {room}", "my {person} kept the {thing}", "hold my {body}", "I know the {place}", "and every {time} we went back to the {place}", "you used to hold my {body}",
        ),
        "bright": (
            "now we're racing to the {place}", "now we're chasing the {a:nature}", "I'm finding my way to the {place}",
            "we're singing all the way to the {place}", "you lift me up above the {place}", "we're dreaming of the {a:place}",
            "you and I are running to the {place}",
        ),
        "dark": (
            "I still hear your {word}", "I miss your {a:body}", "I'm holding on to your {a:thing}",
            "I never said my {word}", "I'm counting all the {time}", "I'm lost without your {a:body}",
            "I keep your {thing} beside my {thing}", "I didn't say my {word}", "I can't remember your {word}",
            "I still can see your {thing} beside the {place}",
        ),
    },
    "build": {
        "any": (
            "and I can feel the {a:feeling}", "here it comes across the {place}", "I'm reaching for the {a:nature}",
            "we're waiting for the {a:time}", "can you feel the {feeling}", "it's calling from the {place}",
            "I feel the {feeling}", "I feel the {nature} on my {body}", "the {nature} came into the {room}", "I'm holding on until the {a:time}",
        ),
        "bright": ("and we're rising to the {nature}", "I can feel the {a:nature}", "here we go into the {time}",
                   "we're almost at the {place}"),
        "dark": ("and I can't escape the {a:feeling}", "I'm holding back the {feeling}", "I'm fading in the {a:nature}",
                 "and I can hardly face the {time}"),
    },
    "hook": {
        "any": (
            "we'll always have the {a:place}", "I hold on to the {a:thing}", "you're still my {a:person}",
            "take me back to the {a:place}", "I can't forget the {a:time}", "all I have is the {a:thing}",
            "forever by the {a:place}", "you are the {nature}", "oh you were my {person}", "I still believe in {feeling}",
            "and I will always keep your {word}", "I'm never letting go of the {a:time}", "you're the {nature}",
            "I'll find you by the {place}", "we'll meet again beside the {a:place}", "it's the {feeling}",
            "hold my {body}", "in the {a:room}", "just the {nature} and the {a:place}", "it's you and me and the {nature}",
            "give me the {nature} and the {place}", "all the {time} in the {room}", "the {nature} will bring me to the {place}", "and I will always remember the {a:time}",
        ),
        "bright": (
            "we're living for the {a:time}", "we're shining like the {nature}", "come on and take me to the {place}",
            "we're free under the {a:nature}", "you and me and the {a:place}", "we're dancing all night by the {place}",
        ),
        "dark": (
            "I'm missing you in the {a:room}", "you're gone into the {a:nature}", "I'll carry on your {word}",
            "I'll never lose your {word}", "I'm waiting by the {a:place}", "I'm calling out your {word}",
            "and I'm still waiting by the {a:place}", "I'm lost without you in the {room}",
        ),
    },
    "turn": {
        "any": (
            "but maybe in the {a:time}", "someday I'll find the {a:place}", "if I could hold your {body}",
            "but I will carry on the {word}", "and even in the {a:nature}", "but still I see the {a:nature}",
            "so I'll go out to the {place}", "and then I'll understand the {word}", "but I believe in {feeling}",
            "and one day I will know the {word}", "the {nature} will carry us to the {place}",
            "the {time} will bring me to the {place}", "and still the {nature} will find the {place}", "but we will find another {place}",
            "and maybe one day I will find the {a:place}", "but someday we will come back to the {place}",
            "and if I ever lose my way I'll find the {place}", "but after all of this I still believe in {feeling}",
        ),
        "bright": ("but one day we will miss the {a:time}", "someday we'll leave the {a:place}",
                   "but even summer has a {time}"),
        "dark": ("but there's a light beyond the {place}", "tomorrow I will see the {a:nature}", "but I can hear you in the {nature}",
                 "but I will walk into the {a:time}", "and I will find the {feeling}"),
    },
}

ADJECTIVES: dict[str, dict[str, tuple[str, ...]]] = {
    "place": {"bright": ("open", "sunny", "golden", "busy", "bright", "wide"),
              "dark": ("empty", "quiet", "cold", "silent", "lonely", "dark"),
              "any": ("old", "little", "distant", "narrow")},
    "room": {"bright": ("open", "sunny", "golden", "busy", "bright"),
             "dark": ("empty", "quiet", "cold", "silent", "lonely", "dark"), "any": ("old", "little")},
    "thing": {"bright": ("shiny", "new", "little", "golden"), "dark": ("old", "broken", "empty", "dusty", "faded"),
              "any": ("old", "little")},
    "nature": {"bright": ("warm", "golden", "bright", "gentle", "open"), "dark": ("cold", "grey", "heavy", "dark"),
               "any": ("endless", "distant", "wild")},
    "time": {"bright": ("long", "golden", "sunny", "warm", "early"), "dark": ("long", "cold", "last", "lonely"),
             "any": ("first", "last")},
    "person": {"bright": ("dear", "young", "true", "best"), "dark": ("old", "lonely", "tired"), "any": ("dear", "old")},
    "body": {"bright": ("warm", "open", "steady"), "dark": ("tired", "cold", "empty"), "any": ("gentle",)},
    "feeling": {"bright": ("sweet", "wild", "simple"), "dark": ("heavy", "quiet", "silent", "deep"), "any": ("deep",)},
    "event": {"bright": ("long", "great", "first", "wild"), "dark": ("last", "long", "final"), "any": ("first", "last")},
    "word": {"bright": ("sweet", "simple"), "dark": ("last", "quiet"), "any": ("old",)},
}
"""Adjectives that go with nouns of each kind, by mood."""

LEADS: dict[str, tuple[str, ...]] = {
    "bright": ("", "oh", "and", "so", "yeah", "oh oh", "oh yeah", "yeah yeah"),
    "dark": ("", "oh", "and", "so", "and so"),
    "any": ("", "oh", "and", "so", "oh and", "and so"),
}

SLOT = re.compile(r"\{(a:)?([a-z/]+)\}")


def moods(valence: float) -> tuple[str, ...]:
    """Which mood columns a song of this valence draws from."""
    if valence >= 0.15:
        return ("bright", "any")
    if valence <= -0.15:
        return ("dark", "any")
    return ("bright", "dark", "any")


def parts(frame: str) -> list[str | tuple[bool, tuple[str, ...]]]:
    """A frame split into literal text and slots ``(adjective allowed, kinds)``."""
    out: list[str | tuple[bool, tuple[str, ...]]] = []
    pos = 0
    for m in SLOT.finditer(frame):
        if frame[pos:m.start()].strip():
            out.append(frame[pos:m.start()].strip())
        out.append((bool(m.group(1)), tuple(m.group(2).split("/"))))
        pos = m.end()
    if frame[pos:].strip():
        out.append(frame[pos:].strip())
    return out
