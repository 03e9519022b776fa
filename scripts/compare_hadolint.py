#!/usr/bin/env python3
"""Compare layerwise's findings with hadolint's recorded findings over the corpus.

    .venv/bin/python scripts/compare_hadolint.py                    # table per mapped code
    .venv/bin/python scripts/compare_hadolint.py --format markdown  # the table in docs/hadolint.md
    .venv/bin/python scripts/compare_hadolint.py --show DL3003      # every disagreement of a code

For each hadolint code that a layerwise rule declares, a finding of either tool is matched on
the same file and the same instruction: both tools point into an instruction, hadolint at its
first line, layerwise sometimes at the exact command inside it, so lines are compared as the
first line of the instruction that contains them. Agreement is both / (both + layerwise-only +
hadolint-only). Files hadolint could not parse (DL1000) are left out: hadolint reports nothing
else on them. Codes hadolint does not report by default (severity "ignore") cannot agree and are
listed apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import DockerfileSyntaxError
from layerwise.rules import all_rules, lint

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared"
TARGET = 95.0
# hadolint rules whose default severity is "ignore": never in the recorded findings.
OFF_IN_HADOLINT = frozenset({"DL3057"})

Key = tuple[str, int]  # file, first line of the instruction


@dataclass
class CodeStats:
    code: str
    rules: list[str]
    both: set[Key] = field(default_factory=set)
    layerwise_only: set[Key] = field(default_factory=set)
    hadolint_only: set[Key] = field(default_factory=set)

    @property
    def compared(self) -> int:
        return len(self.both) + len(self.layerwise_only) + len(self.hadolint_only)

    @property
    def agreement(self) -> float | None:
        return 100.0 * len(self.both) / self.compared if self.compared else None

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "rules": self.rules,
            "both": len(self.both),
            "layerwise_only": len(self.layerwise_only),
            "hadolint_only": len(self.hadolint_only),
            "agreement": self.agreement,
            "off_in_hadolint": self.code in OFF_IN_HADOLINT,
        }


@dataclass
class Comparison:
    stats: dict[str, CodeStats]
    files: int
    skipped_hadolint_unparsed: list[str]
    skipped_layerwise_unparsed: list[str]

    def below_target(self) -> list[CodeStats]:
        return [
            s
            for s in self.stats.values()
            if s.code not in OFF_IN_HADOLINT and s.agreement is not None and s.agreement < TARGET
        ]


def mapped_codes() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rule in all_rules():
        for code in rule.hadolint:
            out.setdefault(code, []).append(rule.id)
    return out


def instruction_line(df: Dockerfile, line: int) -> int:
    """The first line of the instruction that contains `line` (the line itself otherwise)."""
    for ins in df.instructions:
        if ins.start_line <= line <= ins.end_line:
            return ins.start_line
    return line


def compare(
    shared: Path = DEFAULT_SHARED, codes: Iterable[str] | None = None, *, shellcheck: bool = False
) -> Comparison:
    """With `shellcheck`, LW621 runs too and ShellCheck's SC codes are compared as well."""
    corpus = shared / "corpus"
    recorded: dict[str, list[dict[str, object]]] = json.loads(
        (corpus / "hadolint-2.x.json").read_text()
    )
    mapped = mapped_codes()
    wanted = set(codes) if codes else set(mapped)
    if shellcheck:
        wanted |= {str(f["code"]) for fs in recorded.values() for f in fs}
        wanted = {c for c in wanted if c in mapped or c.startswith("SC")}
        for code in wanted:
            if code.startswith("SC"):
                mapped.setdefault(code, ["LW621"])
    stats = {c: CodeStats(c, mapped.get(c, [])) for c in sorted(wanted)}
    unparsed_h: list[str] = []
    unparsed_l: list[str] = []
    files = 0
    for name in sorted(recorded):
        findings = recorded[name]
        if any(f["code"] == "DL1000" for f in findings):
            unparsed_h.append(name)
            continue
        text = (corpus / "dockerfiles" / name).read_bytes().decode("utf-8", errors="replace")
        try:
            df = parse_dockerfile(text, name)
        except DockerfileSyntaxError:
            unparsed_l.append(name)
            continue
        files += 1
        theirs: dict[str, set[Key]] = defaultdict(set)
        for f in findings:
            code = str(f["code"])
            line = f["line"]
            if code in stats and isinstance(line, int):
                theirs[code].add((name, instruction_line(df, line)))
        ours: dict[str, set[Key]] = defaultdict(set)
        for finding in lint(df, select=["LW"] if shellcheck else ()).findings:
            for code in finding.covers:
                if code.startswith("SC") and code not in stats and shellcheck:
                    stats[code] = CodeStats(code, ["LW621"])
                if code in stats:
                    ours[code].add((name, instruction_line(df, finding.line)))
        for code, st in stats.items():
            st.both |= ours[code] & theirs[code]
            st.layerwise_only |= ours[code] - theirs[code]
            st.hadolint_only |= theirs[code] - ours[code]
    return Comparison(stats, files, unparsed_h, unparsed_l)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def render_text(result: Comparison) -> str:
    lines = [
        f"{result.files} corpus files compared "
        f"({len(result.skipped_hadolint_unparsed)} left out: hadolint could not parse them; "
        f"{len(result.skipped_layerwise_unparsed)}: layerwise could not)",
        f"{'code':8} {'rules':14} {'both':>6} {'lw-only':>8} {'hl-only':>8} {'agreement':>10}",
    ]
    for st in result.stats.values():
        note = "  (off by default in hadolint)" if st.code in OFF_IN_HADOLINT else ""
        lines.append(
            f"{st.code:8} {','.join(st.rules):14} {len(st.both):>6} "
            f"{len(st.layerwise_only):>8} {len(st.hadolint_only):>8} "
            f"{_pct(st.agreement):>10}{note}"
        )
    return "\n".join(lines)


