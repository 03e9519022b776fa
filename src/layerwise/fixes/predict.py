"""What can be known about a build's speed and size without running it.

Two predictions for `layerwise optimize`, simple on purpose (the cache model of issue 6 refines
them with git history and real file contents):

* which steps a source-code change re-runs: a COPY/ADD/bind mount of the context that brings
  anything but dependency manifests is invalidated by an edit to the source; so is every later
  step of its stage, and every stage built on it (`FROM stage`, `COPY --from=stage`);
* which system packages the final image installs (apt, apk, ...), so that build tools dropped by a
  multi-stage split can be listed.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from typing import Any

from layerwise.dockerfile.model import Model, Stage, Step
from layerwise.fixes.manifest import installs_only_the_project
from layerwise.fixes.project import ProjectFiles, requirement_files
from layerwise.rules.base import LintContext
from layerwise.shell.debian import is_build_only

# Files dependency installs read, not application source (a change to them is a dependency
# change, not a code change).
MANIFEST_PATTERNS = (
    "requirements*.txt", "requirements*.in", "constraints*.txt", "pyproject.toml", "poetry.lock",
    "poetry.toml", "uv.lock", "uv.toml", ".python-version", "Pipfile", "Pipfile.lock", "setup.cfg",
    "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", ".yarnrc",
    ".yarnrc.yml", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", "Gemfile", "Gemfile.lock",
    "go.mod", "go.sum", "Cargo.toml", "Cargo.lock", "composer.json", "composer.lock",
    "environment.yml", "conda-lock.yml",
)  # fmt: skip


def is_manifest(path: str) -> bool:
    name = posixpath.basename(path.rstrip("/"))
    return any(fnmatch.fnmatchcase(name, p) for p in MANIFEST_PATTERNS)


@dataclass(frozen=True)
class StepRef:
    """A step as a report names it."""

    stage: str
    line: int
    instruction: str  # the first line of the instruction, as written
    installs: bool  # the step installs packages (not only the project from its source)

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "line": self.line,
            "instruction": self.instruction,
            "installs": self.installs,
        }


def manifest_files(ctx: LintContext, files: ProjectFiles | None) -> set[str]:
    """Context paths of the files dependency installs read: the requirement files that pip
    installs name (with the files they include), when a narrow COPY brings them."""
    brought: dict[str, str] = {}  # container path -> context path, for COPYs of single files
    wanted: list[str] = []
    for stage in ctx.model.stages:
        for step in stage.steps:
            if step.name in ("COPY", "ADD") and step.expanded:
                reads = [r for r in step.reads if r.kind == "context"]
                if len(step.reads) != 1 or len(reads) != 1:
                    continue
                dest = posixpath.normpath(posixpath.join(step.workdir or "/", step.expanded[-1]))
                into_dir = step.expanded[-1].endswith("/") or len(reads[0].sources) > 1
                for src in reads[0].sources:
                    norm = posixpath.normpath(src).lstrip("/")
                    target = posixpath.join(dest, posixpath.basename(norm)) if into_dir else dest
                    brought[target] = norm
            elif step.name == "RUN":
                rs = ctx.run(step)
                if rs is None:
                    continue
                for op in rs.script.package_ops:
                    for f in op.requirements + op.constraints:
                        wanted.append(posixpath.normpath(posixpath.join(step.workdir or "/", f)))
    roots = [brought[w] for w in wanted if w in brought]
    if files is None:
        return set(roots)
    return set(requirement_files(files, roots).files) | set(roots)


def step_ref(ctx: LintContext, stage: Stage, step: Step) -> StepRef:
    first = step.instruction.source.splitlines()[0].rstrip(" \\`")
    installs = False
    if step.name == "RUN":
        rs = ctx.run(step)
        installs = (
            rs is not None
            and any(op.installs for op in rs.script.package_ops)
            and not installs_only_the_project(ctx, step)
        )
    return StepRef(stage.display_name, step.line, first, installs)


def reads_source(step: Step, manifests: set[str] | None = None) -> bool:
    """Whether an edit to an application source file invalidates this step by itself."""
    for read in step.reads:
        if read.kind != "context":
            continue
        for src in read.sources:
            norm = posixpath.normpath(src)
            if manifests is not None and norm in manifests:
                continue
            if any(ch in src for ch in "*?[") or src.endswith("/") or norm == ".":
                return True
            if not is_manifest(norm):
                return True
    return False


def source_change_rebuilds(ctx: LintContext, manifests: set[str] | None = None) -> list[StepRef]:
    """The steps of the built stages that BuildKit re-runs after an edit to a source file
    (not a manifest), in build order."""
    model: Model = ctx.model
    dirty_stages: set[int] = set()
    out: list[StepRef] = []
    for stage in model.built_stages:
        dirty = stage.base_stage is not None and stage.base_stage in dirty_stages
        for step in stage.steps:
            if not dirty:
                dirty = reads_source(step, manifests) or any(
                    r.kind == "stage" and r.stage in dirty_stages for r in step.reads
                )
            if dirty and step.produces_layer:
                out.append(step_ref(ctx, stage, step))
        if dirty:
            dirty_stages.add(stage.index)
    return out


def final_stage_chain(ctx: LintContext) -> list[Stage]:
    """The target stage and the stages it is built on, base first."""
    chain: list[Stage] = []
    stage = ctx.model.target
    while stage is not None and stage not in chain:
        chain.insert(0, stage)
        stage = ctx.model.stages[stage.base_stage] if stage.base_stage is not None else None
    return chain


def final_packages(ctx: LintContext) -> list[str]:
    """System packages (apt, apk, dnf, ...) the final image installs, by name."""
    out: list[str] = []
    for stage in final_stage_chain(ctx):
        for step in stage.steps:
            rs = ctx.run(step) if step.name == "RUN" else None
            if rs is None:
                continue
            for op in rs.script.package_ops:
                if op.manager in ("pip", "uv", "poetry", "pipenv", "npm", "yarn", "pnpm"):
                    continue
                if op.installs:
                    for p in op.packages:
                        name = p.name
                        if name not in out:
                            out.append(name)
    return out


def final_base(ctx: LintContext) -> str | None:
    chain = final_stage_chain(ctx)
    return chain[0].base_name if chain else None


def build_tools(packages: list[str]) -> list[str]:
    return [p for p in packages if is_build_only(p)]
