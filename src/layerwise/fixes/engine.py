"""Apply the fixes that rules attach to their findings.

Each round lints the current text, takes every fix allowed (safe, or unsafe with `unsafe=True`)
that does not overlap one already taken, applies them all at once, and parses the result; a fix
whose result does not parse is dropped. Rounds repeat until no fix applies (fixes can enable
each other: merging two RUNs may let another rule add a cache mount). A correct rule's fix
removes its own finding, so this ends; `max_rounds` guards against a rule that does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from layerwise.config import Config
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import DockerfileSyntaxError
from layerwise.rules.base import Edit, Finding, Fix
from layerwise.rules.engine import lint

if TYPE_CHECKING:
    from layerwise.context.project import BuildContext


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (offsets refer to `text`)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out: list[str] = []
    pos = 0
    for edit in ordered:
        if edit.start < pos:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        out.append(text[pos : edit.start])
        out.append(edit.replacement)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


@dataclass
class FixResult:
    path: str | None
    original: str
    text: str
    applied: list[Finding] = field(default_factory=list)
    rejected: list[tuple[Finding, str]] = field(default_factory=list)  # fix, and why not applied
    remaining: list[Finding] = field(default_factory=list)  # findings after fixing
    rounds: int = 0

    @property
    def changed(self) -> bool:
        return self.text != self.original


def _allowed(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and (fix.safety == "safe" or unsafe)


def fix_dockerfile(
    df: Dockerfile,
    *,
    unsafe: bool = False,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    build_context: BuildContext | None = None,
    max_rounds: int = 12,
) -> FixResult:
    """Fix a parsed Dockerfile; the original tree is not modified."""
    path = df.path
    result = FixResult(path, df.text, df.text)
    current = df
    seen_texts = {df.text}
    for _ in range(max_rounds):
        findings = lint(
            current, config=config, select=select, ignore=ignore, build_context=build_context
        ).findings
        chosen: list[Finding] = []
        for finding in findings:
            if not _allowed(finding.fix, unsafe):
                continue
            assert finding.fix is not None
            if any(finding.fix.overlaps(other.fix) for other in chosen if other.fix):
                continue
            chosen.append(finding)
        if not chosen:
            result.remaining = findings
            break
        result.rounds += 1
        text, applied = _apply_checked(current.text, path, chosen, result)
        if not applied or text in seen_texts:
            result.remaining = findings
            break
        seen_texts.add(text)
        result.applied.extend(applied)
        current = parse_dockerfile(text, path)
        result.text = text
    else:
        result.remaining = lint(
            current, config=config, select=select, ignore=ignore, build_context=build_context
        ).findings
    return result


def _apply_checked(
    text: str, path: str | None, chosen: list[Finding], result: FixResult
) -> tuple[str, list[Finding]]:
    """Apply all chosen fixes; if the result does not parse, keep the ones that do alone."""
    candidate = apply_edits(text, _edits(chosen))
    if _parses(candidate, path):
        return candidate, chosen
    kept: list[Finding] = []
    for finding in chosen:
        if _parses(apply_edits(text, _edits([*kept, finding])), path):
            kept.append(finding)
        else:
            result.rejected.append((finding, "the fixed Dockerfile would not parse"))
    if not kept:
        return text, []
    return apply_edits(text, _edits(kept)), kept


def _edits(findings: Iterable[Finding]) -> list[Edit]:
    return [e for f in findings if f.fix is not None for e in f.fix.edits]


def _parses(text: str, path: str | None) -> bool:
    try:
        parse_dockerfile(text, path)
    except DockerfileSyntaxError:
        return False
    return True
