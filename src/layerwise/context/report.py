"""The `layerwise context` report: what a build sends, what it does not need, what to ignore.

`build_report` gathers everything from a `BuildContext`; `to_json` gives the stable JSON shape
(documented in docs/context.md); `render_text` the terminal view. Secrets appear by path and kind
only: no value, no excerpt, nothing derived from the content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerwise.context.dockerignore import Suggestion
from layerwise.context.junk import JunkFound
from layerwise.context.project import BuildContext
from layerwise.context.secrets import Secret
from layerwise.context.walk import Entry, Problem


@dataclass(frozen=True)
class DirSize:
    path: str
    files: int
    bytes: int


@dataclass(frozen=True)
class SourceError:
    line: int
    instruction: str
    message: str


@dataclass
class ContextReport:
    ctx: BuildContext
    sent: list[Entry]  # what BuildKit transfers for this build (non-directories)
    sent_bytes: int
    context_files: int  # the whole context after .dockerignore
    context_bytes: int
    largest_dirs: list[DirSize]
    unused: list[Entry]
    junk: list[JunkFound]
    secrets: list[Secret]
    suggestions: list[Suggestion]
    errors: list[SourceError]
    problems: list[Problem]

    @property
    def unused_bytes(self) -> int:
        return sum(e.size for e in self.unused)


def shown(path: str) -> str:
    """A path fit to print: bytes that are not UTF-8 (kept by os.fsdecode as lone surrogates)
    are written as \\xNN escapes instead of breaking the output."""
    if path.isascii():
        return path
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def largest_dirs(entries: list[Entry], top: int = 10) -> list[DirSize]:
    """Directories by the bytes they hold (everything below them), largest first."""
    files: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for e in entries:
        if e.kind == "dir":
            continue
        parts = e.path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            files[d] = files.get(d, 0) + 1
            sizes[d] = sizes.get(d, 0) + e.size
    ranked = sorted(sizes, key=lambda d: (-sizes[d], d))
    return [DirSize(d, files[d], sizes[d]) for d in ranked[:top]]


def build_report(ctx: BuildContext, top: int = 10) -> ContextReport:
    snapshot = ctx.snapshot
    transfer = ctx.transfer
    sent = transfer.files()
    errors = [SourceError(r.step.line, r.step.name, message) for r, message in ctx.errors]
    problems = sorted({*snapshot.problems, *transfer.problems}, key=lambda p: p.path)
    return ContextReport(
        ctx=ctx,
        sent=sent,
        sent_bytes=transfer.total_bytes,
        context_files=snapshot.total_files,
        context_bytes=snapshot.total_bytes,
        largest_dirs=largest_dirs(list(snapshot.entries.values()), top),
        unused=ctx.unused,
        junk=ctx.junk,
        secrets=ctx.secrets,
        suggestions=ctx.suggestions,
        errors=errors,
        problems=problems,
    )


def to_json(report: ContextReport) -> dict[str, Any]:
    ctx = report.ctx
    model = ctx.model
    return {
        "context": str(ctx.root),
        "dockerfile": str(ctx.dockerfile) if ctx.dockerfile is not None else None,
        "target": model.target.display_name if model and model.target else None,
        "ignore_file": str(ctx.ignore.path) if ctx.ignore.path is not None else None,
        "files": [{"path": shown(e.path), "size": e.size} for e in report.sent],
        "total_files": len(report.sent),
        "total_bytes": report.sent_bytes,
        "context_files": report.context_files,
        "context_bytes": report.context_bytes,
        "largest_dirs": [
            {"path": shown(d.path), "files": d.files, "bytes": d.bytes} for d in report.largest_dirs
        ],
        "unused": [shown(e.path) for e in report.unused],
        "unused_bytes": report.unused_bytes,
        "junk": [
            {
                "pattern": j.kind.pattern,
                "kind": j.kind.name,
                "paths": [shown(r) for r in j.roots],
                "files": j.files,
                "bytes": j.bytes,
            }
            for j in report.junk
        ],
        "secrets": [
            {"path": shown(s.path), "kind": s.kind, "line": s.line, "found_by": s.by}
            for s in report.secrets
        ],
        "suggestions": [
            {"pattern": shown(s.pattern), "files": s.files, "bytes": s.bytes, "reason": s.why}
            for s in report.suggestions
        ],
        "errors": [
            {"line": e.line, "instruction": e.instruction, "message": e.message}
            for e in report.errors
        ],
        "problems": [
            {"path": shown(p.path), "reason": p.reason, "fatal": p.fatal} for p in report.problems
        ],
    }


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def render_text(report: ContextReport, limit: int = 10, hint: bool = True) -> str:
    ctx = report.ctx
    out: list[str] = []
    ignore = ctx.ignore
    ignore_desc = (
        f"{ignore.path.name} ({_count(len(ignore.lines), 'pattern')})"
        if ignore.path is not None
        else "no .dockerignore"
    )
    df_desc = ctx.dockerfile.name if ctx.dockerfile is not None else "no Dockerfile"
    out.append(f"context {ctx.root} ({df_desc}, {ignore_desc})")
    whole = f"{_count(report.context_files, 'file')}, {human_bytes(report.context_bytes)}"
    if ctx.model is not None and ctx.transfer_paths is not None:
        out.append(
            f"BuildKit sends {_count(len(report.sent), 'file')}, "
            f"{human_bytes(report.sent_bytes)}: only the paths COPY/ADD name "
            f"(the context holds {whole} after .dockerignore)"
        )
    else:
        out.append(f"sent: {whole}")
    if report.largest_dirs:
        out.append("largest directories:")
        for d in report.largest_dirs[:limit]:
            out.append(
                f"  {human_bytes(d.bytes):>10}  {_count(d.files, 'file'):>13}  {shown(d.path)}/"
            )
    if ctx.model is not None:
        out.append(
            f"unused: {_count(len(report.unused), 'file')}, {human_bytes(report.unused_bytes)} "
            "that no COPY/ADD/bind mount of the built stages reads"
        )
    if report.junk:
        out.append("junk in the context:")
        for j in report.junk:
            roots = ", ".join(shown(r) for r in j.roots[:3]) + (
                f", ... ({len(j.roots)})" if len(j.roots) > 3 else ""
            )
            out.append(
                f"  {human_bytes(j.bytes):>10}  {_count(j.files, 'file'):>13}  "
                f"{j.kind.name}: {roots}"
            )
    if report.secrets:
        out.append("secret-looking files in the context (values not shown):")
        for s in report.secrets:
            where = f"{shown(s.path)}:{s.line}" if s.line else shown(s.path)
            out.append(f"  {where}  {s.kind}")
    for e in report.errors:
        out.append(f"error: line {e.line}: {e.instruction} {e.message}")
    for p in report.problems:
        out.append(f"{'error' if p.fatal else 'warning'}: {shown(p.path)}: {p.reason}")
    if report.suggestions:
        out.append("suggested .dockerignore lines (each counts what the ones above leave):")
        for sug in report.suggestions:
            out.append(
                f"  {shown(sug.pattern):<32} {_count(sug.files, 'file'):>13}  "
                f"{human_bytes(sug.bytes):>10}  ({sug.category})"
            )
        if hint:
            out.append("add them with: layerwise context --write-dockerignore")
    else:
        out.append("nothing to add to .dockerignore")
    return "\n".join(out)
