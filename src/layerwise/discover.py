"""Find the Dockerfiles under the paths a user names."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path

from layerwise.errors import InputError

NAMES = ("Dockerfile", "Containerfile", "dockerfile", "containerfile")
PATTERNS = ("*.Dockerfile", "*.dockerfile", "Dockerfile.*", "Containerfile.*", "*.Containerfile")
SKIP_DIRS = frozenset(
    (
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        ".cache",
    )
)


def is_dockerfile_name(name: str) -> bool:
    if name.endswith(".dockerignore"):
        return False
    return name in NAMES or any(fnmatch.fnmatchcase(name, p) for p in PATTERNS)


def find_dockerfiles(paths: Iterable[str | Path]) -> list[Path]:
    """Files given explicitly are kept whatever their name; directories are searched."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                found.extend(Path(root) / f for f in sorted(files) if is_dockerfile_name(f))
        elif not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        else:
            raise InputError(f"{raw}: not a regular file or directory")
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique
