"""Render lint findings: text (with source snippets on a terminal), JSON, SARIF 2.1.0, GitHub."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from layerwise import __version__
from layerwise.rules.base import Finding, Rule, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/layerwise/layerwise"
_SARIF_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.STYLE: "note",
}


def summary_line(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No problems found."
    counts = Counter(str(f.severity) for f in findings)
    parts = [f"{counts[s]} {s}" for s in ("error", "warning", "info", "style") if counts[s]]
    fixable = sum(1 for f in findings if f.fixable)
    safe = sum(1 for f in findings if f.fix and f.fix.safety == "safe")
    line = f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''} ({', '.join(parts)})."
    if fixable:
        line += f" {safe} fixable with `layerwise fix`"
        if fixable > safe:
            line += f", {fixable - safe} more with `--unsafe`"
        line += "."
    return line


def render_text(
    findings: Sequence[Finding], sources: dict[str | None, str], *, snippets: bool
) -> str:
    out: list[str] = []
    for f in findings:
        fix = " [*]" if f.fixable else ""
        out.append(f"{f.path}:{f.line}:{f.column}: {f.rule} [{f.severity}] {f.message}{fix}")
        if snippets:
            out.extend(_snippet(f, sources.get(f.path)))
    return "\n".join(out)


def _snippet(f: Finding, text: str | None) -> list[str]:
    if not text:
        return []
    lines = text.split("\n")
    if not 1 <= f.line <= len(lines):
        return []
    width = len(str(f.end_line))
    out = []
    last = min(f.end_line, f.line + 3, len(lines))
    for n in range(f.line, last + 1):
        out.append(f"  {n:>{width}} | {lines[n - 1].rstrip()}")
        if n == f.line:
            end = f.end_column if f.end_line == f.line else len(lines[n - 1]) + 1
            marks = "^" * max(1, end - f.column)
            out.append(f"  {'':>{width}} | {' ' * (f.column - 1)}{marks}")
    return out


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2, ensure_ascii=False)


def render_github(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands (annotations on the pull request diff)."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning"}
    out = []
    for f in findings:
        kind = level.get(f.severity, "notice")
        message = (
            f"{f.rule} {f.message}".replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        )
        path = (f.path or "").replace(",", "%2C").replace(":", "%3A")
        out.append(
            f"::{kind} file={path},line={f.line},col={f.column},endLine={f.end_line},"
            f"endColumn={f.end_column},title={f.rule} ({f.name})::{message}"
        )
    return "\n".join(out)


def sarif_log(
    findings: Sequence[Finding], rules: Sequence[type[Rule]], *, base: Path | None = None
) -> dict[str, Any]:
    """A SARIF 2.1.0 log, as GitHub code scanning accepts it."""
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        uri = f.path or "Dockerfile"
        if base is not None:
            try:
                uri = Path(uri).resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                uri = Path(uri).as_posix()
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                    }
                }
            ],
            "properties": {"covers": list(f.covers), "fixable": f.fixable},
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "layerwise",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": [_sarif_rule(r) for r in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _sarif_rule(rule: type[Rule]) -> dict[str, Any]:
    help_text = f"{rule.title}\n\n{rule.rationale}"
    help_md = (
        f"**{rule.title}**\n\n{rule.rationale}\n\n"
        f"Bad:\n```dockerfile\n{rule.bad.dockerfile}```\n\n"
        f"Good:\n```dockerfile\n{rule.good.dockerfile}```"
    )
    tags = [f"hadolint:{c}" for c in rule.hadolint] + [f"docker-check:{c}" for c in rule.buildkit]
    return {
        "id": rule.id,
        "name": _pascal(rule.name),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {"tags": tags, "precision": "high"},
    }


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def render_sarif(
    findings: Sequence[Finding], rules: Sequence[type[Rule]], base: Path | None
) -> str:
    return json.dumps(sarif_log(findings, rules, base=base), indent=2, ensure_ascii=False)
