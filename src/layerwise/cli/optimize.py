"""`layerwise optimize`: find problems, rewrite Dockerfile and .dockerignore, show the predicted
gain."""

from __future__ import annotations

import json
from pathlib import Path

import click

from layerwise.cli.options import build_options, parse_build_args, rule_selection, split_ids
from layerwise.config import Config, load_config


@click.command("optimize")
@click.argument("directory", default=".", type=click.Path())
@click.option(
    "-f", "--file", "dockerfile", type=click.Path(), help="Dockerfile (default: DIR/Dockerfile)."
)
@click.option("--write", is_flag=True, help="Write the changed files (atomically).")
@click.option(
    "--unsafe",
    is_flag=True,
    help="Also restructure: manifest-first, multi-stage with a virtualenv, non-root user.",
)
@click.option(
    "--healthcheck",
    metavar="PATH",
    help="Add a HEALTHCHECK that GETs this HTTP path (e.g. /health) with Python's urllib.",
)
@click.option(
    "--writable",
    multiple=True,
    metavar="DIR",
    help="A directory the app writes at run time, owned by the non-root user (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--service",
    "service_names",
    multiple=True,
    help="With compose files: only this service's build (repeatable).",
)
@rule_selection
@build_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file.")
def optimize_command(
    directory: str,
    dockerfile: str | None,
    write: bool,
    unsafe: bool,
    healthcheck: str | None,
    writable: tuple[str, ...],
    fmt: str,
    service_names: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    build_args: tuple[str, ...],
    target: str | None,
    config_path: str | None,
) -> None:
    """Optimize the build of DIR (the build context): lint, fix, and predict the gain.

    When DIR has no Dockerfile but compose files, every service's build is optimized (each
    Dockerfile once, with the context, target and build arguments Compose gives it).

    Prints the findings, the fixes, the diff of the Dockerfile and .dockerignore and what the
    changes save without building. Nothing is written without --write.

    Exit status: 0 nothing to change (or changes written), 1 changes pending (not written),
    2 usage or input errors.
    """
    from layerwise.optimize import has_compose_project, optimize
    from layerwise.report.optimize import render_markdown, render_text, to_json

    config = load_config(Path(config_path)) if config_path else None
    if has_compose_project(directory, dockerfile):
        _compose(
            directory, service_names, write, unsafe, healthcheck, writable, fmt, config, select,
            ignore,
        )  # fmt: skip
        return
    result = optimize(
        directory,
        dockerfile,
        unsafe=unsafe,
        healthcheck=healthcheck,
        writable=writable,
        config=config,
        select=split_ids(select),
        ignore=split_ids(ignore),
        build_args=parse_build_args(build_args),
        target=target,
    )
    written = False
    if write and result.changed:
        result.write()
        written = True
    if fmt == "json":
        click.echo(to_json(result))
    elif fmt == "markdown":
        click.echo(render_markdown(result), nl=False)
    else:
        click.echo(render_text(result, written=written))
    if result.changed and not written:
        raise click.exceptions.Exit(1)


def _compose(
    directory: str,
    services: tuple[str, ...],
    write: bool,
    unsafe: bool,
    healthcheck: str | None,
    writable: tuple[str, ...],
    fmt: str,
    config: Config | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
) -> None:
    """DIR holds compose files and no Dockerfile: every service's build, each Dockerfile once."""
    from layerwise import __version__
    from layerwise.optimize import optimize_compose
    from layerwise.report.optimize import render_markdown, render_text

    builds, notes = optimize_compose(
        directory,
        services=services,
        unsafe=unsafe,
        healthcheck=healthcheck,
        writable=writable,
        config=config,
        select=split_ids(select),
        ignore=split_ids(ignore),
    )
    written = False
    if write:
        for b in builds:
            if b.result.changed:
                b.result.write()
                written = True
    pending = any(b.result.changed for b in builds) and not write
    if fmt == "json":
        data = {
            "version": __version__,
            "compose": True,
            "builds": [b.to_json() for b in builds],
            "notes": notes,
        }
        click.echo(json.dumps(data, indent=2))
    else:
        parts = []
        for b in builds:
            header = f"services {', '.join(b.services)}" + (f" ({b.note})" if b.note else "")
            if fmt == "markdown":
                parts.append(f"<!-- {header} -->\n" + render_markdown(b.result))
            else:
                parts.append(f"== {header}\n" + render_text(b.result, written=written))
        parts.extend(f"note: {n}" for n in notes)
        click.echo("\n\n".join(parts))
    if pending:
        raise click.exceptions.Exit(1)
