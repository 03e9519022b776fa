"""`layerwise fix --unsafe` on every Dockerfile of the real-world corpus.

For each file the parser accepts: the fixed text parses with BuildKit's own parser (the
`dockerfile` package, moby/buildkit's Go parser), fixing it again changes nothing, and the
findings that were fixed are gone (each rule has fewer findings by at least the number of its
findings that carried a fix). The structural transforms run without a build context (the corpus
holds Dockerfiles only), as `layerwise fix --unsafe --no-context` would. The counts are printed at
the end of the run (and written as JSON to LAYERWISE_FIX_CORPUS_REPORT when set).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile as buildkit
import pytest

from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.errors import DockerfileSyntaxError
from layerwise.fixes.structural import fix_all
from layerwise.rules.engine import lint

pytestmark = pytest.mark.shared


@dataclass
class Outcome:
    name: str
    changed: bool = False
    problems: list[str] = field(default_factory=list)
    fixed: Counter[str] = field(default_factory=Counter)  # rule -> fixes applied
    structural: Counter[str] = field(default_factory=Counter)  # transform -> applied


def _check(path: Path) -> Outcome | None:
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    try:
        df = parse_dockerfile(text, path.name)
    except DockerfileSyntaxError:
        return None  # the corpus's files BuildKit rejects too
    out = Outcome(path.name)
    result = fix_all(df, unsafe=True)
    out.changed = result.text != text
    if not out.changed:
        return out
    for f in result.applied:
        out.fixed[f.rule] += 1
        if f.fix is not None and f.fix.safety == "unsafe":
            out.structural[f.fix.description.split(":", 1)[0]] += 1
    for _rule, what in result.structural:
        out.structural[what.split(":", 1)[0]] += 1
    try:
        buildkit.parse_string(result.text)
    except buildkit.GoParseError as exc:
        out.problems.append(f"BuildKit's parser rejects the fixed file: {exc}")
        return out
    fixed_df = parse_dockerfile(result.text, path.name)
    again = fix_all(fixed_df, unsafe=True)
    if again.text != result.text:
        out.problems.append("fixing the fixed file changes it again")
    # The findings of the original that carried a fix must be gone (a fix the engine rejected,
    # because its result would not parse, leaves its finding behind).
    original = lint(df).findings
    before = Counter(f.rule for f in original)
    fixable = Counter(f.rule for f in original if f.fix is not None)
    fixable.subtract(Counter(f.rule for f, _ in result.rejected))
    after = Counter(f.rule for f in lint(fixed_df).findings)
    for rule, count in fixable.items():
        if count > 0 and after[rule] > before[rule] - count:
            out.problems.append(f"{rule}: {before[rule]} findings before, {after[rule]} after")
    return out


@pytest.fixture(scope="module")
def outcomes(shared: Path, request: pytest.FixtureRequest) -> list[Outcome]:
    files = sorted((shared / "corpus" / "dockerfiles").iterdir())
    results = [o for o in map(_check, files) if o is not None]
    _report(request, len(files), results)
    return results


def _report(request: pytest.FixtureRequest, total: int, results: list[Outcome]) -> None:
    fixed: Counter[str] = Counter()
    structural: Counter[str] = Counter()
    for o in results:
        fixed.update(o.fixed)
        structural.update(o.structural)
    summary = {
        "files": total,
        "parsed": len(results),
        "changed": sum(o.changed for o in results),
        "with_problems": sum(bool(o.problems) for o in results),
        "fixes_by_rule": dict(sorted(fixed.items())),
        "structural": dict(sorted(structural.items())),
    }
    path = os.environ.get("LAYERWISE_FIX_CORPUS_REPORT")
    if path:
        Path(path).write_text(json.dumps(summary, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(f"fix --unsafe on the corpus: {json.dumps(summary)}")


def test_fixed_corpus_files_parse_are_idempotent_and_lose_their_findings(
    outcomes: list[Outcome],
) -> None:
    bad = [(o.name, o.problems) for o in outcomes if o.problems]
    assert not bad, bad[:10]


def test_the_corpus_exercises_every_structural_transform(outcomes: list[Outcome]) -> None:
    structural: Counter[str] = Counter()
    for o in outcomes:
        structural.update(o.structural)
    assert {"manifest-first", "multi-stage", "non-root"} <= set(structural), structural
    assert sum(o.changed for o in outcomes) > len(outcomes) // 2
