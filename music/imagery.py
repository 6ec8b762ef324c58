"""The curated image bank: what a song about a topic can show, by kind of word.

WordNet knows what a word *is* (father: a parent, a relative, a person) but not what a song about it
would show (a coat by the door, his hands, the old car). So a theme is matched to topics here -- by
its words and their WordNet neighbours (``keys``) or by a WordNet hypernym of one of its senses
(``anchors``, first noun sense of the word) -- and each topic brings images sorted by the slot kinds
the line frames use (``music.frames``): place, thing, nature, time, person, body, feeling, event, word.
Every word is in CMUdict and is a WordNet noun (tests/unit/music/test_songwriter.py); its kind here is
the sense a song means (WordNet files "hallway" under artifacts, a song walks down it as a place).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("place", "room", "thing", "nature", "time", "person", "body", "feeling", "event", "word")


@dataclass(frozen=True)
class Topic:
    name: str
    keys: frozenset[str]
    anchors: tuple[str, ...]
    images: dict[str, tuple[str, ...]]


def _topic(name: str, keys: str, anchors: str = "", **images: str) -> Topic:
    return Topic(name, frozenset(keys.split()), tuple(anchors.split()), {k: tuple(v.split()) for k, v in images.items()})


TOPICS: tuple[Topic, ...] = (
    _topic("family", "family father mother dad mom daddy mama papa son daughter brother sister parent grandmother "
           "grandfather grandma grandpa baby child uncle aunt", "relative kin family",
           place="kitchen porch garden yard house table", thing="coat chair photograph watch letter car ring hat",
           person="father mother son daughter brother sister child family", body="hands voice eyes arms shoulders",
           time="childhood years evening", word="name story advice stories", feeling="pride love"),
    _topic("loss", "lose loss losing lost death die dying grief mourn funeral gone miss goodbye bury widow", "death loss",
           place="hallway doorway church grave room", thing="candle flowers photograph chair coat bed",
           nature="rain ashes stone", time="winter morning years hours", body="hands voice heart",
           feeling="grief sorrow silence memory absence", word="goodbye prayer name words", event="funeral"),
    _topic("home", "home house kitchen room door window porch return homecoming", "home dwelling",
           place="kitchen porch doorway hallway garden house room", thing="door window table lamp bed key chair",
           time="evening morning", person="family mother father", feeling="comfort warmth", body="heart"),
    _topic("travel", "trip travel journey road drive ride car highway tour voyage wander roam", "journey travel",
           place="highway road motel station border town coast", thing="car map radio window wheel engine suitcase",
           nature="sky sunset horizon desert dust", time="summer sunrise miles", event="journey ride adventure",
           person="driver stranger friends", body="hands"),
    _topic("city", "city town street downtown urban metropolis subway", "municipality urban_area",
           place="city street avenue subway station corner rooftop apartment", thing="lights window taxi sign neon",
           person="stranger neighbor crowd", time="midnight evening", nature="skyline rain", word="noise"),
    _topic("leaving", "move moving leave leaving away new start begin depart relocate", "departure",
           place="station doorway city apartment street town", thing="boxes suitcase key ticket window train",
           time="morning", person="stranger neighbor", feeling="courage hope fear", event="beginning goodbye"),
    _topic("love", "love lover romance kiss darling heart wedding marry bride valentine together", "love lover",
           place="garden doorway floor", thing="ring letter roses dress", body="heart lips hands eyes arms",
           feeling="love desire tenderness", time="evening", person="lover darling", event="kiss wedding dance",
           word="promise vow name"),
    _topic("heartbreak", "heartbreak breakup broken heart apart cry tears alone lonely betray cheat", "separation",
           place="bedroom doorway street", thing="phone letter ring pillow", body="heart tears eyes",
           feeling="heartache sorrow anger regret", time="midnight winter", word="lies goodbye promise", event="silence"),
    _topic("night", "night midnight dark evening moon stars late", "night darkness",
           place="rooftop street bar", thing="lights neon lamp candle", nature="moon stars darkness shadow sky",
           time="midnight evening", feeling="dreams desire", event="party"),
    _topic("rain", "rain storm weather cloud thunder window wet umbrella", "precipitation storm",
           place="window street gutter", thing="umbrella window glass coat", nature="rain thunder clouds puddles storm",
           time="autumn afternoon", feeling="sorrow"),
    _topic("sea", "sea ocean beach shore wave tide sail harbor island letters boat", "body_of_water shore",
           place="harbor shore beach island lighthouse", thing="boat sail letter bottle anchor",
           nature="waves tide sea salt sand wind gulls", time="evening summer", person="sailor", body="skin"),
    _topic("summer", "summer sun sunshine heat july august holiday vacation", "summer",
           place="beach pool lake field", thing="radio sunglasses car", nature="sun sunshine heat waves sand sky",
           time="summer afternoon", event="holiday adventure", person="friends"),
    _topic("winter", "winter snow cold ice frost december mountain freeze", "winter",
           place="mountains cabin valley fireplace", thing="fire blanket coat scarf", nature="snow ice frost wind pines",
           time="winter", body="breath hands"),
    _topic("spring", "spring garden bloom flower blossom april grow", "spring",
           place="garden meadow field", thing="seeds", nature="flowers blossoms rain leaves sunlight",
           time="spring morning", feeling="hope"),
    _topic("friends", "friend friends friendship party together crew gang", "friend",
           place="bar street rooftop corner", thing="drinks music glasses", person="friends", time="midnight",
           event="party laughter", body="voices", feeling="joy"),
    _topic("dance", "dance dancing music song sing party club rhythm", "dance music",
           place="floor club stage bar street city", thing="music lights speakers drums", body="feet hips heartbeat hands",
           nature="lights night stars moon", time="midnight morning night sunrise dawn", event="rhythm dance beat groove party",
           word="song beat sound", feeling="joy"),
    _topic("childhood", "school child childhood kid young youth class teacher grow growing", "childhood school",
           place="school playground classroom hallway", thing="books bicycle desk", person="teacher friends",
           time="summer childhood years", feeling="wonder"),
    _topic("work", "work job shift office factory boss labor paycheck", "work occupation",
           place="factory office street", thing="clock paycheck coffee boots", time="morning hours overtime",
           body="hands back", feeling="pride"),
    _topic("war", "war soldier battle fight army peace", "war military_action",
           place="border trenches field", thing="uniform letter medal rifle", person="soldier", time="years",
           nature="smoke fire", feeling="fear courage", event="battle"),
    _topic("dreams", "dream dreams chase hope wish ambition future star goal", "dream hope",
           place="stage horizon city", thing="guitar ticket", nature="stars sky", time="future",
           feeling="hope desire courage", word="promise"),
    _topic("letters", "letter letters mail post wait waiting write writing envelope postcard news distance", "letter mail",
           place="mailbox doorway porch window station road", thing="envelope stamp paper letter postcard pen",
           time="morning days weeks evening", word="words name news letter", feeling="hope longing patience",
           person="postman stranger"),
    _topic("memory", "memory remember photograph photographs old past nostalgia", "memory",
           place="attic", thing="photographs letters records", time="years summer",
           feeling="memory longing", word="stories"),
    _topic("aging", "old age aging grow older years together time", "old_age",
           place="porch garden", thing="clock photographs", body="hair hands", time="years seasons",
           feeling="patience tenderness"),
)
"""The topics, each with enough images that every kind of slot of a section can be filled."""

GENERAL: dict[str, tuple[str, ...]] = {k: tuple(v.split()) for k, v in {
    "place": "street road room town door window hill shore floor hall bay station square bridge field park coast gate "
             "sea lane land ground bar yard wall beach pier port dock porch roof tower",
    "room": "street room town hall house car city park train bar church",
    "thing": "light door window car song fire glass ring bell key train boat phone bed chair flag wheel sign wine plane",
    "nature": "sky rain light sun night stars sea wind stone tide snow moon dawn air storm smoke dust flame waves sand "
              "fire tree trees leaves rose spark glow hill stream skies shade breeze blaze haze frost flood clouds dark",
    "time": "night day time years morning evening spring summer winter hours",
    "person": "friend stranger friends lover child",
    "body": "heart eyes hands soul mind head voice face hair tears skin feet breath chest",
    "feeling": "love pain fear hope pride grace joy rage shame peace",
    "event": "dance fight ride game race run chase flight fall call play",
    "word": "name song words sound call tune rhyme vow lies truth",
}.items()}
"""Words any song may use when its topics have no word of the needed kind and rhyme (off-theme)."""

DARK_WORDS = frozenset("pain fear shame rage tears lies storm dark smoke dust frost flood fall fight stranger haze "
                       "grief sorrow heartache regret anger absence longing funeral grave ashes".split())
"""Words a bright song leaves out (unless the theme itself says them)."""
BRIGHT_WORDS = frozenset("joy play game dance party sun glow blaze hope comfort warmth pride wonder courage "
                         "patience tenderness laughter sunshine holiday adventure".split())
"""Words a dark song leaves out (unless the theme itself says them)."""


def bank_kinds() -> dict[str, set[str]]:
    """Every curated word with the kinds the bank gives it."""
    out: dict[str, set[str]] = {}
    for images in [t.images for t in TOPICS] + [GENERAL]:
        for kind, words in images.items():
            for w in words:
                out.setdefault(w, set()).add(kind)
    return out
