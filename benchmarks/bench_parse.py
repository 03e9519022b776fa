"""Parse benchmark: layerwise's full parse + semantic model over the whole corpus, against
BuildKit's Go parser (PyPI `dockerfile`, syntax only) on the same files in the same run.

    .venv/bin/python benchmarks/bench_parse.py [--repeat N] [--corpus DIR]

Goal (issue 2): layerwise parse + model <= 2x the Go parser's time.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dockerfile as go_parser

from layerwise import DockerfileSyntaxError, parse_dockerfile

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dockerfiles"


def _time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times = []
    count = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    texts = [
        p.read_bytes().decode("utf-8", "surrogateescape") for p in sorted(args.corpus.iterdir())
    ]
    size = sum(len(t) for t in texts)

    def go() -> int:
        n = 0
        for text in texts:
            with contextlib.suppress(go_parser.GoParseError):
                n += len(go_parser.parse_string(text))
        return n

    def ours_parse() -> int:
        n = 0
        for text in texts:
            with contextlib.suppress(DockerfileSyntaxError):
                n += len(parse_dockerfile(text).instructions)
        return n

    def ours_model() -> int:
        n = 0
        for text in texts:
            try:
                tree = parse_dockerfile(text)
            except DockerfileSyntaxError:
                continue
            n += len(tree.instructions)
            tree.model()
        return n

    # Interleave warm-up so neither side benefits from running first.
    go(), ours_model()
    go_t, go_n = _time(go, args.repeat)
    parse_t, parse_n = _time(ours_parse, args.repeat)
    model_t, _ = _time(ours_model, args.repeat)
    files = len(texts)
    print(f"corpus: {files} files, {size / 1e6:.2f} MB, median of {args.repeat} runs")
    print(f"{'':28} {'seconds':>8} {'files/s':>9} {'ratio':>6}")
    for label, t in (
        ("BuildKit Go parser", go_t),
        ("layerwise parse", parse_t),
        ("layerwise parse + model", model_t),
    ):
        print(f"{label:28} {t:8.3f} {files / t:9.0f} {t / go_t:6.2f}x")
    print(f"instructions: go {go_n}, layerwise {parse_n}")
    goal = model_t <= 2 * go_t
    print(
        f"goal parse+model <= 2x Go parser: {'met' if goal else 'NOT met'} ({model_t / go_t:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
