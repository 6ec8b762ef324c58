"""Sung word error rate, pitch error, onset error and wall time per voice and vocals provider.

    .venv/bin/python benchmarks/bench_vocals.py [--voices soprano alto tenor baritone]
        [--providers flite espeak formant] [--songs user1 user2 generated] [--models tiny.en base]
        [--transcripts]

Songs (``music.engine.compose``, symbolic stages, seed 1): two with a user's own lyrics (below, 86 and
90 words; 90 s, folk and ballad) and one with generated lyrics (60 s, pop 0.7 / funk 0.3, "a summer
road trip"). Each is sung by each provider in each voice, lead vocal only, and measured on the stem:

- WER: the offline recogniser's (Whisper tiny.en and base via faster-whisper, the ``asr`` extra)
  word error rate against the sung lyrics (``music.intelligibility``), with the transcript printed
  beside the lyrics (``--transcripts``);
- pitch: ``music.metrics_audio.vocal_pitch_error_cents`` (median over notes, cents);
- onset: ``music.metrics_audio.vocal_onset_error_ms`` (median |sung vowel onset - note start| over
  the notes with an audible onset, and the share of notes that have one);
- seconds: the provider's ``sing`` (cold caches), and the recogniser's time per model.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

USER_LYRICS = {
    "user1": ("folk", """I walked along the river when the morning light was new
The water carried every word I never said to you
And all the bridges that we burned are shining in the rain
I keep the little things you gave and call them by your name

Hold on, hold on, the night is long
I hear your voice in every song
Hold on, hold on, until the dawn
I'll find the way when you are gone

My father built this wooden house with hands as rough as stone
He taught me how to read the sky and how to walk alone
"""),
    "user2": ("ballad", """The city sleeps beneath a blanket made of snow
The lights are soft and yellow in the window down below
I count the trains that leave the station one by one
And wonder where you are tonight and what you might have done

Come home, come home, the door is open wide
There is a fire burning and a place for you inside
Come home, come home, whatever you have been
The winter will be over and the fields will turn to green
"""),
}
GENERATED = ("a summer road trip", {"pop": 0.7, "funk": 0.3})


def song(name: str, voice: str, store):
    from composition.models import CompositionRequest, GenreWeight, Mood
    from music.engine import SYMBOLIC_STAGES, compose

    if name in USER_LYRICS:
        genre, lyrics = USER_LYRICS[name]
        request = CompositionRequest(mood=Mood.from_label("nostalgic"), theme="home", duration_s=90, seed=1,
                                     voice=voice, genres=[GenreWeight(genre=genre, weight=1.0)], lyrics=lyrics)
    else:
        theme, genres = GENERATED
        request = CompositionRequest(mood=Mood.from_label("happy"), theme=theme, duration_s=60, seed=1, voice=voice,
                                     genres=[GenreWeight(genre=g, weight=w) for g, w in genres.items()])
    return compose(request, store, f"{name}-{voice}", only=SYMBOLIC_STAGES).context


def singers():
    from music.vocals import espeak, flite
    from music.vocals.formant import sing_formant

    def clear():
        flite.spoken_line.cache_clear()
        espeak.spoken_syllable.cache_clear()

    return {"flite": lambda n, v, s, d, sr: flite.sing_flite(n, v, s, d, sr),
            "espeak": lambda n, v, s, d, sr: espeak.sing_espeak(n, v, s, d, sr),
            "formant": lambda n, v, s, d, sr: sing_formant(n, v, s, d, 1, sr)}, clear


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", nargs="*", default=["soprano", "alto", "tenor", "baritone"])
    parser.add_argument("--providers", nargs="*", default=["flite", "espeak", "formant"])
    parser.add_argument("--songs", nargs="*", default=["user1", "user2", "generated"])
    parser.add_argument("--models", nargs="*", default=["tiny.en", "base"])
    parser.add_argument("--transcripts", action="store_true", help="print each transcript beside the lyrics")
    args = parser.parse_args()

    from music import intelligibility as asr
    from music.audio import SAMPLE_RATE
    from music.metrics_audio import vocal_onset_error_ms, vocal_pitch_error_cents
    from music.vocals import VOICE_PROFILES, sung_notes, vocal_duration_s, vocal_style
    from storage.local import LocalArtifactStore

    models = [m for m in args.models if asr.recogniser_available(m)]
    missing = sorted(set(args.models) - set(models))
    if missing:
        print(f"recogniser not installed: {', '.join(missing)} (pip install -e '.[asr]')")
    store = LocalArtifactStore(Path(tempfile.mkdtemp()) / "artifacts")
    sing, clear = singers()
    header = (f"{'song':10s} {'voice':9s} {'provider':8s} {'words':>5s} " + " ".join(f"{'WER ' + m:>12s}" for m in models)
              + f" {'pitch c':>8s} {'onset ms':>8s} {'onsets':>6s} {'sing s':>7s} " + " ".join(f"{'asr s ' + m:>12s}" for m in models))
    print(header)
    for name in args.songs:
        for voice in args.voices:
            ctx = song(name, voice, store)
            notes = sung_notes(ctx)
            profile = VOICE_PROFILES[voice]
            style = vocal_style(ctx.plan.genres, profile)
            spans = [(n.pitch, n.start_s, n.end_s) for n in notes]
            reference = asr.sung_text(notes)
            for provider in args.providers:
                clear()
                started = time.perf_counter()
                audio = sing[provider](notes, profile, style, vocal_duration_s(ctx), SAMPLE_RATE)
                seconds = time.perf_counter() - started
                pitch = vocal_pitch_error_cents(audio, SAMPLE_RATE, spans)
                onset, covered = vocal_onset_error_ms(audio, SAMPLE_RATE, spans)
                wers, times, transcripts = [], [], []
                for model in models:
                    started = time.perf_counter()
                    wer, transcript, _ = asr.sung_word_error(notes, audio, SAMPLE_RATE, model)
                    times.append(time.perf_counter() - started)
                    wers.append(wer)
                    transcripts.append((model, transcript))
                print(f"{name:10s} {voice:9s} {provider:8s} {len(asr.normalise(reference)):5d} "
                      + " ".join(f"{w:12.3f}" for w in wers)
                      + f" {pitch:8.2f} {onset:8.1f} {covered:6.2f} {seconds:7.2f} " + " ".join(f"{t:12.1f}" for t in times),
                      flush=True)
                if args.transcripts:
                    print(f"    lyrics:  {' / '.join(reference.splitlines())}")
                    for model, transcript in transcripts:
                        print(f"    {model:8s} {transcript}")


if __name__ == "__main__":
    main()
