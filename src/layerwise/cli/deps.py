"""`layerwise deps`: dependencies the code never uses, development tools in production, and
what each costs in the image."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import click

from layerwise.cli.options import build_options, parse_build_args
from layerwise.cli.targets import resolve, service_options, wants_compose
from layerwise.context.project import BuildContext
from layerwise.deps.fix import FixPlan
from layerwise.errors import InputError, LayerwiseError

CODES = ("LW801", "LW802", "LW803", "LW804", "LW805")


@click.command("deps")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "-f",
    "--file",
    "dockerfile",
    type=click.Path(dir_okay=False),
    default=None,
    help="The Dockerfile (default: DIRECTORY/Dockerfile).",
)
@build_options
@service_options(many=False)
@click.option(
    "--image",
    default=None,
    metavar="REF",
    help="Measure sizes in this image: an engine reference, a `docker save` tarball or an "
    "OCI layout.",
)
@click.option("--build", "do_build", is_flag=True, help="Build the image first and measure it.")
@click.option("--network", default=None, help="Network for --build (e.g. host).")
@click.option(
    "--venv",
    default=None,
    type=click.Path(exists=True, file_okay=False),
    help="Read installed metadata from this virtual environment instead of an image.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--fix",
    "fix",
    is_flag=True,
    help="(unsafe) Move unused dependencies and development tools out of the production "
    "install: split the requirements file or move them to a dev group, and adjust the "
    "Dockerfile. Never moves a dependency that the code uses.",
)
@click.option("--diff", is_flag=True, help="Show the changes --fix would make; write nothing.")
@click.option(
    "--fail-on",
    default="any",
    show_default=True,
    metavar="CODES",
    help="Exit 1 when findings with these codes remain (comma-separated, `any` or `none`).",
)
def deps_command(
    directory: str,
    dockerfile: str | None,
    build_args: tuple[str, ...],
    target: str | None,
    service_name: str | None,
    compose_files: tuple[str, ...],
    image: str | None,
    do_build: bool,
    network: str | None,
    venv: str | None,
    fmt: str,
    fix: bool,
    diff: bool,
    fail_on: str,
) -> None:
    """Report the dependencies of the service in DIRECTORY: what its manifests declare and
    which of them reach the final image, what the shipped code imports or runs, what each
    distribution costs in the image (with --image or --build), and findings: unused
    dependencies (LW801), development tools in production (LW802), imports of transitive-only
    dependencies (LW803), one requirements file for every environment (LW804), CUDA wheels
    without GPU use (LW805).

    Compose services: with --service NAME (or when DIRECTORY has compose files and no
    Dockerfile, and builds one service) the service's context, Dockerfile, target, build args
    and build network are used; the JSON gains "services" (null without compose).

    Exit status: 0 no findings (or --fail-on none), 1 findings remain, 2 bad input.
    """
    from layerwise.deps.analysis import DepsReport, analyze_context
    from layerwise.deps.installed import image_environment, venv_environment
    from layerwise.deps.render import render_markdown, render_text

    if image and (do_build or venv):
        raise InputError("give one of --image, --build and --venv")
    args = parse_build_args(build_args)
    context_dir, dockerfile, target, args, network, services = _target(
        directory, dockerfile, target, args, service_name, compose_files, network
    )
    ctx = _load(context_dir, dockerfile, args, target)
    built: str | None = None
    engine = None
    try:
        if do_build:
            from layerwise.build import build, find_engine

            engine = find_engine()
            built = f"layerwise-deps:{uuid.uuid4().hex[:12]}"
            click.echo(f"building {context_dir} ...", err=True)
            build(
                context_dir,
                dockerfile,
                tag=built,
                target=target,
                build_args=args,
                network=network,
                docker=engine,
            )
            image = built
        environment = None
        if image is not None:
            environment = image_environment(image)
        elif venv is not None:
            environment = venv_environment(venv)
    finally:
        if built is not None and engine is not None:
            from layerwise.build import remove_images

            remove_images(engine, [built])
    report: DepsReport = analyze_context(ctx, environment, image=None if built else image)
    if built:
        report.image = "(built)"
    plan = None
    if fix or diff:
        plan = _fix(report, write=fix and not diff, fmt=fmt)
        if fix and not diff:
            ctx = _load(context_dir, dockerfile, args, target)
            report = analyze_context(ctx, environment, image=report.image)
    if fmt == "json":
        payload = {**report.to_json(), "services": services}
        if plan is not None:
            payload["fix"] = {**plan.to_json(), "written": fix and not diff}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report))
    _exit(report, fail_on)


def _load(
    context_dir: str, dockerfile: str | None, args: dict[str, str], target: str | None
) -> BuildContext:
    ctx = BuildContext.load(context_dir, dockerfile, build_args=args, target=target)
    if ctx.model is not None:
        for error in ctx.model.errors:
            message = f"{error.message} (BuildKit refuses this Dockerfile)"
            raise LayerwiseError(message, error.location)
    return ctx


def _target(
    directory: str,
    dockerfile: str | None,
    target: str | None,
    args: dict[str, str],
    service: str | None,
    compose_files: tuple[str, ...],
    network: str | None,
) -> tuple[str, str | None, str | None, dict[str, str], str | None, list[str] | None]:
    names = [service] if service else []
    if not wants_compose(directory, dockerfile, names, compose_files):
        if not Path(directory).is_dir():
            raise InputError(f"{directory}: not a directory")
        return directory, dockerfile, target, args, network, None
    build, variant = resolve(directory, names, compose_files).one("deps")
    if build.dockerfile is None:
        raise InputError(f"{build.label}: deps reads a Dockerfile file, not dockerfile_inline")
    return (
        str(build.context),
        str(build.dockerfile),
        target or variant.target,
        {**variant.args, **args},
        network or variant.network,
        list(variant.services),
    )


def _fix(report: object, *, write: bool, fmt: str) -> FixPlan:
    from layerwise.deps.analysis import DepsReport
    from layerwise.deps.fix import apply_fix, plan_fix
    from layerwise.deps.render import mb

    assert isinstance(report, DepsReport)
    plan = plan_fix(report)
    out = click.echo if fmt == "text" and not write else _err
    if plan.empty:
        _err("deps --fix: nothing to change")
    for change in plan.changes:
        out(change.diff().rstrip("\n"))
    if write:
        apply_fix(plan)
        for name, src, dst in plan.moved:
            _err(f"moved {name}: {src} -> {dst}")
        if plan.saves:
            _err(f"the image loses {mb(plan.saves)} once rebuilt")
    for name, why in plan.kept:
        _err(f"kept {name}: {why}")
    for note in plan.notes:
        _err(f"note: {note}")
    return plan


def _err(text: str) -> None:
    click.echo(text, err=True)


def _exit(report: object, fail_on: str) -> None:
    from layerwise.deps.analysis import DepsReport

    assert isinstance(report, DepsReport)
    wanted = {c.strip().upper() for c in fail_on.split(",") if c.strip()}
    if "NONE" in wanted:
        return
    unknown = wanted - {"ANY", *CODES}
    if unknown:
        raise InputError(f"--fail-on: unknown code(s) {', '.join(sorted(unknown))}")
    hits = [f for f in report.findings if "ANY" in wanted or f.code in wanted]
    if hits:
        raise click.exceptions.Exit(1)
