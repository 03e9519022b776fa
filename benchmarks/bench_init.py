"""What `layerwise init` buys over the example apps' own (naive) Dockerfiles, measured in one run.

    .venv/bin/python benchmarks/bench_init.py [--docker /usr/bin/docker] [--app flask-pip ...]

For each example app, both Dockerfiles are built with real BuildKit (through `layerwise.build`,
`--network host`), warm (a first build fills the cache, then the source file is edited):

* image size (the peer: the naive Dockerfile's image);
* code-change rebuild: wall time and the steps BuildKit re-ran after a one-line source edit;
* detection + generation time of `layerwise init` itself (no peer: it runs once per project).

Ratios are init / naive (below 1 is better). `# syntax=` lines are stripped for the build, as
this machine cannot pull the Dockerfile frontend.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from examples_support import EXAMPLES, harmless_edit  # noqa: E402
from layerwise.build import BuildResult, build, find_engine  # noqa: E402
from layerwise.build.docker import Engine, remove_images  # noqa: E402
from layerwise.generate import plan_init, write_init  # noqa: E402


@dataclass
class Measure:
    size: int
    rebuild: float
    rerun: list[str]


def _measure(engine: Engine, context: Path, dockerfile: Path, source: str) -> Measure:
    tag = f"layerwise-bench-init:{uuid.uuid4().hex[:10]}"
    first: BuildResult = build(
        context, dockerfile, tag=tag, network="host", docker=engine, strip_syntax_directive=True
    )
    harmless_edit(context / source)
    second = build(
        context, dockerfile, tag=tag, network="host", docker=engine, strip_syntax_directive=True
    )
    remove_images(engine, [tag])
    rerun = [s.name for s in second.steps if not s.cached and s.started and s.keyword != "FROM"]
    return Measure(first.image_size or 0, second.seconds, rerun)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker", default=None)
    parser.add_argument("--app", action="append", choices=sorted(EXAMPLES))
    args = parser.parse_args()
    engine = find_engine(args.docker)
    names = args.app or sorted(EXAMPLES)
    print(
        f"{'app':<16} {'naive MB':>9} {'init MB':>8} {'ratio':>6}  "
        f"{'naive rebuild':>13} {'init rebuild':>12} {'ratio':>6}  init steps re-run"
    )
    for name in names:
        app = EXAMPLES[name]
        with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
            naive_dir = Path(tmp) / "naive"
            shutil.copytree(app.path, naive_dir)
            naive = _measure(engine, naive_dir, naive_dir / "Dockerfile", app.source_file)
            init_dir = Path(tmp) / "init"
            shutil.copytree(app.path, init_dir)
            (init_dir / "Dockerfile").unlink()
            started = time.perf_counter()
            plan = plan_init(init_dir)
            generate_ms = (time.perf_counter() - started) * 1000
            write_init(plan)
            init = _measure(engine, init_dir, init_dir / "Dockerfile", app.source_file)
        size_ratio = init.size / naive.size if naive.size else float("nan")
        time_ratio = init.rebuild / naive.rebuild
        print(
            f"{name:<16} {naive.size / 1e6:>9.1f} {init.size / 1e6:>8.1f} {size_ratio:>6.2f}  "
            f"{naive.rebuild:>12.1f}s {init.rebuild:>11.1f}s {time_ratio:>6.2f}  "
            f"{', '.join(init.rerun)}  (init: {generate_ms:.0f} ms)"
        )


if __name__ == "__main__":
    main()
