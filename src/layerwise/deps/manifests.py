"""Declared dependencies: requirements files (with their `-r`/`-c` chains), `pyproject.toml`
(PEP 621 dependencies and optional groups, PEP 735 dependency groups, Poetry groups, uv's dev
dependencies) and Pipfiles.

Every declaration keeps where it was written (file, line, group), so a report can say "pandas,
requirements.txt:4" and a fix can edit exactly that line. Requirement strings are parsed with
`packaging`, as pip does; what pip accepts beyond PEP 508 (options, `-e`, paths, URLs with
`#egg=`, wheel file names) is handled here.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from layerwise.deps.names import canonical
from layerwise.errors import InputError, Location

MAIN = "main"
DEV = "dev"


@dataclass(frozen=True)
class Declared:
    """One declared dependency."""

    name: str
    specifier: str  # "==2.2.2", ">=1,<2" or "" (a URL or path has none)
    extras: tuple[str, ...]
    marker: str | None
    source: str  # the manifest, relative to the project root ("requirements.txt")
    line: int  # 1-based line in the manifest (0: unknown)
    group: str  # "main", "dev", an optional group or a Poetry/PEP 735 group
    raw: str  # as written
    optional: bool = False  # only installed when asked for (extras, optional groups)
    url: str | None = None
    editable: bool = False

    @property
    def key(self) -> str:
        return canonical(self.name)

    @property
    def declared_in(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        if self.source.endswith((".toml", "Pipfile")) and self.group:
            return f"{where} [{self.group}]"
        return where

    def marker_applies(self, environment: dict[str, str] | None = None) -> bool:
        if not self.marker:
            return True
        try:
            from packaging.markers import Marker

            return bool(Marker(self.marker).evaluate(environment or {}))
        except Exception:
            return True  # an unreadable marker: assume it applies (conservative)


@dataclass
class RequirementsFile:
    """One requirements file: its own requirement lines and what it includes."""

    path: Path
    rel: str  # relative to the project root, POSIX
    requirements: list[Declared] = field(default_factory=list)
    includes: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, rel, line)
    # local projects installed from it (`-e .`): (directory, extras, line)
    projects: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    text: str = ""


@dataclass
class RequirementsChain:
    """A requirements file and everything it pulls in through `-r` (requirements) and `-c`
    (constraints: they pin versions but declare nothing)."""

    top: str
    files: list[RequirementsFile]
    constraint_files: list[RequirementsFile]

    @property
    def requirements(self) -> list[Declared]:
        return [r for f in self.files for r in f.requirements]

    @property
    def errors(self) -> list[str]:
        return [e for f in self.files + self.constraint_files for e in f.errors]

    @property
    def projects(self) -> list[tuple[str, tuple[str, ...], int]]:
        return [p for f in self.files for p in f.projects]


# -- requirements files ----------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s-]))(\S.*)$")
_EDITABLE = re.compile(r"^(-e|--editable)(?:\s*=\s*|\s+)(\S.*)$")
_OPTION = re.compile(r"^-")
_PER_REQ_OPTION = re.compile(r"\s+--?(?:hash|global-option|install-option|config-settings)\b.*$")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_WHEEL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*?)-\d[^/]*\.whl$")
_SDIST = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*?)-\d[\w.]*\.(?:tar\.gz|zip|tar\.bz2)$")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, content) per logical line of a requirements file, as pip reads it:
    comments removed, then lines ending in a backslash joined with the next."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _COMMENT.sub("", raw)
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        pending += line
        if pending.strip():
            yield start, pending.strip()
        pending = ""
    if pending.strip():
        yield start, pending.strip()


def _name_from_location(location: str) -> str | None:
    egg = _EGG.search(location)
    if egg:
        return egg.group(1)
    tail = location.rstrip("/").split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
    for pattern in (_WHEEL, _SDIST):
        m = pattern.match(tail)
        if m:
            return m.group(1)
    return None


def parse_requirement(
    text: str, source: str, line: int, group: str, *, optional: bool = False
) -> Declared | None:
    """One requirement as pip reads it: PEP 508, or a path/URL (named by `#egg=` or a wheel or
    sdist file name). None when it names nothing (a local directory: its metadata decides)."""
    text = _PER_REQ_OPTION.sub("", text).strip()
    editable = False
    m = _EDITABLE.match(text)
    if m:
        editable, text = True, m.group(2).strip()
    try:
        req = Requirement(text)
    except InvalidRequirement:
        name = _name_from_location(text)
        if name is None:
            return None
        return Declared(
            name, "", (), None, source, line, group, text, optional, url=text, editable=editable
        )
    return Declared(
        req.name,
        str(req.specifier),
        tuple(sorted(req.extras)),
        str(req.marker) if req.marker else None,
        source,
        line,
        group,
        text,
        optional,
        url=req.url,
        editable=editable,
    )


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_requirements_file(root: Path, path: Path, group: str = MAIN) -> RequirementsFile:
    rel = _rel(root, path)
    out = RequirementsFile(path, rel)
    try:
        out.text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        out.errors.append(f"{rel}: cannot read ({exc.strerror or exc})")
        return out
    for line, content in logical_lines(out.text):
        inc = _INCLUDE.match(content)
        if inc:
            kind = "-r" if inc.group(1) in ("-r", "--requirement") else "-c"
            target = inc.group(2).strip()
            if "://" in target:
                out.errors.append(f"{rel}:{line}: {kind} {target}: remote files are not read")
                continue
            out.includes.append((kind, _rel(root, path.parent / target), line))
            continue
        if _OPTION.match(content) and not _EDITABLE.match(content):
            continue  # --index-url, --find-links, --pre, ...: options, no requirement
        declared = parse_requirement(content, rel, line, group)
        if declared is not None:
            out.requirements.append(declared)
            continue
        local = _local_project(content)
        if local is not None:
            target, extras = local
            out.projects.append((_rel(root, path.parent / target), extras, line))
        else:
            out.errors.append(f"{rel}:{line}: cannot read requirement {content!r}")
    return out


def _local_project(content: str) -> tuple[str, tuple[str, ...]] | None:
    """A local project a requirements line installs (`.`, `-e ./lib[extra]`, `file:pkg`)."""
    m = _EDITABLE.match(content)
    target = m.group(2).strip() if m else content.strip()
    if target.startswith("file:"):
        target = target[5:]
    if not target.startswith((".", "/")) or target.endswith((".whl", ".tar.gz", ".zip")):
        return None
    extras: tuple[str, ...] = ()
    em = re.match(r"^(.*?)\[([^\]]*)\]$", target)
    if em:
        target = em.group(1)
        extras = tuple(e.strip() for e in em.group(2).split(",") if e.strip())
    return target, extras


def read_requirements(root: Path, rel: str, group: str = MAIN) -> RequirementsChain:
    """A requirements file with its `-r` and `-c` chain (each file once; cycles are cut)."""
    files: list[RequirementsFile] = []
    constraints: list[RequirementsFile] = []
    seen: set[str] = set()
    queue: list[tuple[str, str]] = [("-r", rel)]
    while queue:
        kind, current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        path = root / current
        if not path.is_file():
            missing = RequirementsFile(path, current)
            missing.errors.append(f"{current}: no such requirements file")
            (files if kind == "-r" else constraints).append(missing)
            continue
        parsed = read_requirements_file(root, path, group)
        if kind == "-c":
            constraints.append(parsed)
        else:
            files.append(parsed)
        # Constraint files may include further files; what they include only constrains.
        queue.extend((k if kind == "-r" else "-c", r) for k, r, _ in parsed.includes)
    return RequirementsChain(rel, files, constraints)


# -- pyproject.toml, Pipfile -----------------------------------------------------------------


@dataclass
class ProjectManifest:
    """A pyproject.toml or Pipfile: declared dependencies by group, entry points, and what the
    build system and tool are."""

    path: Path
    rel: str
    kind: str  # "pep621", "poetry", "pipfile"
    name: str | None
    dependencies: list[Declared]
    # group -> optional? ("main" is never optional; PEP 621 extras and Poetry optional groups are)
    groups: dict[str, bool]
    entry_points: list[tuple[str, str, str]]  # (group, name, "module:attr")
    tools: set[str] = field(default_factory=set)  # "poetry", "uv", "pdm", "pipenv"
    text: str = ""

    def in_groups(self, groups: Iterable[str]) -> list[Declared]:
        wanted = set(groups)
        return [d for d in self.dependencies if d.group in wanted]

    def default_groups(self, manager: str) -> set[str]:
        """The groups an install without group options brings in."""
        if manager == "poetry":
            return {g for g, optional in self.groups.items() if not optional}
        if manager == "uv":
            return {MAIN, DEV} & set(self.groups) | {MAIN}
        if manager == "pipenv":
            return {MAIN}
        return {MAIN}


def _load_toml(path: Path, rel: str) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{rel}: cannot read ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise InputError(
            f"invalid TOML ({str(exc).split(' (at line')[0]}); fix the file and run again",
            Location(rel, line or 1, col or 1),
        ) from None


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


class _Lines:
    """Finds the line a TOML entry was written on (tomllib keeps no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str]] = []
        for i, line in enumerate(self.lines, 1):
            m = _HEADER.match(line)
            if m:
                self.headers.append((i, m.group(1).replace('"', "").replace("'", "")))

    def find(self, needle: str, table: str | None = None, key_form: bool = False) -> int:
        start, end = 1, len(self.lines)
        if table is not None:
            found = [i for i, h in self.headers if h.replace(" ", "") == table.replace(" ", "")]
            if found:
                start = found[0]
                later = [i for i, _ in self.headers if i > start]
                end = later[0] - 1 if later else len(self.lines)
        pattern = (
            re.compile(rf"^\s*[\"']?{re.escape(needle)}[\"']?\s*=", re.I)
            if key_form
            else re.compile(rf"[\"']\s*{re.escape(needle)}(?![A-Za-z0-9_.-])", re.I)
        )
        for i in range(start, end + 1):
            if pattern.search(self.lines[i - 1]):
                return i
        return start if table is not None else 0


