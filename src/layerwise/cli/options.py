"""Options several commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def parse_build_args(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--build-arg")
        out[key] = value if sep else ""
    return out


def rule_selection(fn: F) -> F:
    fn = click.option(
        "--ignore",
        "ignore",
        multiple=True,
        metavar="IDS",
        help="Rule ids or prefixes to skip (comma-separated, repeatable).",
    )(fn)
    fn = click.option(
        "--select",
        "select",
        multiple=True,
        metavar="IDS",
        help="Only these rule ids or prefixes (comma-separated, repeatable).",
    )(fn)
    return fn


def split_ids(values: tuple[str, ...]) -> list[str]:
    return [part.strip().upper() for v in values for part in v.split(",") if part.strip()]


def build_options(fn: F) -> F:
    fn = click.option(
        "--target", metavar="STAGE", default=None, help="The stage to build (default: the last)."
    )(fn)
    fn = click.option(
        "--build-arg",
        "build_args",
        multiple=True,
        metavar="KEY=VALUE",
        help="A build argument, as `docker build --build-arg` (repeatable).",
    )(fn)
    return fn
