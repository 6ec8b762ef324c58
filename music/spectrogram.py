"""A picture of a finished song: the master's spectrogram with the sung pitch drawn over the melody.

The top panel is the master's log-frequency spectrogram; the bottom panel draws each melody note as a
bar at its pitch and the vocal's measured f0 (WORLD DIO/StoneMask) as a line, so a listener can see
at a glance whether the singer is on the notes. Matplotlib runs on its Agg backend (no display).
"""

from __future__ import annotations

import io

import numpy as np

from music.metrics_audio import note_spans, pitch_track


def _midi(freq: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 69 + 12 * np.log2(freq / 440.0)


def spectrogram_png(master: np.ndarray, sample_rate: int, notes: list[tuple[int, float, float]],
                    vocal: np.ndarray | None = None, title: str = "") -> bytes:
    """PNG bytes: spectrogram of ``master`` and, when there is a vocal, its f0 against ``notes``
    (pitch, start s, end s)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import spectrogram

    mono = np.asarray(master, dtype=np.float32)
    mono = mono.mean(axis=1) if mono.ndim == 2 else mono
    decimate = 2  # 22 kHz is plenty to look at
    hop = max(1024, int(len(mono) / decimate / 1600) // 256 * 256)  # at most ~1600 columns
    freqs, times, power = spectrogram(mono[::decimate], fs=sample_rate / decimate, nperseg=2048,
                                      noverlap=max(0, 2048 - hop))
    # resample to 256 log-spaced rows: an image, not a mesh of millions of cells
    rows = np.geomspace(30.0, freqs[-1], 256)
    db = 10 * np.log10(power + 1e-12)
    image = np.stack([np.interp(rows, freqs, column) for column in db.T], axis=1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.imshow(image, origin="lower", aspect="auto", cmap="magma", vmin=-110, vmax=-20,
               extent=(0, len(mono) / sample_rate, 0, len(rows)))
    ticks = [f for f in (50, 100, 200, 500, 1000, 2000, 5000, 10000) if rows[0] <= f <= rows[-1]]
    top.set_yticks([np.interp(np.log(f), np.log(rows), np.arange(len(rows))) for f in ticks], [str(f) for f in ticks])
    top.set_ylabel("Hz")
    top.set_title(title or "master")
    for pitch, start, end in notes:
        bottom.plot([start, end], [pitch, pitch], color="tab:blue", linewidth=5, alpha=0.45, solid_capstyle="butt")
    if vocal is not None:
        f0_times, f0 = pitch_track(vocal, sample_rate, note_spans(notes) if notes else None)
        sung = np.where(f0 > 0, _midi(f0), np.nan)
        bottom.plot(f0_times, sung, color="tab:red", linewidth=0.8, label="sung f0")
        bottom.legend(loc="upper right")
    if notes:
        pitches = [p for p, _, _ in notes]
        bottom.set_ylim(min(pitches) - 3, max(pitches) + 3)
    bottom.set_ylabel("MIDI pitch (notes: bars)")
    bottom.set_xlabel("seconds")
    bottom.set_xlim(0, len(mono) / sample_rate)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()