def render_markdown(result: Comparison) -> str:
    lines = [
        "| code | rules | both | layerwise only | hadolint only | agreement |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for st in result.stats.values():
        agreement = _pct(st.agreement)
        if st.code in OFF_IN_HADOLINT:
            agreement = "off in hadolint"
        lines.append(
            f"| {st.code} | {', '.join(st.rules)} | {len(st.both)} | {len(st.layerwise_only)} "
            f"| {len(st.hadolint_only)} | {agreement} |"
        )
    lines.append("")
    lines.append(
        f"{result.files} corpus files; {len(result.skipped_hadolint_unparsed)} files that "
        "hadolint could not parse (DL1000) are left out."
    )
    return "\n".join(lines)


def render_show(result: Comparison, code: str) -> str:
    st = result.stats[code]
    out = [f"{code}: layerwise only"]
    out += [f"  {f}:{line}" for f, line in sorted(st.layerwise_only)]
    out.append(f"{code}: hadolint only")
    out += [f"  {f}:{line}" for f, line in sorted(st.hadolint_only)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/ directory")
    parser.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    parser.add_argument("--code", action="append", help="only these codes (repeatable)")
    parser.add_argument("--show", metavar="CODE", help="list the disagreements of one code")
    parser.add_argument(
        "--shellcheck", action="store_true", help="also run LW621 and compare SC codes (slow)"
    )
    args = parser.parse_args(argv)
    if not (args.shared / "corpus" / "hadolint-2.x.json").is_file():
        print(f"no corpus under {args.shared} (use --shared)", file=sys.stderr)
        return 2
    codes = args.code or ([args.show] if args.show else None)
    result = compare(args.shared, codes, shellcheck=args.shellcheck)
    if args.show:
        print(render_show(result, args.show))
    elif args.format == "markdown":
        print(render_markdown(result))
    elif args.format == "json":
        print(json.dumps([s.to_json() for s in result.stats.values()], indent=2))
    else:
        print(render_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
