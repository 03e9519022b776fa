"""Well-known junk in a build context: files no image needs that slow every build down.

Each kind is a `.dockerignore` line, so what is found is exactly what that line would drop, and
the line can be suggested as it is. Matching uses the same semantics as Docker (a pattern
matches a path or one of its parent directories).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from layerwise.context.ignore import Pattern, compile_pattern
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


def _matched(snapshot: ContextSnapshot, pattern: Pattern) -> tuple[list[str], list[Entry]]:
    """Entries a pattern matches directly or through a parent directory; and the topmost ones.

    Paths are visited parents first, so a directory's answer is known for its children."""
    dir_hit: dict[str, bool] = {"": False}
    roots: list[str] = []
    entries: list[Entry] = []
    for path in sorted(snapshot.entries):
        entry = snapshot.entries[path]
        parent = path.rpartition("/")[0]
        inherited = dir_hit.get(parent, False)
        hit = inherited or pattern.match(path)
        if entry.kind == "dir":
            dir_hit[path] = hit
        if hit:
            if not inherited:
                roots.append(path)
            if entry.kind != "dir":
                entries.append(entry)
    return roots, entries


def find_junk(snapshot: ContextSnapshot, kinds: Iterable[JunkKind] = JUNK_KINDS) -> list[JunkFound]:
    """The junk lines that match something in the context, with what they match. A path that an
    earlier kind already matched (a `.pyc` inside `__pycache__`) is not listed again."""
    found = []
    seen: set[str] = set()
    for kind in kinds:
        roots, entries = _matched(snapshot, compile_pattern(kind.pattern))
        if kind.marker is not None:
            roots = [r for r in roots if f"{r}/{kind.marker}" in snapshot.entries]
            entries = [e for e in entries if any(is_under(e.path, r) for r in roots)]
        roots = [r for r in roots if not _inside(r, seen)]
        entries = [e for e in entries if not _inside(e.path, seen)]
        if roots:
            found.append(JunkFound(kind, tuple(roots), tuple(entries)))
            seen.update(roots)
    return found


def _inside(path: str, roots: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:i]) in roots for i in range(1, len(parts) + 1))


def is_under(path: str, root: str) -> bool:
    """Is `path` equal to `root` or inside it ("" is the context root)?"""
    return not root or path == root or path.startswith(root + "/")
