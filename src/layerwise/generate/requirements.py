"""pip requirements files as pip reads them: `-r`/`-c` chains, options, continuations.

Only what a Dockerfile needs: every file the install reads (to COPY them before it), the
distributions declared (to find the ones that compile C code, and the server), `--no-binary`,
and the lines that point into the project itself (which cannot be installed before its source).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from layerwise.errors import InputError, Location

_FILE_OPTIONS = {"-r": "requirement", "--requirement": "requirement"}
_CONSTRAINT_OPTIONS = {"-c", "--constraint"}
_EDITABLE = {"-e", "--editable"}
_VALUE_OPTIONS = {
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-binary",
    "--only-binary",
    "--hash",
    "--trusted-host",
    "--config-settings",
    "--global-option",
}
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


@dataclass
class RequirementsChain:
    """Everything one `pip install -r TOP` reads."""

    files: list[str] = field(default_factory=list)  # relative POSIX paths, first read first
    names: set[str] = field(default_factory=set)  # canonical names (requirements, not constraints)
    no_binary: set[str] = field(default_factory=set)
    local: list[Location] = field(default_factory=list)  # lines that install a local path
    find_links: list[str] = field(default_factory=list)  # local --find-links directories


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with comments removed and backslash continuations joined."""
    out: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        # pip strips a comment at the start of a line or after whitespace.
        line = re.sub(r"(^|\s+)#.*$", "", raw)
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1]
            continue
        buffer += line
        if buffer.strip():
            out.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        out.append((start, buffer.strip()))
    return out


def _split_option(line: str) -> tuple[str, str] | None:
    """('--requirement', 'base.txt') for `-r base.txt`, `-rbase.txt`, `--requirement=base.txt`."""
    if not line.startswith("-"):
        return None
    if line.startswith("--"):
        name, sep, value = line.partition("=")
        if sep:
            return name, value.strip()
        parts = line.split(None, 1)
        return parts[0], parts[1].strip() if len(parts) > 1 else ""
    name, rest = line[:2], line[2:]
    return name, rest.strip()


def read_chain(root: Path, top: str) -> RequirementsChain:
    """Follow `top` (relative to `root`) and every file it includes, as pip does: paths in a
    file are relative to that file. A missing or outside file is an `InputError` naming the line
    that refers to it."""
    chain = RequirementsChain()
    _read(root.resolve(), top, chain, None, constraint=False)
    return chain


def _resolve(root: Path, rel: str, where: Location | None) -> Path:
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise InputError(
            f"{rel} is outside the project directory: a Docker build cannot COPY it "
            "(move it into the project)",
            where,
        )
    if not path.is_file():
        raise InputError(f"{rel}: no such requirements file", where)
    return path


def _read(
    root: Path, rel: str, chain: RequirementsChain, where: Location | None, *, constraint: bool
) -> None:
    rel = posixpath.normpath(rel)
    if rel in chain.files:
        return  # pip would loop; reading each file once is enough to know what it needs
    path = _resolve(root, rel, where)
    chain.files.append(rel)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{rel}: cannot read: {exc}", where) from None
    base = posixpath.dirname(rel)
    for number, line in _logical_lines(text):
        loc = Location(rel, number)
        option = _split_option(line)
        if option is not None:
            name, value = option
            value = value.split()[0] if value else ""
            if name in _FILE_OPTIONS or name in _CONSTRAINT_OPTIONS:
                if not value:
                    raise InputError(f"{name} needs a file name", loc)
                if _URL.match(value):
                    continue  # fetched by pip at build time: nothing to COPY
                _read(
                    root,
                    posixpath.join(base, value),
                    chain,
                    loc,
                    constraint=constraint or name in _CONSTRAINT_OPTIONS,
                )
            elif name in _EDITABLE:
                if not _URL.match(value) and not value.startswith(("git+", "hg+", "svn+")):
                    chain.local.append(loc)
            elif name == "--no-binary":
                chain.no_binary.update(
                    ":all:" if v == ":all:" else canonicalize_name(v)
                    for v in value.split(",")
                    if v and v != ":none:"
                )
            elif name in ("-f", "--find-links") and value and not _URL.match(value):
                chain.find_links.append(posixpath.normpath(posixpath.join(base, value)))
            continue
        spec = line.split(" --", 1)[0].strip()  # per-requirement options (--hash=...)
        if _is_local_path(spec):
            chain.local.append(loc)
            continue
        try:
            requirement = Requirement(spec)
        except InvalidRequirement:
            # pip also accepts archive URLs and `name @ url` forms it can still name
            match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
            if match is None or _URL.match(spec):
                continue
            if not constraint:
                chain.names.add(canonicalize_name(match.group(1)))
            continue
        if not constraint:
            chain.names.add(canonicalize_name(requirement.name))


def _is_local_path(spec: str) -> bool:
    if spec in (".", ".."):
        return True
    first = spec.split()[0] if spec else spec
    return first.startswith(("./", "../", "/", ".["))