def _poetry_spec(name: str, spec: Any) -> tuple[str, tuple[str, ...], str | None, bool]:
    """(PEP 440 specifier, extras, marker, optional) of a Poetry dependency value."""
    extras: tuple[str, ...] = ()
    marker = None
    optional = False
    version = ""
    if isinstance(spec, list):  # multiple constraints: take the first for display
        spec = spec[0] if spec else ""
    if isinstance(spec, dict):
        version = str(spec.get("version", ""))
        extras = tuple(str(e) for e in spec.get("extras", ()))
        optional = bool(spec.get("optional", False))
        marker = str(spec["markers"]) if "markers" in spec else None
    elif isinstance(spec, str):
        version = spec
    version = version.strip()
    if version in ("*", ""):
        return "", extras, marker, optional
    if version[0].isdigit():
        return f"=={version}", extras, marker, optional
    return version, extras, marker, optional  # ^1.2 / ~1.2: Poetry syntax, shown as written


def read_pyproject(root: Path, path: Path) -> ProjectManifest:
    rel = _rel(root, path)
    data, text = _load_toml(path, rel)
    lines = _Lines(text)
    deps: list[Declared] = []
    groups: dict[str, bool] = {}
    entry_points: list[tuple[str, str, str]] = []
    tools = {t for t in ("poetry", "uv", "pdm", "hatch") if t in data.get("tool", {})}
    project = data.get("project") if isinstance(data.get("project"), dict) else None
    poetry = data.get("tool", {}).get("poetry")
    kind = "pep621"
    name = None

    def add(req: str, group: str, table: str, optional: bool) -> None:
        if not isinstance(req, str):
            return
        d = parse_requirement(req, rel, 0, group, optional=optional)
        if d is None:
            return
        line = lines.find(d.name, table)
        deps.append(
            Declared(
                d.name,
                d.specifier,
                d.extras,
                d.marker,
                rel,
                line,
                group,
                req,
                optional,
                d.url,
                d.editable,
            )
        )

    if project is not None:
        name = project.get("name")
        groups[MAIN] = False
        for req in project.get("dependencies", []) or []:
            add(req, MAIN, "project", False)
        for group, reqs in (project.get("optional-dependencies") or {}).items():
            groups[group] = True
            for req in reqs or []:
                add(req, group, "project.optional-dependencies", True)
        for script, target in (project.get("scripts") or {}).items():
            entry_points.append(("console_scripts", script, str(target)))
        for script, target in (project.get("gui-scripts") or {}).items():
            entry_points.append(("gui_scripts", script, str(target)))
        for group, eps in (project.get("entry-points") or {}).items():
            for ep, target in (eps or {}).items():
                entry_points.append((group, ep, str(target)))
    for group, reqs in (data.get("dependency-groups") or {}).items():
        # PEP 735: not part of the package; uv installs "dev" by default.
        groups[group] = group != DEV
        for req in reqs or []:
            add(req, group, "dependency-groups", group != DEV)
    uv_dev = data.get("tool", {}).get("uv", {}).get("dev-dependencies")
    if isinstance(uv_dev, list):
        groups.setdefault(DEV, False)
        for req in uv_dev:
            add(req, DEV, "tool.uv", False)
    if isinstance(poetry, dict) and (project is None or "dependencies" in poetry):
        kind = "poetry"
        name = name or poetry.get("name")
        groups.setdefault(MAIN, False)
        tables: list[tuple[str, dict[str, Any], str, bool]] = [
            (MAIN, poetry.get("dependencies") or {}, "tool.poetry.dependencies", False),
            (DEV, poetry.get("dev-dependencies") or {}, "tool.poetry.dev-dependencies", False),
        ]
        for group, body in (poetry.get("group") or {}).items():
            tables.append(
                (
                    group,
                    body.get("dependencies") or {},
                    f"tool.poetry.group.{group}.dependencies",
                    bool(body.get("optional", False)),
                )
            )
        for group, table, header, group_optional in tables:
            if not table:
                continue
            groups[group] = groups.get(group, False) or group_optional
            for dep_name, spec in table.items():
                if dep_name.lower() == "python":
                    continue
                spec_text, extras, marker, optional = _poetry_spec(dep_name, spec)
                line = lines.find(dep_name, header, key_form=True)
                raw = f"{dep_name} = {spec!r}"
                deps.append(
                    Declared(
                        dep_name,
                        spec_text,
                        extras,
                        marker,
                        rel,
                        line,
                        group,
                        raw,
                        optional or group_optional,
                    )
                )
        for script, target in (poetry.get("scripts") or {}).items():
            value = target if isinstance(target, str) else str(target.get("callable", ""))
            entry_points.append(("console_scripts", script, value))
        for group, eps in (poetry.get("plugins") or {}).items():
            for ep, target in (eps or {}).items():
                entry_points.append((group, ep, str(target)))
    return ProjectManifest(path, rel, kind, name, deps, groups, entry_points, tools, text)


