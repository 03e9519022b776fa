"""Well-known junk in a build context: files no image needs that slow every build down.

Each kind is a `.dockerignore` line, so what is found is exactly what that line would drop, and
the line can be suggested as it is. Matching uses the same semantics as Docker (a pattern
matches a path or one of its parent directories).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from layerwise.context.ignore import compile_pattern
from layerwise.context.walk import ContextSnapshot, Entry


@dataclass(frozen=True)
class JunkKind:
    name: str  # short id, e.g. "vcs", "python-cache"
    pattern: str  # the .dockerignore line that drops it
    why: str  # the comment written above the line
    # Drop it even when a broad COPY (`COPY . .`) copies it. False for build outputs, which an
    # image may really serve (a frontend's dist/): those are dropped only when nothing reads them.
    droppable: bool = True
    # A file that must exist inside a matched directory for it to count (`venv` is only junk
    # when it is a virtual environment).
    marker: str | None = None


JUNK_KINDS: tuple[JunkKind, ...] = (
    JunkKind("vcs", ".git", "version control history"),
    JunkKind("vcs", "**/.hg", "version control history"),
    JunkKind("vcs", "**/.svn", "version control history"),
    JunkKind("virtualenv", ".venv", "virtual environments (the image installs its own)"),
    JunkKind(
        "virtualenv",
        "venv",
        "virtual environments (the image installs its own)",
        marker="pyvenv.cfg",
    ),
    JunkKind("virtualenv", "**/.venv", "virtual environments (the image installs its own)"),
    JunkKind("node-modules", "**/node_modules", "Node.js packages (installed in the image)"),
    JunkKind("python-cache", "**/__pycache__", "Python bytecode caches"),
    JunkKind("python-cache", "**/*.py[cod]", "Python bytecode"),
    JunkKind("test-cache", "**/.pytest_cache", "test and tool caches"),
    JunkKind("test-cache", "**/.mypy_cache", "test and tool caches"),
    JunkKind("test-cache", "**/.ruff_cache", "test and tool caches"),
    JunkKind("test-cache", "**/.tox", "test and tool caches"),
    JunkKind("test-cache", "**/.nox", "test and tool caches"),
    JunkKind("test-cache", "**/.hypothesis", "test and tool caches"),
    JunkKind("test-cache", "**/.cache", "test and tool caches"),
    JunkKind("coverage", "**/.coverage", "coverage data and reports"),
    JunkKind("coverage", "**/.coverage.*", "coverage data and reports"),
    JunkKind("coverage", "**/htmlcov", "coverage data and reports"),
    JunkKind("coverage", "**/coverage.xml", "coverage data and reports"),
    JunkKind("coverage", "**/.nyc_output", "coverage data and reports"),
    JunkKind("logs", "**/*.log", "logs"),
    JunkKind("build-output", "**/*.egg-info", "packaging metadata (rebuilt by pip install)"),
    JunkKind("build-output", "**/.eggs", "packaging metadata (rebuilt by pip install)"),
    JunkKind("build-output", "dist", "build outputs", droppable=False),
    JunkKind("build-output", "build", "build outputs", droppable=False),
    JunkKind("ide", "**/.idea", "editor and IDE settings"),
    JunkKind("ide", "**/.vscode", "editor and IDE settings"),
    JunkKind("ide", "**/*.sw[op]", "editor and IDE settings"),
    JunkKind("ide", "**/*~", "editor and IDE settings"),
    JunkKind("os", "**/.DS_Store", "operating system files"),
    JunkKind("os", "**/Thumbs.db", "operating system files"),
)


@dataclass(frozen=True)
class JunkFound:
    """Entries of the context that one junk line matches (and would drop)."""

    kind: JunkKind
    roots: tuple[str, ...]  # the topmost matched paths (a directory stands for what is inside)
    entries: tuple[Entry, ...]  # every matched entry that is not a directory

    @property
    def files(self) -> int:
        return len(self.entries)

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self.entries)


def find_junk(snapshot: ContextSnapshot, kinds: Iterable[JunkKind] = JUNK_KINDS) -> list[JunkFound]:
    """The junk kinds found in the context, with what each matches.

    An entry belongs to the kind of its topmost matching directory (or itself), and at the same
    path to the first matching kind in the list: `.venv/.../__pycache__` is part of the
    virtualenv, not a separate cache. Paths are visited parents first, so a directory's kind is
    known when its children are reached, and nothing inside junk is matched again."""
    kinds = list(kinds)
    patterns = [compile_pattern(k.pattern) for k in kinds]
    entries = snapshot.entries
    dir_kind: dict[str, int] = {}
    roots: list[list[str]] = [[] for _ in kinds]
    found: list[list[Entry]] = [[] for _ in kinds]
    for path in sorted(entries):
        entry = entries[path]
        parent = path.rpartition("/")[0]
        index = dir_kind.get(parent, -1) if parent else -1
        if index < 0:
            for i, (kind, pattern) in enumerate(zip(kinds, patterns, strict=True)):
                if pattern.match(path) and (
                    kind.marker is None or f"{path}/{kind.marker}" in entries
                ):
                    index = i
                    roots[i].append(path)
                    break
        if index < 0:
            continue
        if entry.kind == "dir":
            dir_kind[path] = index
        else:
            found[index].append(entry)
    return [
        JunkFound(kind, tuple(r), tuple(f))
        for kind, r, f in zip(kinds, roots, found, strict=True)
        if r
    ]


def is_under(path: str, root: str) -> bool:
    """Is `path` equal to `root` or inside it ("" is the context root)?"""
    return not root or path == root or path.startswith(root + "/")
