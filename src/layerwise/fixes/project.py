"""What the build context holds, as the structural fixes need to know it.

A manifest-first split copies the files a dependency install reads before the rest of the
source. Which files those are is only certain from the context itself: `-r` files that include
other files, a `pyproject.toml` whose dependencies are static or come from files, the lock files
and tool settings next to a `package.json`. `ProjectFiles` is that view, read from the directory
(or from the context engine's snapshot, which also knows what `.dockerignore` keeps out). Paths
are relative to the context root, slash-separated.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from packaging.requirements import InvalidRequirement, Requirement

MAX_MANIFEST_BYTES = 4_000_000


class ProjectFiles(Protocol):
    """Read access to the files of a build context (paths relative to its root)."""

    def is_file(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def read_text(self, path: str) -> str | None: ...


class DirectoryFiles:
    """The files of a directory, optionally with the paths `.dockerignore` keeps out hidden."""

    def __init__(self, root: Path, sent: Callable[[str], bool] | None = None) -> None:
        self.root = root
        self._sent = sent

    def _path(self, path: str) -> Path | None:
        norm = normalize(path)
        if norm is None:
            return None
        if self._sent is not None and norm and not self._sent(norm):
            return None
        return self.root / norm if norm else self.root

    def is_file(self, path: str) -> bool:
        p = self._path(path)
        return p is not None and p.is_file()

    def is_dir(self, path: str) -> bool:
        p = self._path(path)
        return p is not None and p.is_dir()

    def read_text(self, path: str) -> str | None:
        p = self._path(path)
        if p is None or not p.is_file():
            return None
        try:
            if p.stat().st_size > MAX_MANIFEST_BYTES:
                return None
            return p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


class SnapshotFiles(DirectoryFiles):
    """The files the context engine says BuildKit sends (after `.dockerignore`)."""

    def __init__(self, root: Path, entries: dict[str, Any]) -> None:
        super().__init__(root, lambda p: p in entries)
        self._entries = entries

    def is_file(self, path: str) -> bool:
        norm = normalize(path)
        entry = self._entries.get(norm) if norm else None
        return entry is not None and getattr(entry, "kind", "file") != "dir"

    def is_dir(self, path: str) -> bool:
        norm = normalize(path)
        if norm == "":
            return True
        entry = self._entries.get(norm) if norm else None
        return entry is not None and getattr(entry, "kind", "") == "dir"


def project_files(build_context: object | None) -> ProjectFiles | None:
    """A `ProjectFiles` for what a rule gets as its build context: a directory (str or Path),
    the context engine's `BuildContext` (its snapshot honours `.dockerignore`), or anything that
    already is a `ProjectFiles`. None stays None: the fixes then work from the Dockerfile alone."""
    if build_context is None:
        return None
    if isinstance(build_context, str | Path):
        return DirectoryFiles(Path(build_context))
    snapshot = getattr(build_context, "snapshot", None)
    root = getattr(build_context, "root", None)
    if snapshot is not None and root is not None:
        entries = getattr(snapshot, "entries", None)
        if isinstance(entries, dict):
            return SnapshotFiles(Path(root), entries)
    if root is not None:
        return DirectoryFiles(Path(root))
    if all(hasattr(build_context, m) for m in ("is_file", "is_dir", "read_text")):
        return build_context  # type: ignore[return-value]
    return None


def normalize(path: str) -> str | None:
    """A context-relative path in canonical form ("" for the root); None when it leaves it."""
    norm = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    if norm == ".":
        norm = ""
    return norm


def join(directory: str, path: str) -> str:
    return normalize(posixpath.join(directory, path)) or ""


# -- requirement files -------------------------------------------------------------------------


@dataclass
class RequirementFiles:
    """Requirement files read by `pip install -r`, following their `-r`/`-c` lines."""

    files: list[str] = field(default_factory=list)  # context paths, in the order read
    missing: list[str] = field(default_factory=list)  # named but not in the context
    local: list[str] = field(default_factory=list)  # lines installing local paths (`-e .`)


_INCLUDE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")
_LOCAL_OPTIONS = ("-e", "--editable")


def requirement_files(files: ProjectFiles, paths: Iterable[str]) -> RequirementFiles:
    """Follow `-r`/`-c` includes from the given requirement files (context paths). Includes are
    relative to the including file, as pip reads them; URLs are not followed."""
    out = RequirementFiles()
    todo = list(paths)
    seen: set[str] = set()
    while todo:
        path = normalize(todo.pop(0)) or ""
        if path in seen:
            continue
        seen.add(path)
        text = files.read_text(path)
        if text is None:
            out.missing.append(path)
            continue
        out.files.append(path)
        base = posixpath.dirname(path)
        for option, value in _requirement_lines(text):
            if option in _INCLUDE_OPTIONS:
                if "://" not in value:
                    todo.append(join(base, value))
            elif option in _LOCAL_OPTIONS or (option is None and _is_local(value)):
                out.local.append(value)
    return out


def _requirement_lines(text: str) -> list[tuple[str | None, str]]:
    """(option or None, value) per logical line: continuations joined, comments removed."""
    out: list[tuple[str | None, str]] = []
    logical = ""
    for raw in text.splitlines():
        line = raw
        if line.endswith("\\"):
            logical += line[:-1]
            continue
        logical += line
        stripped = _strip_comment(logical).strip()
        logical = ""
        if not stripped:
            continue
        for option in (*_INCLUDE_OPTIONS, *_LOCAL_OPTIONS):
            if stripped.startswith((option + " ", option + "=")):
                out.append((option, stripped[len(option) + 1 :].strip()))
                break
            short = option.startswith("-") and not option.startswith("--")
            if short and stripped.startswith(option) and len(stripped) > 2 and stripped[2] != "-":
                out.append((option, stripped[2:].strip()))
                break
        else:
            if not stripped.startswith("-"):
                out.append((None, stripped))
    return out


def _strip_comment(line: str) -> str:
    # pip: a comment starts at `#` at the line start or after whitespace.
    for i, ch in enumerate(line):
        if ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _is_local(value: str) -> bool:
    """A requirement line that names a local path (`.`, `./pkg`, `file:...`, `x.whl`)."""
    head = value.split(";", 1)[0].strip()
    if head.startswith(("file:", ".", "/", "~")):
        return True
    if head.endswith((".whl", ".tar.gz", ".zip")) and "://" not in head:
        return True
    try:
        req = Requirement(head)
    except InvalidRequirement:
        return "/" in head and "://" not in head
    return bool(req.url and req.url.startswith("file:"))


# -- pyproject.toml ----------------------------------------------------------------------------


@dataclass
class ProjectMetadata:
    """What a local project's `pip install .` needs to install its dependencies first."""

    directory: str  # context path of the project ("" for the root)
    manifests: list[str]  # files the dependency install reads (pyproject.toml, -r files)
    static: bool  # dependencies listed in [project] (read at build time with tomllib)
    requirement_files: list[str]  # dependencies come from these files (setuptools dynamic)
    name: str | None = None
    problem: str | None = None  # why the dependencies cannot be installed on their own


