"""Which tool manages a project's dependencies, which files declare them, and which Python it
wants: requirements files, Poetry, uv, Pipenv, PDM, PEP 621 metadata, setup.py.

Lock files win over loose declarations (they are what the team runs); a requirements file wins
over `[project] dependencies` without a lock (it is usually the pinned set).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from layerwise.errors import InputError, Location
from layerwise.generate.project import Dependencies
from layerwise.generate.requirements import read_chain

# Python minor versions with official `python:X-slim` images that are still maintained.
SUPPORTED_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")

_REQUIREMENTS_CANDIDATES = (
    "requirements.txt",
    "requirements/prod.txt",
    "requirements/production.txt",
    "requirements/main.txt",
    "requirements/base.txt",
    "requirements/requirements.txt",
    "requirements.in",
)
_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_toml(root: Path, rel: str) -> dict[str, Any]:
    path = root / rel
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{rel}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        loc = Location(rel, int(match.group(1)), int(match.group(2))) if match else None
        message = _TOML_LINE.sub("", str(exc)).strip()
        raise InputError(f"invalid TOML: {message}", loc or Location(rel, 1)) from None


def _table(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = data
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return dict(node) if isinstance(node, Mapping) else {}


def _names(specs: Iterable[Any]) -> set[str]:
    out: set[str] = set()
    for spec in specs:
        if not isinstance(spec, str):
            continue
        try:
            out.add(canonicalize_name(Requirement(spec).name))
        except InvalidRequirement:
            continue
    return out


def _reachable(graph: Mapping[str, set[str]], start: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo: list[str] = [canonicalize_name(s) for s in start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph.get(name, ()))
    return seen


def _uv_names(lock: Mapping[str, Any], direct: set[str]) -> set[str]:
    graph: dict[str, set[str]] = {}
    for package in lock.get("package", []) or []:
        if not isinstance(package, Mapping):
            continue
        deps = package.get("dependencies", []) or []
        graph[canonicalize_name(str(package.get("name", "")))] = {
            canonicalize_name(str(d.get("name", ""))) for d in deps if isinstance(d, Mapping)
        }
    return _reachable(graph, direct) if direct else set(graph)


def _poetry_names(lock: Mapping[str, Any], direct: set[str]) -> set[str]:
    graph: dict[str, set[str]] = {}
    for package in lock.get("package", []) or []:
        if not isinstance(package, Mapping):
            continue
        deps = package.get("dependencies", {}) or {}
        graph[canonicalize_name(str(package.get("name", "")))] = {
            canonicalize_name(str(d)) for d in deps
        }
    return _reachable(graph, direct) if direct else set(graph)


def _poetry_direct(pyproject: Mapping[str, Any]) -> set[str]:
    deps = _table(pyproject, "tool", "poetry", "dependencies")
    names = {canonicalize_name(k) for k in deps if k.lower() != "python"}
    return names | _names(_table(pyproject, "project").get("dependencies", []) or [])


def _setup_py_names(root: Path) -> set[str]:
    """`install_requires=[...]` constants of a setup() call (a dynamic list is not followed)."""
    try:
        tree = ast.parse((root / "setup.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "install_requires" and isinstance(kw.value, ast.List | ast.Tuple):
                    return _names(e.value for e in kw.value.elts if isinstance(e, ast.Constant))
    return set()


def find_requirements(root: Path) -> str | None:
    for candidate in _REQUIREMENTS_CANDIDATES:
        if (root / candidate).is_file():
            return candidate
    return None


def detect_dependencies(root: Path, pyproject: Mapping[str, Any] | None) -> Dependencies:
    """The dependency manager and its manifests (see the module docstring for precedence)."""
    project = _table(pyproject or {}, "project")
    has_pyproject = pyproject is not None
    with_pyproject = ("pyproject.toml",) if has_pyproject else ()

    if (root / "uv.lock").is_file():
        lock = read_toml(root, "uv.lock")
        direct = _names(project.get("dependencies", []) or [])
        return Dependencies(
            "uv",
            (*with_pyproject, "uv.lock"),
            "uv.lock",
            names=frozenset(_uv_names(lock, direct)),
            lock_version=str(lock.get("version", "")) or None,
        )
    if (root / "poetry.lock").is_file() or _table(pyproject or {}, "tool", "poetry").get(
        "dependencies"
    ):
        if not (root / "poetry.lock").is_file():
            raise InputError(
                "a Poetry project without poetry.lock: run `poetry lock` first (the image "
                "installs exactly what the lock file pins)",
                Location("pyproject.toml", 1),
            )
        lock = read_toml(root, "poetry.lock")
        metadata = _table(lock, "metadata")
        return Dependencies(
            "poetry",
            (*with_pyproject, "poetry.lock"),
            "poetry.lock",
            names=frozenset(_poetry_names(lock, _poetry_direct(pyproject or {}))),
            lock_version=str(metadata.get("lock-version", "")) or None,
        )
    if (root / "Pipfile.lock").is_file() or (root / "Pipfile").is_file():
        if not (root / "Pipfile.lock").is_file():
            raise InputError(
                "a Pipenv project without Pipfile.lock: run `pipenv lock` first",
                Location("Pipfile", 1),
            )
        try:
            lock_data = json.loads((root / "Pipfile.lock").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"Pipfile.lock: not valid JSON: {exc}") from None
        default = lock_data.get("default", {}) if isinstance(lock_data, dict) else {}
        manifests: tuple[str, ...] = (
            ("Pipfile", "Pipfile.lock") if (root / "Pipfile").is_file() else ()
        )
        return Dependencies(
            "pipenv",
            manifests or ("Pipfile.lock",),
            "Pipfile.lock",
            names=frozenset(canonicalize_name(k) for k in default),
        )
    if (root / "pdm.lock").is_file():
        lock = read_toml(root, "pdm.lock")
        names = {
            canonicalize_name(str(p.get("name", "")))
            for p in lock.get("package", []) or []
            if isinstance(p, Mapping) and "default" in (p.get("groups") or ["default"])
        }
        return Dependencies(
            "pdm", (*with_pyproject, "pdm.lock"), "pdm.lock", names=frozenset(names)
        )
    top = find_requirements(root)
    if top is not None:
        chain = read_chain(root, top)
        pip_manifests = tuple(chain.files) + tuple(chain.find_links)
        if chain.local:
            first = chain.local[0]
            raise InputError(
                "this requirements file installs a local path: a dependency layer cannot be "
                "built before the source is copied; list the project's dependencies instead "
                "(or use `pip install .` through pyproject.toml)",
                first,
            )
        return Dependencies(
            "pip",
            pip_manifests,
            top,
            requirements=(top,),
            names=frozenset(chain.names),
            no_binary=frozenset(chain.no_binary),
        )
    if has_pyproject and "dependencies" in project:
        return Dependencies(
            "pep621",
            ("pyproject.toml",),
            "pyproject.toml [project] dependencies",
            names=frozenset(_names(project.get("dependencies", []) or [])),
        )
    if (has_pyproject and "dependencies" in (project.get("dynamic") or [])) or (
        (root / "setup.py").is_file() or (root / "setup.cfg").is_file()
    ):
        files = tuple(
            f for f in ("pyproject.toml", "setup.py", "setup.cfg") if (root / f).is_file()
        )
        setup_names = _setup_py_names(root) if (root / "setup.py").is_file() else set()
        return Dependencies(
            "setuptools", files, files[0] if files else "setup.py", names=frozenset(setup_names)
        )
    if has_pyproject and project:
        # A PEP 621 project that declares no dependencies at all.
        return Dependencies("pep621", ("pyproject.toml",), "pyproject.toml [project]")
    return Dependencies("none", (), "no dependency manifest")


# --- Python version --------------------------------------------------------------------------

_MINOR = re.compile(r"(?<![\d.])(3)\.(\d+)")


def _minor(text: str) -> str | None:
    match = _MINOR.search(text)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _poetry_to_pep440(constraint: str) -> list[SpecifierSet]:
    """Poetry's `^3.11`, `~3.11`, `3.11.*`, `>=3.9,<3.13`, `a || b` as PEP 440 alternatives."""
    alternatives = []
    for alternative in constraint.split("||"):
        parts = []
        for token in re.split(r"[,\s]+(?=[<>=!~^*\d])", alternative.strip()):
            token = token.strip().rstrip(",")
            if not token or token == "*":
                continue
            if token.startswith("^"):
                version = Version(token[1:])
                major, minor = version.major, version.minor
                upper = f"{major + 1}.0" if major > 0 else f"0.{minor + 1}"
                parts += [f">={token[1:]}", f"<{upper}"]
            elif token.startswith("~") and not token.startswith("~="):
                version = Version(token[1:])
                parts += [f">={token[1:]}", f"<{version.major}.{version.minor + 1}"]
            elif token[0].isdigit():
                parts.append(f"=={token}")
            else:
                parts.append(token)
        try:
            alternatives.append(SpecifierSet(",".join(parts)))
        except InvalidSpecifier:
            continue
    return alternatives


