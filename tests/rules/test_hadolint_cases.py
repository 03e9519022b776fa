"""hadolint's own rule specs (peer-tests/hadolint/cases.json) run against layerwise.

For every case whose DL code some registered rule declares, and on which the released hadolint
2.15.1 agrees with its spec: a `violation` must produce a finding covering that code, an `ok`
must not. Snippets without FROM get `FROM scratch` in front (except DL3061, which is about what
comes before the first FROM); ONBUILD cases run as given. Every DL code in the file is either
mapped by a rule or listed in docs/hadolint.md as deliberately not covered, with the reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hadolint_docs import DOCS, not_covered, pending
from layerwise import parse_dockerfile
from layerwise.errors import DockerfileSyntaxError
from layerwise.rules import all_rules, lint

pytestmark = pytest.mark.shared


# Cases a rule of another family still gets wrong, with the reason; reported to its owner.
# Strict: a listed case that passes fails the test, so the entry goes once the rule is fixed.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def mapped_codes() -> dict[str, list[str]]:
    """DL code -> ids of the rules that declare it."""
    out: dict[str, list[str]] = {}
    for rule in all_rules():
        for code in rule.hadolint:
            out.setdefault(code, []).append(rule.id)
    return out


def load_cases(shared: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(
        (shared / "peer-tests" / "hadolint" / "cases.json").read_text()
    )
    return cases


def prepare(case: dict[str, Any]) -> str:
    text: str = case["dockerfile"]
    if case["rule"] != "DL3061" and not re.search(r"^\s*from\s", text, re.I | re.M):
        text = "FROM scratch\n" + text
    return text


def covered_codes(text: str) -> set[str] | None:
    """The DL codes of the findings on a snippet (None when layerwise cannot parse it)."""
    try:
        df = parse_dockerfile(text, "Dockerfile")
    except DockerfileSyntaxError:
        return None
    return {c for f in lint(df).findings for c in f.covers}


def run_case(case: dict[str, Any]) -> bool:
    codes = covered_codes(prepare(case))
    if codes is None:
        return case["expect"] == "violation"  # hadolint would report DL1000 anyway
    found = case["rule"] in codes
    return found if case["expect"] == "violation" else not found


@pytest.fixture(scope="module")
def cases(shared: Path) -> list[dict[str, Any]]:
    return load_cases(shared)


def test_hadolint_cases_for_mapped_codes(cases: list[dict[str, Any]]) -> None:
    mapped = mapped_codes()
    selected = [c for c in cases if c["rule"] in mapped and c["hadolint_2_15_1_agrees"]]
    assert selected, "no hadolint code is mapped by a rule"
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures = []
    known = []
    for case in selected:
        total[case["rule"]] += 1
        key = (case["rule"], case["dockerfile"].strip())
        ok = run_case(case)
        passed[case["rule"]] += ok
        if key in KNOWN_FAILURES:
            known.append(key)
            if ok:
                failures.append(f"{key} passes now: remove it from KNOWN_FAILURES")
        elif not ok:
            failures.append(f"{case['rule']} expect {case['expect']}: {case['dockerfile']!r}")
    print("\nhadolint cases per mapped code (hadolint 2.15.1 agrees with the spec):")
    print(f"{'code':8} {'rules':16} {'passed':>8}")
    for code in sorted(total):
        print(f"{code:8} {','.join(mapped[code]):16} {passed[code]:>4}/{total[code]:<4}")
    print(f"{'all':25} {sum(passed.values()):>4}/{sum(total.values())}")
    for key in known:
        print(f"known failure {key}: {KNOWN_FAILURES[key]}")
    assert not failures, "\n".join(failures)


def test_every_code_is_mapped_or_documented(cases: list[dict[str, Any]]) -> None:
    mapped = set(mapped_codes())
    codes = {c["rule"] for c in cases}
    missing = sorted(codes - mapped - not_covered() - pending())
    assert not missing, f"DL codes neither mapped by a rule nor listed in {DOCS.name}: {missing}"
    both = sorted(mapped & (not_covered() | pending()))
    assert not both, (
        f"codes mapped by a rule but still listed as not covered or pending in {DOCS.name}: "
        f"{both} (update the docs)"
    )
