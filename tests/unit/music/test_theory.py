"""Scales, roman numerals, voice leading, meter."""

from music.theory import (
    is_strong_beat,
    movement,
    parse_roman,
    scale_pcs,
    swing_beat,
    voice_lead,
)


def test_roman_numerals_in_c():
    assert parse_roman("I", "C") == ("C", 0, [0, 4, 7])
    assert parse_roman("vi", "C")[:2] == ("Am", 9)
    assert parse_roman("bVII", "C")[2] == [10, 2, 5]
    assert parse_roman("ii7", "C")[0] == "Dm7"
    assert parse_roman("V7", "A")[0] == "E7"


def test_scales():
    assert scale_pcs("A", "minor") == [9, 11, 0, 2, 4, 5, 7]
    assert scale_pcs("D", "dorian") == [2, 4, 5, 7, 9, 11, 0]


def test_voice_leading_moves_little():
    v = None
    for numeral in ["I", "V", "vi", "IV", "I"]:
        nxt = voice_lead(v, parse_roman(numeral, "C")[2])
        if v is not None:
            assert movement(v, nxt) <= 5
        assert all(52 <= p <= 76 for p in nxt)
        v = nxt


def test_strong_beats_and_swing():
    assert [b for b in range(8) if is_strong_beat(b, 4)] == [0, 2, 4, 6]
    assert [b for b in range(7) if is_strong_beat(b, 3)] == [0, 3, 6]
    assert not is_strong_beat(2.5, 4)
    assert swing_beat(1.5, 0.0) == 1.5 and abs(swing_beat(1.5, 1.0) - (1.5 + 1 / 6)) < 1e-9
    assert swing_beat(2.0, 1.0) == 2.0
