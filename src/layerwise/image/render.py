"""Reports for people: Rich tables in a terminal, and Markdown (for a PR comment or a CI
summary). The JSON form is `ImageReport.to_json()` / `ImageComparison.to_json()`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from layerwise.image.analysis import ImageReport
from layerwise.image.compare import ImageComparison
from layerwise.image.gates import GateResult
from layerwise.image.units import human_size

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12] if digest else "-"


def _line(instruction: str | None) -> str:
    """ "path/to/Dockerfile:12" -> "Dockerfile:12" (the full path is in the JSON)."""
    if not instruction:
        return ""
    path, _, line = instruction.rpartition(":")
    return f"{path.rpartition('/')[2]}:{line}"


def _cell(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_report(report: ImageReport, console: Console, top: int = 10) -> None:
    console.print(
        f"[bold]{report.image}[/]  size {human_size(report.size)}  "
        f"efficiency {report.efficiency:.2%}  wasted {human_size(report.wasted_bytes)} "
        f"({report.wasted_percent:.1%} of the bytes above the base layer)  user {report.user}",
        highlight=False,
    )
    layers = Table(title="Layers", title_justify="left")
    with_lines = any(layer.instruction for layer in report.layers)
    columns = ["#", "digest", "size", "added", "changed", "removed", "wasted"]
    columns += ["line", "command"] if with_lines else ["command"]
    for col in columns:
        layers.add_column(col, justify="left" if col in ("digest", "line", "command") else "right")
    for layer in report.layers:
        row = [
            str(layer.index),
            _short(layer.digest),
            human_size(layer.size),
            str(layer.added),
            str(layer.changed),
            str(layer.removed),
            human_size(layer.wasted_bytes) if layer.wasted_bytes else "",
        ]
        if with_lines:
            row.append(_line(layer.instruction))
        row.append(_cell(layer.command, 80))
        layers.add_row(*row)
    console.print(layers)
    if report.findings:
        table = Table(title="Findings", title_justify="left")
        for col in ("severity", "kind", "what", "where", "size", "count"):
            table.add_column(col, justify="right" if col in ("size", "count") else "left")
        for f in report.findings:
            table.add_row(
                f"[{_STYLE[f.severity]}]{f.severity}[/]",
                f.kind,
                _cell(f.title, 60),
                _cell(f.path or "", 50),
                human_size(f.size) if f.size else "",
                str(f.count),
            )
        console.print(table)
    if any(i.size for i in report.inefficiencies):
        table = Table(title="Wasted space (paths in more than one layer)", title_justify="left")
        table.add_column("bytes", justify="right")
        table.add_column("copies", justify="right")
        table.add_column("path")
        for i in [i for i in report.inefficiencies if i.size][:top]:
            table.add_row(human_size(i.size), str(i.count), i.path)
        console.print(table)
    table = Table(title="Largest files", title_justify="left")
    table.add_column("size", justify="right")
    table.add_column("layer", justify="right")
    table.add_column("path")
    for p in report.largest_files[:top]:
        table.add_row(human_size(p.size), str(p.layer), p.path)
    console.print(table)
    table = Table(title="Largest directories", title_justify="left")
    table.add_column("size", justify="right")
    table.add_column("path")
    for p in report.largest_dirs[:top]:
        table.add_row(human_size(p.size), p.path)
    console.print(table)
    if report.debian or report.python:
        table = Table(
            title=f"Packages ({len(report.debian)} Debian, {len(report.python)} Python), largest",
            title_justify="left",
        )
        for col in ("type", "name", "version", "size", "files"):
            table.add_column(col, justify="right" if col in ("size", "files") else "left")
        ranked = sorted(
            [("deb", p.name, p.version, p.bytes, p.files) for p in report.debian]
            + [("python", d.name, d.version, d.bytes, d.files) for d in report.python],
            key=lambda r: -r[3],
        )
        for kind, name, version, size, files in ranked[:top]:
            table.add_row(kind, name, version, human_size(size), str(files))
        console.print(table)


def print_comparison(diff: ImageComparison, console: Console, top: int = 10) -> None:
    console.print(
        f"[bold]{diff.before.image}[/] → [bold]{diff.after.image}[/]: {diff.summary}",
        highlight=False,
    )
    table = Table(title="Size per top-level directory", title_justify="left")
    for col in ("directory", "before", "after", "change"):
        table.add_column(col, justify="left" if col == "directory" else "right")
    for d in diff.dirs:
        if d.before or d.after:
            table.add_row(
                d.path, human_size(d.before), human_size(d.after), human_size(d.delta, True)
            )
    table.add_row(
        "[bold]image[/]",
        human_size(diff.before.size),
        human_size(diff.after.size),
        human_size(diff.size_delta, True),
    )
    console.print(table)
    for title, changes, before in (
        ("Packages removed", diff.removed, True),
        ("Packages added", diff.added, False),
    ):
        if not changes:
            continue
        table = Table(title=f"{title} ({len(changes)})", title_justify="left")
        for col in ("type", "name", "version", "size"):
            table.add_column(col, justify="right" if col == "size" else "left")
        for c in changes[: max(top, 20)]:
            table.add_row(
                c.type,
                c.name,
                (c.before_version if before else c.after_version) or "",
                human_size(c.before_bytes if before else c.after_bytes),
            )
        if len(changes) > max(top, 20):
            table.add_row("", f"… and {len(changes) - max(top, 20)} more", "", "")
        console.print(table)
    for title, findings in (("Findings gone", diff.resolved), ("New findings", diff.introduced)):
        if findings:
            table = Table(title=title, title_justify="left")
            for col in ("kind", "what", "where", "size"):
                table.add_column(col, justify="right" if col == "size" else "left")
            for f in findings:
                table.add_row(
                    f.kind, _cell(f.title, 60), f.path or "", human_size(f.size) if f.size else ""
                )
            console.print(table)


def print_gates(results: list[GateResult], console: Console) -> None:
    for r in results:
        mark = "[green]PASS[/]" if r.passed else "[bold red]FAIL[/]"
        console.print(f"{mark} {r.name}: {r.message}", highlight=False)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(report: ImageReport, top: int = 10) -> str:
    lines = [
        f"## Image `{report.image}`",
        "",
        f"- Size: **{human_size(report.size)}** ({report.files} files)",
        f"- Efficiency: **{report.efficiency:.2%}**, wasted **{human_size(report.wasted_bytes)}** "
        f"({report.wasted_percent:.1%} of the bytes above the base layer)",
        f"- Runs as: `{report.user}`",
        "",
        "### Layers",
        "",
        "| # | size | added | changed | removed | wasted | command |",
        "|--:|--:|--:|--:|--:|--:|---|",
    ]
    for layer in report.layers:
        where = f" ({layer.instruction})" if layer.instruction else ""
        lines.append(
            f"| {layer.index} | {human_size(layer.size)} | {layer.added} | {layer.changed} | "
            f"{layer.removed} | {human_size(layer.wasted_bytes)} | "
            f"`{_md_escape(_cell(layer.command, 80))}`{where} |"
        )
    if report.findings:
        lines += [
            "",
            "### Findings",
            "",
            "| severity | kind | what | where | size |",
            "|---|---|---|---|--:|",
        ]
        for f in report.findings:
            lines.append(
                f"| {f.severity} | {f.kind} | {_md_escape(f.title)} | "
                f"{'`' + _md_escape(f.path) + '`' if f.path else ''} | "
                f"{human_size(f.size) if f.size else ''} |"
            )
    lines += ["", "### Largest files", "", "| size | layer | path |", "|--:|--:|---|"]
    for p in report.largest_files[:top]:
        lines.append(f"| {human_size(p.size)} | {p.layer} | `{_md_escape(p.path)}` |")
    return "\n".join(lines) + "\n"


def markdown_comparison(diff: ImageComparison, top: int = 20) -> str:
    lines = [
        f"## `{diff.before.image}` → `{diff.after.image}`",
        "",
        f"**{diff.summary}**",
        "",
        "| directory | before | after | change |",
        "|---|--:|--:|--:|",
    ]
    for d in diff.dirs:
        if d.before or d.after:
            lines.append(
                f"| `{d.path}` | {human_size(d.before)} | {human_size(d.after)} | "
                f"{human_size(d.delta, True)} |"
            )
    lines.append(
        f"| **image** | {human_size(diff.before.size)} | {human_size(diff.after.size)} | "
        f"{human_size(diff.size_delta, True)} |"
    )
    if diff.removed:
        names = ", ".join(f"`{c.name}`" for c in diff.removed[:top])
        more = f" and {len(diff.removed) - top} more" if len(diff.removed) > top else ""
        lines += ["", f"**Removed ({len(diff.removed)}):** {names}{more}"]
    if diff.added:
        names = ", ".join(f"`{c.name}`" for c in diff.added[:top])
        more = f" and {len(diff.added) - top} more" if len(diff.added) > top else ""
        lines += ["", f"**Added ({len(diff.added)}):** {names}{more}"]
    if diff.resolved:
        lines += ["", "**Findings gone:**", ""]
        lines += [f"- {f.kind}: {_md_escape(f.title)}" for f in diff.resolved]
    if diff.introduced:
        lines += ["", "**New findings:**", ""]
        lines += [f"- {f.kind}: {_md_escape(f.title)}" for f in diff.introduced]
    return "\n".join(lines) + "\n"