def _satisfies(version: str, specs: list[SpecifierSet]) -> bool:
    return any(spec.contains(f"{version}.0", prereleases=True) for spec in specs)


def _choose(specs: list[SpecifierSet], source: str) -> tuple[str, str]:
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    if local in SUPPORTED_PYTHONS and _satisfies(local, specs):
        return local, f"{source} (the Python running layerwise, {local}, satisfies it)"
    for candidate in SUPPORTED_PYTHONS:
        if _satisfies(candidate, specs):
            return candidate, f"{source} (the oldest maintained Python that satisfies it)"
    raise InputError(
        f"{source}: no maintained Python ({', '.join(SUPPORTED_PYTHONS)}) satisfies it; "
        "pass --python VERSION"
    )


def detect_python(root: Path, pyproject: Mapping[str, Any] | None) -> tuple[str, str]:
    """(minor version, why): `.python-version`, `runtime.txt`, Pipfile's `python_version`,
    `requires-python`, Poetry's `python` constraint; else the Python running layerwise."""
    for rel in (".python-version", "runtime.txt"):
        path = root / rel
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    minor = _minor(line)
                    if minor:
                        return minor, f"{rel}: {line}"
                    break
    if (root / "Pipfile").is_file():
        try:
            pipfile = read_toml(root, "Pipfile")
        except InputError:
            pipfile = {}
        wanted = str(_table(pipfile, "requires").get("python_version", ""))
        minor = _minor(wanted)
        if minor:
            return minor, f"Pipfile: python_version = {wanted}"
    requires = _table(pyproject or {}, "project").get("requires-python")
    if isinstance(requires, str) and requires.strip():
        try:
            spec = SpecifierSet(requires)
        except InvalidSpecifier:
            raise InputError(
                f"requires-python {requires!r} is not a valid version specifier",
                Location("pyproject.toml", 1),
            ) from None
        return _choose([spec], f"pyproject.toml: requires-python = {requires!r}")
    poetry_python = _table(pyproject or {}, "tool", "poetry", "dependencies").get("python")
    if isinstance(poetry_python, str) and poetry_python.strip():
        specs = _poetry_to_pep440(poetry_python)
        if specs:
            return _choose(specs, f"pyproject.toml: [tool.poetry] python = {poetry_python!r}")
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    if local not in SUPPORTED_PYTHONS:
        local = SUPPORTED_PYTHONS[-1]
    return local, "no version in the project: the Python running layerwise"
