"""`layerwise context`: what the build context sends, what it should not, a .dockerignore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from layerwise.cli.options import build_options, parse_build_args
from layerwise.cli.targets import resolve, service_options, wants_compose
from layerwise.context.dockerignore import write_dockerignore
from layerwise.context.project import BuildContext
from layerwise.context.report import (
    ContextReport,
    build_report,
    human_bytes,
    render_text,
    shown,
    to_json,
)
from layerwise.errors import LayerwiseError

if TYPE_CHECKING:
    from layerwise.compose.targets import BuildVariant, ServiceBuild

FAIL_ON = ("secrets", "junk", "unused", "errors")


@click.command("context")
@click.argument("directory", default=".", type=click.Path(file_okay=True, dir_okay=True))
@click.option(
    "-f",
    "--file",
    "dockerfile",
    type=click.Path(),
    default=None,
    help="The Dockerfile (default: DIRECTORY/Dockerfile, if there is one).",
)
@build_options
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--write-dockerignore",
    "write",
    is_flag=True,
    help="Add the suggested lines to the ignore file (kept: every existing line and comment).",
)
@click.option(
    "--fail-on",
    multiple=True,
    type=click.Choice(FAIL_ON),
    help="Exit 1 if the context sends secrets, junk or unused files, or a COPY source fails "
    "(repeatable).",
)
@service_options(many=True)
def context_command(
    directory: str,
    dockerfile: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    fmt: str,
    write: bool,
    fail_on: tuple[str, ...],
    service_names: tuple[str, ...],
    compose_files: tuple[str, ...],
) -> None:
    """Report what the build context of DIRECTORY sends: files and bytes, the largest
    directories, files no COPY/ADD reads, junk, secret-looking files (by path and kind, never
    by value), and .dockerignore lines with the files and bytes each would save.

    Compose services: when DIRECTORY has compose files and no Dockerfile (or with --service /
    --compose-file), one report per service build, with the service's context, Dockerfile,
    target and build args (--build-arg adds to them, --target replaces them). JSON:
    {"compose": true, "project", "builds": [{"services": [...], ...one report...}], "notes"}.
    --write-dockerignore leaves alone an ignore file that builds with different Dockerfiles,
    targets or args share (a line one of them does not need may be one another reads).

    Exit status: 0 done, 1 a --fail-on condition holds, 2 the input cannot be read.
    """
    args = parse_build_args(build_args)
    if wants_compose(directory, dockerfile, service_names, compose_files):
        _compose(directory, args, target, fmt, write, fail_on, service_names, compose_files)
        return
    ctx = BuildContext.load(directory, dockerfile, build_args=args, target=target)
    report = _report(ctx)
    if fmt == "json":
        click.echo(json.dumps(to_json(report), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report, hint=not write))
    if write:
        _write(ctx, fmt)
    if _failed(report, fail_on):
        raise click.exceptions.Exit(1)


def _report(ctx: BuildContext) -> ContextReport:
    """The report, with what BuildKit would say about the Dockerfile and the walk on stderr."""
    for error in ctx.model.errors if ctx.model is not None else []:
        click.echo(f"warning: {error} (BuildKit refuses this Dockerfile)", err=True)
    if ctx.dockerfile_outside:
        click.echo(
            f"note: {ctx.dockerfile} is outside the context: BuildKit reads it separately, "
            "the classic builder refuses it",
            err=True,
        )
    report = build_report(ctx)
    for p in report.problems:
        where = shown(f"{ctx.root}/{p.path}")
        click.echo(f"{where}: {p.reason}" + ("" if p.fatal else " (excluded)"), err=True)
    return report


def _write(ctx: BuildContext, fmt: str) -> None:
    result = write_dockerignore(ctx)
    if result.written:
        saved = sum(s.bytes for s in result.added)
        files = sum(s.files for s in result.added)
        click.echo(
            f"wrote {_relative(result.path)}: {len(result.added)} lines added, "
            f"{files:,} files ({human_bytes(saved)}) no longer sent",
            err=fmt == "json",
        )
    else:
        click.echo(f"{_relative(result.path)}: nothing to add", err=fmt == "json")


def _failed(report: ContextReport, fail_on: tuple[str, ...]) -> bool:
    return bool(
        ("secrets" in fail_on and report.secrets)
        or ("junk" in fail_on and report.junk)
        or ("unused" in fail_on and report.unused)
        or ("errors" in fail_on and (report.errors or any(p.fatal for p in report.problems)))
    )


def _compose(
    directory: str,
    args: dict[str, str],
    target: str | None,
    fmt: str,
    write: bool,
    fail_on: tuple[str, ...],
    service_names: tuple[str, ...],
    compose_files: tuple[str, ...],
) -> None:
    """One report per variant of every build the compose project (or the named services)
    defines."""
    resolved = resolve(directory, service_names, compose_files)
    reports: list[tuple[ServiceBuild, BuildVariant, ContextReport]] = []
    failed = False
    for build in resolved.builds:
        build = build.overridden(args, target)
        try:
            build.check()
        except LayerwiseError as exc:
            # Said once per build that cannot be read; the others are still reported.
            click.echo(str(exc), err=True)
            failed = True
            continue
        for variant in build.variants:
            try:
                ctx = build.build_context(variant)
            except LayerwiseError as exc:
                click.echo(f"{exc} (service {', '.join(variant.services)})", err=True)
                failed = True
                continue
            reports.append((build, variant, _report(ctx)))
    for note in resolved.notes:
        click.echo(f"note: {note}", err=True)
    if fmt == "json":
        data = {
            "compose": True,
            "project": resolved.project.name,
            "builds": [{"services": list(v.services), **to_json(r)} for _, v, r in reports],
            "notes": resolved.notes,
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        parts = []
        for build, variant, report in reports:
            head = f"== service{'s' if len(variant.services) > 1 else ''} "
            head += ", ".join(variant.services)
            if build.dockerfile is None:
                head += " (inline Dockerfile)"
            parts.append(head + "\n" + render_text(report, hint=not write))
        click.echo("\n\n".join(parts))
    if write:
        shared = _shared_ignore_files(directory, compose_files, args, target)
        for _, _, report in reports:
            ctx = report.ctx
            path = (ctx.ignore.path or ctx.root / ".dockerignore").resolve()
            users = shared.get(path, set())
            if len(users) > 1:
                click.echo(
                    f"not writing {_relative(path)}: builds of services "
                    f"{', '.join(sorted(users))} use it in different ways (run context on the "
                    "build's directory with -f to write it for one)",
                    err=True,
                )
                continue
            _write(ctx, fmt)
    if failed:
        raise click.exceptions.Exit(2)
    if any(_failed(r, fail_on) for _, _, r in reports):
        raise click.exceptions.Exit(1)


def _shared_ignore_files(
    directory: str, compose_files: tuple[str, ...], args: dict[str, str], target: str | None
) -> dict[Path, set[str]]:
    """Ignore file -> the services of every service build of the project that uses it, when
    more than one variant (Dockerfile, target, args) does."""
    every = resolve(directory, (), compose_files)
    users: dict[Path, list[tuple[str, ...]]] = {}
    for build in every.builds:
        build = build.overridden(args, target)
        for variant in build.variants:
            ctx = build.build_context(variant)
            path = (ctx.ignore.path or ctx.root / ".dockerignore").resolve()
            users.setdefault(path, []).append(variant.services)
    return {
        path: {s for group in groups for s in group}
        for path, groups in users.items()
        if len(groups) > 1
    }


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
