"""The songwriter's controls: bpm, key with mode, meter, structure tags, title and hook; each bad
value is an InvalidInput naming its field (the API's 422)."""

import pytest
from pydantic import ValidationError

from composition.controls import check_tags, parse_key, parse_meter
from composition.errors import InvalidInput
from composition.models import CompositionRequest, GenreWeight, Mood


def req(**extra) -> CompositionRequest:
    return CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1)],
                              theme="a summer road trip", duration_s=60, **extra)


@pytest.mark.parametrize("text, expected", [
    ("F# minor", ("F#", "minor")), ("Bb major", ("Bb", "major")), ("D dorian", ("D", "dorian")), ("Am", ("A", "minor")),
    ("eb", ("Eb", "major")), ("G  Mixolydian", ("G", "mixolydian")), ("C\u266f min", ("C#", "minor")),
])
def test_keys_are_read(text, expected):
    assert parse_key(text) == expected


@pytest.mark.parametrize("text", ["H minor", "C lydian", "", "F## major", "minor"])
def test_bad_keys_name_the_field(text):
    with pytest.raises(InvalidInput) as err:
        parse_key(text)
    assert err.value.field == "key"


def test_meters_the_engine_plays():
    assert parse_meter("3/4") == 3 and parse_meter(" 4 / 4 ") == 4
    with pytest.raises(InvalidInput) as err:
        parse_meter("6/8")
    assert err.value.field == "meter" and "3/4" in err.value.message


def test_tags():
    check_tags("[Verse 1]\nla la\n[Pre-Chorus]\nla\n[chorus]\nhey")
    with pytest.raises(InvalidInput) as err:
        check_tags("[verse]\nla\n[guitar solo]\n")
    assert err.value.field == "lyrics" and "line 3" in err.value.message


@pytest.mark.parametrize("field, value", [("bpm", 30), ("bpm", 250), ("key", "X major"), ("meter", "7/8"),
                                          ("lyrics", "[solo]\nla"), ("hook", "?!"), ("title", "  ")])
def test_request_refuses_naming_the_field(field, value):
    with pytest.raises(ValidationError) as err:
        req(**{field: value})
    assert err.value.errors()[0]["loc"] == (field,)


def test_request_normalises_what_it_keeps():
    r = req(bpm=96, key="f# Minor", meter="3/4", title=" Open   Road ", hook="take the long way home")
    assert (r.bpm, r.key, r.meter, r.title, r.hook) == (96.0, "F# minor", "3/4", "Open Road", "take the long way home")
