"""Run the rules over one Dockerfile: selection, suppression comments, severity overrides.

Suppression comments, on the comment lines directly above an instruction (or anywhere, for the
file-wide forms):

    # layerwise: ignore=LW101,LW203      the next instruction, these rules (ids or prefixes)
    # layerwise: ignore-file             the whole file, every rule
    # layerwise: ignore-file=LW4         the whole file, these rules
    # hadolint ignore=DL3008,DL3015      the next instruction, findings covering these codes
    # hadolint global ignore=DL3008      the whole file, findings covering these codes
    # check=skip=JSONArgsRecommended     (BuildKit's directive) the whole file, these checks

so teams moving from hadolint or Docker's build checks keep their suppressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from layerwise.config import Config
from layerwise.dockerfile.model import Model
from layerwise.dockerfile.syntax import Dockerfile, Instruction, Trivia
from layerwise.rules.base import Finding, LintContext, Rule, registry

_LAYERWISE = re.compile(r"^layerwise:\s*(ignore-file|ignore)\s*(?:=\s*([\w\s,]*))?$", re.I)
_HADOLINT = re.compile(r"^hadolint\s+(global\s+)?ignore\s*=\s*([\w\s,]+)$", re.I)

if TYPE_CHECKING:
    from layerwise.context.project import BuildContext


@dataclass
class Suppressions:
    file_all: bool = False
    file_ids: set[str] = field(default_factory=set)
    # (first line, last line, ids) for instruction-level comments
    ranges: list[tuple[int, int, set[str]]] = field(default_factory=list)

    def suppresses(self, finding: Finding) -> bool:
        if self.file_all or _matches(finding, self.file_ids):
            return True
        return any(
            first <= finding.line <= last and _matches(finding, ids)
            for first, last, ids in self.ranges
        )


def _matches(finding: Finding, ids: set[str]) -> bool:
    if not ids:
        return False
    if "ALL" in ids:
        return True
    upper_covers = {c.upper() for c in finding.covers}
    return any(finding.rule.startswith(i) or i in upper_covers for i in ids)


def _ids(text: str | None) -> set[str]:
    return {part.strip().upper() for part in (text or "").split(",") if part.strip()}


def read_suppressions(df: Dockerfile) -> Suppressions:
    sup = Suppressions()
    check = df.directive("check")
    if check:
        for part in check.split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() == "skip":
                sup.file_ids |= _ids(value)
    pending: list[set[str]] = []
    for item in df.items:
        if isinstance(item, Instruction):
            if pending:
                ids = set().union(*pending)
                sup.ranges.append((item.start_line, item.end_line, ids))
            pending = []
            continue
        if not isinstance(item, Trivia) or item.kind == "blank":
            pending = []
            continue
        text = item.comment or ""
        m = _LAYERWISE.match(text)
        if m:
            kind, ids = m.group(1).lower(), _ids(m.group(2))
            if kind == "ignore-file":
                if ids:
                    sup.file_ids |= ids
                else:
                    sup.file_all = True
            elif ids:
                pending.append(ids)
            continue
        m = _HADOLINT.match(text)
        if m:
            if m.group(1):
                sup.file_ids |= _ids(m.group(2))
            else:
                pending.append(_ids(m.group(2)))
    return sup


@dataclass
class LintResult:
    dockerfile: Dockerfile
    model: Model
    findings: list[Finding]
    suppressed: int


def selected_rules(
    config: Config, select: Sequence[str] = (), ignore: Sequence[str] = (), path: str | None = None
) -> list[Rule]:
    """The rules to run: registered, enabled by the config and the command line."""
    from layerwise import rules as _families  # noqa: F401 - importing registers every rule

    out = []
    named = [s.upper() for s in (*select, *config.select)]
    for rule_id, cls in sorted(registry().items()):
        if select and not any(rule_id.startswith(s.upper()) for s in select):
            continue
        if cls.opt_in and not any(rule_id.startswith(s) for s in named):
            continue
        if any(rule_id.startswith(i.upper()) for i in ignore):
            continue
        if not config.enabled(rule_id, path):
            continue
        out.append(cls())
    return out


def lint(
    df: Dockerfile,
    *,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    build_context: BuildContext | None = None,
    model: Model | None = None,
    rules: Iterable[Rule] | None = None,
) -> LintResult:
    """All findings for one parsed Dockerfile, suppressions applied, sorted by position."""
    config = config or Config()
    ctx = LintContext(df, model, config=config, build_context=build_context)
    chosen = list(rules) if rules is not None else selected_rules(config, select, ignore, df.path)
    sup = read_suppressions(df)
    findings: list[Finding] = []
    suppressed = 0
    for rule in chosen:
        if rule.needs_context and build_context is None:
            continue
        for finding in rule.check(ctx):
            if sup.suppresses(finding):
                suppressed += 1
            else:
                findings.append(finding)
    findings.sort(key=Finding.sort_key)
    return LintResult(df, ctx.model, findings, suppressed)
