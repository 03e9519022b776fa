"""Small helpers for the rule family tests: lint one Dockerfile text with one rule, apply its
fixes, and check that a fix is idempotent and removes its own findings."""

from __future__ import annotations

from pathlib import Path

from layerwise import parse_dockerfile
from layerwise.context.project import BuildContext
from layerwise.fixes import fix_dockerfile
from layerwise.rules import Finding, get_rule, lint


def context(root: Path, dockerfile: str, files: dict[str, str]) -> BuildContext:
    """A real build context: `files` (path -> content) and the Dockerfile written under `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (root / "Dockerfile").write_text(dockerfile)
    return BuildContext.load(root, root / "Dockerfile")


def findings(text: str, rule: str, *, build_context: BuildContext | None = None) -> list[Finding]:
    cls = get_rule(rule)
    assert cls is not None, rule
    df = parse_dockerfile(text, "Dockerfile")
    return lint(df, rules=[cls()], build_context=build_context).findings


def lines(text: str, rule: str, *, build_context: BuildContext | None = None) -> list[int]:
    return [f.line for f in findings(text, rule, build_context=build_context)]


def fix(text: str, rule: str, *, unsafe: bool = False) -> str:
    """The text after fixing with one rule; asserts the result parses, is idempotent and has
    no fixable finding of that rule left."""
    df = parse_dockerfile(text, "Dockerfile")
    result = fix_dockerfile(df, select=[rule], unsafe=unsafe)
    again = parse_dockerfile(result.text, "Dockerfile")
    left = [f for f in findings(result.text, rule) if f.fix and (unsafe or f.fix.safety == "safe")]
    assert not left
    assert fix_dockerfile(again, select=[rule], unsafe=unsafe).text == result.text
    return result.text
