"""Helpers for the structural-fix tests: a build context on disk, applying a fix, checking it."""

from __future__ import annotations

from pathlib import Path

from layerwise.context.project import BuildContext
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.fixes.engine import apply_edits
from layerwise.rules.base import Fix, LintContext


def make_context(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> text; a path ending in / is a directory) under root."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def context(text: str, directory: Path | None = None) -> LintContext:
    """A lint context for `text`, with the build context `directory` (its .dockerignore
    honoured) when given."""
    build_context = BuildContext.load(directory) if directory is not None else None
    return LintContext(parse_dockerfile(text, "Dockerfile"), build_context=build_context)


def applied(text: str, fix: Fix) -> str:
    """The fixed text; it must parse."""
    out = apply_edits(text, fix.edits)
    parse_dockerfile(out, "Dockerfile")
    return out
