"""How fast layerwise.shell understands every RUN script of the corpus, against bashlex.

    .venv/bin/python benchmarks/bench_shell.py [--repeat N]

Measured in one process on the same scripts (every RUN of ../shared/corpus, as BuildKit would run
it): bashlex.parse alone (a pure-Python port of bash's grammar, the usual choice), the raw
tree-sitter parse (the floor), `analyze` (parse + commands), and `analyze` plus the package
operations and every fact (what the rules read). Best of N runs; ratios < 1 mean faster than
bashlex. bashlex rejects some scripts; its time includes those failures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise import parse_dockerfile  # noqa: E402
from layerwise.shell import analyze, analyze_run  # noqa: E402

FACTS = (
    "apt_lists_removed", "apt_cache_cleaned", "apk_cache_disabled", "rpm_cache_cleaned",
    "pip_installs_keeping_cache", "removed_paths", "download_pipes", "wget_without_progress",
    "sudo", "world_writable_chmods", "cds", "user_ops", "mkdirs", "chowns", "unprotected_pipes",
)  # fmt: skip


def corpus_scripts() -> list[str]:
    shared = Path(os.environ.get("LAYERWISE_SHARED", REPO.parent / "shared"))
    scripts = []
    for path in sorted((shared / "corpus" / "dockerfiles").iterdir()):
        try:
            df = parse_dockerfile(path.read_bytes().decode("utf-8", "surrogateescape"))
        except Exception:
            continue
        for ins in df.instructions:
            result = analyze_run(ins)
            if result is not None and result.script.text and result.script.parse_error is None:
                scripts.append(result.script.text)
    return scripts


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    import bashlex
    import tree_sitter
    import tree_sitter_bash

    scripts = corpus_scripts()
    encoded = [s.encode("utf-8", "surrogatepass") for s in scripts]
    ts_parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    rejected = 0

    def run_bashlex() -> None:
        nonlocal rejected
        rejected = 0
        for s in scripts:
            try:
                bashlex.parse(s)
            except Exception:
                rejected += 1

    def run_tree_sitter() -> None:
        for b in encoded:
            ts_parser.parse(b)

    def run_analyze() -> None:
        for s in scripts:
            analyze(s)

    def run_full() -> None:
        for s in scripts:
            result = analyze(s)
            result.package_ops  # noqa: B018
            facts = result.facts
            for name in FACTS:
                getattr(facts, name)

    base = best_of(opts.repeat, run_bashlex)
    rows = [
        ("bashlex.parse (peer)", base),
        ("tree-sitter parse only", best_of(opts.repeat, run_tree_sitter)),
        ("layerwise analyze", best_of(opts.repeat, run_analyze)),
        ("analyze + package ops + facts", best_of(opts.repeat, run_full)),
    ]
    chars = sum(len(s) for s in scripts)
    print(f"{len(scripts)} RUN scripts, {chars} characters (bashlex rejects {rejected})")
    print(f"{'':32} {'total s':>9} {'us/script':>10} {'vs bashlex':>11}")
    for label, secs in rows:
        per = secs / len(scripts) * 1e6
        print(f"{label:32} {secs:9.3f} {per:10.1f} {secs / base:10.2f}x")


if __name__ == "__main__":
    main()
