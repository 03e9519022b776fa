"""What a manifest-first rewrite needs to know: which RUNs install dependencies, from which
manifest files, after which COPY of the application source.

The structural fix (`layerwise.fixes`) and LW101 read this; nothing here changes the file.

    manifest_first(ctx)          -> [ManifestFirst]     every install that runs after a COPY
                                                         of the source, with what a split needs
    dependency_installs(ctx, s)  -> [DependencyInstall] the dependency installs of one RUN step
    copies_source(ctx, step)     -> bool                does a COPY/ADD bring source files
    is_manifest(path)            -> bool                requirements*.txt, pyproject.toml, ...

Paths in the image are absolute (resolved against WORKDIR and any `cd` before the command);
paths in the build context are relative to its root. With a build context (`ctx.build_context`)
the manifests that exist are known and nested `-r`/`-c` requirement files are followed; without
one, optional manifests (lock files, setup.cfg) are listed with `exists=None`.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from layerwise.dockerfile.model import Stage, Step
from layerwise.rules.base import LintContext
from layerwise.rules.helpers import (
    absolute,
    context_files,
    context_path_of,
    context_sources,
    copy_destination,
    is_whole_context,
    steps_before,
    top_level,
)
from layerwise.shell.packages import PackageOp
from layerwise.shell.run import RunScript
from layerwise.shell.syntax import Command

# -- what a COPY brings ---------------------------------------------------------------------------

# Files that describe dependencies (or how to install them) rather than the application itself.
_MANIFEST_NAMES = frozenset(
    {"pyproject.toml", "setup.py", "setup.cfg", "poetry.lock", "uv.lock", "pipfile",
     "pipfile.lock", "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
     "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", ".yarnrc", ".yarnrc.yml",
     "environment.yml", "environment.yaml", "conda-lock.yml", "gemfile", "gemfile.lock",
     "go.mod", "go.sum", ".python-version", "manifest.in", "pdm.lock", "requirements.in"}
)  # fmt: skip
_REQUIREMENTS_FILE = re.compile(
    r"(^|/)(requirements|constraints)[^/]*\.(txt|in)$|(^|/)requirements[^/]*/[^/]+\.(txt|in)$"
    r"|\.pip$",
    re.I,
)


def is_manifest(path: str) -> bool:
    """A dependency manifest or lock file (`requirements*.txt`, `pyproject.toml`, ...)."""
    name = posixpath.basename(path.rstrip("/")).lower()
    return name in _MANIFEST_NAMES or _REQUIREMENTS_FILE.search(path) is not None


def copies_source(ctx: LintContext, step: Step) -> bool:
    """Whether a COPY/ADD from the build context brings files other than dependency manifests
    (so that editing the application invalidates it and every later layer).

    With a build context: any file it reads that is not a manifest. Without one, from the
    Dockerfile alone: the whole context, a directory (`app/`) or a glob that is not a
    requirements pattern."""
    if step.name not in ("COPY", "ADD"):
        return False
    sources = context_sources(step)
    if not sources:
        return False
    files = context_files(ctx, step)
    if files is not None:
        manifests = {f for f in files if is_manifest(f)}
        # A file a requirements file includes (`-r base.txt`) is a manifest too, whatever
        # its name: copying it with the requirements file is the manifest-first split.
        for f in list(manifests):
            manifests.update(_nested_requirements(ctx, f))
        return any(f not in manifests for f in files)
    for src in sources:
        if is_whole_context(src) or src.endswith("/"):
            return True
        if any(ch in src for ch in "*?[") and not is_manifest(src.replace("*", "x")):
            return True
    return False


# -- dependency installs ---------------------------------------------------------------------------

InstallKind = Literal["manifest", "project", "inline"]

_LANGUAGE_MANAGERS = frozenset(
    {"pip", "uv", "poetry", "pipenv", "conda", "mamba", "micromamba", "npm", "yarn", "pnpm",
     "bundler", "go"}
)  # fmt: skip
_FAMILY = {"uv": "pip", "mamba": "conda", "micromamba": "conda"}


def _family(manager: str) -> str:
    return _FAMILY.get(manager, manager)


@dataclass(frozen=True)
class ManifestFile:
    """A file an install reads.

    `path` is where the install reads it in the image; `context_path` where it comes from in
    the build context through the broad COPY (None when that COPY does not bring it);
    `required` says the install fails without it (a `-r` file, package.json) rather than using
    it when present (a lock file); `exists` is known only with a build context; `produced_by`
    is an earlier RUN that writes it (`poetry export -o requirements.txt`), whose own inputs are
    listed as further manifests; `copied_by` is the COPY/ADD that last put it there."""

    path: str
    context_path: str | None
    required: bool
    exists: bool | None = None
    produced_by: Step | None = None
    copied_by: Step | None = None


@dataclass(frozen=True)
class DependencyInstall:
    """One dependency install of a RUN: what kind, run where, reading which manifests.

    kind: `manifest` installs what manifest files list (`pip install -r`, `poetry install`,
    `npm ci`); `project` installs a local project with its dependencies (`pip install .`,
    `pip install -e .`); `inline` installs packages named on the command line (`pip install
    gunicorn`), which needs nothing from the source at all."""

    op: PackageOp
    kind: InstallKind
    cwd: str
    manifests: tuple[ManifestFile, ...] = ()
    local_paths: tuple[str, ...] = ()  # image paths of local projects installed (kind project)

    @property
    def manager(self) -> str:
        return self.op.manager


@dataclass(frozen=True)
class ManifestFirst:
    """A RUN that installs dependencies after a COPY that brought the application source: every
    source change re-runs it. The manifest-first split copies `manifests` first, runs the
    installs, then the broad COPY."""

    stage: Stage
    copy: Step  # the first COPY/ADD of the source before the install
    run: Step
    installs: tuple[DependencyInstall, ...]
    generators: tuple[Step, ...] = ()  # RUNs between the copy and the install that write manifests

    @property
    def manifests(self) -> tuple[ManifestFile, ...]:
        seen: dict[str, ManifestFile] = {}
        for inst in self.installs:
            for m in inst.manifests:
                seen.setdefault(m.path, m)
        return tuple(seen.values())

    @property
    def installs_project(self) -> bool:
        return any(i.kind == "project" for i in self.installs)

    @property
    def managers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.manager for i in self.installs))


def _cwd_at(run: RunScript, cmd: Command, workdir: str) -> str | None:
    """The directory a command runs in: the WORKDIR, moved by top-level `cd`s before it (None
    when a `cd` goes somewhere the script computes)."""
    cwd = workdir
    for c in top_level(run):
        if c.index >= cmd.index:
            break
        if c.name == "cd" and not c.subshell:
            args = [w for w in c.words[1:] if not w.value.startswith("-")]
            if not args:
                cwd = "/root"
            elif args[0].dynamic:
                return None
            else:
                cwd = absolute(cwd, args[0].value)
    return cwd


def _option_dir(op: PackageOp, cwd: str) -> str:
    for opt in ("--directory", "--project", "--prefix", "--cwd", "--chdir"):
        vals = op.values(opt)
        if vals:
            return absolute(cwd, vals[-1])
    return cwd


_MANAGER_FILES: dict[str, tuple[tuple[str, bool], ...]] = {
    # manager: (file, required) read from the project directory
    "poetry": (("pyproject.toml", True), ("poetry.lock", False)),
    "uv": (("pyproject.toml", True), ("uv.lock", False)),
    "pipenv": (("Pipfile", True), ("Pipfile.lock", False)),
    "npm": (("package.json", True), ("package-lock.json", False), ("npm-shrinkwrap.json", False),
            (".npmrc", False)),
    "yarn": (("package.json", True), ("yarn.lock", False), (".yarnrc.yml", False),
             (".yarnrc", False), (".npmrc", False)),
    "pnpm": (("package.json", True), ("pnpm-lock.yaml", False), ("pnpm-workspace.yaml", False),
             (".npmrc", False)),
    "bundler": (("Gemfile", True), ("Gemfile.lock", False)),
    "go": (("go.mod", True), ("go.sum", False)),
}  # fmt: skip
_PROJECT_FILES = (("pyproject.toml", False), ("setup.py", False), ("setup.cfg", False))


def _is_local_path(raw: str) -> bool:
    return raw.startswith((".", "/", "~")) or raw in (".",)


_INSTALLS: weakref.WeakKeyDictionary[LintContext, dict[int, list[DependencyInstall]]] = (
    weakref.WeakKeyDictionary()
)


def dependency_installs(ctx: LintContext, step: Step) -> list[DependencyInstall]:
    """The dependency installs of a RUN step (language package managers only; system packages
    are not part of the application's manifests). Computed once per step and lint context."""
    memo = _INSTALLS.setdefault(ctx, {})
    key = id(step.instruction)
    if key not in memo:
        run = ctx.run(step) if step.name == "RUN" else None
        ops = run.script.package_ops if run is not None else []
        assert run is not None or not ops
        memo[key] = [i for op in ops if run and (i := _classify(run, step, op)) is not None]
    return memo[key]


def _classify(run: RunScript, step: Step, op: PackageOp) -> DependencyInstall | None:
    m = op.manager
    if m not in _LANGUAGE_MANAGERS or "--global" in op.flags:
        return None
    cwd0 = _cwd_at(run, op.command, step.workdir)
    if cwd0 is None:
        return None
    cwd = _option_dir(op, cwd0)

    def files(base: str, table: Sequence[tuple[str, bool]]) -> tuple[ManifestFile, ...]:
        return tuple(ManifestFile(absolute(base, f), None, req) for f, req in table)

    pip_like = m == "pip" or (m == "uv" and op.subcommand.startswith("pip"))
    reqs = [ManifestFile(absolute(cwd, r), None, True) for r in op.requirements]
    reqs += [ManifestFile(absolute(cwd, c), None, True) for c in op.constraints]
    if pip_like and op.action == "sync":  # `uv pip sync requirements.txt`
        return DependencyInstall(op, "manifest", cwd, tuple(reqs)) if reqs else None
    if pip_like and op.action in ("build", "download") and op.requirements:
        # `pip wheel -r` / `pip download -r`: a builder stage fetching the dependencies
        return DependencyInstall(op, "manifest", cwd, tuple(reqs))
    if pip_like and op.action == "install":
        editables = [e for e in op.editables if _is_local_path(e)]
        locals_ = [p.raw for p in op.packages if p.kind == "path"] + editables
        projects = [
            absolute(cwd, p) for p in locals_ if not p.endswith((".whl", ".tar.gz", ".zip"))
        ]
        if projects and "--no-deps" not in op.flags:
            proj_files = tuple(f for p in projects for f in files(p, _PROJECT_FILES))
            return DependencyInstall(op, "project", cwd, (*reqs, *proj_files), tuple(projects))
        if op.requirements:
            return DependencyInstall(op, "manifest", cwd, tuple(reqs))
        named = [p for p in op.packages if p.kind != "path"]
        if named and not projects:
            return DependencyInstall(op, "inline", cwd, tuple(reqs))
        return None
    if m == "uv" and op.action == "sync":
        table = _MANAGER_FILES["uv"]
        if op.locked:
            table = (("pyproject.toml", True), ("uv.lock", True))
        project = "--no-install-project" not in op.flags and "--only-deps" not in op.flags
        if "--no-deps" in op.flags:
            return None
        kind: InstallKind = "project" if project else "manifest"
        return DependencyInstall(op, kind, cwd, files(cwd, table), (cwd,) if project else ())
    if m == "uv" and op.action == "add" and op.packages:
        return DependencyInstall(op, "manifest", cwd, files(cwd, _MANAGER_FILES["uv"]))
    if m == "poetry" and op.action in ("install", "sync"):
        if "--only-root" in op.flags:
            return None
        project = "--no-root" not in op.flags
        kind = "project" if project else "manifest"
        return DependencyInstall(
            op, kind, cwd, files(cwd, _MANAGER_FILES["poetry"]), (cwd,) if project else ()
        )
    if m == "pipenv" and op.action in ("install", "sync"):
        if op.packages:
            return DependencyInstall(op, "inline", cwd)
        return DependencyInstall(op, "manifest", cwd, files(cwd, _MANAGER_FILES["pipenv"]))
    if m in ("conda", "mamba", "micromamba") and op.installs:
        envs = op.values("--file")
        if envs:
            return DependencyInstall(
                op, "manifest", cwd, tuple(ManifestFile(absolute(cwd, f), None, True) for f in envs)
            )
        if op.packages:
            return DependencyInstall(op, "inline", cwd)
        return None
    if m in ("npm", "yarn", "pnpm") and op.action in ("install", "add"):
        if op.packages:
            if all(_is_local_path(p.raw) for p in op.packages):
                return None
            return DependencyInstall(op, "inline", cwd)
        table = _MANAGER_FILES[m]
        if op.locked:
            lock = {"npm": "package-lock.json", "yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}[m]
            table = tuple((f, req or f == lock) for f, req in table)
        return DependencyInstall(op, "manifest", cwd, files(cwd, table))
    if m == "bundler" and op.action == "install":
        return DependencyInstall(op, "manifest", cwd, files(cwd, _MANAGER_FILES["bundler"]))
    if m == "go" and op.action == "download":
        return DependencyInstall(op, "manifest", cwd, files(cwd, _MANAGER_FILES["go"]))
    return None


# -- manifest-first ---------------------------------------------------------------------------


def _provider(steps: Sequence[Step], path: str) -> Step | None:
    """The last COPY/ADD among `steps` whose destination holds `path`."""
    found = None
    for s in steps:
        if s.name not in ("COPY", "ADD"):
            continue
        dest = copy_destination(s)
        if dest is None:
            continue
        target = s.expanded[-1]
        if (
            path == dest
            or (
                (target.endswith("/") or len(s.expanded) > 2 or target in (".", "./"))
                and path.startswith(dest.rstrip("/") + "/")
            )
            or (
                path.startswith(dest.rstrip("/") + "/")
                and any(is_whole_context(src) or src.endswith("/") for src in context_sources(s))
            )
        ):
            found = s
    return found


def _generated(run: RunScript, step: Step) -> dict[str, tuple[str, tuple[tuple[str, bool], ...]]]:
    """Files a RUN writes from other manifests: {image path: (manager, inputs)}."""
    out: dict[str, tuple[str, tuple[tuple[str, bool], ...]]] = {}
    for op in run.script.package_ops:
        if op.action != "export":
            continue
        cwd = _cwd_at(run, op.command, step.workdir) or step.workdir
        target = None
        for opt in ("--output", "--output-file", "-o"):
            if op.values(opt):
                target = op.values(opt)[-1]
        if target is None:
            for red in op.command.redirects:
                if red.op == ">" and red.target:
                    target = red.target
        if target is not None and op.manager in _MANAGER_FILES:
            out[absolute(cwd, target)] = (op.manager, _MANAGER_FILES[op.manager])
    for cmd in run.script.commands:
        if cmd.name == "pip-compile":
            args = cmd.args
            target = "requirements.txt"
            for i, a in enumerate(args):
                if a in ("-o", "--output-file") and i + 1 < len(args):
                    target = args[i + 1]
            inputs = [a for a in args if a.endswith((".in", ".toml", ".py", ".cfg"))]
            cwd = _cwd_at(run, cmd, step.workdir) or step.workdir
            out[absolute(cwd, target)] = (
                "pip-compile",
                tuple((i, True) for i in inputs or ["requirements.in"]),
            )
    return out


def _nested_requirements(ctx: LintContext, context_path: str) -> list[str]:
    """`-r`/`-c` files a requirements file includes (context paths), read from the build
    context; [] without one."""
    if ctx.build_context is None:
        return []
    root = ctx.build_context.root
    out: list[str] = []
    todo = [context_path]
    while todo and len(out) < 50:
        current = todo.pop()
        if not _exists(ctx, current):
            continue  # only files the context sends, never anything outside it
        try:
            text = (root / current).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            parts = line.split("#", 1)[0].split()
            for i, p in enumerate(parts):
                ref = None
                if p in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(parts):
                    ref = parts[i + 1]
                elif p.startswith(("--requirement=", "--constraint=")):
                    ref = p.split("=", 1)[1]
                elif p.startswith(("-r", "-c")) and len(p) > 2 and not p.startswith("--"):
                    ref = p[2:]
                if ref is not None:
                    found = posixpath.normpath(posixpath.join(posixpath.dirname(current), ref))
                    if found not in out and found != context_path:
                        out.append(found)
                        todo.append(found)
    return out


def _exists(ctx: LintContext, context_path: str | None) -> bool | None:
    """Whether the build context sends this file (after .dockerignore); None without one."""
    if ctx.build_context is None or context_path is None:
        return None
    entry = ctx.build_context.snapshot.entries.get(posixpath.normpath(context_path))
    return entry is not None and entry.kind != "dir"


def _resolve_manifests(
    ctx: LintContext, inst: DependencyInstall, copy: Step, before: Sequence[Step]
) -> DependencyInstall:
    files: list[ManifestFile] = []
    for m in inst.manifests:
        cpath = context_path_of(copy, m.path)
        exists = _exists(ctx, cpath)
        if exists is False and not m.required:
            continue
        files.append(
            ManifestFile(m.path, cpath, m.required, exists, None, _provider(before, m.path))
        )
        pip_file = _family(inst.manager) == "pip" and m.required
        if cpath is not None and exists and pip_file:
            for nested in _nested_requirements(ctx, cpath):
                rel = posixpath.relpath(nested, posixpath.dirname(cpath) or ".")
                image = absolute(posixpath.dirname(m.path), rel)
                files.append(ManifestFile(image, nested, True, _exists(ctx, nested)))
    return DependencyInstall(inst.op, inst.kind, inst.cwd, tuple(files), inst.local_paths)


def _source_copies(ctx: LintContext, steps: Sequence[Step]) -> list[Step]:
    return [s for s in steps if copies_source(ctx, s)]


def manifest_first(ctx: LintContext) -> list[ManifestFirst]:
    """Every RUN that installs dependencies after a COPY/ADD of application source in the same
    filesystem (its stage or a stage it is built FROM), with what a manifest-first split needs.

    Not reported: an install whose dependencies an earlier install of the same manager already
    set up before the first source COPY (the project step of a correct split: `uv sync` after
    `uv sync --no-install-project`, `pip install .` after `pip install -r requirements.txt`),
    `pip install --no-deps`, `poetry install --only-root`, and installs of local wheels or of
    packages the source does not provide."""
    out: list[ManifestFirst] = []
    for stage in ctx.model.stages:
        for step in stage.steps:
            if step.name != "RUN":
                continue
            installs = dependency_installs(ctx, step)
            if not installs:
                continue
            before = steps_before(ctx.model, step)
            copies = _source_copies(ctx, before)
            if not copies:
                continue
            first = copies[0]
            pre = before[: before.index(first)]
            done = _installed_before(ctx, pre)
            kept = []
            for inst in installs:
                if inst.kind != "inline" and _family(inst.manager) in done:
                    continue
                if inst.kind == "inline" and _inline_needs_source(inst, copies):
                    continue
                kept.append(_resolve_manifests(ctx, inst, copies[-1], before))
            if not kept:
                continue
            between = before[before.index(first) :]
            generators = _generators(ctx, between, kept)
            kept = _add_generator_inputs(ctx, kept, generators, copies[-1], before)
            out.append(ManifestFirst(stage, first, step, tuple(kept), tuple(generators)))
    return out


def _installed_before(ctx: LintContext, steps: Sequence[Step]) -> set[str]:
    """Manager families that installed dependencies from manifests in these steps."""
    out: set[str] = set()
    for s in steps:
        for inst in dependency_installs(ctx, s):
            if inst.kind == "manifest" or (inst.kind == "project" and inst.manifests):
                out.add(_family(inst.manager))
    return out


def _inline_needs_source(inst: DependencyInstall, copies: Sequence[Step]) -> bool:
    """An inline install of a local file the source COPY brought (a wheel in the repository)."""
    for p in inst.op.packages:
        if p.kind == "path":
            path = absolute(inst.cwd, p.raw)
            if any(context_path_of(c, path) is not None for c in copies):
                return True
    return False


def _generators(
    ctx: LintContext, steps: Sequence[Step], installs: Sequence[DependencyInstall]
) -> list[Step]:
    wanted = {m.path for i in installs for m in i.manifests}
    out = []
    for s in steps:
        run = ctx.run(s) if s.name == "RUN" else None
        if run is not None and set(_generated(run, s)) & wanted:
            out.append(s)
    return out


def _add_generator_inputs(
    ctx: LintContext,
    installs: list[DependencyInstall],
    generators: Sequence[Step],
    copy: Step,
    before: Sequence[Step],
) -> list[DependencyInstall]:
    if not generators:
        return installs
    produced: dict[str, tuple[Step, list[ManifestFile]]] = {}
    for g in generators:
        run = ctx.run(g)
        assert run is not None
        for path, (_, sources) in _generated(run, g).items():
            found: list[ManifestFile] = []
            for name, req in sources:
                image = absolute(posixpath.dirname(path), name)
                cpath = context_path_of(copy, image)
                exists = _exists(ctx, cpath)
                if exists is False and not req:
                    continue
                found.append(
                    ManifestFile(image, cpath, req, exists, None, _provider(before, image))
                )
            produced[path] = (g, found)
    out = []
    for inst in installs:
        files2: list[ManifestFile] = []
        for m in inst.manifests:
            if m.path in produced:
                gen, gen_inputs = produced[m.path]
                files2.append(
                    ManifestFile(m.path, m.context_path, m.required, m.exists, gen, m.copied_by)
                )
                files2.extend(gen_inputs)
            else:
                files2.append(m)
        out.append(DependencyInstall(inst.op, inst.kind, inst.cwd, tuple(files2), inst.local_paths))
    return out


__all__ = [
    "DependencyInstall",
    "InstallKind",
    "ManifestFile",
    "ManifestFirst",
    "copies_source",
    "dependency_installs",
    "is_manifest",
    "is_whole_context",
    "manifest_first",
]
