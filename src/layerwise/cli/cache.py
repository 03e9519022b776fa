"""`layerwise cache`: which steps a change rebuilds, and the cache hit rate over git history."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from layerwise.cache.history import replay_history
from layerwise.cache.predict import predict_changes
from layerwise.cache.report import print_history, print_prediction, shown_reason
from layerwise.cli.options import build_options, parse_build_args
from layerwise.cli.targets import resolve, service_line, service_options, wants_compose
from layerwise.errors import InputError


@click.command("cache")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.argument("more", nargs=-1, type=click.Path())
@click.option(
    "-f", "--file", "dockerfile", type=click.Path(dir_okay=False), help="The Dockerfile "
    "(default: DIRECTORY/Dockerfile).",
)  # fmt: skip
@build_options
@click.option("--platform", help="Target platform (as `docker build --platform`).")
@click.option(
    "--changed",
    multiple=True,
    metavar="PATH",
    help="A file or directory that changes (repeatable; more paths may follow DIRECTORY).",
)
@click.option(
    "--changed-build-arg",
    "changed_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="A build argument that gets a new value (repeatable).",
)
@click.option(
    "--changed-base",
    "changed_bases",
    multiple=True,
    metavar="IMAGE",
    help="A base image (as written after FROM) that gets new layers (repeatable).",
)
@click.option("--history", type=int, metavar="N", help="Replay the last N commits of git history.")
@click.option(
    "--compare",
    type=click.Path(dir_okay=False),
    help="With --history: replay this Dockerfile too (e.g. the output of `layerwise optimize`).",
)
@click.option(
    "--compare-ignore",
    type=click.Path(dir_okay=False),
    help="The ignore file for --compare (default: <compare>.dockerignore, else the history's).",
)
@click.option(
    "--timings",
    type=click.Path(dir_okay=False),
    help="`layerwise bench --format json` output: weight steps by their measured duration.",
)
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PERCENT",
    help="With --history: exit 1 when the hit rate is below this.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@service_options(many=False)
def cache_command(
    directory: str,
    more: tuple[str, ...],
    dockerfile: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    platform: str | None,
    changed: tuple[str, ...],
    changed_args: tuple[str, ...],
    changed_bases: tuple[str, ...],
    history: int | None,
    compare: str | None,
    compare_ignore: str | None,
    timings: str | None,
    top: int,
    fail_under: float | None,
    fmt: str,
    service_name: str | None,
    compose_files: tuple[str, ...],
) -> None:
    """Predict which steps of DIRECTORY's build BuildKit runs again.

    With --changed (and --changed-build-arg, --changed-base): for the context as it is, built
    once, which steps a change rebuilds and why. With --history N: every one of the last N
    commits as one build, the cache hit rate, how often each step runs again, and the commits
    that cost the most.

    Compose services: with --service NAME (or when DIRECTORY has compose files and no
    Dockerfile, and builds one service) the service's context, Dockerfile, target and build
    args are used (--build-arg adds to them, --target replaces the target); the JSON gains
    "services" (null without compose).

    Exit status: 0 done, 1 the hit rate is under --fail-under, 2 bad input.
    """
    paths = [*changed, *more]
    if more and not changed:
        raise InputError(f"unexpected argument {more[0]!r} (paths that change follow --changed)")
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    args = parse_build_args(build_args)
    services: list[str] | None = None
    names = [service_name] if service_name else []
    if wants_compose(directory, dockerfile, names, compose_files):
        build, variant = resolve(directory, names, compose_files).one("cache")
        if build.dockerfile is None:
            raise InputError(
                f"{build.label}: cache reads a Dockerfile file, and this build's is inline "
                "(dockerfile_inline)"
            )
        directory, dockerfile = str(build.context), str(build.dockerfile)
        args, target = {**variant.args, **args}, target or variant.target
        services = list(variant.services)
        if fmt == "text":
            click.echo(service_line(services, directory, dockerfile, target))
    if history is not None:
        if paths or changed_args or changed_bases:
            raise InputError("--history replays commits: it does not take --changed options")
        report = replay_history(
            directory,
            dockerfile,
            history,
            compare=compare,
            compare_ignore=compare_ignore,
            build_args=args,
            target=target,
            platform=platform,
            timings=timings,
        )
        if fmt == "json":
            click.echo(json.dumps({**report.to_json(top), "services": services}, indent=2))
        else:
            print_history(report, console, top)
        rate = report.variants[0].hit_rate
        if fail_under is not None and (rate is None or rate * 100 < fail_under):
            raise click.exceptions.Exit(1)
        return
    if compare or timings or fail_under is not None:
        raise InputError("--compare, --timings and --fail-under go with --history")
    if not (paths or changed_args or changed_bases):
        raise InputError(
            "say what changes (--changed PATH, --changed-build-arg, --changed-base) "
            "or replay history (--history N)"
        )
    prediction = predict_changes(
        directory,
        dockerfile,
        paths,
        build_args=args,
        target=target,
        platform=platform,
        new_build_args=parse_build_args(changed_args),
        changed_bases=changed_bases,
    )
    for error in prediction.build.plan.model.errors:
        click.echo(f"warning: {error} (BuildKit refuses this Dockerfile)", err=True)
    if fmt == "json":
        data = {**prediction.to_json(), "services": services}
        for stage in data["stages"]:
            for step in stage["steps"]:
                step["reason"] = shown_reason(step["reason"])
        click.echo(json.dumps(data, indent=2))
    else:
        print_prediction(prediction, console)
