"""`layerwise image`: analyse a built image, or compare two."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from layerwise.errors import InputError
from layerwise.image.analysis import ImageReport, analyze_image
from layerwise.image.compare import compare_reports
from layerwise.image.errors import Limits
from layerwise.image.gates import Gates, evaluate_gates
from layerwise.image.render import (
    markdown_comparison,
    markdown_report,
    print_comparison,
    print_gates,
    print_report,
)
from layerwise.image.source import SOURCE_KINDS
from layerwise.image.units import parse_fraction, parse_size


def _fraction(option: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_fraction(value)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def _size(option: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


@click.command("image")
@click.argument("images", nargs=-1, required=True)
@click.option(
    "-f",
    "--file",
    "dockerfile",
    type=click.Path(dir_okay=False),
    help="The Dockerfile the (last) image was built from: ties each layer to its line.",
)
@click.option("--target", help="The build stage the image was built from (default: the last).")
@click.option(
    "--source",
    "kind",
    type=click.Choice(SOURCE_KINDS),
    default="auto",
    show_default=True,
    help="Where to read IMAGE: a path (docker-archive tarball, OCI layout dir or tar), "
    "`-` for a tarball on stdin, else an image in the local engine.",
)
@click.option("--platform", help="os/arch to pick from a multi-platform OCI index.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--min-efficiency", help="Gate: fail when efficiency is below this (0.9 or 90%).")
@click.option("--max-wasted-bytes", help="Gate: fail when wasted bytes exceed this (e.g. 20MB).")
@click.option(
    "--max-wasted-percent",
    help="Gate: fail when wasted bytes exceed this share of the bytes above the base layer "
    "(0.1 or 10%).",
)
@click.option("--fail-on-build-tools", is_flag=True, help="Gate: fail when compilers, build "
              "tools, C headers or -dev packages are in the image.")  # fmt: skip
@click.option("--fail-on-secrets", is_flag=True, help="Gate: fail when a secret-looking file "
              "(private key, .env, cloud credentials) is in the image.")  # fmt: skip
@click.option("--max-total-size", default="256GiB", show_default=True,
              help="Refuse images whose layers expand to more than this.")  # fmt: skip
@click.option("--max-expansion-ratio", type=float, default=250.0, show_default=True,
              help="Refuse compressed layers that expand more than this many times.")  # fmt: skip
@click.option("--max-entries", type=click.IntRange(1), default=2_000_000, show_default=True,
              help="Refuse images with more tar entries than this (memory bound).")  # fmt: skip
def image_command(
    images: tuple[str, ...],
    dockerfile: str | None,
    target: str | None,
    kind: str,
    platform: str | None,
    fmt: str,
    top: int,
    min_efficiency: str | None,
    max_wasted_bytes: str | None,
    max_wasted_percent: str | None,
    fail_on_build_tools: bool,
    fail_on_secrets: bool,
    max_total_size: str,
    max_expansion_ratio: float,
    max_entries: int,
) -> None:
    """Analyse IMAGE: layers, wasted bytes, build tools and secrets left inside, packages.

    With two images (IMAGE BEFORE AFTER), also print what changed between them; the gates then
    apply to the second one.

    Exit status: 0 when every gate passes, 1 when a gate fails, 2 for bad input (an unreadable
    or malformed image, an unknown reference, a bad option).
    """
    if len(images) > 2:
        raise InputError("give one image to analyse, or two to compare")
    if max_expansion_ratio <= 1:
        raise InputError("--max-expansion-ratio must be greater than 1")
    limits = Limits(
        max_total_bytes=_size("--max-total-size", max_total_size) or Limits.max_total_bytes,
        max_expansion_ratio=max_expansion_ratio,
        max_entries=max_entries,
    )
    gates = Gates(
        min_efficiency=_fraction("--min-efficiency", min_efficiency),
        max_wasted_bytes=_size("--max-wasted-bytes", max_wasted_bytes),
        max_wasted_percent=_fraction("--max-wasted-percent", max_wasted_percent),
        fail_on_build_tools=fail_on_build_tools,
        fail_on_secrets=fail_on_secrets,
    )
    if images.count("-") > 1:
        raise InputError("only one image can come from standard input")
    reports: list[ImageReport] = []
    for n, spec in enumerate(images):
        last = n == len(images) - 1
        reports.append(
            analyze_image(
                spec,
                dockerfile=dockerfile if last else None,
                kind=kind,
                limits=limits,
                platform=platform,
                top=top,
                target=target if last else None,
            )
        )
    subject = reports[-1]
    results = evaluate_gates(subject, gates) if gates.any else []
    failed = any(not r.passed for r in results)
    diff = compare_reports(reports[0], reports[1]) if len(reports) == 2 else None
    if fmt == "json":
        doc = subject.to_json()
        if diff is not None:
            doc = {"before": reports[0].to_json(), "after": doc, "comparison": diff.to_json()}
        doc["gates"] = [r.to_json() for r in results]
        doc["passed"] = not failed
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        text = markdown_report(subject, top) if diff is None else markdown_comparison(diff, top)
        if results:
            text += "\n### Gates\n\n" + "\n".join(
                f"- {'✅' if r.passed else '❌'} {r.name}: {r.message}" for r in results
            )
        click.echo(text)
    else:
        console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
        if diff is None:
            print_report(subject, console, top)
        else:
            print_comparison(diff, console, top)
        print_gates(results, console)
    if failed:
        raise click.exceptions.Exit(1)
