"""`layerwise lint`: findings only, for CI and pre-commit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from layerwise.cli.options import build_options, parse_build_args, rule_selection, split_ids
from layerwise.cli.targets import resolve, service_options
from layerwise.compose.lint import ServiceFinding, lint_builds
from layerwise.compose.targets import is_compose_directory
from layerwise.config import Config, find_config, load_config
from layerwise.context.project import BuildContext
from layerwise.discover import find_dockerfiles
from layerwise.dockerfile.model import Model
from layerwise.dockerfile.parser import read_dockerfile
from layerwise.errors import InputError, LayerwiseError
from layerwise.report.findings import (
    render_github,
    render_json,
    render_sarif,
    render_text,
    summary_line,
)
from layerwise.rules import all_rules
from layerwise.rules.base import Severity
from layerwise.rules.compose import lint_compose, lint_compose_directory
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
@service_options(many=True)
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
    service_names: tuple[str, ...],
    compose_files: tuple[str, ...],
) -> None:
    """Lint Dockerfiles (files, or directories searched for Dockerfile, *.Dockerfile,
    Dockerfile.*, Containerfile) and the compose files of the directories named.

    Compose services: a directory with compose files and no Dockerfile of its own (or any
    directory with --service / --compose-file) is linted as its services build: each
    service's Dockerfile with that service's context, target and build args (--build-arg adds
    to them, --target replaces them), findings naming the services (JSON: a "services" list on
    every finding). Dockerfiles under the directory that no service builds are linted as
    before, unless --service narrows it down.

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input errors.
    """
    args = parse_build_args(build_args)
    selected, ignored = split_ids(select), split_ids(ignore)
    plain, compose_dirs = _split(paths or (".",), service_names, compose_files, context_dir)
    findings: list[ServiceFinding] = []
    sources: dict[str | None, str] = {}
    failed = False
    extra: list[Path] = []  # Dockerfiles under a compose directory that no service builds
    lint_dirs = [Path(p) for p in plain if Path(p).is_dir()]
    for directory in compose_dirs:
        try:
            resolved = resolve(directory, service_names, compose_files)
        except LayerwiseError as exc:
            if service_names or compose_files:
                raise
            # An invalid compose file: said once, and the Dockerfiles are still linted.
            click.echo(str(exc), err=True)
            failed = True
            plain.append(directory)
            continue
        config = load_config(Path(config_path)) if config_path else None
        linted = lint_builds(
            [b.overridden(args, target) for b in resolved.builds],
            config=config,
            select=selected,
            ignore=ignored,
            no_context=no_context,
        )
        findings.extend(linted.findings)
        sources.update(linted.sources)
        for message in linted.errors:
            click.echo(message, err=True)
        for note in resolved.notes:
            click.echo(f"note: {note}", err=True)
        failed = failed or bool(linted.errors)
        if not service_names:
            built = resolved.dockerfiles()
            extra.extend(f for f in find_dockerfiles([directory]) if f.resolve() not in built)
        try:
            compose_config = (
                load_config(Path(config_path)) if config_path else find_config(Path(directory))
            )
            if compose_files:
                found = lint_compose(
                    resolved.project,
                    config=compose_config,
                    select=selected,
                    ignore=ignored,
                    services=service_names,
                )
            else:
                found = lint_compose_directory(
                    Path(directory),
                    config=compose_config,
                    select=selected,
                    ignore=ignored,
                    services=service_names,
                )
            findings.extend(ServiceFinding(f) for f in found)
        except LayerwiseError as exc:
            click.echo(str(exc), err=True)
            failed = True
    files = [*find_dockerfiles(plain), *extra]
    if not files and not compose_dirs:
        raise click.UsageError("no Dockerfile found (name files, or directories to search)")
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
                select=selected,
                ignore=ignored,
                build_context=context,
                model=model,
            )
        except LayerwiseError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        findings.extend(ServiceFinding(f) for f in result.findings)
        sources[df.path] = df.text
    for folder in lint_dirs:
        try:
            config = load_config(Path(config_path)) if config_path else find_config(folder)
            findings.extend(
                ServiceFinding(f)
                for f in lint_compose_directory(
                    folder, config=config, select=selected, ignore=ignored
                )
            )
        except LayerwiseError as exc:
            click.echo(str(exc), err=True)
            failed = True
    findings.sort(key=lambda s: s.finding.sort_key())
    _print(findings, sources, fmt, Path.cwd(), with_services=bool(compose_dirs))
    if failed:
        raise click.exceptions.Exit(2)
    if fail_on != "never":
        threshold = Severity.parse(fail_on)
        if any(s.finding.severity >= threshold for s in findings):
            raise click.exceptions.Exit(1)


def _split(
    paths: tuple[str, ...],
    services: tuple[str, ...],
    compose_files: tuple[str, ...],
    context_dir: str | None,
) -> tuple[list[str], list[str]]:
    """The paths linted as before, and the directories linted as compose projects."""
    if services or compose_files:
        if len(paths) != 1 or not Path(paths[0]).is_dir():
            raise InputError("--service and --compose-file take one directory (the project's)")
        if context_dir:
            raise InputError("--context goes with a Dockerfile; a service has its own context")
        return [], [paths[0]]
    if context_dir:
        return list(paths), []
    compose = [p for p in paths if is_compose_directory(p)]
    return [p for p in paths if p not in compose], compose


def _directories(paths: tuple[str, ...] | list[str]) -> list[Path]:
    """The directories named on the command line: their Compose projects are linted too."""
    return [Path(p) for p in paths if Path(p).is_dir()]


def _load_context(dockerfile: Path, context_dir: str | None, model: Model) -> BuildContext:
    """The build context (the Dockerfile's directory unless told), read through the lint
    model; the walk itself happens only if a context rule asks for it."""
    directory = Path(context_dir) if context_dir else dockerfile.parent
    return BuildContext.load(directory, dockerfile, model=model)


def _print(
    found: list[ServiceFinding],
    sources: dict[str | None, str],
    fmt: str,
    base: Path,
    *,
    with_services: bool,
) -> None:
    findings = [s.shown() for s in found]
    if fmt == "json":
        if with_services:
            click.echo(json.dumps([s.to_json() for s in found], indent=2, ensure_ascii=False))
        else:
            click.echo(render_json([s.finding for s in found]))
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
