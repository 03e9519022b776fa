"""The options that make a command work on compose services, and when it does.

A command given DIR works on the compose project's builds when `--service` or
`--compose-file` is given, or when DIR has compose files and no Dockerfile (and no `-f`);
otherwise it works on DIR and its Dockerfile as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from layerwise.errors import InputError

if TYPE_CHECKING:
    from layerwise.compose.targets import ComposeBuilds

F = TypeVar("F", bound=Callable[..., Any])


def service_options(*, many: bool) -> Callable[[F], F]:
    """`--service NAME` (repeatable when `many`) and `--compose-file FILE` (repeatable)."""

    def decorate(fn: F) -> F:
        fn = click.option(
            "--compose-file",
            "compose_files",
            multiple=True,
            metavar="FILE",
            help="Compose file to read instead of DIR's compose.yaml (repeatable, as "
            "`docker compose -f`).",
        )(fn)
        if many:
            fn = click.option(
                "--service",
                "service_names",
                multiple=True,
                metavar="NAME",
                help="Only this compose service's build (repeatable; default: every service "
                "with build:).",
            )(fn)
        else:
            fn = click.option(
                "--service",
                "service_name",
                default=None,
                metavar="NAME",
                help="This compose service's build: its context, Dockerfile, target and build "
                "args (needed when the project builds several).",
            )(fn)
        return fn

    return decorate


def wants_compose(
    directory: str | Path,
    dockerfile: str | Path | None,
    services: Sequence[str],
    compose_files: Sequence[str],
) -> bool:
    from layerwise.compose.targets import is_compose_directory

    if services or compose_files:
        if dockerfile is not None:
            raise InputError(
                "-f names a Dockerfile and --service/--compose-file take the service's own: "
                "give one or the other"
            )
        return True
    return is_compose_directory(directory, dockerfile)


def resolve(
    directory: str | Path, services: Sequence[str], compose_files: Sequence[str]
) -> ComposeBuilds:
    """The compose builds of DIR (one-line errors for a bad compose file or service name)."""
    from layerwise.compose.targets import resolve_builds

    if not Path(directory).is_dir():
        raise InputError(f"{directory}: not a directory (--service takes the compose project's)")
    return resolve_builds(directory, compose_paths(compose_files), services)


def compose_paths(compose_files: Sequence[str]) -> list[str]:
    """--compose-file values are read from the current directory, as `docker compose -f`
    reads them; a name that is not there is taken relative to DIR."""
    return [str(Path(f).absolute()) if Path(f).exists() else f for f in compose_files]


def service_line(
    services: Sequence[str], context: str, dockerfile: str | None, target: str | None
) -> str:
    """The header text reports print for a service's build."""
    word = "services" if len(services) > 1 else "service"
    where = f"context {context}, " + (
        f"Dockerfile {dockerfile}" if dockerfile else "inline Dockerfile"
    )
    return f"{word} {', '.join(services)} ({where}, target {target or '(the last stage)'})"
