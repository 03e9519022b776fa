"""`layerwise deps` reports: text for a terminal, markdown for a pull request, JSON for CI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layerwise.deps.analysis import Dependency, DepsReport

MB = 1_000_000


def mb(value: int | None) -> str:
    """Decimal megabytes, as `docker images` shows them."""
    if value is None:
        return "?"
    if value < 100_000:
        return f"{value / 1000:.1f} kB"
    return f"{value / MB:.1f} MB"


def to_json(report: DepsReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def _status(dep: Dependency) -> str:
    if not dep.direct:
        return "transitive"
    if not dep.used:
        return "dev tool" if dep.dev_tool else "UNUSED"
    if dep.dev_tool and not any(u.kind == "runtime" for u in dep.usage):
        return "dev tool"
    if dep.required_by and not dep.usage:
        return "required"
    return "used"


def _evidence(dep: Dependency) -> str:
    if not dep.direct:
        return "via " + ", ".join(dep.pulled_in_by)
    if dep.usage:
        u = dep.usage[0]
        more = f" +{len(dep.usage) - 1}" if len(dep.usage) > 1 else ""
        return f"{u.where} ({u.how}){more}"
    if dep.required_by:
        return "required by " + ", ".join(dep.required_by)
    if dep.installed is False:
        return "not installed in the image"
    return "never imported"


def _rows(report: DepsReport, transitive: bool) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for dep in report.dependencies:
        if dep.direct == transitive:
            continue
        rows.append(
            (
                dep.name,
                dep.version or "",
                _status(dep),
                mb(dep.installed_bytes) if report.environment is not None else "",
                mb(dep.removable_bytes) if dep.removable_bytes is not None else "",
                ", ".join(dep.declared_in) if dep.direct else "",
                _evidence(dep),
            )
        )
    return rows


_HEAD = ("dependency", "version", "status", "installed", "saves", "declared in", "evidence")


def render_text(report: DepsReport) -> str:
    lines = []
    where = f" (image {report.image})" if report.image else ""
    lines.append(f"{report.root}{where}: {report.scanned_files} Python files scanned")
    for m in report.manifests:
        if m.in_final:
            groups = f" [{', '.join(m.groups)}]" if m.groups else ""
            at = f" (Dockerfile:{m.line}, stage {m.stage})" if m.line else ""
            lines.append(f"  installs {m.manifest or m.kind}{groups}{at}")
        elif m.note == "not installed":
            lines.append(f"  {m.manifest}: not installed into the image")
        elif m.line:
            lines.append(f"  {m.manifest or m.kind}: stage {m.stage} (does not reach the image)")
    rows = _rows(report, transitive=False)
    if rows:
        lines.append("")
        lines += _table(_HEAD, rows)
    trows = _rows(report, transitive=True)
    if trows:
        lines.append("")
        lines.append("pulled in by the declared dependencies:")
        lines += _table(_HEAD, trows)
    if report.findings:
        lines.append("")
        for f in report.findings:
            at = f"{f.path}:{f.line}: " if f.path and f.line else ""
            lines.append(f"{at}{f.code} {f.message}")
    total = report.removable_bytes
    if total:
        lines.append("")
        lines.append(
            f"removing the unused dependencies and development tools from the image saves "
            f"{mb(total)} (`layerwise deps --fix` writes the change)"
        )
    for note in report.notes:
        lines.append(f"note: {note}")
    for err in report.parse_errors:
        lines.append(f"warning: {err}")
    return "\n".join(lines)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    keep = [i for i in range(len(head)) if any(r[i] for r in rows)]
    widths = {i: max(len(head[i]), *(len(r[i]) for r in rows)) for i in keep}
    out = ["  ".join(head[i].ljust(widths[i]) for i in keep).rstrip()]
    for r in rows:
        out.append("  ".join(r[i].ljust(widths[i]) for i in keep).rstrip())
    return out


def render_markdown(report: DepsReport) -> str:
    lines = [f"## Dependencies of `{report.root.name}`", ""]
    if report.image:
        lines.append(f"Sizes measured in image `{report.image}`.")
    else:
        lines.append("No image given: sizes unknown.")
    lines.append("")
    rows = _rows(report, transitive=False) + _rows(report, transitive=True)
    lines.append("| " + " | ".join(_HEAD) + " |")
    lines.append("|" + "---|" * len(_HEAD))
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    if report.findings:
        lines += ["", "### Findings", ""]
        for f in report.findings:
            size = f" ({mb(f.bytes)})" if f.bytes else ""
            lines.append(f"- **{f.code}** `{f.name}`{size}: {f.message}")
    total = report.removable_bytes
    if total:
        lines += ["", f"Removing them saves **{mb(total)}** in the image."]
    return "\n".join(lines) + "\n"
