"""Errors that layerwise reports to its users.

Every error a user can cause (bad input, a missing file, an unreachable engine) is a
`LayerwiseError`; the CLI prints it as one line and exits with status 2. Anything else that
escapes is a bug in layerwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column (column counts characters)."""

    path: str | None
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path or '<stdin>'}:{self.line}:{self.column}"


class LayerwiseError(Exception):
    """An error caused by the input or the environment, reported without a traceback."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return f"error: {self.message}"
        return f"{self.location}: error: {self.message}"


class DockerfileSyntaxError(LayerwiseError):
    """The Dockerfile cannot be parsed, at this line and column (as BuildKit would refuse it)."""

    def __init__(self, message: str, path: str | None, line: int, column: int = 1) -> None:
        super().__init__(message, Location(path, line, column))
        self.path = path
        self.line = line
        self.column = column


class InputError(LayerwiseError):
    """A file or directory that cannot be read, or an option that makes no sense."""


class EngineError(LayerwiseError):
    """The Docker engine or buildx cannot be reached or a build failed."""
