"""Manifest-first: install dependencies from the manifests alone, then copy the source.

The naive order

    COPY . .
    RUN pip install -r requirements.txt

re-runs the install whenever any file changes, because BuildKit keys the RUN on everything the
COPY brought. The split copies only what the install reads, installs, then copies the rest:

    COPY requirements.txt base.txt ./
    RUN pip install -r requirements.txt
    COPY . .

so a source edit re-runs the final COPY and what follows it, and the install stays cached.

`plan_manifest_first` finds the broad COPY before an install, the run of steps after it that can
move ahead of it (they read nothing the COPY brings but the manifests), and the manifests those
steps read: `-r`/`-c` files and their includes, `pyproject.toml` (+ `poetry.lock`, `uv.lock`,
`.python-version`), `Pipfile`(`.lock`), `package.json` with its lock and settings files, ...
Installs that also install the project itself (`pip install .`, `poetry install`, `uv sync`) are
split in two: dependencies only before the source COPY (`--no-root`, `--no-install-project`, or
for pip the `[project]` dependencies read from `pyproject.toml` with tomllib), the project after.

Rather than moving the installs up, the broad COPY moves down (with its comment lines) to just
after the last install, and the manifest COPY takes its place: the steps in between keep their
order and their text.

The result is one `Fix` of edits (`manifest_first_fix`), or the reason why the split would not be
safe (a step in between needs the source, a lock file is missing from the context, ...).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from layerwise.dockerfile.model import Stage, Step
from layerwise.dockerfile.syntax import Instruction
from layerwise.fixes import text as tx
from layerwise.fixes.project import (
    ProjectFiles,
    join,
    normalize,
    project_files,
    project_metadata,
    requirement_files,
)
from layerwise.fixes.text import NotApplicable
from layerwise.rules.base import Edit, Fix, LintContext
from layerwise.shell.packages import PackageOp
from layerwise.shell.run import RunScript
from layerwise.shell.syntax import Command

DEPS_FILE = "/tmp/layerwise-requirements.txt"

# manager: (files always copied, files copied when the context has them)
_NODE_EXTRA = (".npmrc",)
_TOOL_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "poetry": (("pyproject.toml",), ("poetry.lock", "poetry.toml")),
    "uv": (("pyproject.toml",), ("uv.lock", ".python-version", "uv.toml")),
    "pipenv": (("Pipfile",), ("Pipfile.lock",)),
    "npm": (("package.json",), ("package-lock.json", "npm-shrinkwrap.json", *_NODE_EXTRA)),
    "yarn": (("package.json",), ("yarn.lock", ".yarnrc", ".yarnrc.yml", ".yarn", *_NODE_EXTRA)),
    "pnpm": (("package.json",), ("pnpm-lock.yaml", ".pnpmfile.cjs", *_NODE_EXTRA)),
    "bundler": (("Gemfile",), ("Gemfile.lock",)),
    "go": (("go.mod",), ("go.sum",)),
}
# Lock files a locked install cannot run without.
_LOCK_FILE = {"uv": "uv.lock", "npm": "package-lock.json", "pnpm": "pnpm-lock.yaml"}
# Commands that read nothing from the working tree by themselves (the paths they name are
# checked against the COPY's destination).
_INERT = frozenset(
    {
        "true", ":", "echo", "printf", "export", "set", "unset", "umask", "mkdir", "useradd",
        "groupadd", "adduser", "addgroup", "usermod", "ln", "rm", "chmod", "chown", "touch",
        "curl", "wget", "update-alternatives", "locale-gen", "ldconfig", "update-ca-certificates",
        "corepack", "sleep", "id", "whoami", "uname", "which", "command", "python", "python3",
        "dpkg-reconfigure", "debconf-set-selections", "gpg", "apt-key", "tee",
    }
)  # fmt: skip
# Commands whose arguments are paths they change (mkdir is harmless: a directory made before the
# COPY is the same directory after it).
_PATH_ARGS = frozenset({"rm", "chmod", "chown", "touch", "ln", "tee"})
# Directories of tool files that a manifest COPY brings whole (not the application source).
_MANIFEST_DIRS = frozenset({".yarn"})
_SYSTEM_MANAGERS = frozenset(
    {"apt-get", "apt", "aptitude", "apk", "dnf", "dnf5", "yum", "microdnf", "tdnf", "zypper",
     "dpkg", "pipx", "gem", "conda", "mamba", "micromamba"}
)  # fmt: skip
# Instructions the broad COPY can move past: they change scope or metadata, not files.
_SCOPE_ONLY = frozenset(
    {"ENV", "ARG", "LABEL", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK", "CMD", "ENTRYPOINT", "SHELL",
     "MAINTAINER", "ONBUILD", "USER", "WORKDIR"}
)  # fmt: skip
# pip options that take a value.
_PIP_VALUED = frozenset(
    {"--index-url", "-i", "--extra-index-url", "--trusted-host", "--cache-dir", "--target", "-t",
     "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi",
     "--progress-bar", "--timeout", "--retries", "--proxy", "--cert", "--client-cert",
     "--root-user-action", "--config-settings", "-C", "--global-option", "--upgrade-strategy",
     "--only-binary", "--no-binary", "--src", "--python", "--find-links", "-f", "--log",
     "--exists-action", "--keyring-provider", "--use-feature", "--use-deprecated"}
)  # fmt: skip
_PIP_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")


@dataclass
class _Use:
    """What one install command reads and writes, and how it is split."""

    manager: str
    reads: list[str]  # container paths the install needs
    optional: list[str] = field(default_factory=list)  # container paths read when present
    writes: list[str] = field(default_factory=list)  # container paths it creates
    context_reads: list[str] = field(default_factory=list)  # manifests known as context paths
    requirement_files: list[str] = field(default_factory=list)  # pip -r/-c (container paths)
    edits: list[Edit] = field(default_factory=list)  # to install dependencies only
    rerun: str | None = None  # installs the project after the source COPY


@dataclass
class DependencyPlan:
    """A broad COPY and the dependency installs that can move ahead of it."""

    stage: Stage
    copy: Step  # the COPY/ADD that brings the whole source
    source: str  # context directory it copies ("" for the root)
    dest: str  # absolute container directory it copies to
    steps: list[Step]  # steps after the COPY, up to the last install that moves ahead of it
    installs: list[Step]  # those steps that install dependencies
    manifests: list[str] = field(default_factory=list)  # context paths copied first
    manifest_dirs: set[str] = field(default_factory=set)  # those that are directories
    already_copied: list[str] = field(default_factory=list)  # an earlier COPY brings these
    edits: list[Edit] = field(default_factory=list)  # inside the moved steps
    reruns: list[tuple[Step, str]] = field(default_factory=list)  # after the source COPY
    context_known: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def last(self) -> Step:
        return self.steps[-1]


@dataclass(frozen=True)
class ManifestSplit:
    """The outcome for one install: a fix, or why there is none."""

    fix: Fix | None
    reason: str | None
    plan: DependencyPlan | None = None


# -- public API --------------------------------------------------------------------------------


def manifest_first_fix(
    ctx: LintContext, install: Step | Instruction | None = None, *, files: object | None = None
) -> Fix | None:
    """The manifest-first fix for the broad COPY before `install` (or the first split that
    applies in the file); None when no split is safe. `files` is a directory or the context
    engine's BuildContext (default: the lint context's build context)."""
    return split_manifest_first(ctx, install, files=files).fix


def split_manifest_first(
    ctx: LintContext, install: Step | Instruction | None = None, *, files: object | None = None
) -> ManifestSplit:
    """`manifest_first_fix` with the plan and, when there is no fix, the reason."""
    pf = project_files(files if files is not None else ctx.build_context)
    try:
        plan = plan_manifest_first(ctx, install, files=pf)
        if plan is None:
            return ManifestSplit(None, "no dependency install follows a COPY of the whole source")
        return ManifestSplit(render_split(ctx, plan), None, plan)
    except NotApplicable as exc:
        return ManifestSplit(None, str(exc))


def plan_manifest_first(
    ctx: LintContext, install: Step | Instruction | None = None, *, files: ProjectFiles | None
) -> DependencyPlan | None:
    """Plan the split for `install`'s stage, or for the first stage where one applies.

    Returns None when there is nothing to split; raises NotApplicable when there is, but moving
    the COPY would change what the build does."""
    if install is not None:
        step = install if isinstance(install, Step) else ctx.model.step_for(install)
        if step is None:
            return None
        copy = broad_copy_before(ctx, step, files)
        if copy is None:
            return None
        plan = _plan(ctx, ctx.model.stages[step.stage_index], copy, files, through=step)
        if step not in plan.steps:
            raise NotApplicable(
                f"a step between the COPY on line {copy.line} and the install on line "
                f"{step.line} needs the source"
            )
        return plan
    first_error: NotApplicable | None = None
    for stage in ctx.model.stages:
        for copy in stage.steps:
            if copy_source(copy, files) is None:
                continue
            try:
                return _plan(ctx, stage, copy, files)
            except NotApplicable as exc:
                first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return None


def broad_copy_before(ctx: LintContext, step: Step, files: ProjectFiles | None) -> Step | None:
    """The last COPY/ADD of a whole context directory before `step` in its stage."""
    found = None
    for s in ctx.model.stages[step.stage_index].steps:
        if s is step:
            return found
        if copy_source(s, files) is not None:
            found = s
    return None


def copy_source(step: Step, files: ProjectFiles | None = None) -> tuple[str, str] | None:
    """(context directory, absolute destination) when `step` copies a whole directory of the
    context (`COPY . .`, `ADD src/ /app/`); None otherwise."""
    if step.name not in ("COPY", "ADD") or len(step.reads) != 1 or not step.expanded:
        return None
    read = step.reads[0]
    if read.kind != "context" or len(read.sources) != 1 or read.excludes or read.parents:
        return None
    src = read.sources[0]
    norm = normalize(src)
    if norm is None or any(ch in src for ch in "*?["):
        return None
    if not (norm == "" or src.endswith("/") or (files is not None and files.is_dir(norm))):
        return None
    if posixpath.basename(norm) in _MANIFEST_DIRS:
        return None
    dest = posixpath.normpath(posixpath.join(step.workdir or "/", step.expanded[-1]))
    return norm, dest


def is_dependency_install(ctx: LintContext, step: Step) -> bool:
    """Does this RUN install dependencies (from manifests, or named on the command line) and
    nothing that needs the source?

    A project-only install (`pip install --no-deps .`, or `uv sync`/`poetry install` after an
    earlier `--no-install-project`/`--no-root` run of the same tool) is not one: it needs the
    source by design, so a manifest-first rule must not ask to move it."""
    if step.name != "RUN":
        return False
    stage = ctx.model.stages[step.stage_index]
    earlier = stage.steps[: stage.steps.index(step)]
    files = project_files(ctx.build_context)
    try:
        return bool(_step_uses(ctx, step, None, files, earlier))
    except NotApplicable:
        return False


def installs_only_the_project(ctx: LintContext, step: Step) -> bool:
    """Whether every install of this RUN installs only the project from its source: the second
    half of a split (`pip install --no-deps .`, or `uv sync`/`poetry install` after an earlier
    `--no-install-project`/`--no-root` run of the same tool in the stage)."""
    rs = ctx.run(step) if step.name == "RUN" else None
    if rs is None:
        return False
    stage = ctx.model.stages[step.stage_index]
    earlier = stage.steps[: stage.steps.index(step)]
    found = False
    for op in rs.script.package_ops:
        if not op.installs:
            continue
        if op.manager == "pip" and "--no-deps" in op.flags and op.local_paths:
            found = all(p.kind == "path" for p in op.packages) and not op.requirements
        elif op.manager == "uv" and _earlier_ran(ctx, earlier, "uv", "--no-install-project"):
            found = "--no-install-project" not in op.flags
        elif op.manager == "poetry" and _earlier_ran(ctx, earlier, "poetry", "--no-root"):
            found = "--no-root" not in op.flags
        else:
            return False
        if not found:
            return False
    return found


# -- planning ----------------------------------------------------------------------------------


def _plan(
    ctx: LintContext,
    stage: Stage,
    copy: Step,
    files: ProjectFiles | None,
    through: Step | None = None,
) -> DependencyPlan:
    """The split for `copy`: the steps after it up to the last install that can move ahead of
    it (or up to `through`, a step a rule points at, when that is later and can move too)."""
    found = copy_source(copy, files)
    assert found is not None
    source, dest = found
    index = stage.steps.index(copy)
    movable: list[Step] = []
    uses_by_step: dict[int, list[_Use]] = {}
    stop: str | None = None
    for step in stage.steps[index + 1 :]:
        why = _blocks(step, dest)
        if why is None and step.name == "RUN":
            try:
                uses = _step_uses(ctx, step, dest, files, stage.steps[:index])
            except NotApplicable as exc:
                why = str(exc)
            else:
                if uses:
                    uses_by_step[id(step)] = uses
        if why is not None:
            stop = f"line {step.line}: {why}"
            break
        movable.append(step)
    installs = [s for s in movable if id(s) in uses_by_step]
    last = installs[-1] if installs else None
    if (
        through is not None
        and through in movable
        and (last is None or movable.index(through) > movable.index(last))
    ):
        last = through
    if last is None:
        raise NotApplicable(stop or f"no dependency install follows the COPY on line {copy.line}")
    steps = movable[: movable.index(last) + 1]
    installs = [s for s in steps if id(s) in uses_by_step] or [last]
    plan = DependencyPlan(stage, copy, source, dest, steps, installs, context_known=bool(files))
    produced: set[str] = set()
    for step in installs:
        for use in uses_by_step.get(id(step), []):
            _add_manifests(plan, use, produced, files)
            produced.update(use.writes)
            plan.edits.extend(use.edits)
            if use.rerun is not None:
                plan.reruns.append((step, use.rerun))
    if files is not None:
        _check_outputs(plan, [u for s in installs for u in uses_by_step.get(id(s), [])], files)
    _drop_already_copied(plan, index)
    if files is None and any(u.requirement_files for v in uses_by_step.values() for u in v):
        plan.notes.append("files that requirement files include are unknown without the context")
    return plan


def _blocks(step: Step, dest: str) -> str | None:
    """Why the broad COPY cannot move past this (non-RUN) step, or None."""
    name = step.name
    if name == "RUN" or name in _SCOPE_ONLY:
        return None
    if name == "VOLUME":
        return "VOLUME (changes to a volume after it is declared are not reliably kept)"
    if name in ("COPY", "ADD"):
        target = posixpath.normpath(posixpath.join(step.workdir or "/", step.expanded[-1]))
        if _under(target, dest) or _under(dest, target):
            return f"{name} writes into {dest}, where the moved COPY would overwrite it"
        return None
    return f"{name} cannot be reordered"


def _under(path: str, directory: str) -> bool:
    path = posixpath.normpath(path)
    directory = posixpath.normpath(directory)
    return directory == "/" or path == directory or path.startswith(directory + "/")


def _abs(cwd: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, path))


def _step_uses(
    ctx: LintContext,
    step: Step,
    dest: str | None,
    files: ProjectFiles | None,
    earlier: Sequence[Step],
) -> list[_Use]:
    """The dependency installs a RUN step runs; NotApplicable when it needs the source (or does
    something this analysis cannot follow)."""
    for mount in step.mounts:
        if mount.type == "bind" and mount.from_ is None:
            raise NotApplicable("it bind-mounts the build context")
    rs = ctx.run(step)
    if rs is None:
        raise NotApplicable("RUN without a command")
    script = rs.script
    if script.parse_error or script.interpreter or not rs.exact:
        raise NotApplicable("its script could not be analyzed exactly")
    ops = {id(op.command): op for op in script.package_ops}
    uses: list[_Use] = []
    cwd = step.workdir or "/"
    for cmd in script.commands:
        if cmd.in_function:
            raise NotApplicable("it defines shell functions")
        op = ops.get(id(cmd))
        if op is None:
            _check_inert(cmd, cwd, dest)
            continue
        use = _op_use(ctx, step, rs, op, cwd, files, earlier)
        if use is not None:
            uses.append(use)
    return uses


def _check_inert(cmd: Command, cwd: str, dest: str | None) -> None:
    name = cmd.name
    if name in ("cd", "pushd"):
        raise NotApplicable("it changes directory with cd (WORKDIR would say where)")
    if name not in _INERT:
        raise NotApplicable(f"`{name}` may read the source")
    args = cmd.args
    if name in ("python", "python3"):
        if args[:2] != ["-m", "venv"]:
            raise NotApplicable(f"`{' '.join(cmd.argv[:3])}` may read the source")
        target = next((a for a in args[2:] if not a.startswith("-")), None)
        if target and dest is not None and _under(_abs(cwd, target), dest):
            raise NotApplicable(f"it creates a virtualenv in {dest}, where the COPY writes")
        return
    if dest is None:
        return
    for redirect in cmd.redirects:
        writes = redirect.op in (">", ">>", ">|", "&>", "&>>") and redirect.target
        if writes and _under(_abs(cwd, redirect.target or ""), dest):
            raise NotApplicable(f"it writes {redirect.target} where the COPY writes")
    if name not in _PATH_ARGS:
        return
    positional = [a for a in args if not a.startswith("-")]
    if name in ("chmod", "chown"):
        positional = positional[1:]  # the mode or the owner
    for arg in positional:
        if _under(_abs(cwd, arg), dest):
            raise NotApplicable(f"`{name}` changes {arg}, where the COPY writes")


def _op_use(
    ctx: LintContext,
    step: Step,
    rs: RunScript,
    op: PackageOp,
    cwd: str,
    files: ProjectFiles | None,
    earlier: Sequence[Step],
) -> _Use | None:
    m = op.manager
    if m in _SYSTEM_MANAGERS:
        if any(p.kind == "path" for p in op.packages) or op.requirements:
            raise NotApplicable(f"`{m}` installs files from the build context")
        return None
    if m == "pip" or (m == "uv" and op.subcommand.startswith("pip")):
        return _pip_use(ctx, step, rs, op, cwd, files)
    if m == "uv":
        return _uv_use(ctx, step, rs, op, cwd, files, earlier)
    if m == "poetry":
        return _poetry_use(ctx, step, rs, op, cwd, files, earlier)
    if m == "pipenv":
        return _pipenv_use(ctx, step, op, cwd, files)
    if m in ("npm", "yarn", "pnpm"):
        return _node_use(op, cwd)
    if m == "bundler" and op.action == "install":
        return _tool_use("bundler", cwd)
    if m == "go" and op.action == "download":
        return _tool_use("go", cwd)
    raise NotApplicable(f"`{m} {op.subcommand}` may need the source")


def _tool_use(manager: str, cwd: str) -> _Use:
    required, optional = _TOOL_FILES[manager]
    return _Use(manager, [_abs(cwd, f) for f in required], [_abs(cwd, f) for f in optional])


# -- pip ---------------------------------------------------------------------------------------


def _pip_use(
    ctx: LintContext,
    step: Step,
    rs: RunScript,
    op: PackageOp,
    cwd: str,
    files: ProjectFiles | None,
) -> _Use | None:
    if op.action not in ("install", "download", "build"):
        if op.local_paths or op.requirements:
            raise NotApplicable(f"`pip {op.subcommand}` reads files from the build context")
        return None
    for value in op.values("--find-links"):
        if "://" not in value:
            raise NotApplicable(f"pip --find-links {value} reads the build context")
    for pkg in op.packages:
        if pkg.kind == "url" and "file:" in pkg.raw:
            raise NotApplicable(f"pip installs {pkg.raw} from the build context")
    requirement = [_abs(cwd, f) for f in op.requirements + op.constraints]
    local = op.local_paths
    if not local:
        # `pip install gunicorn` reads no manifest: it moves ahead of the COPY as it is.
        return _Use("pip", requirement, requirement_files=requirement)
    if len(local) > 1:
        raise NotApplicable("pip installs several local paths")
    path = local[0]
    base, _, extras = path.partition("[")
    if posixpath.normpath(base or ".") != ".":
        raise NotApplicable(f"pip installs the local path {path}, which is part of the source")
    if "--no-deps" in op.flags:
        raise NotApplicable("`pip install --no-deps .` installs the project from its source")
    if files is None:
        raise NotApplicable(
            "what `pip install .` needs is only known from pyproject.toml in the build context"
        )
    extra_names = [e.strip() for e in extras.rstrip("]").split(",") if e.strip()]
    return _pip_project_use(ctx, step, rs, op, cwd, files, path, extra_names, requirement)


def _pip_project_use(
    ctx: LintContext,
    step: Step,
    rs: RunScript,
    op: PackageOp,
    cwd: str,
    files: ProjectFiles,
    path: str,
    extras: list[str],
    requirement: list[str],
) -> _Use:
    """`pip install [-e] .`: the dependencies from pyproject.toml first, the project
    (`--no-deps`) after the source COPY."""
    cmd = op.command
    if cmd.wrappers or cmd.assignments or cmd.redirects or cmd.depth or cmd.subshell:
        raise NotApplicable("the pip command is wrapped or redirected")
    for other in rs.script.commands[cmd.index + 1 :]:
        if other.name not in ("rm", "true", ":", "echo"):
            raise NotApplicable("commands after `pip install .` in its RUN may need the project")
    directory = _context_dir(ctx, step, files, cwd)
    meta = project_metadata(files, directory)
    if meta.problem:
        raise NotApplicable(f"`pip install {path}`: {meta.problem}")
    words = cmd.words
    at = next((i for i, w in enumerate(words) if w.value == "install"), None)
    if at is None:
        raise NotApplicable("no pip install subcommand")
    prefix = " ".join(w.text for w in words[:at])
    interpreter = words[0].text if words[0].value.rsplit("/", 1)[-1].startswith("python") else ""
    keep: list[str] = []  # the original's options and requirements, without the project
    options: list[str] = []  # the original's options, for the project install
    rest = words[at + 1 :]
    i = 0
    while i < len(rest):
        w = rest[i]
        v = w.value
        if v in ("-e", "--editable"):
            i += 2
            continue
        if v.startswith("--editable=") or (v.startswith("-e") and len(v) > 2) or v == path:
            i += 1
            continue
        takes_value = v in _PIP_VALUED or v in _PIP_FILE_OPTIONS
        group = [w.text] + ([rest[i + 1].text] if takes_value and i + 1 < len(rest) else [])
        keep.extend(group)
        is_file_option = v in _PIP_FILE_OPTIONS or v.startswith(("--requirement=", "--constraint="))
        if v.startswith("-") and not is_file_option:
            options.extend(group)
        i += len(group)
    if meta.requirement_files:
        reqs = [
            f"-r {tx.shell_quote(posixpath.relpath(f, directory or '.'))}"
            for f in meta.requirement_files
        ]
        commands = [" ".join([prefix, "install", *keep, *reqs])]
    else:
        script = _deps_script(ctx, step, extras)
        commands = [
            f"{interpreter or 'python3'} -c {tx.shell_quote(script)} > {DEPS_FILE}",
            " ".join([prefix, "install", *keep, "-r", DEPS_FILE]),
            f"rm {DEPS_FILE}",
        ]
    span = rs.source_span(words[0].start, words[-1].end)
    style = tx.style_of(ctx.dockerfile)
    joined = " && ".join(commands)
    if len(joined) > tx.MAX_LINE - 10 and len(commands) > 1:
        joined = f" {style.escape}{style.newline}{style.indent}&& ".join(commands)
    target = ("-e " if path in op.editables else "") + path
    return _Use(
        "pip",
        requirement,
        requirement_files=requirement,
        context_reads=list(meta.manifests),
        edits=[Edit(span.start, span.end, joined)],
        rerun=" ".join([prefix, "install", *options, "--no-deps", target]),
    )


def _deps_script(ctx: LintContext, step: Step, extras: Sequence[str]) -> str:
    """Python printing the project's [project] dependencies (and extras), one per line."""
    loader = "import tomllib"
    if not _python_at_least(ctx, step, (3, 11)):
        loader = (
            "import importlib, sys; tomllib = importlib.import_module("
            '"tomllib" if sys.version_info >= (3, 11) else "pip._vendor.tomli")'
        )
    deps = 'p.get("dependencies", [])'
    if extras:
        names = ", ".join(f'"{e}"' for e in extras) + ("," if len(extras) == 1 else "")
        deps += (
            f' + [r for e in ({names}) for r in p.get("optional-dependencies", {{}}).get(e, [])]'
        )
    return (
        f'{loader}; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; '
        f'print("\\n".join({deps}))'
    )