def read_pipfile(root: Path, path: Path) -> ProjectManifest:
    rel = _rel(root, path)
    data, text = _load_toml(path, rel)
    lines = _Lines(text)
    deps: list[Declared] = []
    groups: dict[str, bool] = {}
    for table, group in (("packages", MAIN), ("dev-packages", DEV)):
        body = data.get(table) or {}
        groups[group] = False
        for dep_name, spec in body.items():
            spec_text, extras, marker, _ = _poetry_spec(dep_name, spec)
            if spec_text.startswith("=="):
                pass
            elif spec_text and spec_text[0].isdigit():
                spec_text = "==" + spec_text
            line = lines.find(dep_name, table, key_form=True)
            deps.append(
                Declared(
                    dep_name, spec_text, extras, marker, rel, line, group, f"{dep_name} = {spec!r}"
                )
            )
    return ProjectManifest(path, rel, "pipfile", None, deps, groups, [], {"pipenv"}, text)


class ManifestError(Exception):
    """A manifest whose declarations cannot be known without running code (a setup.py
    that computes its requirements): the analysis reports it and assumes nothing."""


def read_setup_py(root: Path, path: Path) -> ProjectManifest:
    """The literal `install_requires` and `extras_require` of a setup() call, read with `ast`
    (setup.py is never run). A computed list cannot be read: it raises ManifestError, so that
    the analysis knows the declarations are incomplete."""
    rel = _rel(root, path)
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, rel)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{rel}: cannot read it ({exc})") from exc
    call = next(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup"
        ),
        None,
    )
    if call is None:
        raise ManifestError(f"{rel}: no setup() call found")
    deps: list[Declared] = []
    groups: dict[str, bool] = {MAIN: False}
    name = None
    for kw in call.keywords:
        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
            name = str(kw.value.value)
        elif kw.arg == "install_requires":
            deps += _literal_requirements(kw.value, rel, MAIN, optional=False)
        elif kw.arg == "extras_require":
            if not isinstance(kw.value, ast.Dict):
                raise ManifestError(f"{rel}:{kw.value.lineno}: extras_require is computed")
            for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                    raise ManifestError(f"{rel}:{value.lineno}: an extra's name is computed")
                groups[key.value] = True
                deps += _literal_requirements(value, rel, key.value, optional=True)
    return ProjectManifest(path, rel, "setuptools", name, deps, groups, [], set(), text)


