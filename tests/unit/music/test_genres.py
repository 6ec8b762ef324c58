"""Genre profiles and blends."""

from composition.models import GENRES
from music.genres import PROFILES, blend, mix_style
from music.theory import parse_roman


def test_every_genre_has_a_profile_with_valid_numerals():
    assert set(PROFILES) == set(GENRES)
    for profile in PROFILES.values():
        for vocab in profile.progressions.values():
            for progression, _ in vocab:
                for numeral in progression:
                    parse_roman(numeral, "C")


def test_blend_interpolates_numbers_and_merges_vocabularies():
    pop, funk = blend({"pop": 1.0}, 1), blend({"funk": 1.0}, 1)
    mixed = blend({"pop": 0.7, "funk": 0.3}, 1)
    for get in (lambda b: b.tempo[0], lambda b: b.tempo[1], lambda b: b.swing, lambda b: b.mix.brightness):
        assert abs(get(mixed) - (0.7 * get(pop) + 0.3 * get(funk))) < 1e-9
    assert mixed.swing not in (pop.swing, funk.swing)
    progs = {p for p, _ in mixed.progressions["major"]}
    assert {p for p, _ in pop.progressions["major"]} < progs
    assert {p for p, _ in funk.progressions["major"]} < progs
    weights = dict(mixed.progressions["major"])
    assert abs(sum(weights.values()) - 1.0) < 1e-9


def test_blend_is_deterministic_and_mix_style_readable_from_plan_genres():
    assert blend({"lofi": 0.5, "house": 0.5}, 42) == blend({"lofi": 0.5, "house": 0.5}, 42)
    style = mix_style({"ballad": 1.0})
    assert style == PROFILES["ballad"].mix
    assert 0 <= mix_style({"rock": 0.5, "folk": 0.5}).reverb <= 1