def _python_at_least(ctx: LintContext, step: Step, version: tuple[int, int]) -> bool:
    """Whether the stage's base image is known to be a Python of at least `version`."""
    stage = ctx.model.stages[step.stage_index]
    for _ in range(len(ctx.model.stages)):
        if stage.base_stage is None:
            break
        stage = ctx.model.stages[stage.base_stage]
    image = stage.image
    if image is None or image.base_name != "python" or not image.tag:
        return False
    m = re.match(r"(\d+)\.(\d+)", image.tag)
    return m is not None and (int(m.group(1)), int(m.group(2))) >= version


# -- uv, poetry, pipenv, node --------------------------------------------------------------------


def _uv_use(
    ctx: LintContext,
    step: Step,
    rs: RunScript,
    op: PackageOp,
    cwd: str,
    files: ProjectFiles | None,
    earlier: Sequence[Step],
) -> _Use | None:
    project = op.values("--project") or op.values("--directory")
    if project:
        cwd = _abs(cwd, project[-1])
    directory = _context_dir(ctx, step, files, cwd) if files is not None else ""
    data = _toml(files, join(directory, "pyproject.toml"))
    if "workspace" in data.get("tool", {}).get("uv", {}):
        raise NotApplicable("a uv workspace needs its members' files as well")
    if op.action == "sync":
        use = _tool_use("uv", cwd)
        if "--frozen" in op.flags or "--locked" in op.flags:
            use.reads.append(_abs(cwd, "uv.lock"))
        use.writes.append(_abs(cwd, ".venv"))
        if "--no-install-project" in op.flags or "--only-group" in op.options:
            return use
        if _earlier_ran(ctx, earlier, "uv", "--no-install-project"):
            raise NotApplicable("this `uv sync` installs the project after its dependencies")
        if files is not None and not _uv_installs_project(data):
            return use
        _split_with_option(rs, op, "sync", "--no-install-project", use)
        return use
    if op.action in ("lock", "export"):
        use = _tool_use("uv", cwd)
        if op.action == "export":
            use.reads.append(_abs(cwd, "uv.lock"))
        use.writes.extend(_abs(cwd, o) for o in op.values("--output-file"))
        if op.action == "lock":
            use.writes.append(_abs(cwd, "uv.lock"))
        return use
    if op.subcommand.startswith("venv"):
        return None
    raise NotApplicable(f"`uv {op.subcommand}` may need the source")


