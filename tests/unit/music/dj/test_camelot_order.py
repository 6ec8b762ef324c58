"""The Camelot wheel and the set's order (pure, no audio)."""

from __future__ import annotations

import random
import uuid

import pytest

from composition.errors import InvalidInput
from composition.sets import TrackAnalysis
from music.dj.camelot import camelot, distance
from music.dj.order import cost, order_tracks


@pytest.mark.parametrize("key,mode,code", [("C", "major", "8B"), ("A", "minor", "8A"), ("G", "major", "9B"),
                                           ("F", "major", "7B"), ("F#", "minor", "11A"), ("Db", "major", "3B"),
                                           ("B", "major", "1B"), ("D", "dorian", "8A"), ("G", "mixolydian", "8B"),
                                           ("Eb", "minor", "2A")])
def test_keys_sit_where_the_wheel_puts_them(key, mode, code):
    assert str(camelot(key, mode)) == code


def test_distance_counts_steps_around_the_wheel_and_a_change_of_ring():
    assert distance("8A", "8A") == 0
    assert distance("8A", "8B") == 1 and distance("8B", "9B") == 1 and distance("12A", "1A") == 1
    assert distance("8A", "9B") == 2 and distance("1B", "7B") == 6


def test_a_bad_key_or_mode_is_named():
    with pytest.raises(InvalidInput, match="H#"):
        camelot("H#", "major")
    with pytest.raises(InvalidInput, match="bebop"):
        camelot("C", "bebop")


def analysis(code_key: tuple[str, str], tempo: float = 120.0, energy: float = 0.5) -> TrackAnalysis:
    key, mode = code_key
    return TrackAnalysis(composition_id=uuid.uuid4(), tempo_bpm=tempo, key=key, mode=mode,
                         camelot=str(camelot(key, mode)), downbeats_s=[0.0], energy=[energy], duration_s=60)


# a chain around the wheel: C, G, D, A major, then F# minor (11A, A major's relative), B minor (10A)
CHAIN = [("C", "major"), ("G", "major"), ("D", "major"), ("A", "major"), ("F#", "minor"), ("B", "minor")]


@pytest.mark.parametrize("seed", range(4))
def test_auto_finds_an_order_where_every_step_is_a_smooth_mix(seed):
    keys = CHAIN[:]
    random.Random(seed).shuffle(keys)
    tracks = [analysis(k) for k in keys]
    given = order_tracks(tracks, "given")
    assert given.order == list(range(6)) and max(given.camelot_distances) > 1  # shuffled: some clash
    auto = order_tracks(tracks, "auto")
    assert sorted(auto.order) == list(range(6))
    assert auto.camelot_distances and max(auto.camelot_distances) <= 1
    assert cost(tracks, auto.order) <= cost(tracks, given.order)


def test_more_songs_than_the_exact_search_still_mix_smoothly():
    keys = [(k, "major") for k in ("C", "G", "D", "A", "E", "B", "F#", "Db", "Ab", "Eb", "Bb", "F")] + [("A", "minor")]
    random.Random(3).shuffle(keys)
    auto = order_tracks([analysis(k) for k in keys], "auto")
    assert sorted(auto.order) == list(range(13)) and max(auto.camelot_distances) <= 1


def test_among_equal_keys_tempo_steps_stay_small_and_energy_rises_to_a_late_peak():
    tempos = [128, 100, 120, 110, 124]
    energies = [0.9, 0.2, 0.6, 0.4, 0.7]
    tracks = [analysis(("C", "major"), t, e) for t, e in zip(tempos, energies)]
    auto = order_tracks(tracks, "auto")
    played = [energies[i] for i in auto.order]
    assert played[0] == min(energies) and played.index(max(energies)) >= 2  # a rise, the peak late
    assert max(abs(s) for s in auto.tempo_steps_bpm) <= 18
