"""Generated lyrics for ten themes side by side with their measures, then the measures over all 25 themes.

    .venv/bin/python benchmarks/bench_lyrics.py [--themes 10] [--columns 2] [--seed-offset 0]

The themes, moods, genres and seeds are the test battery's (tests/unit/music/test_songwriter.py).
Measures (music/metrics_lyrics.py): on-theme share of content words, share of lines with an
on-theme word, lines repeated outside the chorus, licensed adjective-noun pairings, VADER valence;
rhyme adherence and stress fit as the symbolic metrics define them. A chorus sung three times is
printed and counted once.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def song_text(lyrics) -> list[str]:
    out, seen = [], set()
    for s in lyrics.sections:
        kind = s.section.rstrip("0123456789")
        if kind in ("chorus", "prechorus") and kind in seen:
            out.append(f"[{s.section}: as before]")
            continue
        seen.add(kind)
        out.append(f"[{s.section}]")
        out += [line.text for line in s.lines]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--themes", type=int, default=10)
    parser.add_argument("--columns", type=int, default=2)
    parser.add_argument("--seed-offset", type=int, default=0)
    args = parser.parse_args()

    from music.lyrics import make_lyrics
    from music.metrics_lyrics import lyric_metrics
    from music.metrics_symbolic import rhyme_adherence
    from music.plan import make_plan
    from tests.unit.music.test_songwriter import THEMES, themed_request

    rows = []
    for i in range(len(THEMES)):
        request = themed_request(i).model_copy(update={"seed": i + args.seed_offset})
        plan = make_plan(request)
        started = time.perf_counter()
        lyrics = make_lyrics(request, plan)
        elapsed = time.perf_counter() - started
        rows.append((THEMES[i], lyrics, lyric_metrics(lyrics, request.theme), rhyme_adherence(lyrics), elapsed))

    width = 56
    for start in range(0, args.themes, args.columns):
        block = rows[start:min(start + args.columns, args.themes)]
        columns = []
        for (theme, mood, genre), lyrics, m, rhyme, _ in block:
            head = [f"{theme!r} ({mood}, {genre})",
                    f"on-theme {m.on_theme_share:.2f}  lines {m.lines_on_theme:.2f}  repeats {m.repeated_lines}",
                    f"pairings {m.collocations_licensed if m.collocations_licensed is None else round(m.collocations_licensed, 2)}"
                    f"  valence {m.valence if m.valence is None else round(m.valence, 2)}  rhyme {rhyme:.2f}", ""]
            columns.append([textwrap.shorten(x, width) if len(x) > width else x for x in head + song_text(lyrics)])
        for k in range(max(len(c) for c in columns)):
            print("   ".join(f"{(c[k] if k < len(c) else ''):<{width}}" for c in columns).rstrip())
        print()

    print(f"{'theme':30} {'mood':12} {'on-theme':>8} {'lines':>6} {'repeats':>7} {'pairings':>8} {'valence':>7} {'rhyme':>5} {'s':>5}")
    for (theme, mood, _), _, m, rhyme, elapsed in rows:
        pairs = "-" if m.collocations_licensed is None else f"{m.collocations_licensed:.2f}"
        val = "-" if m.valence is None else f"{m.valence:+.2f}"
        print(f"{theme:30} {mood:12} {m.on_theme_share:8.2f} {m.lines_on_theme:6.2f} {m.repeated_lines:7d} {pairs:>8} {val:>7} "
              f"{rhyme:5.2f} {elapsed:5.2f}")
    n = len(rows)
    print(f"{'mean over ' + str(n):43} {sum(r[2].on_theme_share for r in rows) / n:8.2f} "
          f"{sum(r[2].lines_on_theme for r in rows) / n:6.2f} {sum(r[2].repeated_lines for r in rows):7d}")


if __name__ == "__main__":
    main()