def _uv_installs_project(pyproject: dict[str, object]) -> bool:
    """uv installs the project itself only when it is a package: `tool.uv.package = true`, or a
    [build-system] table without `package = false`."""
    tool = pyproject.get("tool")
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    package = uv.get("package") if isinstance(uv, dict) else None
    if package is not None:
        return bool(package)
    return "build-system" in pyproject or not pyproject


def _poetry_use(
    ctx: LintContext,
    step: Step,
    rs: RunScript,
    op: PackageOp,
    cwd: str,
    files: ProjectFiles | None,
    earlier: Sequence[Step],
) -> _Use | None:
    directory_option = op.values("--directory")
    if directory_option:
        cwd = _abs(cwd, directory_option[-1])
    if op.action == "config":
        if "--local" in op.command.args:
            raise NotApplicable("`poetry config --local` writes poetry.toml into the project")
        return None
    use = _tool_use("poetry", cwd)
    if op.action in ("install", "sync"):
        if "--no-root" in op.flags or "--only-root" in op.command.args:
            return use
        if _earlier_ran(ctx, earlier, "poetry", "--no-root"):
            raise NotApplicable("this `poetry install` installs the project after its dependencies")
        if files is not None:
            data = _toml(files, join(_context_dir(ctx, step, files, cwd), "pyproject.toml"))
            poetry = data.get("tool", {}).get("poetry", {})
            if isinstance(poetry, dict) and poetry.get("package-mode") is False:
                return use
        verb = next(w.value for w in op.command.words if w.value in ("install", "sync"))
        _split_with_option(rs, op, verb, "--no-root", use)
        return use
    if op.action == "export":
        use.writes.extend(_abs(cwd, o) for o in op.values("--output"))
        return use
    if op.action == "lock":
        use.writes.append(_abs(cwd, "poetry.lock"))
        return use
    raise NotApplicable(f"`poetry {op.subcommand}` may need the source")


