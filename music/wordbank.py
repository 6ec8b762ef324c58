"""The lyric writer's curated phrase bank: line openers, connectors, line-ending nouns, fillers.

A generated line is ``[filler] opener [filler] connector end-noun``; rhyme families are formed from the
end nouns by their CMUdict rhyme key, so every family really rhymes. Phrases are tagged by mood:
"bright" (positive valence), "dark" (negative) or "any". Every word here is in CMUdict (tested).
"""

from __future__ import annotations

END_NOUNS: dict[str, tuple[str, ...]] = {
    "bright": (
        "light", "sky", "sun", "day", "way", "star", "car", "guitar", "dream", "stream", "beam", "sea",
        "tree", "song", "home", "glow", "show", "road", "sound", "ground", "town", "crown", "gold", "wave",
        "place", "space", "face", "grace", "race", "spring", "wing", "ring", "king", "swing", "bay", "ray",
        "moon", "tune", "noon", "balloon", "sand", "hand", "land", "band", "air", "hair", "square", "hill",
        "shore", "floor", "door", "ride", "tide", "side", "pride", "eyes", "skies", "love", "dove",
        "summer", "drummer", "party", "heart", "start", "art", "fire", "choir", "desire", "flame", "name", "game",
        "fun", "run", "sun", "thrill", "hill", "rhyme", "climb", "time",
    ),
    "dark": (
        "dark", "spark", "mark", "park", "cold", "rain", "pain", "chain", "lane", "train", "tears", "years",
        "fears", "stone", "bone", "phone", "storm", "smoke", "dust", "rust", "end", "bend", "ghost", "coast",
        "fall", "wall", "hall", "call", "sorrow", "night", "grave", "cave", "ash",
        "frame", "shame", "flame", "name", "heart", "cry", "lie", "goodbye", "sigh", "ocean", "motion",
        "winter", "splinter", "silence", "ruin", "dread", "bed", "head", "thread", "door", "floor", "war",
    ),
    "any": (
        "heart", "night", "time", "line", "sign", "wine", "sky", "eye", "road",
        "window", "river", "city", "memory", "morning", "evening", "highway", "story", "glory",
    ),
}

CONNECTORS: tuple[str, ...] = (
    "in the", "into the", "through the", "under the", "across the", "beyond the", "toward the", "to the",
    "by the", "on the", "from the", "like the", "for the", "with the", "in my", "in your", "like a",
    "through my", "inside the", "out in the", "down by the", "all through the", "up to the", "close to the",
    "far from the", "back to the", "here in the", "out of the", "over the", "after the", "like", "in", "through",
    "for",
)

OPENERS: dict[str, tuple[str, ...]] = {
    "bright": (
        "we keep on running", "we are dancing", "I can feel it", "hold me close", "we're singing", "we go",
        "we ride", "we shine", "side by side", "you and I are flying", "we were young and laughing",
        "hearts are beating", "all our friends are here", "open up the windows", "let it shine",
        "we're alive", "turn it up", "we laugh", "lift me up", "we're rising", "sing it loud", "we fly",
        "follow me", "we are golden", "take my hand", "we light it up", "the world is shining",
        "we're jumping", "dance with me", "you're glowing", "we own the night", "come on",
    ),
    "dark": (
        "I walk alone", "I'm waiting", "tears are falling", "we drift apart", "I keep on searching",
        "lost and broken", "nobody's calling", "I still remember", "shadows are falling", "I hear you calling",
        "cold and lonely", "we said goodbye", "I'm fading slowly", "the echoes linger", "I'm falling",
        "I cry", "we fall", "I wait", "you left me", "I'm lost", "the candle flickers", "I'm holding on",
        "the silence follows", "I count the hours", "we were strangers", "I'm sinking", "the memories fade",
    ),
    "any": (
        "I'm thinking of you", "we're moving", "I hear the music", "we're talking", "I see you",
        "we hold on", "we drive", "I dream", "we sing", "the radio is playing", "time keeps moving",
        "we wander", "I'm looking", "carry me", "we're dreaming", "I remember", "you call my name",
        "we're waiting", "I'm walking", "we'll meet again", "I know", "we're home",
    ),
}

BARE_CONNECTORS = frozenset({"like", "in", "through", "for"})
"""Connectors without an article; they only lead into the uncountable nouns below."""
MASS_NOUNS = frozenset(
    """fire love gold time light rain smoke dust rust glory motion silence sorrow summer winter spring space
    grace pain shame pride air sand fun desire ash dread""".split()
)

THEME_OPENERS: tuple[str, ...] = (
    "dreaming of {t}", "we're chasing {t}", "{t} is calling", "I think of {t}", "remember {t}",
    "oh {t}", "all about {t}", "singing of {t}", "we found {t}",
)

LEAD_FILLERS: dict[str, tuple[str, ...]] = {
    "bright": ("", "oh", "and", "so", "now", "yeah", "oh oh"),
    "dark": ("", "oh", "and", "so", "now", "still"),
    "any": ("", "oh", "and", "so", "now"),
}
MID_FILLERS: tuple[str, ...] = ("", "now", "still")

STOPWORDS = frozenset(
    """a an the and or but of to in on at by for with from as is are was were be my your our their his her
    its this that these those about into over under after before through song songs music track tune
    some any all very really just""".split()
)
