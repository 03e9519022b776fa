"""`layerwise bench`: cold, no-change, code-change and dependency-change builds, timed per step."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from layerwise.build.bench import SCENARIOS, BenchOptions, BuildEvent, Variant, run_bench
from layerwise.build.bench_report import html_report, markdown, print_report
from layerwise.cli.options import build_options, parse_build_args
from layerwise.cli.targets import resolve, service_line, service_options, wants_compose
from layerwise.errors import InputError
from layerwise.fsutil import atomic_write


@click.command("bench")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "-f", "--file", "dockerfile", type=click.Path(dir_okay=False), help="The Dockerfile "
    "(default: DIRECTORY/Dockerfile).",
)  # fmt: skip
@click.option(
    "--compare",
    type=click.Path(dir_okay=False),
    help="A second Dockerfile (e.g. the optimized one) built in the same run, interleaved.",
)
@click.option(
    "--compare-ignore",
    type=click.Path(dir_okay=False),
    help="The .dockerignore that goes with --compare (default: the context's own).",
)
@click.option("--repeat", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(SCENARIOS),
    help="Only these scenarios (repeatable; default: all four).",
)
@click.option("--code-file", help="The source file to edit for the code change (in the context).")
@click.option("--deps-file", help="The manifest to edit for the dependency change.")
@build_options
@click.option("--platform", help="Passed to buildx (`--platform`).")
@click.option("--builder", help="The buildx builder to use (a remote or Kubernetes builder ...).")
@click.option("--cache-from", multiple=True, metavar="SPEC", help="Passed to buildx.")
@click.option("--cache-to", multiple=True, metavar="SPEC", help="Passed to buildx.")
@click.option("--network", help="Network mode for RUN steps (`--network host` ...).")
@click.option("--docker", type=click.Path(dir_okay=False), help="The docker CLI to use.")
@click.option(
    "--strip-syntax",
    is_flag=True,
    help="Build without the `# syntax=` line (for machines that cannot pull the frontend).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), help="Also write an HTML report."
)
@service_options(many=False)
def bench_command(
    directory: str,
    dockerfile: str | None,
    compare: str | None,
    compare_ignore: str | None,
    repeat: int,
    scenarios: tuple[str, ...],
    code_file: str | None,
    deps_file: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    platform: str | None,
    builder: str | None,
    cache_from: tuple[str, ...],
    cache_to: tuple[str, ...],
    network: str | None,
    docker: str | None,
    strip_syntax: bool,
    fmt: str,
    html_path: str | None,
    service_name: str | None,
    compose_files: tuple[str, ...],
) -> None:
    """Build DIRECTORY with real BuildKit builds and time them: cold, no change, a code change
    and a dependency change, each on a private copy of the context (your files are never
    touched), median of --repeat runs, per-step times and cached flags, image size and layers.

    With --compare, a second Dockerfile is measured in the same run and the ratios are shown.

    Compose services: with --service NAME (or when DIRECTORY has compose files and no
    Dockerfile, and builds one service) the service's context, Dockerfile (an inline one too),
    target, build args and build network are used (--build-arg adds to them, --target and
    --network replace theirs); the JSON gains "services" (null without compose).

    Exit status: 0 done, 2 bad input, no engine or a failing build (the failing step and the
    end of its log are shown), 130 interrupted (copies and images are removed).
    """
    args = parse_build_args(build_args)
    services: list[str] | None = None
    names = [service_name] if service_name else []
    if wants_compose(directory, dockerfile, names, compose_files):
        build, variant = resolve(directory, names, compose_files).one("bench")
        root = build.context
        args, target = {**variant.args, **args}, target or variant.target
        network = network or variant.network
        services = list(variant.services)
        if build.dockerfile is not None:
            label = "original" if compare else build.dockerfile.name
            first = Variant.from_path(build.dockerfile, label)
        else:
            label = "original" if compare else "dockerfile_inline"
            first = Variant(label, None, build.dockerfile_inline)
        if fmt == "text":
            dockerfile_shown = str(build.dockerfile) if build.dockerfile else None
            click.echo(service_line(services, str(root), dockerfile_shown, target))
    else:
        root = Path(directory)
        path = Path(dockerfile) if dockerfile else root / "Dockerfile"
        if not path.is_file():
            raise InputError(f"{path}: no such Dockerfile (pass one with -f)")
        first = Variant.from_path(path, "original" if compare else path.name)
    variants = [first]
    if compare:
        ignore = None
        if compare_ignore:
            try:
                ignore = Path(compare_ignore).read_text()
            except OSError as exc:
                raise InputError(f"{compare_ignore}: cannot read: {exc.strerror}") from None
        other = Variant.from_path(compare, "compared")
        variants.append(Variant(other.label, other.dockerfile, None, ignore))
    options = BenchOptions(
        repeat=repeat,
        scenarios=tuple(scenarios) or SCENARIOS,
        builder=builder,
        cache_from=cache_from,
        cache_to=cache_to,
        network=network,
        build_args=args,
        platform=platform,
        target=target,
        docker=docker,
        code_file=code_file,
        deps_file=deps_file,
        strip_syntax_directive=strip_syntax,
    )
    with bench_progress() as on_event:
        report = run_bench(root, variants, options, on_event)
    if html_path:
        atomic_write(Path(html_path), html_report(report))
    if fmt == "json":
        click.echo(json.dumps({**report.to_json(), "services": services}, indent=2))
    elif fmt == "markdown":
        click.echo(markdown(report), nl=False)
    else:
        print_report(report, Console(file=sys.stdout, highlight=False, soft_wrap=False))
    if html_path and fmt == "text":
        click.echo(f"wrote {html_path}")


@contextmanager
def bench_progress() -> Iterator[Callable[[BuildEvent], None]]:
    """A progress display on stderr (when it is a terminal) fed by bench's build events."""
    err = Console(file=sys.stderr, highlight=False)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def on_event(event: BuildEvent) -> None:
            what = f"{event.variant}: {event.scenario.replace('_', '-')} #{event.repetition + 1}"
            if event.result is not None:
                bar.update(task, completed=event.index, total=event.total)
            elif event.vertex is not None:
                name = event.vertex.name
                if not name.startswith("[internal]"):
                    bar.update(task, description=f"{what}  {name[:60]}")
            else:
                bar.update(task, description=what, completed=event.index - 1, total=event.total)

        yield on_event
