"""The plan and the lyrics honour a songwriter's bpm, key, meter, structure tags, title and hook."""

import pytest

from music.errors import StageError
from music.lyrics import make_lyrics
from music.plan import make_plan
from music.userlyrics import read_stanzas
from tests.unit.music.symbolic_songs import request, user_request

TAGGED = """[intro]
[verse]
Walking down the empty street tonight
Counting every window full of light

[chorus]
Hold on, hold on, the morning will come
Hold on, hold on, we are never done

[bridge]

[verse]
The city sleeps beneath a silver sky
I keep the memory and wonder why

[chorus]
[outro]
"""


@pytest.mark.parametrize("bpm", [60, 97.5, 180])
def test_bpm_is_the_tempo(bpm):
    plan = make_plan(request("pop-happy", bpm=bpm, duration_s=90))
    assert plan.tempo_bpm == bpm
    assert abs(plan.duration_s - 90) / 90 <= 0.1


@pytest.mark.parametrize("key, tonic, mode", [("F# minor", "F#", "minor"), ("Bb major", "Bb", "major"), ("D dorian", "D", "dorian")])
def test_key_and_mode_are_kept(key, tonic, mode):
    plan = make_plan(request("pop-happy", key=key))
    assert (plan.key, plan.mode) == (tonic, mode)


def test_meter_is_kept_and_the_rest_of_the_plan_is_what_it_was():
    free = make_plan(request("pop-happy"))
    waltz = make_plan(request("pop-happy", meter="3/4"))
    assert free.beats_per_bar == 4 and waltz.beats_per_bar == 3 and waltz.key == free.key
    assert make_plan(request("ballad-waltz", meter="4/4")).beats_per_bar == 4


def test_tags_set_the_form():
    stanzas = read_stanzas(TAGGED)
    assert [s.kind for s in stanzas] == ["intro", "verse", "chorus", "bridge", "verse", "chorus", "outro"]
    assert stanzas[5] == stanzas[2] and not stanzas[0].sung and not stanzas[3].sung
    req = user_request(lyrics=TAGGED, duration_s=60)
    plan = make_plan(req)
    assert [s.kind for s in plan.form] == ["intro", "verse", "chorus", "bridge", "verse", "chorus", "outro"]
    assert [s.vocals for s in plan.form] == [False, True, True, False, True, True, False]
    lyrics = make_lyrics(req, plan)
    assert [s.section for s in lyrics.sections] == ["verse1", "chorus1", "verse2", "chorus2"]
    assert lyrics.sections[3].lines[0].text == "Hold on, hold on, the morning will come"


def test_hook_opens_and_closes_every_chorus():
    req = request("pop-happy", hook="take the long way home")
    lyrics = make_lyrics(req, make_plan(req))
    choruses = [s for s in lyrics.sections if s.section.startswith("chorus")]
    assert len(choruses) >= 2
    assert all(s.lines[0].text == "Take the long way home" == s.lines[-1].text for s in choruses)


def test_title_is_the_hook_without_one():
    req = request("folk-lofi", title="Paper Boats")
    lyrics = make_lyrics(req, make_plan(req))
    chorus = next(s for s in lyrics.sections if s.section.startswith("chorus"))
    assert "paper boats" in chorus.lines[0].text.lower()


def test_a_hook_too_long_to_sing_is_a_permanent_error_naming_it():
    with pytest.raises(StageError) as err:
        make_plan(request("pop-happy", hook="we will always remember the beautiful summer evenings together"))
    assert err.value.code == "hook_too_long" and "hook" in err.value.message and not err.value.retryable