def project_metadata(files: ProjectFiles, directory: str = "") -> ProjectMetadata:
    """How to install the dependencies of the project in `directory` without its source."""
    pyproject = join(directory, "pyproject.toml")
    meta = ProjectMetadata(directory, [], False, [])
    text = files.read_text(pyproject)
    if text is None:
        if files.is_file(join(directory, "setup.py")) or files.is_file(
            join(directory, "setup.cfg")
        ):
            meta.problem = (
                "its dependencies are declared in setup.py/setup.cfg, which pip reads only with "
                "the source; add a [project] table to pyproject.toml"
            )
        else:
            meta.problem = f"there is no {pyproject} in the build context"
        return meta
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        meta.problem = f"{pyproject} is not valid TOML ({exc})"
        return meta
    project = data.get("project")
    if not isinstance(project, dict):
        meta.problem = (
            f"{pyproject} has no [project] table (dependencies declared elsewhere, e.g. "
            "[tool.poetry], are only known to its own tool)"
        )
        return meta
    meta.name = project.get("name") if isinstance(project.get("name"), str) else None
    meta.manifests.append(pyproject)
    dynamic = project.get("dynamic") or []
    if "dependencies" not in dynamic:
        deps = project.get("dependencies") or []
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            meta.problem = f"{pyproject}: [project] dependencies is not a list of strings"
            return meta
        if meta.name and any(_names(d, meta.name) for d in deps):
            meta.problem = f"{pyproject}: the project depends on itself"
            return meta
        meta.static = True
        return meta
    dyn = data.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("dependencies")
    if isinstance(dyn, dict) and isinstance(dyn.get("file"), list | str):
        names = [dyn["file"]] if isinstance(dyn["file"], str) else list(dyn["file"])
        paths = [join(directory, n) for n in names if isinstance(n, str)]
        found = requirement_files(files, paths)
        if found.missing:
            meta.problem = f"dependency file {found.missing[0]} is not in the build context"
            return meta
        if found.local:
            meta.problem = f"a dependency file installs a local path ({found.local[0]})"
            return meta
        meta.requirement_files = paths
        meta.manifests.extend(found.files)
        return meta
    meta.problem = (
        f"{pyproject} declares its dependencies as dynamic; only the build backend can list them"
    )
    return meta


def _names(requirement: str, name: str) -> bool:
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    return _canonical(req.name) == _canonical(name)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