def _pipenv_use(
    ctx: LintContext, step: Step, op: PackageOp, cwd: str, files: ProjectFiles | None
) -> _Use | None:
    use = _tool_use("pipenv", cwd)
    if op.action in ("install", "sync"):
        if op.packages:
            raise NotApplicable("`pipenv install PACKAGE` changes the Pipfile")
        if files is not None:
            text = files.read_text(join(_context_dir(ctx, step, files, cwd), "Pipfile")) or ""
            if re.search(r"""path\s*=\s*["']\.["']""", text):
                raise NotApplicable("the Pipfile installs the project itself")
        if {"--deploy", "--ignore-pipfile"} & op.flags or op.action == "sync":
            use.reads.append(_abs(cwd, "Pipfile.lock"))
        return use
    if op.subcommand.startswith("requirements"):
        use.reads.append(_abs(cwd, "Pipfile.lock"))
        return use
    raise NotApplicable(f"`pipenv {op.subcommand}` may need the source")


def _node_use(op: PackageOp, cwd: str) -> _Use | None:
    m = op.manager
    if "--global" in op.flags or op.subcommand.startswith("global"):
        return None
    if op.subcommand.startswith(("config", "cache")):
        return None
    if op.action != "install":
        raise NotApplicable(f"`{m} {op.subcommand}` may need the source")
    if op.packages:
        raise NotApplicable(f"`{m} {op.subcommand} PACKAGE` changes package.json")
    use = _tool_use(m, cwd)
    if op.locked and m in _LOCK_FILE:
        use.reads.append(_abs(cwd, _LOCK_FILE[m]))
    use.writes.append(_abs(cwd, "node_modules"))
    return use


