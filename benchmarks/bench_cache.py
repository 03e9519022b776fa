"""The history replay on a large synthetic repository.

    .venv/bin/python benchmarks/bench_cache.py [--commits 10000] [--files 5000] [--keep DIR]

Builds (with `git fast-import`, not timed) a repository of --files files and --commits commits:
most commits change a few source files, some the dependency manifest, some only docs (excluded by
.dockerignore), a few the Dockerfile or the .dockerignore, and some revert the previous commit.
Then times `layerwise cache --history` over all commits (goal, issue 6: 10,000 commits over 5,000
files in under 10 s) against two peers measured in the same run:

* `git log --raw` of the same commits alone: what reading the history costs at the least;
* one `git diff-tree` process per commit (the approach the replay avoids), on a sample of
  commits, extrapolated to all of them.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise.cache.history import replay_history  # noqa: E402

DOCKERFILES = [
    """FROM python:3.11-slim AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY src/ src/
COPY config/ config/
RUN python -m compileall -q src
CMD ["python", "-m", "src.main"]
""",
    """FROM python:3.11-slim AS base
WORKDIR /app
ARG VERSION=1
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY src/ src/
COPY config/ config/
RUN python -m compileall -q src
CMD ["python", "-m", "src.main"]
""",
]
IGNORES = ["docs\n.git\n", "docs\n.git\n*.md\n"]


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def make_repo(path: Path, commits: int, files: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    dirs = max(1, files // 100)
    sources = [f"src/pkg{d:03}/mod{i:03}.py" for d in range(dirs) for i in range(100)][
        : int(files * 0.8)
    ]
    docs = [f"docs/page{i:04}.md" for i in range(int(files * 0.15))]
    config = [f"config/c{i:03}.toml" for i in range(files - len(sources) - len(docs) - 3)]
    state: dict[str, str] = {p: f"# {p}\n" for p in sources + docs + config}
    state["requirements.txt"] = "flask==3.0.3\n"
    state["Dockerfile"] = DOCKERFILES[0]
    state[".dockerignore"] = IGNORES[0]
    out = bytearray()
    mark = 0

    def commit(changes: dict[str, str | None], message: str, when: int) -> None:
        nonlocal mark
        mark += 1
        out.extend(b"commit refs/heads/main\nmark :%d\n" % mark)
        out.extend(b"committer bench <bench@layerwise.invalid> %d +0000\n" % when)
        out.extend(_data(message))
        if mark > 1:
            out.extend(b"from :%d\n" % (mark - 1))
        for p, content in changes.items():
            if content is None:
                out.extend(b"D %s\n" % p.encode())
            else:
                out.extend(b"M 100644 inline %s\n" % p.encode())
                out.extend(_data(content))

    commit(dict(state), "initial import", 1_700_000_000)
    previous: dict[str, str | None] = {}
    for n in range(1, commits):
        roll = rng.random()
        changes: dict[str, str | None] = {}
        if roll < 0.05 and previous:
            changes = dict(previous)  # revert the previous commit
            message = "revert"
        elif roll < 0.15:
            changes["requirements.txt"] = state["requirements.txt"] + f"pkg{n}==1.0\n"
            message = "deps"
        elif roll < 0.35:
            for p in rng.sample(docs, 3):
                changes[p] = state[p] + f"more {n}\n"
            message = "docs"
        elif roll < 0.36:
            changes["Dockerfile"] = DOCKERFILES[(n // 7) % 2]
            message = "dockerfile"
        elif roll < 0.362:
            changes[".dockerignore"] = IGNORES[(n // 11) % 2]
            message = "dockerignore"
        elif roll < 0.40:
            new = f"src/pkg000/new{n}.py"
            changes[new] = f"# {n}\n"
            message = "add module"
        else:
            for p in rng.sample(sources, rng.randint(1, 4)):
                changes[p] = state[p] + f"# change {n}\n"
            message = "code"
        previous = {p: state.get(p) for p in changes}
        for p, content in changes.items():
            if content is None:
                state.pop(p, None)
            else:
                state[p] = content
        commit(changes, message, 1_700_000_000 + n)
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=bytes(out), check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def _cpu() -> float:
    """CPU seconds of this process and the git processes it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--sample", type=int, default=300, help="commits for the per-commit peer")
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="layerwise-bench-cache-") as tmp:
        repo = args.keep or Path(tmp) / "repo"
        started = time.perf_counter()
        make_repo(repo, args.commits, args.files)
        print(
            f"synthetic repository: {args.commits:,} commits, {args.files:,} files "
            f"(made in {time.perf_counter() - started:.1f}s, not timed)"
        )

        started = time.perf_counter()
        subprocess.run(
            ["git", "-C", str(repo), "log", "--raw", "-z", "--no-abbrev", "-n", str(args.commits)],
            check=True,
            capture_output=True,
        )
        git_log = time.perf_counter() - started

        sample = args.sample
        shas = subprocess.run(
            ["git", "-C", str(repo), "rev-list", "-n", str(sample), "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        started = time.perf_counter()
        for sha in shas:
            subprocess.run(
                ["git", "-C", str(repo), "diff-tree", "-r", "--no-commit-id", "--raw", sha],
                check=True,
                capture_output=True,
            )
        per_commit = (time.perf_counter() - started) / len(shas) * args.commits

        load = os.getloadavg()[0]
        cpu = _cpu()
        started = time.perf_counter()
        report = replay_history(repo, commits=args.commits)
        replay = time.perf_counter() - started
        cpu = _cpu() - cpu
        v = report.variants[0]
        print(
            f"replay: {report.commits:,} commits in {replay:.2f}s wall, {cpu:.2f}s CPU "
            f"({replay / report.commits * 1e6:.0f} µs per commit), hit rate "
            f"{(v.hit_rate or 0) * 100:.1f} %, {len(v.commits) - len(v.built)} failing builds"
        )
        print(
            f"  goal (issue 6): under 10 s -> {'met' if replay < 10 else 'NOT met'} "
            f"(load average {load:.1f} on {os.cpu_count()} CPUs while measuring)"
        )
        print(
            f"  peer `git log --raw` alone:          {git_log:.2f}s  ratio {replay / git_log:.1f}x"
        )
        print(
            f"  peer one `git diff-tree` per commit: {per_commit:.2f}s (extrapolated from "
            f"{len(shas)} commits)  ratio {replay / per_commit:.2f}x"
        )


if __name__ == "__main__":
    main()