def _literal_requirements(
    node: ast.expr, rel: str, group: str, *, optional: bool
) -> list[Declared]:
    if not isinstance(node, ast.List | ast.Tuple) or not all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        raise ManifestError(f"{rel}:{node.lineno}: the requirements are computed, not a list")
    out = []
    for e in node.elts:
        assert isinstance(e, ast.Constant)
        d = parse_requirement(str(e.value), rel, e.lineno, group, optional=optional)
        if d is not None:
            out.append(d)
    return out


def read_manifest(root: Path, rel: str) -> ProjectManifest | RequirementsChain:
    """Any manifest by its path relative to the root: a requirements file (with its chain), a
    pyproject.toml, a Pipfile, or a setup.py."""
    name = PurePosixPath(rel).name
    path = root / rel
    if name == "pyproject.toml":
        return read_pyproject(root, path)
    if name == "Pipfile":
        return read_pipfile(root, path)
    if name == "setup.py":
        return read_setup_py(root, path)
    return read_requirements(root, rel)


MANIFEST_GLOBS = ("requirements*.txt", "requirements/*.txt", "*requirements.txt", "*.in")


def find_manifests(root: Path) -> list[str]:
    """Manifests at the top of a project (for a project without a Dockerfile to tell)."""
    out: list[str] = []
    for name in ("pyproject.toml", "Pipfile"):
        if (root / name).is_file():
            out.append(name)
    for pattern in MANIFEST_GLOBS:
        for p in sorted(root.glob(pattern)):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and rel not in out:
                out.append(rel)
    return out
