"""Every rule, checked on its own documented examples (ruff-style snapshots):

* the bad example triggers the rule, the good one does not;
* a rule with a fix turns the bad example into exactly its `fixed` snapshot, which parses, no
  longer triggers the rule, and does not change when fixed again (idempotent).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.fixes import fix_dockerfile
from layerwise.rules import Example, Rule, all_rules, lint

RULES = all_rules()


def _lint(rule: type[Rule], example: Example, tmp_path: Path) -> list[str]:
    df = parse_dockerfile(example.dockerfile, "Dockerfile")
    context = _context(example, tmp_path) if rule.needs_context else None
    findings = lint(
        df, rules=[rule()], build_context=context, config=example.make_config()
    ).findings
    return [f.rule for f in findings]


def _context(example: Example, tmp_path: Path) -> object:
    from layerwise.context.project import BuildContext

    for name, content in example.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (tmp_path / "Dockerfile").write_text(example.dockerfile)
    return BuildContext.load(tmp_path, tmp_path / "Dockerfile")


def test_registry_is_not_empty() -> None:
    assert len(RULES) >= 15


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_metadata(rule: type[Rule]) -> None:
    assert re.fullmatch(r"LW\d{3}", rule.id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.title and not rule.title.endswith(".")
    assert len(rule.rationale) > 60
    for code in rule.hadolint:
        assert re.fullmatch(r"DL\d{4}", code)
    assert (rule.bad.dockerfile, rule.bad.files) != (rule.good.dockerfile, rule.good.files)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_bad_example_triggers(rule: type[Rule], tmp_path: Path) -> None:
    assert rule.id in _lint(rule, rule.bad, tmp_path)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_good_example_is_clean(rule: type[Rule], tmp_path: Path) -> None:
    assert rule.id not in _lint(rule, rule.good, tmp_path)


FIXABLE = [r for r in RULES if r.fixed is not None]


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.id)
def test_fix_snapshot_and_idempotence(rule: type[Rule], tmp_path: Path) -> None:
    context = _context(rule.bad, tmp_path) if rule.needs_context else None
    df = parse_dockerfile(rule.bad.dockerfile, "Dockerfile")
    config = rule.bad.make_config()
    result = fix_dockerfile(df, unsafe=True, select=[rule.id], build_context=context, config=config)
    assert result.text == rule.fixed
    assert all(f.rule == rule.id for f in result.applied)
    fixed = parse_dockerfile(result.text, "Dockerfile")  # parses
    assert rule.id not in [
        f.rule for f in lint(fixed, rules=[rule()], build_context=context).findings
    ]
    again = fix_dockerfile(
        fixed, unsafe=True, select=[rule.id], build_context=context, config=config
    )
    assert again.text == result.text and not again.applied


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.id)
def test_fix_safety_is_declared(rule: type[Rule]) -> None:
    assert rule.fix_safety in ("safe", "unsafe")
