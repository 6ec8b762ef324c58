"""One parser for `cadenza compose` online and offline: the same options give the same request."""

from __future__ import annotations

import pytest
import typer

from cadenza_cli.request_options import (
    api_body,
    build_request,
    parse_genres,
    parse_mood,
)


def test_bare_genres_share_what_is_left():
    assert parse_genres(["pop=0.7", "funk"]) == [("pop", 0.7), ("funk", pytest.approx(0.3))]
    assert parse_genres(["pop", "rock"]) == [("pop", 0.5), ("rock", 0.5)]


@pytest.mark.parametrize("values", [["pop=0.7", "funk=0.5"], ["pop=1", "rock"], ["pop=lots"]])
def test_weights_that_cannot_sum_to_one_name_the_option(values):
    with pytest.raises(typer.BadParameter) as error:
        parse_genres(values)
    assert error.value.param_hint == "--genre"


def test_a_mood_is_a_label_or_valence_arousal():
    assert parse_mood("sad").label == "sad"
    mood = parse_mood("0.5,0.9")
    assert (mood.valence, mood.arousal, mood.label) == (0.5, 0.9, None)
    with pytest.raises(typer.BadParameter):
        parse_mood("grumpy")


def test_the_api_body_is_the_same_request():
    request = build_request(mood="0.2,0.4", genres=["pop=0.7", "funk"], theme="rain", duration=45, seed=3)
    body = api_body(request)
    assert body["mood"] == {"valence": 0.2, "arousal": 0.4} and body["genres"][1] == {"genre": "funk", "weight": pytest.approx(0.3)}
    assert api_body(build_request(mood="happy", genres=["pop"], theme="x", duration=30))["mood"] == "happy"


def test_an_invalid_request_names_the_option():
    with pytest.raises(typer.BadParameter) as error:
        build_request(mood="happy", genres=["pop"], theme="x", duration=5)
    assert error.value.param_hint == "--duration"
