"""Docker's build checks (peer-tests/build-checks/checks.json) run against layerwise.

For every check that a registered rule declares in `buildkit`: each documented `bad` example
produces a finding covering the check, each `good` one does not. Checks no rule declares must
be listed in docs/hadolint.md ("Docker build checks not covered") with the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import shared_path
from hadolint_docs import DOCS, not_covered, pending
from layerwise import parse_dockerfile
from layerwise.rules import all_rules, lint

pytestmark = pytest.mark.shared

# Build contexts the documentation describes in prose. Docker's own page for CopyIgnoredFile
# gives `*/tmp/*`, which does not exclude `./tmp/helloworld.txt` (a real build copies it, see
# tests/integration/test_runtime_rules_docker.py), so the case uses a pattern that does.
CONTEXTS: dict[str, dict[str, str]] = {
    "CopyIgnoredFile": {
        ".dockerignore": "tmp/*\n",
        "tmp/helloworld.txt": "hello\n",
        "forever/helloworld.txt": "hello\n",
    },
}


# Documented examples that Docker's own implementation does not agree with: the case is run
# with the implementation's outcome.
ERRATA: dict[tuple[str, str, int], str] = {
    ("LegacyKeyValueFormat", "bad", 0): (
        "`ARG foo bar` declares two ARGs; BuildKit checks only ENV and LABEL for the legacy "
        "form (dispatchEnv/dispatchLabel; dockerfile_check_test.go tests only those)"
    ),
}


def expected(name: str, kind: str, index: int) -> bool:
    """Whether the case must be reported."""
    bad = kind == "bad"
    return not bad if (name, kind, index) in ERRATA else bad


def declared() -> dict[str, list[str]]:
    """Check name -> ids of the rules that declare it."""
    out: dict[str, list[str]] = {}
    for rule in all_rules():
        for check in rule.buildkit:
            out.setdefault(check, []).append(rule.id)
    return out


def load_checks(shared: Path) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = json.loads(
        (shared / "peer-tests" / "build-checks" / "checks.json").read_text()
    )
    return checks


def covers(name: str, dockerfile: str, tmp_path: Path) -> bool:
    df = parse_dockerfile(dockerfile, "Dockerfile")
    rules = [r for r in all_rules() if name in r.buildkit]
    context = None
    if any(r.needs_context for r in rules):
        context = _context(name, dockerfile, tmp_path)
    findings = lint(df, rules=[r() for r in rules], build_context=context).findings
    return any(name in f.covers for f in findings)


def _context(name: str, dockerfile: str, tmp_path: Path) -> object:
    try:
        from layerwise.context.project import BuildContext  # type: ignore[import-not-found]
    except ImportError:
        pytest.skip(f"{name} needs the build context engine, which is not on this branch yet")
    for rel, content in CONTEXTS.get(name, {}).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return BuildContext.load(tmp_path, tmp_path / "Dockerfile")


def _cases(shared_root: Path) -> list[tuple[str, str, int, str]]:
    out = []
    path = shared_root / "peer-tests" / "build-checks" / "checks.json"
    if not path.is_file():
        return out
    for check in json.loads(path.read_text()):
        for kind in ("bad", "good"):
            for i, text in enumerate(check[kind]):
                out.append((check["name"], kind, i, text))
    return out


CASES = _cases(shared_path())


@pytest.mark.parametrize(
    ("name", "kind", "index", "dockerfile"),
    CASES,
    ids=[f"{n}-{k}{i}" for n, k, i, _ in CASES],
)
def test_build_check_case(
    name: str, kind: str, index: int, dockerfile: str, shared: Path, tmp_path: Path
) -> None:
    if name not in declared():
        pytest.skip(f"{name}: no rule declares it (listed in docs/hadolint.md)")
    found = covers(name, dockerfile, tmp_path)
    note = f" ({ERRATA[name, kind, index]})" if (name, kind, index) in ERRATA else ""
    if expected(name, kind, index):
        assert found, f"{name} {kind} example #{index} is not reported{note}:\n{dockerfile}"
    else:
        assert not found, f"{name} {kind} example #{index} is reported{note}:\n{dockerfile}"


def test_pass_table(shared: Path, tmp_path: Path) -> None:
    """One line per check: which rules declare it and how many examples pass."""
    rules = declared()
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    skipped = []
    for check in load_checks(shared):
        name = check["name"]
        if name not in rules:
            continue
        for kind in ("bad", "good"):
            for i, text in enumerate(check[kind]):
                total[name] += 1
                try:
                    found = covers(name, text, tmp_path / f"{name}-{kind}{i}")
                except pytest.skip.Exception:
                    skipped.append(name)
                    continue
                passed[name] += found == expected(name, kind, i)
    print("\nDocker build checks per declaring rule:")
    for name in sorted(total):
        note = " (skipped: needs the context engine)" if name in skipped else ""
        print(f"{name:34} {','.join(rules[name]):10} {passed[name]:>3}/{total[name]}{note}")
    assert all(passed[n] == total[n] for n in total if n not in skipped)


def test_every_check_is_declared_or_documented(shared: Path) -> None:
    names = {c["name"] for c in load_checks(shared)}
    documented = not_covered() | pending()
    missing = sorted(names - set(declared()) - documented)
    assert not missing, f"checks neither declared by a rule nor listed in {DOCS.name}: {missing}"
    both = sorted(set(declared()) & documented)
    assert not both, (
        f"checks declared by a rule but still listed as not covered or pending in {DOCS.name}: "
        f"{both} (update the docs)"
    )