def _split_with_option(rs: RunScript, op: PackageOp, verb: str, option: str, use: _Use) -> None:
    """Add `option` after the subcommand now; run the original command after the COPY."""
    cmd = op.command
    if cmd.depth or (cmd.wrappers and "sudo" not in cmd.wrappers):
        raise NotApplicable(f"`{cmd.source}` is run through a wrapper")
    word = next((w for w in cmd.words if w.value == verb), None)
    if word is None:
        raise NotApplicable(f"no `{verb}` in `{cmd.source}`")
    use.edits.append(Edit.insert(rs.word_span(word).end, f" {option}"))
    use.rerun = cmd.source


def _earlier_ran(ctx: LintContext, earlier: Sequence[Step], manager: str, flag: str) -> bool:
    """Whether an earlier step ran `manager` with `flag` (the first half of a split)."""
    for step in earlier:
        rs = ctx.run(step) if step.name == "RUN" else None
        if rs is None:
            continue
        for op in rs.script.package_ops:
            if op.manager == manager and flag in op.flags:
                return True
    return False


def _toml(files: ProjectFiles | None, path: str) -> dict[str, Any]:
    text = files.read_text(path) if files is not None else None
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _context_dir(ctx: LintContext, step: Step, files: ProjectFiles | None, container: str) -> str:
    """The context directory that a container directory holds, through the broad COPY."""
    copy = broad_copy_before(ctx, step, files)
    found = copy_source(copy, files) if copy is not None else None
    if found is not None and _under(container, found[1]):
        return join(found[0], posixpath.relpath(container, found[1]))
    return ""


