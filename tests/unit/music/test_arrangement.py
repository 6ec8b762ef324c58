"""Arrangement stage: multi-track GM MIDI, drums on channel 10, dynamics following energy, determinism."""

import io

import pretty_midi

from music.engine import SYMBOLIC_STAGES, compose
from music.plan import section_starts
from tests.unit.music.symbolic_songs import request, song, store


def _midi(ctx) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(io.BytesIO(store().get(ctx.arrangement.midi.uri)))


def test_tracks_and_artifact():
    ctx = song("pop-happy")
    assert ctx.arrangement.midi.name == "arrangement.mid" and ctx.arrangement.midi.media_type == "audio/midi"
    names = [t.name for t in ctx.arrangement.tracks]
    assert names == ["drums", "bass", "chords", "pad", "vocal guide"]
    pm = _midi(ctx)
    drums = [i for i in pm.instruments if i.is_drum]
    assert len(drums) == 1 and all(35 <= n.pitch <= 81 for n in drums[0].notes)
    guide = next(i for i in pm.instruments if i.name == "vocal guide")
    assert len(guide.notes) == len(ctx.melody.notes)
    assert len(pm.lyrics) == len(ctx.melody.notes)
    assert abs(pm.get_end_time() - ctx.plan.duration_s) < 2.0


def test_dynamics_follow_energy():
    ctx = song("pop-happy")
    pm = _midi(ctx)
    spb = 60 / ctx.plan.tempo_bpm
    starts = section_starts(ctx.plan)
    stats = []
    for s in ctx.plan.form:
        a, b = starts[s.name] * spb, (starts[s.name] + s.bars * ctx.plan.beats_per_bar) * spb
        notes = [(i, n) for i in pm.instruments if i.name != "vocal guide" for n in i.notes if a <= n.start < b]
        playing = len({i.name for i, _ in notes})
        velocity = sum(n.velocity for _, n in notes) / max(1, len(notes))
        stats.append((s.energy, playing, len(notes) / s.bars, velocity))
    low = min(stats)
    high = max(stats)
    assert high[1] >= low[1] and high[2] > low[2] and high[3] > low[3]


def test_genres_sound_different():
    def programs(name):
        return {t.name: t.program for t in song(name).arrangement.tracks}
    assert programs("pop-happy") != programs("rock-short")


def test_same_request_same_midi_bytes_and_lyrics():
    a = compose(request("pop-funk"), store(), "det-a", only=SYMBOLIC_STAGES).context
    b = compose(request("pop-funk"), store(), "det-b", only=SYMBOLIC_STAGES).context
    assert store().get(a.arrangement.midi.uri) == store().get(b.arrangement.midi.uri)
    assert a.arrangement.midi.sha256 == b.arrangement.midi.sha256
    assert a.lyrics == b.lyrics and a.melody == b.melody
