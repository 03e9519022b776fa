"""What the compose checks need to know about the image a service builds: read from its
Dockerfile (the stage `build.target` names, or the last one, with the stages it is built FROM).

Only what can be read without building: the HEALTHCHECK in force, the EXPOSEd ports, the
final WORKDIR, and what each COPY/ADD from the build context puts where.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.compose.model import BuildTarget
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Instruction
from layerwise.errors import LayerwiseError

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Copy:
    """A COPY or ADD from the build context: its sources (relative to the context) and the
    absolute destination in the image."""

    sources: tuple[str, ...]
    destination: str
    line: int

    def landing(self, path: str, context: Path) -> str | None:
        """Where the context file or directory `path` (relative to the context) lands in the
        image through this COPY, or None when this COPY does not take it."""
        path = posixpath.normpath(path)
        many = len(self.sources) > 1 or self.destination.endswith("/")
        for raw in self.sources:
            source = posixpath.normpath(raw.lstrip("/")) if raw not in ("/", "") else "."
            if any(c in source for c in "*?["):
                if fnmatch.fnmatchcase(path, source):
                    return posixpath.join(self.destination, posixpath.basename(path))
                continue
            if source == "." or (context / source).is_dir():
                if source == "." or path == source or path.startswith(source + "/"):
                    rel = posixpath.relpath(path, source) if source != "." else path
                    return posixpath.normpath(posixpath.join(self.destination, rel))
                continue
            if path == source:
                if many:
                    return posixpath.join(self.destination, posixpath.basename(source))
                return posixpath.normpath(self.destination)
        return None


@dataclass
class ImageFacts:
    dockerfile: str | None
    healthcheck: bool | None = None  # None: the base image decides (not known from here)
    exposes: list[str] = field(default_factory=list)
    workdir: str = "/"
    copies: list[Copy] = field(default_factory=list)
    command: str | None = None

    def copies_into(self, container_path: str) -> list[Copy]:
        """The COPYs whose destination is `container_path` or inside it, or contains it."""
        path = posixpath.normpath(container_path)
        found = []
        for copy in self.copies:
            dest = posixpath.normpath(copy.destination)
            inside = dest.startswith(path.rstrip("/") + "/")
            if dest == path or inside or path.startswith(dest.rstrip("/") + "/"):
                found.append(copy)
        return found


def _expand(text: str, scope: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        value = scope.get(name)
        if value:
            return value
        return default or ""

    return _VAR.sub(replace, text)


def read_image_facts(target: BuildTarget) -> ImageFacts | None:
    """The facts for a build target, or None when its Dockerfile cannot be read here (remote
    context, missing file, or a Dockerfile layerwise cannot parse)."""
    if target.dockerfile_inline is not None:
        text, name = target.dockerfile_inline, f"{target.service} (inline Dockerfile)"
    elif target.dockerfile and not target.is_remote:
        try:
            text = Path(target.dockerfile).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        name = target.dockerfile
    else:
        return None
    try:
        dockerfile = parse_dockerfile(text, name)
    except LayerwiseError:
        return None
    stages: list[tuple[str | None, list[Instruction]]] = []
    for instruction in dockerfile.instructions:
        if instruction.name == "FROM":
            args = instruction.arguments
            alias = args[2].lower() if len(args) >= 3 and args[1].upper() == "AS" else None
            stages.append((alias, [instruction]))
        elif stages:
            stages[-1][1].append(instruction)
    if not stages:
        return None
    index = len(stages) - 1
    if target.target:
        names = [alias for alias, _ in stages]
        if target.target.lower() not in names:
            return None
        index = names.index(target.target.lower())
    chain: list[list[Instruction]] = []
    seen: set[int] = set()
    while index not in seen:
        seen.add(index)
        chain.insert(0, stages[index][1])
        base = stages[index][1][0].arguments[0].lower() if stages[index][1][0].arguments else ""
        names = [alias for alias, _ in stages[:index]]
        if base in names:
            index = names.index(base)
        else:
            break
    facts = ImageFacts(dockerfile=target.dockerfile)
    scope = dict(target.args)
    for stage in chain:
        for instruction in stage[1:]:
            _apply(instruction, facts, scope)
    return facts


def _apply(instruction: Instruction, facts: ImageFacts, scope: dict[str, str]) -> None:
    name = instruction.name
    args = [_expand(a, scope) for a in instruction.arguments]
    if name == "HEALTHCHECK":
        facts.healthcheck = bool(args) and args[0].upper() != "NONE"
    elif name == "EXPOSE":
        facts.exposes.extend(args)
    elif name == "WORKDIR" and args:
        facts.workdir = posixpath.normpath(posixpath.join(facts.workdir, args[0]))
    elif name == "ENV":
        for pair in instruction.pairs:
            scope[pair.key] = _expand(pair.value, scope)
    elif name == "ARG":
        for arg in args:
            key, sep, value = arg.partition("=")
            if key not in scope and sep:
                scope[key] = value
    elif name in ("COPY", "ADD") and len(args) >= 2:
        if instruction.flag("from") is not None:
            return
        *sources, dest = args
        if not posixpath.isabs(dest):
            trailing = dest.endswith("/") or dest in (".", "./")
            dest = posixpath.normpath(posixpath.join(facts.workdir, dest))
            if trailing:
                dest = dest.rstrip("/") + "/"
        sources = [s for s in sources if "://" not in s]
        if sources:
            facts.copies.append(Copy(tuple(sources), dest, instruction.start_line))
    elif name in ("CMD", "ENTRYPOINT"):
        facts.command = " ".join(args)
