"""A revision's changes: what each stage takes, and a clear error naming what it does not."""

import pytest

from composition.errors import InvalidInput
from composition.models import CompositionRequest, GenreWeight, Mood
from composition.models import StageName as S
from composition.pipeline import REVISE
from composition.revision import revised_request

REQUEST = CompositionRequest(mood=Mood.from_label("happy"), genres=[GenreWeight(genre="pop", weight=1.0)],
                             theme="summer", duration_s=30, seed=42)


def test_lyrics_voice_seed_genres_and_mix_changes():
    lyrics, changed = revised_request(REQUEST, "lyrics", {"lyrics": "new words\nfor an old tune"})
    assert lyrics.lyrics.startswith("new words") and changed == ["lyrics"]
    assert revised_request(REQUEST, "vocals", {"voice": "tenor"})[0].voice == "tenor"
    melody = revised_request(REQUEST, "melody", {"seed": 7})[0]
    assert melody.stage_seeds == {"melody": 7} and melody.seed == 42  # only the melody chooses anew
    assert revised_request(REQUEST, "plan", {"seed": 7})[0].seed == 7  # from the plan: the whole song
    genres = revised_request(REQUEST, "arrangement", {"genres": [{"genre": "funk", "weight": 1.0}]})[0]
    assert [g.genre for g in genres.genres] == ["funk"]
    mix = revised_request(REQUEST, "master", {"mix": {"vocal_db": 2, "reverb": 0.3, "brightness": 0.1, "lufs": -12}})[0]
    assert mix.mix.lufs == -12 and mix.mix.reverb == 0.3


@pytest.mark.parametrize("stage,changes,field", [
    ("chorus", {"seed": 1}, "stage"),
    ("master", {"voice": "tenor"}, "changes.voice"),
    ("master", {}, "changes"),
    ("vocals", {"voice": "alto"}, "changes"),  # the same voice: nothing changes
    ("master", {"mix": {"lufs": -3}}, "changes.mix"),
    ("vocals", {"voice": "kazoo"}, "changes.voice"),
    ("arrangement", {"genres": [{"genre": "pop", "weight": 0.5}]}, "changes.genres"),
    ("melody", {"seed": 2**31}, "changes.seed"),  # kept as stage_seeds, named as the user sent it
    ("plan", {"seed": -1}, "changes.seed"),
])
def test_a_change_a_stage_does_not_take_names_the_field(stage, changes, field):
    with pytest.raises(InvalidInput) as error:
        revised_request(REQUEST, stage, changes)
    assert error.value.field == field, error.value


def test_an_instrumental_has_no_lyrics_stage_to_revise():
    instrumental = REQUEST.model_copy(update={"instrumental": True})
    with pytest.raises(InvalidInput) as error:
        revised_request(instrumental, "lyrics", {"lyrics": "la"})
    assert error.value.field == "stage"


def test_every_stage_declares_what_it_takes():
    for spec in REVISE.specs:
        assert spec.changes, spec.name
    assert REVISE.run_stages(REQUEST, S.MASTER) == (S.MASTER,)
    assert REVISE.run_stages(REQUEST, S.LYRICS) == (S.LYRICS, S.MELODY, S.ARRANGEMENT, S.VOCALS, S.RENDER, S.MASTER)
