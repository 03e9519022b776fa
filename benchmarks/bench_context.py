"""Benchmark: computing the build context on a ~200,000-file tree.

Generates (once, then reuses) a tree like a real repository: a node_modules tree, a .git
directory, a virtualenv, and source files with __pycache__ litter, plus a realistic
.dockerignore. Then times, in the same run:

* a bare `os.scandir` walk of the whole tree (names only), and the same walk with an lstat of
  every file (what it costs just to learn the sizes);
* layerwise's context computation (`load_ignore` + `walk_context`), which knows which files
  BuildKit sends, with their sizes;
* BuildKit's own context transfer of the same tree with the same ignore file (`FROM scratch` +
  `COPY . /`): the duration of its "load build context" step for the first build of the run
  (BuildKit keeps the files of earlier transfers of the same directory, so this is only cold on
  a fresh engine; it also includes deleting what the previous scenario sent) and for repeated
  builds (only metadata is compared then), and the wall time of a whole repeated build.

The whole `layerwise context` report (junk, secrets with content scanning, suggestions) is timed
too, for information. Three ignore files are measured: the realistic one (the headline), none at
all (everything is walked and sent), and the realistic one plus an exception with a wildcard
(`!**/README.md`), which stops both BuildKit and layerwise from skipping excluded directories.

    .venv/bin/python benchmarks/bench_context.py [--dir DIR] [--files N] [--repeat R] [--no-docker]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from layerwise.context.ignore import load_ignore
from layerwise.context.project import BuildContext
from layerwise.context.report import build_report
from layerwise.context.walk import walk_context

REALISTIC_IGNORE = """\
# version control, environments, caches
.git
**/node_modules
.venv
venv
**/__pycache__
**/*.pyc
.pytest_cache
.mypy_cache
.coverage
htmlcov
*.log
dist
build
*.egg-info
.env
.idea
.vscode
**/.DS_Store
*.md
!README.md
"""
SCENARIOS = {
    "realistic": REALISTIC_IGNORE,
    "no .dockerignore": None,
    "wildcard exception": REALISTIC_IGNORE + "!**/README.md\n",
}


def _write(path: Path, rng: random.Random) -> None:
    path.write_bytes(rng.randbytes(rng.randint(0, 600)))


def generate(root: Path, total: int, seed: int = 1) -> int:
    """Write the tree; returns the number of files. Shares: 60% node_modules, 10% .git,
    20% .venv, 10% sources (with __pycache__)."""
    rng = random.Random(seed)
    count = 0

    def files(directory: Path, n: int, names: list[str]) -> None:
        nonlocal count
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            _write(directory / f"{count}-{names[i % len(names)]}", rng)
            count += 1

    node = root / "node_modules"
    pkg = 0
    while count < total * 0.6:
        base = node / f"pkg-{pkg}"
        files(base, 2, ["package.json", "README.md"])
        files(base / "lib", rng.randint(5, 30), ["index.js", "util.js", "types.d.ts"])
        files(base / "dist" / "esm", rng.randint(3, 20), ["bundle.js", "bundle.js.map"])
        if pkg % 7 == 0:
            files(base / "node_modules" / f"dep-{pkg}" / "lib", rng.randint(3, 15), ["x.js"])
        pkg += 1
    git = root / ".git" / "objects"
    target = count + total * 0.1
    while count < target:
        files(git / f"{rng.randrange(256):02x}", rng.randint(10, 60), ["obj"])
    venv = root / ".venv" / "lib" / "python3.11" / "site-packages"
    target = count + total * 0.2
    mod = 0
    while count < target:
        files(venv / f"package_{mod}", rng.randint(5, 25), ["module.py", "__init__.py"])
        files(venv / f"package_{mod}" / "__pycache__", rng.randint(3, 15), ["module.pyc"])
        mod += 1
    src = root / "src" / "app"
    mod = 0
    while count < total:
        files(src / f"module_{mod}", rng.randint(5, 20), ["code.py", "test_code.py", "data.json"])
        files(src / f"module_{mod}" / "__pycache__", rng.randint(2, 6), ["code.cpython-311.pyc"])
        if mod % 10 == 0:
            files(src / f"module_{mod}" / "docs", 3, ["README.md", "guide.md"])
        mod += 1
    for name in ("README.md", "pyproject.toml", "requirements.txt", "app.log", ".env"):
        _write(root / name, rng)
        count += 1
    return count


def bare_walk(root: str) -> int:
    n = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    n += 1
    return n


def bare_walk_stat(root: str) -> int:
    total = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def layerwise_context(root: str) -> int:
    snapshot = walk_context(root, load_ignore(root))
    return snapshot.total_files


def layerwise_report(root: str) -> int:
    """The whole `layerwise context` report: walk, junk, secrets (content scanned), suggestions."""
    return len(build_report(BuildContext.load(root)).suggestions)


def timed(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, run in turns (A, B, C, A, B, C, ...) after a warm-up,
    so that a change in machine load affects all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm the OS caches
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _parse_time(value: str) -> float:
    # RFC 3339 with nanoseconds: keep microseconds for fromisoformat.
    head, _, frac = value.partition(".")
    digits = "".join(c for c in frac if c.isdigit())[:6]
    tz = frac[len("".join(c for c in frac if c.isdigit())) :]
    return datetime.fromisoformat(f"{head}.{digits or '0'}{tz.replace('Z', '+00:00')}").timestamp()


def buildkit_transfer(docker: str, root: Path, repeat: int) -> tuple[float, float, float]:
    """(first transfer seconds, repeated transfer seconds, repeated build wall seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text("FROM scratch\nCOPY . /\n")
        transfers: list[float] = []
        walls: list[float] = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            proc = subprocess.run(
                [docker, "buildx", "build", "--network", "host", "--no-cache",
                 "--progress", "rawjson", "-f", str(dockerfile),
                 "--output", "type=cacheonly", str(root)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            walls.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-2000:])
            transfers.append(_context_step_seconds(proc.stderr))
    return transfers[0], statistics.median(transfers[1:]), statistics.median(walls[1:])


def _context_step_seconds(rawjson: str) -> float:
    started: float | None = None
    completed: float | None = None
    decoder = json.JSONDecoder()
    statuses = []
    pos = 0
    while True:  # a stream of (pretty-printed) JSON objects
        start = rawjson.find("{", pos)
        if start < 0:
            break
        try:
            obj, pos = decoder.raw_decode(rawjson, start)
        except ValueError:
            pos = start + 1
            continue
        if isinstance(obj, dict):
            statuses.append(obj)
    for status in statuses:
        for vertex in status.get("vertexes") or []:
            if vertex.get("name") != "[internal] load build context":
                continue
            if vertex.get("started"):
                started = _parse_time(vertex["started"])
            if vertex.get("completed"):
                completed = _parse_time(vertex["completed"])
    if started is None or completed is None:
        raise RuntimeError("no 'load build context' step in BuildKit's progress")
    return completed - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "lw-bench-ctx")
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--docker", default=os.environ.get("LAYERWISE_DOCKER", "/usr/bin/docker"))
    args = parser.parse_args()

    root: Path = args.dir
    marker = root / ".lw-bench-files"
    if not marker.exists() or marker.read_text() != str(args.files):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        start = time.perf_counter()
        n = generate(root, args.files)
        marker.write_text(str(args.files))
        print(f"generated {n} files in {root} ({time.perf_counter() - start:.1f}s)")
    total = bare_walk(str(root))
    print(f"tree: {root}, {total} files; medians of {args.repeat} interleaved runs\n")
    path = str(root)
    docker_ok = not args.no_docker and shutil.which(args.docker) is not None
    for name, ignore in SCENARIOS.items():
        ignore_path = root / ".dockerignore"
        if ignore is None:
            ignore_path.unlink(missing_ok=True)
        else:
            ignore_path.write_text(ignore)
        snapshot = walk_context(root, load_ignore(root))
        t = timed(
            {
                "bare": lambda: bare_walk(path),
                "bare+lstat": lambda: bare_walk_stat(path),
                "layerwise": lambda: layerwise_context(path),
            },
            args.repeat,
        )
        t_report = timed({"report": lambda: layerwise_report(path)}, max(1, args.repeat // 2))
        t_lw = t["layerwise"]
        print(f"[{name}] BuildKit would receive {snapshot.total_files} files, "
              f"{snapshot.total_bytes / 1e6:.1f} MB")  # fmt: skip
        print(f"  {'bare os.scandir walk (names)':46} {t['bare'] * 1000:9.1f} ms")
        print(
            f"  {'bare os.scandir walk + lstat of every file':46} {t['bare+lstat'] * 1000:9.1f} ms"
        )
        print(f"  {'layerwise context (ignore + walk + sizes)':46} {t_lw * 1000:9.1f} ms")
        print(f"  {'layerwise / bare walk (goal <= 1.5x)':46} {t_lw / t['bare']:9.2f}x")
        print(f"  {'layerwise / bare walk + lstat':46} {t_lw / t['bare+lstat']:9.2f}x")
        label = "whole layerwise context report (no Dockerfile)"
        print(f"  {label:46} {t_report['report'] * 1000:9.1f} ms")
        if docker_ok:
            try:
                cold, warm, wall = buildkit_transfer(args.docker, root, max(2, args.repeat // 2))
            except (RuntimeError, OSError) as exc:
                print(f"  BuildKit not measured: {exc}")
            else:
                print(f"  {'BuildKit context transfer, first build':46} {cold * 1000:9.1f} ms")
                print(f"  {'BuildKit context transfer, repeated build':46} {warm * 1000:9.1f} ms")
                print(f"  {'BuildKit whole repeated build (wall)':46} {wall * 1000:9.1f} ms")
                print(f"  {'BuildKit repeated transfer / layerwise':46} {warm / t_lw:9.2f}x")
        print()
    (root / ".dockerignore").write_text(REALISTIC_IGNORE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
