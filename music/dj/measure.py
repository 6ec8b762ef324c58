"""What the set sounds like at each transition: are the two songs' beats together?

librosa's beat tracker runs on the mixed, mastered set around each overlap (two bars either side).
Each beat it hears inside the overlap is compared with both songs' grids as the set placed them (the
outgoing song's beats and the incoming one's, in set time); the beat's error is its distance to the
farther of the two grids' nearest beats, so two songs a little apart show that distance, and a beat
heard where neither song has one shows too. A transition's error is the median over its beats (ms).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from music.dj.analyse import track_beats
from music.dj.mix import Overlap


def nearest(grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Distance from each of ``times`` to the nearest point of the sorted ``grid``."""
    if grid.size == 0:
        return np.full(times.shape, np.inf)
    at = np.clip(np.searchsorted(grid, times), 1, len(grid) - 1) if len(grid) > 1 else np.zeros(times.shape, int)
    return np.minimum(np.abs(grid[at] - times), np.abs(grid[np.maximum(at - 1, 0)] - times))


def alignment_ms(mixed: np.ndarray, sample_rate: int, overlap: Overlap, out_beats: np.ndarray,
                 in_beats: np.ndarray, tempo_bpm: float, margin_s: float) -> float:
    """Median beat alignment error (ms) of one transition; where the tracker hears no beat in it, half a
    beat (the worst an error can be: nothing was confirmed)."""
    start = max(0.0, overlap.start_s - margin_s)
    stop = min(len(mixed) / sample_rate, overlap.end_s + margin_s)
    window = mixed[int(start * sample_rate):int(stop * sample_rate)]
    _, heard = track_beats(window, sample_rate, bpm=tempo_bpm)
    heard = heard + start
    inside = heard[(heard >= overlap.start_s) & (heard <= overlap.end_s)]
    if inside.size == 0:
        return 30000.0 / tempo_bpm
    errors = np.maximum(nearest(np.sort(out_beats), inside), nearest(np.sort(in_beats), inside))
    return float(np.median(errors) * 1000.0)


def alignment_errors(mixed: np.ndarray, sample_rate: int, overlaps: Sequence[Overlap],
                     grids: Sequence[np.ndarray], tempo_bpm: float, bar_s: float) -> list[float]:
    """The error of every transition; ``grids[i]`` is song i's beats in set time (playing order)."""
    return [round(alignment_ms(mixed, sample_rate, o, grids[i], grids[i + 1], tempo_bpm, 2 * bar_s), 2)
            for i, o in enumerate(overlaps)]
