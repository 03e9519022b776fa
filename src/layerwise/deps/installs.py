"""What a Dockerfile installs, and from which manifest: every pip / uv / poetry / pipenv
command of the built stages, with the requirements file, pyproject groups or Pipfile sections
it reads, mapped from the path in the image back to the file in the build context through the
COPY/ADD steps that put it there (the context engine's resolution).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.context.project import BuildContext, StepRead
from layerwise.deps.manifests import DEV, MAIN, Declared, parse_requirement
from layerwise.dockerfile.model import Model, Stage, Step
from layerwise.dockerfile.syntax import Instruction
from layerwise.shell.packages import PackageOp, package_ops
from layerwise.shell.run import analyze_step

PYTHON_MANAGERS = frozenset({"pip", "uv", "poetry", "pipenv"})
_EXTRAS = re.compile(r"^(.*?)\[([^\]]*)\]$")


@dataclass
class Install:
    """One install command of a built stage and what it installs."""

    stage: int
    stage_name: str
    instruction: Instruction
    manager: str  # pip, uv, poetry, pipenv
    kind: str  # "requirements", "project" (pyproject.toml / Pipfile) or "packages"
    manifest: str | None  # the manifest in the build context (relative path), when found
    image_path: str  # the manifest as the command names it, in the image
    groups: frozenset[str] = frozenset()  # for a project: the groups installed
    extras: tuple[str, ...] = ()
    packages: list[Declared] = field(default_factory=list)  # named on the command line
    in_final: bool = False  # the stage is the target or feeds it
    exported: bool = False  # a requirements file written by `poetry export` / `uv export`
    note: str | None = None  # why the manifest could not be found

    @property
    def line(self) -> int:
        return self.instruction.start_line

    @property
    def dev_excluded(self) -> bool:
        return DEV not in self.groups


def _final_chain(model: Model) -> set[int]:
    """Stages whose files can reach the target: the target and every stage it builds on or
    copies from (transitively)."""
    if model.target is None:
        return set()
    out: set[int] = set()
    todo = [model.target.index]
    while todo:
        idx = todo.pop()
        if idx in out:
            continue
        out.add(idx)
        stage = model.stages[idx]
        todo.extend(stage.deps)
        if stage.base_stage is not None:
            todo.append(stage.base_stage)
    return out


def _reads_by_step(ctx: BuildContext) -> dict[int, list[StepRead]]:
    out: dict[int, list[StepRead]] = {}
    for sr in ctx.step_reads:
        if sr.read.via in ("copy", "add"):
            out.setdefault(id(sr.step.instruction), []).append(sr)
    return out


def _norm(path: str) -> str:
    return posixpath.normpath(path)


def image_to_context(
    ctx: BuildContext, model: Model, stage: Stage, before: Step, image_path: str
) -> str | None:
    """The context file that the COPY/ADD steps before `before` put at `image_path` (absolute
    path in the image), following `FROM <stage>` bases; None when no step put it there."""
    reads = _reads_by_step(ctx)
    entries = ctx.snapshot.entries
    current: Stage | None = stage
    limit: Step | None = before
    while current is not None:
        steps = current.steps
        if limit is not None and limit in steps:
            steps = steps[: steps.index(limit)]
        for step in reversed(steps):
            if step.name not in ("COPY", "ADD") or not step.expanded:
                continue
            found = _copied_from(step, reads.get(id(step.instruction), []), image_path, entries)
            if found is not None:
                return found
        current = model.stages[current.base_stage] if current.base_stage is not None else None
        limit = None
    return None


def _copied_from(
    step: Step, reads: list[StepRead], image_path: str, entries: Mapping[str, object]
) -> str | None:
    dest_raw = step.expanded[-1]
    dest = _norm(posixpath.join(step.workdir, dest_raw))
    n_sources = sum(len(r.read.sources) for r in reads)
    dest_is_dir = dest_raw.endswith("/") or n_sources > 1
    for sr in reads:
        for source in sr.result.sources:
            if source.wildcard:
                dest_is_dir = True
            for match in source.matches:
                if match.kind == "dir":
                    base = match.resolved.strip("/")
                    if image_path == dest or not image_path.startswith(dest.rstrip("/") + "/"):
                        continue
                    rel = image_path[len(dest.rstrip("/")) + 1 :]
                    candidate = _norm(posixpath.join(base, rel)) if base not in ("", ".") else rel
                    if candidate in entries:
                        return candidate
                else:
                    name = posixpath.basename(match.path)
                    targets = {posixpath.join(dest, name)}
                    if not dest_is_dir:
                        targets.add(dest)
                    if image_path in targets:
                        return match.resolved.strip("/")
    return None


def _resolve_manifest(
    ctx: BuildContext, model: Model, stage: Stage, step: Step, path: str
) -> tuple[str | None, str, str | None]:
    """(context path or None, image path, note) of a file a command names."""
    image_path = _norm(posixpath.join(step.workdir, path))
    found = image_to_context(ctx, model, stage, step, image_path)
    if found is not None:
        return found, image_path, None
    # A bind mount or a file the stage does not copy: assume the context path as written.
    rel = _norm(path).lstrip("/")
    for candidate in (rel, image_path.lstrip("/")):
        if candidate in ctx.snapshot.entries and not candidate.startswith(".."):
            return candidate, image_path, "not copied by an earlier step; read from the context"
    return None, image_path, f"{image_path}: no COPY/ADD puts it in the image"


def _project_dir_manifest(ctx: BuildContext, directory: str | None, manager: str) -> str | None:
    if directory is None:
        return None
    names = ("Pipfile",) if manager == "pipenv" else ("pyproject.toml", "setup.py")
    found = []
    for name in names:
        rel = _norm(posixpath.join(directory, name)) if directory not in ("", ".") else name
        if rel in ctx.snapshot.entries:
            found.append(rel)
    if len(found) == 2 and not _declares_dependencies(ctx.root / found[0]):
        # pyproject.toml for the build system only: setup.py declares the dependencies
        return found[1]
    return found[0] if found else None


def _declares_dependencies(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return re.search(r"^\s*\[(project|tool\.poetry)\]", text, re.M) is not None


def _split_values(op: PackageOp, *options: str) -> set[str]:
    out: set[str] = set()
    for option in options:
        for value in op.values(option):
            out.update(v.strip() for v in value.split(",") if v.strip())
    return out


def _poetry_groups(op: PackageOp, default: set[str] | None = None) -> frozenset[str]:
    """Groups for `poetry install/export`: "*" stands for the project's default groups
    (every non-optional one; the analysis knows them from the pyproject), "-name" for a
    group left out of those with `--without`."""
    only = _split_values(op, "--only")
    if only:
        return frozenset(only)
    groups = set(default or {"*"})
    groups |= _split_values(op, "--with")
    without = _split_values(op, "--without")
    if "--no-dev" in op.flags:
        without.add(DEV)
    return frozenset(g for g in groups if g not in without) | (
        frozenset({f"-{g}" for g in without}) if "*" in groups else frozenset()
    )


def _uv_groups(op: PackageOp) -> frozenset[str]:
    only = _split_values(op, "--only-group")
    if only:
        return frozenset(only)
    if "--only-dev" in op.flags:
        return frozenset({DEV})
    groups = {MAIN}
    if "--no-dev" not in op.flags and "--no-default-groups" not in op.flags:
        groups.add(DEV)
    groups |= _split_values(op, "--group")
    return frozenset(groups)


def _extras(op: PackageOp) -> tuple[str, ...]:
    if "--all-extras" in op.flags:
        return ("*",)
    return tuple(sorted(_split_values(op, "--extra", "--extras")))


def dockerfile_installs(ctx: BuildContext) -> list[Install]:
    """Every Python install command of the built stages, in file order."""
    model = ctx.model
    if model is None:
        return []
    built = set(model.built)
    final = _final_chain(model)
    out: list[Install] = []
    for stage in model.stages:
        if stage.index not in built:
            continue
        exports: dict[str, tuple[str | None, frozenset[str], str]] = {}
        for step in stage.steps:
            if step.name != "RUN":
                continue
            run = analyze_step(step)
            if run is None:
                continue
            for op in package_ops(run.script):
                if op.manager not in PYTHON_MANAGERS:
                    continue
                out.extend(_install(ctx, model, stage, step, op, exports, stage.index in final))
    return out


def _install(
    ctx: BuildContext,
    model: Model,
    stage: Stage,
    step: Step,
    op: PackageOp,
    exports: dict[str, tuple[str | None, frozenset[str], str]],
    in_final: bool,
) -> list[Install]:
    ins = step.instruction
    name = stage.display_name

    def make(kind: str, manifest: str | None, image_path: str, **kw: object) -> Install:
        return Install(stage.index, name, ins, op.manager, kind, manifest, image_path,
                       in_final=in_final, **kw)  # type: ignore[arg-type]  # fmt: skip

    out: list[Install] = []
    workdir = step.workdir
    if op.action == "export" and op.manager in ("poetry", "uv", "pipenv"):
        outputs = op.values("--output") or op.values("--output-file")
        target: str | None = outputs[0] if outputs else None
        if target is None:
            for redirect in op.command.redirects:
                if redirect.op in (">", ">>") and redirect.target:
                    target = redirect.target
        if target:
            project = _project_dir_manifest(
                ctx, _workdir_context(ctx, model, stage, step), op.manager
            )
            groups = _poetry_groups(op, {MAIN}) if op.manager == "poetry" else _uv_groups(op)
            exports[_norm(posixpath.join(workdir, target))] = (project, groups, op.manager)
        return out
    if op.manager == "pipenv" and op.command.name == "pipenv" and op.subcommand == "requirements":
        return out
    if not op.installs:
        return out
    if op.manager in ("pip", "uv") and op.subcommand in ("install", "pip install", "pip sync"):
        for req in op.requirements:
            image_path = _norm(posixpath.join(workdir, req))
            if image_path in exports:
                project, groups, _manager = exports[image_path]
                out.append(make("project", project, image_path, groups=groups, exported=True))
                continue
            manifest, image_path, note = _resolve_manifest(ctx, model, stage, step, req)
            kind = "project" if req.endswith(("pyproject.toml", "setup.cfg")) else "requirements"
            groups = frozenset({MAIN}) if kind == "project" else frozenset()
            out.append(make(kind, manifest, image_path, note=note, groups=groups))
        named: list[Declared] = []
        for pkg in op.packages:
            if pkg.kind == "path" or pkg.raw in (".",) or pkg.raw.startswith((".", "/")):
                raw = pkg.raw
                extras: tuple[str, ...] = ()
                m = _EXTRAS.match(raw)
                if m:
                    raw, extras = m.group(1), tuple(e.strip() for e in m.group(2).split(","))
                if raw.endswith((".whl", ".tar.gz", ".zip")):
                    continue
                directory, image_path, note = _resolve_dir(ctx, model, stage, step, raw)
                manifest = _project_dir_manifest(ctx, directory, "pip")
                out.append(
                    make(
                        "project",
                        manifest,
                        image_path,
                        groups=frozenset({MAIN}),
                        extras=extras,
                        note=note if manifest is None else None,
                    )
                )
                continue
            declared = parse_requirement(pkg.raw, "Dockerfile", ins.start_line, MAIN)
            if declared is not None:
                named.append(declared)
        for editable in op.editables:
            directory, image_path, note = _resolve_dir(ctx, model, stage, step, editable)
            manifest = _project_dir_manifest(ctx, directory, "pip")
            out.append(make("project", manifest, image_path, groups=frozenset({MAIN}), note=note))
        if named:
            out.append(make("packages", None, "", packages=named))
        return out
    if op.manager in ("uv", "poetry", "pipenv") and op.action in ("sync", "install"):
        directory = _workdir_context(ctx, model, stage, step)
        manifest = _project_dir_manifest(ctx, directory, op.manager)
        if op.manager == "poetry":
            groups = _poetry_groups(op)
        elif op.manager == "uv":
            groups = _uv_groups(op)
        else:
            groups = frozenset({MAIN, DEV}) if "--dev" in op.flags else frozenset({MAIN})
        named = [
            d
            for p in op.packages
            if (d := parse_requirement(p.raw, "Dockerfile", ins.start_line, MAIN)) is not None
        ]
        if named:
            return [make("packages", None, "", packages=named)]
        note = None if manifest else f"{workdir}: no project file found in the context for it"
        out.append(make("project", manifest, workdir, groups=groups, extras=_extras(op), note=note))
    elif op.manager in ("uv", "poetry") and op.action == "add":
        named = [
            d
            for p in op.packages
            if (d := parse_requirement(p.raw, "Dockerfile", ins.start_line, MAIN)) is not None
        ]
        if named:
            out.append(make("packages", None, "", packages=named))
    return out


def _workdir_context(ctx: BuildContext, model: Model, stage: Stage, step: Step) -> str | None:
    """The context directory whose files the step's working directory holds (by the project
    file that an earlier COPY put there)."""
    for name in ("pyproject.toml", "Pipfile"):
        image_path = _norm(posixpath.join(step.workdir, name))
        found = image_to_context(ctx, model, stage, step, image_path)
        if found is not None:
            return posixpath.dirname(found) or "."
    return None


def _resolve_dir(
    ctx: BuildContext, model: Model, stage: Stage, step: Step, path: str
) -> tuple[str | None, str, str | None]:
    image_dir = _norm(posixpath.join(step.workdir, path))
    for name in ("pyproject.toml", "setup.py", "setup.cfg"):
        found = image_to_context(ctx, model, stage, step, posixpath.join(image_dir, name))
        if found is not None:
            return posixpath.dirname(found) or ".", image_dir, None
    return None, image_dir, f"{image_dir}: no project file copied there"