# -- manifests in the context ------------------------------------------------------------------


def _to_context(plan: DependencyPlan, container_path: str) -> str | None:
    if not _under(container_path, plan.dest):
        return None
    return join(plan.source, posixpath.relpath(container_path, plan.dest))


def _add_manifests(
    plan: DependencyPlan, use: _Use, produced: set[str], files: ProjectFiles | None
) -> None:
    wanted: list[str] = list(use.context_reads)
    for path in use.reads:
        ctx_path = None if path in produced else _to_context(plan, path)
        if ctx_path is None:
            continue
        if files is not None and not (files.is_file(ctx_path) or files.is_dir(ctx_path)):
            raise NotApplicable(f"{ctx_path} is not in the build context")
        wanted.append(ctx_path)
    if files is not None:
        for path in use.optional:
            ctx_path = None if path in produced else _to_context(plan, path)
            if ctx_path is not None and (files.is_file(ctx_path) or files.is_dir(ctx_path)):
                wanted.append(ctx_path)
        roots = [
            c
            for c in (_to_context(plan, p) for p in use.requirement_files if p not in produced)
            if c is not None
        ]
        found = requirement_files(files, roots)
        if found.local:
            raise NotApplicable(
                f"a requirement file installs the local path {found.local[0]}, part of the source"
            )
        if found.missing:
            raise NotApplicable(f"{found.missing[0]} is not in the build context")
        for f in found.files:
            if plan.source and not _under("/" + f, "/" + plan.source):
                raise NotApplicable(f"{f} is outside the directory the COPY brings")
            wanted.append(f)
    for w in wanted:
        if w not in plan.manifests:
            plan.manifests.append(w)
            if files is not None and files.is_dir(w):
                plan.manifest_dirs.add(w)


