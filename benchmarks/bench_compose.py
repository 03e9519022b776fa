"""Compose loading speed: layerwise.compose against `docker compose config`, same run.

Loads every fixture project under tests/fixtures/compose/ (files, .env, interpolation, extends,
include, profiles) and resolves its build targets, in process, and compares with the time the
Docker Compose v2 CLI takes to resolve the same project (`docker compose config --format json`,
a Go binary started per project, as a tool that shells out to Compose would pay).

    .venv/bin/python benchmarks/bench_compose.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from layerwise.compose import build_targets, load_project  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "compose"


def options(directory: Path) -> dict[str, object]:
    path = directory / "case.json"
    return json.loads(path.read_text()) if path.exists() else {}


def env_for(opts: dict[str, object]) -> dict[str, str]:
    extra = opts.get("env") or {}
    assert isinstance(extra, dict)
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), **extra}


def layerwise_round(cases: list[Path]) -> None:
    for directory in cases:
        opts = options(directory)
        files = opts.get("files")
        profiles = opts.get("profiles")
        env_files = opts.get("env_files")
        project_dir = opts.get("project_directory")
        project = load_project(
            directory,
            files=list(files) if isinstance(files, list) else None,
            env=env_for(opts),
            profiles=list(profiles) if isinstance(profiles, list) else None,
            project_directory=directory / str(project_dir) if project_dir else None,
            env_files=list(env_files) if isinstance(env_files, list) else None,
        )
        build_targets(project)


def compose_round(docker: str, cases: list[Path]) -> None:
    for directory in cases:
        opts = options(directory)
        args: list[str] = []
        for f in opts.get("files", []) or []:  # type: ignore[union-attr]
            args += ["-f", str(f)]
        for p in opts.get("profiles", []) or []:  # type: ignore[union-attr]
            args += ["--profile", str(p)]
        for e in opts.get("env_files", []) or []:  # type: ignore[union-attr]
            args += ["--env-file", str(e)]
        if opts.get("project_directory"):
            args += ["--project-directory", str(opts["project_directory"])]
        subprocess.run(
            [docker, "compose", *args, "config", "--format", "json"],
            cwd=directory,
            env=env_for(opts),
            capture_output=True,
            check=True,
        )


def best_of(rounds: int, run: object) -> float:
    assert callable(run)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cases = sorted(p for p in FIXTURES.iterdir() if p.is_dir())
    ours = best_of(args.rounds, lambda: layerwise_round(cases))
    print(
        f"layerwise.compose: {len(cases)} projects in {ours * 1000:.1f} ms "
        f"({ours / len(cases) * 1000:.2f} ms per project, best of {args.rounds})"
    )
    docker = os.environ.get("LAYERWISE_DOCKER") or "/usr/bin/docker"
    if not Path(docker).exists() and not shutil.which("docker"):
        print("docker compose: not available, no ratio")
        return
    peer = best_of(max(1, args.rounds // 2), lambda: compose_round(docker, cases))
    print(
        f"docker compose config: {len(cases)} projects in {peer * 1000:.1f} ms "
        f"({peer / len(cases) * 1000:.2f} ms per project)"
    )
    print(f"ratio (docker compose / layerwise): {peer / ours:.1f}x")


if __name__ == "__main__":
    main()
