"""The set's two listings: a cue sheet (CD frames, 75 a second) and a JSON tracklist with timestamps."""

from __future__ import annotations

import json
from collections.abc import Sequence

from composition.sets import TracklistEntry


def cue_time(seconds: float) -> str:
    frames = int(round(seconds * 75))
    return f"{frames // (75 * 60):02d}:{frames // 75 % 60:02d}:{frames % 75:02d}"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "'").replace("\n", " ") + '"'


def cue_sheet(entries: Sequence[TracklistEntry], audio_file: str = "set.flac", title: str = "Cadenza DJ set") -> str:
    lines = [f"TITLE {_quoted(title)}", "PERFORMER \"Cadenza\"", f"FILE {_quoted(audio_file)} WAVE"]
    for number, entry in enumerate(entries, start=1):
        lines += [f"  TRACK {number:02d} AUDIO", f"    TITLE {_quoted(entry.title)}", "    PERFORMER \"Cadenza\"",
                  f"    REM COMPOSITION {entry.composition_id}", f"    INDEX 01 {cue_time(entry.start_s)}"]
    return "\n".join(lines) + "\n"


def tracklist_json(entries: Sequence[TracklistEntry], duration_s: float, tempo_bpm: float,
                   extra: Sequence[dict] = ()) -> str:
    """``extra[i]`` (key, camelot, tempo, stretch ...) is merged into entry i."""
    tracks = []
    for i, entry in enumerate(entries):
        row = {"position": i + 1, "composition_id": str(entry.composition_id), "title": entry.title,
               "start_s": round(entry.start_s, 3), "start": cue_time(entry.start_s)[:5]}
        row.update(extra[i] if i < len(extra) else {})
        tracks.append(row)
    return json.dumps({"duration_s": round(duration_s, 3), "tempo_bpm": round(tempo_bpm, 3), "tracks": tracks},
                      indent=2) + "\n"