def _check_outputs(plan: DependencyPlan, uses: list[_Use], files: ProjectFiles) -> None:
    """What an install creates in the tree must not also come from the context, or the moved
    COPY overwrites it (a virtualenv, node_modules, an exported requirements file)."""
    for use in uses:
        for path in use.writes:
            ctx_path = _to_context(plan, path)
            if ctx_path and (files.is_file(ctx_path) or files.is_dir(ctx_path)):
                raise NotApplicable(
                    f"the build context sends {ctx_path}, which the install creates and the moved "
                    "COPY would overwrite (add it to .dockerignore)"
                )


def _drop_already_copied(plan: DependencyPlan, index: int) -> None:
    """Manifests an earlier COPY of the stage already put in place need no second COPY."""
    for step in plan.stage.steps[:index]:
        if step.name not in ("COPY", "ADD") or not step.expanded or len(step.reads) != 1:
            continue
        read = step.reads[0]
        if read.kind != "context":
            continue
        dest = posixpath.normpath(posixpath.join(step.workdir or "/", step.expanded[-1]))
        into_dir = step.expanded[-1].endswith("/") or len(read.sources) > 1
        for src in read.sources:
            norm = normalize(src)
            if norm is None or norm not in plan.manifests:
                continue
            target = posixpath.join(dest, posixpath.basename(norm)) if into_dir else dest
            if _to_context(plan, target) == norm:
                plan.manifests.remove(norm)
                plan.already_copied.append(norm)


