"""Errors in compose files and compose projects, reported as Compose would refuse them."""

from __future__ import annotations

from layerwise.errors import InputError, Location


class ComposeFileError(InputError):
    """A compose file (or its .env, or a file it extends or includes) that Compose would refuse;
    the location is file:line:col when there is one."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message, location)
