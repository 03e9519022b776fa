"""`layerwise optimize`: find problems, rewrite Dockerfile and .dockerignore, show the predicted
gain."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from layerwise.build.bench import SCENARIOS, BenchOptions, BenchReport
from layerwise.build.bench_report import markdown, print_report
from layerwise.errors import InputError

if TYPE_CHECKING:
    from layerwise.optimize import OptimizeResult

from layerwise.cli.options import build_options, parse_build_args, rule_selection, split_ids
from layerwise.cli.targets import compose_paths, service_options, wants_compose
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
@service_options(many=True)
@click.option(
    "--measure",
    is_flag=True,
    help="Also build the original and the optimized Dockerfile with BuildKit (on private "
    "copies) and report measured times and sizes (see `layerwise bench`).",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(SCENARIOS),
    help="With --measure: only these scenarios (repeatable; default: all four).",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="With --measure: builds per scenario (the median is reported).",
)
@click.option("--network", help="With --measure: network mode for RUN steps (buildx --network).")
@click.option("--builder", help="With --measure: the buildx builder to use.")
@click.option("--docker", type=click.Path(dir_okay=False), help="With --measure: the docker CLI.")
@click.option(
    "--strip-syntax",
    is_flag=True,
    help="With --measure: build without the `# syntax=` line (for machines that cannot pull "
    "the Dockerfile frontend image).",
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
    compose_files: tuple[str, ...],
    measure: bool,
    scenarios: tuple[str, ...],
    repeat: int,
    network: str | None,
    builder: str | None,
    docker: str | None,
    strip_syntax: bool,
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

    With --measure, both Dockerfiles are then built with BuildKit in the bench scenarios
    (cold, no change, code change, dependency change), interleaved, and the measured times,
    image sizes and ratios are reported after the prediction.

    Exit status: 0 nothing to change (or changes written), 1 changes pending (not written),
    2 usage or input errors, no engine or a failing build.
    """
    from layerwise.optimize import optimize
    from layerwise.report.optimize import render_markdown, render_text, to_json

    config = load_config(Path(config_path)) if config_path else None
    if wants_compose(directory, dockerfile, service_names, compose_files):
        if measure:
            raise InputError("--measure takes one Dockerfile: pass -f, or run it per service")
        _compose(
            directory, service_names, compose_files, write, unsafe, healthcheck, writable, fmt,
            config, select, ignore, parse_build_args(build_args), target,
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
    measured = None
    if measure:
        # Measured before anything is written: the original is the file on disk, the
        # optimized one is the text (and ignore file) the report shows.
        measured = _measure(
            result,
            BenchOptions(
                repeat=repeat,
                scenarios=tuple(scenarios) or SCENARIOS,
                builder=builder,
                network=network,
                build_args=parse_build_args(build_args),
                target=target,
                docker=docker,
                strip_syntax_directive=strip_syntax,
            ),
        )
    written = False
    if write and result.changed:
        result.write()
        written = True
    if fmt == "json":
        data = json.loads(to_json(result))
        if measured is not None:
            data["measured"] = measured.to_json()
        click.echo(json.dumps(data, indent=2))
    elif fmt == "markdown":
        click.echo(render_markdown(result), nl=False)
        if measured is not None:
            click.echo("\n" + markdown(measured), nl=False)
    else:
        click.echo(render_text(result, written=written))
        if measured is not None:
            click.echo()
            print_report(measured, Console(file=sys.stdout, highlight=False, soft_wrap=False))
    if result.changed and not written:
        raise click.exceptions.Exit(1)


def _measure(result: OptimizeResult, options: BenchOptions) -> BenchReport:
    from layerwise.build.bench import Variant, measure
    from layerwise.cli.bench import bench_progress

    original = Variant.from_path(result.dockerfile.path, "original")
    ignore = result.dockerignore.text if result.dockerignore is not None else None
    optimized = Variant("optimized", result.dockerfile.path, result.dockerfile.text, ignore)
    with bench_progress() as on_event:
        return measure(
            original,
            optimized,
            result.directory,
            repeat=options.repeat,
            scenarios=options.scenarios,
            options=options,
            progress=on_event,
        )


def _compose(
    directory: str,
    services: tuple[str, ...],
    compose_files: tuple[str, ...],
    write: bool,
    unsafe: bool,
    healthcheck: str | None,
    writable: tuple[str, ...],
    fmt: str,
    config: Config | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    build_args: dict[str, str],
    target: str | None,
) -> None:
    """DIR holds compose files and no Dockerfile: every service's build, each Dockerfile once."""
    from layerwise import __version__
    from layerwise.optimize import optimize_compose
    from layerwise.report.optimize import render_markdown, render_text

    if not Path(directory).is_dir():
        raise InputError(f"{directory}: not a directory (--service takes the compose project's)")
    builds, notes = optimize_compose(
        directory,
        services=services,
        files=compose_paths(compose_files),
        build_args=build_args,
        target=target,
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