# -- rendering ---------------------------------------------------------------------------------


def render_split(ctx: LintContext, plan: DependencyPlan) -> Fix:
    """The edits: the manifest COPY where the broad COPY was, the broad COPY (with its comments)
    after the last install, then the project installs; dependency-only edits in between."""
    df = ctx.dockerfile
    style = tx.style_of(df)
    copy_ins = plan.copy.instruction
    edits = [Edit(tx.block_start(df, copy_ins), copy_ins.span.end, manifest_copies(style, plan))]
    moved = moved_copy_text(ctx, plan)
    for step, command in plan.reruns:
        moved += style.run([command], _flag_texts(step.instruction)) + style.newline
    edits.append(tx.insert_after(df, plan.last.instruction, moved))
    edits.extend(plan.edits)
    copied = ", ".join(plan.manifests) if plan.manifests else "no new file"
    lines = ", ".join(str(s.line) for s in plan.installs)
    description = (
        f"manifest-first: copy {copied}, install (line {lines}), then the source "
        f"(COPY from line {plan.copy.line})"
    )
    if plan.notes:
        description += "; " + "; ".join(plan.notes)
    return Fix(tuple(sorted(edits)), "unsafe", description)


def _flag_texts(ins: Instruction) -> list[str]:
    return [ins.dockerfile.text[f.span.start : f.span.end] for f in ins.flags]


def manifest_copies(style: tx.Style, plan: DependencyPlan) -> str:
    """The COPY lines that bring the manifests, one per destination directory (and one per
    manifest directory), with the broad COPY's ownership and permission flags."""
    if not plan.manifests:
        return ""
    ins = plan.copy.instruction
    flags = [
        ins.dockerfile.text[f.span.start : f.span.end]
        for f in ins.flags
        if f.name in ("chown", "chmod", "link")
    ]
    relative = (
        ins.arguments[-1] in (".", "./")
        and posixpath.normpath(plan.copy.workdir or "/") == plan.dest
    )

    def destination(rel_dir: str) -> str:
        if relative:
            return "./" + (rel_dir + "/" if rel_dir else "")
        return posixpath.join(plan.dest, rel_dir).rstrip("/") + "/"

    groups: dict[str, list[str]] = {}
    lines: list[str] = []
    for m in plan.manifests:
        rel = posixpath.relpath(m, plan.source) if plan.source else m
        if m in plan.manifest_dirs:
            lines.append(tx.copy_instruction(style, [m], destination(rel), flags))
        else:
            groups.setdefault(posixpath.dirname(rel), []).append(m)
    for directory, sources in groups.items():
        lines.insert(0, tx.copy_instruction(style, sources, destination(directory), flags))
    return style.lines(lines)


def moved_copy_text(ctx: LintContext, plan: DependencyPlan) -> str:
    """The broad COPY (with its comments) as it reads after the last moved step: source and
    destination written out when the working directory or a variable they use changed."""
    df = ctx.dockerfile
    ins = plan.copy.instruction
    start = tx.block_start(df, ins)
    text = df.text[start : ins.span.end]
    last = plan.last
    moved_dir = posixpath.normpath(last.workdir or "/") != posixpath.normpath(
        plan.copy.workdir or "/"
    )
    names = {m for w in ins.words for m in re.findall(r"\$\{?([A-Za-z_]\w*)", w.value)}
    moved_env = any(last.env.get(k) != plan.copy.env.get(k) for k in names)
    dest_word = ins.words[-1].value if ins.words else ""
    if (moved_dir and not dest_word.startswith("/")) or moved_env:
        if ins.json or len(ins.words) != 2:
            raise NotApplicable("the COPY's paths depend on where it runs")
        src_word, dst_word = ins.words
        new_src = plan.source + "/" if plan.source else "."
        new_dst = plan.dest.rstrip("/") + "/"
        pieces = [
            (src_word.span, tx.shell_quote(new_src) if moved_env else None),
            (dst_word.span, tx.shell_quote(new_dst)),
        ]
        for span, value in reversed(pieces):
            if value is not None:
                text = text[: span.start - start] + value + text[span.end - start :]
    if not text.endswith("\n"):
        text += tx.style_of(df).newline
    return text


def iter_installs(ctx: LintContext) -> Iterator[Step]:
    """Every RUN step of the file that installs dependencies from manifests."""
    for step in ctx.model.steps():
        if is_dependency_install(ctx, step):
            yield step
