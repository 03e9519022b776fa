"""What `layerwise optimize --unsafe` gains on the example apps, measured with real builds.

    .venv/bin/python benchmarks/bench_optimize.py [--examples flask-pip,django-psycopg2]
        [--repeat 1] [--no-cache] [--docker /usr/bin/docker] [--json report.json]

For each example, in one run and one build at a time (so the timings do not share the CPU):

1. a copy of the naive app (the peer) and a copy optimized with `optimize --unsafe` are built
   (with BuildKit's cache unless --no-cache: that warms the cache the next step relies on);
2. the image sizes are read;
3. the same harmless edit is made to one source file of each copy and each is rebuilt: the
   code-change rebuild a developer waits for on every commit (median of --repeat edits).

It prints, per example, original vs optimized image size and code-change rebuild time, with the
ratios, and which steps each code-change build ran. Needs a Docker engine with buildx (builds use
`--network host`; `# syntax=` lines are stripped because the frontend image cannot be pulled
here).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from examples_support import (  # noqa: E402
    EXAMPLES,
    EXAMPLES_DIR,
    harmless_edit,
    remove_images,
    unique_tag,
)
from layerwise.build import BuildResult, build, find_engine  # noqa: E402
from layerwise.build.docker import Engine  # noqa: E402
from layerwise.optimize import optimize  # noqa: E402


def _build(engine: Engine, directory: Path, tag: str, no_cache: bool = False) -> BuildResult:
    return build(
        directory,
        tag=tag,
        network="host",
        docker=engine,
        no_cache=no_cache,
        strip_syntax_directive=True,
    )


def bench_example(
    engine: Engine, name: str, work: Path, repeat: int, no_cache: bool
) -> dict[str, Any]:
    original = Path(shutil.copytree(EXAMPLES_DIR / name, work / "original" / name))
    optimized = Path(shutil.copytree(EXAMPLES_DIR / name, work / "optimized" / name))
    result = optimize(optimized, unsafe=True)
    result.write()
    tags = {"original": unique_tag(name), "optimized": unique_tag(f"{name}-opt")}
    dirs = {"original": original, "optimized": optimized}
    row: dict[str, Any] = {"example": name}
    try:
        for kind in ("original", "optimized"):
            started = time.monotonic()
            first = _build(engine, dirs[kind], tags[kind], no_cache)
            row[f"{kind}_first_build_s"] = round(time.monotonic() - started, 1)
            row[f"{kind}_bytes"] = first.image_size
        for kind in ("original", "optimized"):
            times: list[float] = []
            ran: list[str] = []
            for _ in range(repeat):
                harmless_edit(dirs[kind] / EXAMPLES[name].source_file)
                edited = _build(engine, dirs[kind], tags[kind])
                times.append(edited.seconds)
                ran = [s.name for s in edited.rebuilt_steps if s.keyword != "FROM"]
            row[f"{kind}_code_change_s"] = round(statistics.median(times), 2)
            row[f"{kind}_code_change_ran"] = ran
    finally:
        remove_images(engine, *tags.values())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--examples", default=",".join(sorted(EXAMPLES)))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-cache", action="store_true", help="cold first builds")
    parser.add_argument("--docker", default=None)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    engine = find_engine(args.docker)
    names = [n.strip() for n in args.examples.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXAMPLES]
    if unknown:
        parser.error(f"unknown example(s): {', '.join(unknown)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="layerwise-bench-optimize-") as tmp:
        for name in names:
            print(f"{name} ...", file=sys.stderr, flush=True)
            rows.append(bench_example(engine, name, Path(tmp), args.repeat, args.no_cache))
            if args.json_path:  # after each example: a long run keeps what it measured
                Path(args.json_path).write_text(json.dumps(rows, indent=2) + "\n")
    print()
    print(
        f"{'example':<16} {'original':>9} {'optimized':>9} {'size':>6}   "
        f"{'code change: original':>22} {'optimized':>9} {'speed-up':>8}"
    )
    for r in rows:
        size_ratio = r["optimized_bytes"] / r["original_bytes"]
        speedup = r["original_code_change_s"] / r["optimized_code_change_s"]
        print(
            f"{r['example']:<16} {r['original_bytes'] / 1e6:>7.1f}MB "
            f"{r['optimized_bytes'] / 1e6:>7.1f}MB {size_ratio:>5.2f}x   "
            f"{r['original_code_change_s']:>21.1f}s "
            f"{r['optimized_code_change_s']:>8.1f}s {speedup:>7.1f}x"
        )
    print()
    for r in rows:
        print(f"{r['example']}: a code change re-ran")
        print(f"  original:  {'; '.join(r['original_code_change_ran'])}")
        print(f"  optimized: {'; '.join(r['optimized_code_change_ran'])}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
