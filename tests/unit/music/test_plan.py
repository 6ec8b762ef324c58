"""Plan stage: keys, tempo, form fitted to the duration, energy, syllable slots, user lyrics."""

import pytest

from composition.models import GenreWeight, Mood
from music.errors import StageError
from music.genres import blend
from music.plan import make_plan
from tests.unit.music.symbolic_songs import SONGS, request, song, user_request


@pytest.mark.parametrize("name", list(SONGS))
def test_planned_duration_within_5_percent(name):
    plan = song(name).plan
    assert abs(plan.duration_s - SONGS[name]["duration_s"]) / SONGS[name]["duration_s"] <= 0.05


@pytest.mark.parametrize("duration", [15, 45, 240, 600])
@pytest.mark.parametrize("genre", ["pop", "ballad", "house", "folk"])
def test_form_fits_any_duration(duration, genre):
    plan = make_plan(request("pop-happy", duration_s=duration, genres={genre: 1.0}))
    assert abs(plan.duration_s - duration) / duration <= 0.05
    lo, hi = blend(plan.genres, plan.seed).tempo
    assert lo * 0.85 <= plan.tempo_bpm <= hi * 1.15


def test_sections_slots_and_energy():
    plan = song("pop-happy").plan
    kinds = [s.kind for s in plan.form]
    assert "verse" in kinds and "chorus" in kinds
    for s in plan.form:
        assert s.vocals == bool(s.phrase_syllables)
        if s.vocals:
            assert s.bars % len(s.phrase_syllables) == 0
    chorus = [s.energy for s in plan.form if s.kind == "chorus"]
    verse = [s.energy for s in plan.form if s.kind == "verse"]
    assert min(chorus) > max(verse) - 0.1 and sum(chorus) / len(chorus) > sum(verse) / len(verse)
    assert len({tuple(s.phrase_syllables) for s in plan.form if s.kind == "chorus"}) == 1


def test_instrumental_has_no_slots():
    plan = song("house-instrumental").plan
    assert plan.voice is None and all(not s.vocals and not s.phrase_syllables for s in plan.form)


def test_mood_leans_mode_and_tempo():
    happy = [make_plan(request("pop-happy", seed=s)) for s in range(12)]
    sad = [make_plan(request("pop-happy", seed=s, mood=Mood.from_label("sad"))) for s in range(12)]
    assert sum(p.mode == "major" for p in happy) > sum(p.mode == "major" for p in sad)
    assert sum(p.tempo_bpm for p in happy) > sum(p.tempo_bpm for p in sad)


def test_blend_differs_from_either_genre():
    def plan(genres):
        return make_plan(request("pop-happy", genres=genres, seed=2))
    pop, funk, mixed = plan({"pop": 1.0}), plan({"funk": 1.0}), plan({"pop": 0.7, "funk": 0.3})
    assert pop.swing < mixed.swing < funk.swing
    assert mixed.genres == [GenreWeight(genre="pop", weight=0.7), GenreWeight(genre="funk", weight=0.3)]


def test_seed_derived_from_request_when_absent():
    a = make_plan(request("pop-happy", seed=None))
    assert a == make_plan(request("pop-happy", seed=None))
    assert a.seed != make_plan(request("pop-happy", seed=None, theme="something else")).seed


def test_user_lyrics_shape_the_plan():
    plan = make_plan(user_request())
    vocal = [s for s in plan.form if s.vocals]
    assert vocal[0].phrase_syllables == [9, 9, 9, 9]
    assert abs(plan.duration_s - 120) / 120 <= 0.05


@pytest.mark.parametrize("lyrics", ["", "   \n\n  ", "1234 !!!"])
def test_empty_lyrics_are_a_permanent_error(lyrics):
    with pytest.raises(StageError) as err:
        make_plan(user_request(lyrics=lyrics))
    assert err.value.code == "lyrics_empty" and not err.value.retryable


def test_lyrics_too_long_for_the_duration():
    long = "\n".join(["I walk along the river every single morning light"] * 40)
    with pytest.raises(StageError) as err:
        make_plan(user_request(lyrics=long, duration_s=20))
    assert err.value.code == "lyrics_too_long" and not err.value.retryable
    assert "duration_s" in err.value.message
