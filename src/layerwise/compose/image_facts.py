"""What the compose checks need to know about the image a service builds: read from its
Dockerfile (the stage `build.target` names, or the last one, with the stages it is built FROM).

Only what can be read without building: the HEALTHCHECK in force, the EXPOSEd ports, the
final WORKDIR, and what each COPY/ADD from the build context puts where.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.compose.model import BuildTarget
from layerwise.dockerfile.model import Stage, Step
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.errors import LayerwiseError


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


def read_image_facts(target: BuildTarget) -> ImageFacts | None:
    """The facts for a build target, or None when its Dockerfile cannot be read here (remote
    context, missing file, a Dockerfile layerwise cannot parse, or an unknown target stage)."""
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
        model = parse_dockerfile(text, name).model(
            build_args=dict(target.args), target=target.target
        )
    except LayerwiseError:
        return None
    stage = model.target
    if stage is None or (target.target and model.stage_named(target.target) is None):
        return None  # BuildKit would refuse an unknown target
    chain: list[Stage] = []
    while stage is not None and stage not in chain:
        chain.insert(0, stage)
        stage = model.stages[stage.base_stage] if stage.base_stage is not None else None
    facts = ImageFacts(dockerfile=target.dockerfile, workdir=chain[-1].workdir)
    for stage in chain:
        for step in stage.steps:
            _apply(step, facts)
    return facts


def _apply(step: Step, facts: ImageFacts) -> None:
    name = step.name
    args = list(step.expanded or step.instruction.arguments)
    if name == "HEALTHCHECK":
        facts.healthcheck = bool(args) and args[0].upper() != "NONE"
    elif name == "EXPOSE":
        facts.exposes.extend(args)
    elif name in ("COPY", "ADD") and len(args) >= 2:
        sources = [s for read in step.reads if read.kind == "context" for s in read.sources]
        if not sources:
            return
        dest = args[-1]
        if not posixpath.isabs(dest):
            trailing = dest.endswith("/") or dest in (".", "./")
            dest = posixpath.normpath(posixpath.join(step.workdir, dest))
            if trailing:
                dest = dest.rstrip("/") + "/"
        facts.copies.append(Copy(tuple(sources), dest, step.line))
    elif name in ("CMD", "ENTRYPOINT"):
        facts.command = " ".join(step.instruction.arguments)
