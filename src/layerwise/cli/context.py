"""`layerwise context`: what the build context sends, what it should not, a .dockerignore."""

from __future__ import annotations

import json
from pathlib import Path

import click

from layerwise.cli.options import build_options, parse_build_args
from layerwise.context.dockerignore import write_dockerignore
from layerwise.context.project import BuildContext
from layerwise.context.report import build_report, human_bytes, render_text, shown, to_json

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
def context_command(
    directory: str,
    dockerfile: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    fmt: str,
    write: bool,
    fail_on: tuple[str, ...],
) -> None:
    """Report what the build context of DIRECTORY sends: files and bytes, the largest
    directories, files no COPY/ADD reads, junk, secret-looking files (by path and kind, never
    by value), and .dockerignore lines with the files and bytes each would save.

    Exit status: 0 done, 1 a --fail-on condition holds, 2 the input cannot be read.
    """
    ctx = BuildContext.load(
        directory, dockerfile, build_args=parse_build_args(build_args), target=target
    )
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
    if fmt == "json":
        click.echo(json.dumps(to_json(report), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report, hint=not write))
    if write:
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
    failed = (
        ("secrets" in fail_on and report.secrets)
        or ("junk" in fail_on and report.junk)
        or ("unused" in fail_on and report.unused)
        or ("errors" in fail_on and (report.errors or any(p.fatal for p in report.problems)))
    )
    if failed:
        raise click.exceptions.Exit(1)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
