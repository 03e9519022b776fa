"""Render an `OptimizeResult`: text for a terminal, JSON (stable keys, see docs/optimize.md),
Markdown for a pull-request comment."""

from __future__ import annotations

import json
from typing import Any

from layerwise import __version__
from layerwise.fixes.predict import StepRef
from layerwise.optimize import OptimizeResult


def to_json(result: OptimizeResult) -> str:
    data: dict[str, Any] = {"version": __version__, **result.to_json()}
    return json.dumps(data, indent=2)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1000  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def _steps(refs: list[StepRef]) -> str:
    return ", ".join(f"line {r.line} `{r.instruction}`" for r in refs) or "none"


def gain_lines(result: OptimizeResult) -> list[str]:
    g = result.gain
    out = []
    before, after = len(g.rebuilt_before), len(g.rebuilt_after)
    line = f"a source-code edit re-runs {after} step{'s' if after != 1 else ''}"
    line += f" (was {before})"
    ib, ia = len(g.installs_rebuilt_before), len(g.installs_rebuilt_after)
    if ib or ia:
        line += f"; dependency installs re-run: {ia} (was {ib})"
    out.append(line)
    if g.no_longer_rebuilt:
        out.append("no longer re-run by a source edit: " + _steps(g.no_longer_rebuilt))
    if g.base_before != g.base_after:
        out.append(f"final image base: {g.base_before} -> {g.base_after}")
    if g.build_tools_removed:
        out.append("build tools no longer in the final image: " + ", ".join(g.build_tools_removed))
    other = [p for p in g.packages_removed if p not in g.build_tools_removed]
    if other:
        out.append("packages no longer in the final image: " + ", ".join(other))
    if g.packages_added:
        out.append("runtime packages added to the final image: " + ", ".join(g.packages_added))
    if g.context is not None:
        c = g.context
        out.append(
            f"build context: {c.files_after} files, {_size(c.bytes_after)} sent "
            f"(was {c.files_before} files, {_size(c.bytes_before)})"
        )
    return out


def render_text(result: OptimizeResult, *, written: bool = False) -> str:
    out: list[str] = []
    df_label = result.label(result.dockerfile.path)
    out.append(f"{result.directory} ({df_label})")
    out.append("")
    out.append(f"Findings: {len(result.findings)}")
    for f in result.findings:
        fix = f" [{f.fix.safety} fix]" if f.fix else ""
        out.append(f"  {df_label}:{f.line}:{f.column}: {f.rule} [{f.severity}] {f.message}{fix}")
    if result.fixes:
        out.append("")
        out.append(f"Fixes applied: {len(result.fixes)}")
        for fx in result.fixes:
            where = f" (line {fx.line})" if fx.line else ""
            out.append(f"  {fx.rule} [{fx.safety}]{where}: {fx.description}")
    if result.available:
        out.append("")
        out.append("With --unsafe, also:")
        for name, description in result.available:
            out.append(f"  {name}: {description}")
    if result.skipped:
        out.append("")
        out.append("Not applied:")
        for name, why in result.skipped:
            out.append(f"  {name}: {why}")
    out.append("")
    out.append("Predicted gain (without building):")
    out.extend(f"  {line}" for line in gain_lines(result))
    for note in result.notes:
        out.append(f"  note: {note}")
    if result.remaining:
        out.append("")
        out.append(f"Remaining findings: {len(result.remaining)}")
        for f in result.remaining:
            out.append(f"  {df_label}:{f.line}:{f.column}: {f.rule} [{f.severity}] {f.message}")
    out.append("")
    if not result.changed:
        out.append("Nothing to change.")
    else:
        for change in result.changes:
            out.append(change.diff(result.label(change.path)).rstrip("\n"))
        out.append("")
        if written:
            names = ", ".join(result.label(c.path) for c in result.changes)
            out.append(f"Wrote {names}.")
        else:
            out.append("Not written: rerun with --write to apply.")
    return "\n".join(out)


def render_markdown(result: OptimizeResult) -> str:
    df_label = result.label(result.dockerfile.path)
    out = [f"## layerwise optimize: `{df_label}`", ""]
    if not result.changed:
        out.append("Nothing to change.")
    out.append("### Predicted gain")
    out.append("")
    out.extend(f"- {line}" for line in gain_lines(result))
    out.append("")
    if result.findings:
        out.append(f"### Findings ({len(result.findings)})")
        out.append("")
        out.append("| line | rule | severity | message | fix |")
        out.append("| ---: | --- | --- | --- | --- |")
        for f in result.findings:
            msg = f.message.replace("|", "\\|")
            fix = f.fix.safety if f.fix else ""
            out.append(f"| {f.line} | {f.rule} | {f.severity} | {msg} | {fix} |")
        out.append("")
    if result.fixes:
        out.append("### Fixes")
        out.append("")
        for fx in result.fixes:
            out.append(f"- **{fx.rule}** ({fx.safety}): {fx.description}")
        out.append("")
    if result.available:
        out.append("### With `--unsafe`, also")
        out.append("")
        out.extend(f"- **{name}**: {d}" for name, d in result.available)
        out.append("")
    if result.skipped:
        out.append("### Not applied")
        out.append("")
        out.extend(f"- **{name}**: {why}" for name, why in result.skipped)
        out.append("")
    for change in result.changes:
        out.append(f"### `{result.label(change.path)}`")
        out.append("")
        out.append("```diff")
        out.append(change.diff(result.label(change.path)).rstrip("\n"))
        out.append("```")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
