"""`layerwise lint`: findings only, for CI and pre-commit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from layerwise.cli.options import build_options, parse_build_args, rule_selection, split_ids
from layerwise.config import Config, find_config, load_config
from layerwise.context.project import BuildContext
from layerwise.discover import find_dockerfiles
from layerwise.dockerfile.model import Model
from layerwise.dockerfile.parser import read_dockerfile
from layerwise.errors import LayerwiseError
from layerwise.report.findings import (
    render_github,
    render_json,
    render_sarif,
    render_text,
    summary_line,
)
from layerwise.rules import all_rules
from layerwise.rules.base import Finding, Severity
from layerwise.rules.engine import lint

FAIL_ON = ("error", "warning", "info", "style", "never")


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="info",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@rule_selection
@build_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
@click.option(
    "--context",
    "context_dir",
    type=click.Path(file_okay=False),
    help="Build context directory (default: the Dockerfile's directory).",
)
@click.option("--no-context", is_flag=True, help="Skip the rules that read the build context.")
def lint_command(
    paths: tuple[str, ...],
    fmt: str,
    fail_on: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    build_args: tuple[str, ...],
    target: str | None,
    config_path: str | None,
    context_dir: str | None,
    no_context: bool,
) -> None:
    """Lint Dockerfiles (files, or directories searched for Dockerfile, *.Dockerfile,
    Dockerfile.*, Containerfile).

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input errors.
    """
    files = find_dockerfiles(paths or ["."])
    if not files:
        raise click.UsageError("no Dockerfile found (name files, or directories to search)")
    args = parse_build_args(build_args)
    findings: list[Finding] = []
    sources: dict[str | None, str] = {}
    failed = False
    configs: dict[Path, Config] = {}  # one lookup per directory, not per file
    for path in files:
        try:
            if config_path:
                config = configs.get(Path(config_path)) or load_config(Path(config_path))
                configs[Path(config_path)] = config
            else:
                config = configs.get(path.parent) or find_config(path)
                configs[path.parent] = config
            df = read_dockerfile(path)
            model = df.model(build_args=args, target=target)
            context = None if no_context else _load_context(path, context_dir, model)
            result = lint(
                df,
                config=config,
                select=split_ids(select),
                ignore=split_ids(ignore),
                build_context=context,
                model=model,
            )
        except LayerwiseError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        findings.extend(result.findings)
        sources[df.path] = df.text
    _print(findings, sources, fmt, Path.cwd())
    if failed:
        raise click.exceptions.Exit(2)
    if fail_on != "never":
        threshold = Severity.parse(fail_on)
        if any(f.severity >= threshold for f in findings):
            raise click.exceptions.Exit(1)


def _load_context(dockerfile: Path, context_dir: str | None, model: Model) -> BuildContext:
    """The build context (the Dockerfile's directory unless told), read through the lint
    model; the walk itself happens only if a context rule asks for it."""
    directory = Path(context_dir) if context_dir else dockerfile.parent
    return BuildContext.load(directory, dockerfile, model=model)


def _print(findings: list[Finding], sources: dict[str | None, str], fmt: str, base: Path) -> None:
    if fmt == "json":
        click.echo(render_json(findings))
    elif fmt == "sarif":
        click.echo(render_sarif(findings, all_rules(), base))
    elif fmt == "github":
        if findings:
            click.echo(render_github(findings))
    else:
        snippets = sys.stdout.isatty()
        if findings:
            click.echo(render_text(findings, sources, snippets=snippets))
        click.echo(summary_line(findings), err=not findings)


__all__ = ["Config", "lint_command"]
