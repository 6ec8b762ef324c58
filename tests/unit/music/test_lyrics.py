"""Lyrics stage and phonetics: exact syllable slots, natural stress, rhymes, repeated choruses, user lyrics."""

import pytest

from music.errors import StageError
from music.frames import FRAMES
from music.imagery import GENERAL, TOPICS
from music.lyrics import align_user_lyrics, make_lyrics, scheme_of
from music.metrics_lyrics import valence
from music.phonetics import (
    in_dictionary,
    letter_to_sound,
    line_syllables,
    rhyme_key,
    rhymes,
    tokenize,
    word_syllables,
)
from music.plan import LINE_SLOTS, make_plan
from music.rhythm import fits
from tests.unit.music.symbolic_songs import SUNG, request, song, user_request, user_song


def test_syllables_carry_stress_and_phonemes():
    word = word_syllables("beautiful")
    assert [s.stress for s in word] == [1, 0, 0]
    assert word[0].phonemes == ["B", "Y", "UW1"]
    assert [s.stress for s in line_syllables("into the night")][-2:] == [0, 1]  # "the" unstressed
    assert all(s.phonemes for s in line_syllables("walking down the empty street"))


def test_letter_to_sound_fallback_for_unknown_words():
    phones = letter_to_sound("zorblake")
    assert any(p[-1] == "1" for p in phones)
    syllables = word_syllables("zorblake")
    assert len(syllables) >= 2 and all(s.phonemes for s in syllables)


def test_rhymes():
    assert rhymes("fire", "desire") and rhymes("night", "light") and not rhymes("night", "night")
    assert rhyme_key("heart") == rhyme_key("start") != rhyme_key("stone")


def test_frames_and_images_are_in_cmudict():
    texts = [f for part in FRAMES.values() for col in part.values() for f in col]
    texts += [w for t in TOPICS for words in t.images.values() for w in words]
    texts += [w for words in GENERAL.values() for w in words]
    missing = sorted({w for t in texts for w in tokenize(t.replace("{", " ").replace("}", " ")) if not in_dictionary(w)
                      and w not in ("a:place", "a:room")})
    assert not [w for w in missing if ":" not in w and w not in {"place", "room", "thing", "nature", "time", "person",
                                                                   "body", "feeling", "event", "word"}]


@pytest.mark.parametrize("name", SUNG)
def test_lines_fit_slots_exactly(name):
    ctx = song(name)
    form = {s.name: s for s in ctx.plan.form}
    for section in ctx.lyrics.sections:
        slots = form[section.section].phrase_syllables
        assert [len(line.syllables) for line in section.lines] == slots
        for line in section.lines:
            assert fits([s.stress for s in line.syllables], LINE_SLOTS)
            assert all(s.phonemes for s in line.syllables)


@pytest.mark.parametrize("name", SUNG)
def test_rhyme_scheme_is_kept(name):
    for section in song(name).lyrics.sections:
        firsts = {}
        for line in section.lines:
            end = tokenize(line.text)[-1]
            if line.rhyme in firsts:  # a repeated hook ends on its own word
                assert rhymes(firsts[line.rhyme], end) or end == firsts[line.rhyme], (line.text, firsts[line.rhyme])
            else:
                firsts[line.rhyme] = end
        assert "".join(line.rhyme for line in section.lines) == section.rhyme_scheme


def test_choruses_repeat_and_carry_the_theme():
    ctx = song("pop-happy")
    choruses = [s for s in ctx.lyrics.sections if s.section.startswith("chorus")]
    assert len(choruses) >= 2
    assert len({tuple(line.text for line in s.lines) for s in choruses}) == 1
    theme_words = {"summer", "road", "trip", "friends"}
    assert theme_words & set(tokenize(choruses[0].lines[0].text))
    assert choruses[0].lines[0].text == choruses[0].lines[-1].text  # the hook opens and closes it
    verses = [s for s in ctx.lyrics.sections if s.section.startswith("verse")]
    assert len({tuple(line.text for line in s.lines) for s in verses}) == len(verses)


def test_mood_changes_the_words():
    happy_request = request("pop-happy", theme="the city at night")
    happy = make_lyrics(happy_request, make_plan(happy_request))
    sad_request = request("pop-happy", mood="sad", theme="the city at night")
    sad = make_lyrics(sad_request, make_plan(sad_request))
    words = lambda lyr: {w for s in lyr.sections for line in s.lines for w in tokenize(line.text)}
    assert words(happy) != words(sad)
    lines = lambda lyr: [line.text for s in lyr.sections for line in s.lines]
    assert valence(lines(happy)) > valence(lines(sad))


def test_user_lyrics_are_syllabified_and_aligned():
    ctx = user_song()
    assert ctx.lyrics.source == "user"
    first = ctx.lyrics.sections[0]
    assert first.lines[0].text == "Walking down the empty street tonight"
    assert first.rhyme_scheme == "AABB"
    assert scheme_of(["the night", "the light", "a stone"]) == "AAB"


def test_user_lyrics_poured_into_foreign_slots_and_overflow_is_permanent():
    plan = make_plan(request("pop-happy", duration_s=20))
    with pytest.raises(StageError) as err:
        align_user_lyrics(plan, user_request().lyrics)
    assert err.value.code == "lyrics_too_long" and not err.value.retryable
    short = align_user_lyrics(plan, "hello there my friend")
    assert short.sections[0].lines[0].text.startswith("hello")
