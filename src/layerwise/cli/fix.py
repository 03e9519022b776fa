"""`layerwise fix`: apply the rules' fixes (safe by default, structural with --unsafe)."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from layerwise.cli.options import build_options, parse_build_args, rule_selection, split_ids
from layerwise.config import find_config, load_config
from layerwise.context.project import BuildContext
from layerwise.discover import find_dockerfiles
from layerwise.dockerfile.parser import read_dockerfile
from layerwise.errors import LayerwiseError
from layerwise.fixes.structural import fix_all
from layerwise.fsutil import atomic_write


@click.command("fix")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the changes.")
@click.option("--write", is_flag=True, help="Write the fixed files (atomically).")
@click.option("--backup", is_flag=True, help="With --write, keep the original as FILE.orig.")
@click.option("--unsafe", is_flag=True, help="Also apply structural (unsafe) fixes.")
@rule_selection
@build_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@click.option(
    "--context",
    "context_dir",
    type=click.Path(file_okay=False),
    help="Build context directory (default: the Dockerfile's directory).",
)
@click.option("--no-context", is_flag=True, help="Fix without reading the build context.")
def fix_command(
    paths: tuple[str, ...],
    show_diff: bool,
    write: bool,
    backup: bool,
    unsafe: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    build_args: tuple[str, ...],
    target: str | None,
    config_path: str | None,
    context_dir: str | None,
    no_context: bool,
) -> None:
    """Fix Dockerfiles. Without --diff or --write, prints what it would change.

    Exit status: 0 when nothing is left to fix, 1 when changes are pending (not written) or
    findings remain that no fix resolves, 2 usage or input errors.
    """
    files = find_dockerfiles(paths or ["."])
    if not files:
        raise click.UsageError("no Dockerfile found")
    args = parse_build_args(build_args)
    pending = False
    failed = False
    for path in files:
        try:
            config = load_config(Path(config_path)) if config_path else find_config(path)
            df = read_dockerfile(path)
            # The structural fixes read the manifests (nested requirement files, lock files)
            # from the build context, as `docker build` would send it.
            context = None
            if not no_context:
                directory = Path(context_dir) if context_dir else Path(path).parent
                context = BuildContext.load(directory, path, build_args=args, target=target)
            result = fix_all(
                df,
                unsafe=unsafe,
                config=config,
                select=split_ids(select),
                ignore=split_ids(ignore),
                build_context=context,
            )
        except LayerwiseError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        if not result.changed:
            continue
        if show_diff:
            diff = difflib.unified_diff(
                result.original.splitlines(keepends=True),
                result.text.splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
            click.echo("".join(diff), nl=False)
        if write:
            if backup:
                atomic_write(Path(f"{path}.orig"), result.original)
            atomic_write(Path(path), result.text)
            count = len(result.applied) + len(result.structural)
            click.echo(f"fixed {path}: {count} fixes", err=True)
        else:
            pending = True
            if not show_diff:
                for f in result.applied:
                    click.echo(f"{path}:{f.line}:{f.column}: {f.rule} would fix: {f.message}")
                for rule, what in result.structural:
                    click.echo(f"{path}: {rule} would fix: {what}")
        for finding, why in result.rejected:
            click.echo(f"{path}:{finding.line}: {finding.rule} fix not applied: {why}", err=True)
    if failed:
        raise click.exceptions.Exit(2)
    if pending:
        raise click.exceptions.Exit(1)
