"""Multi-stage split: build tools in a builder stage, only the runtime in the final image.

A Python image that installs compilers and `-dev` headers to build its dependencies keeps them
in the image it ships (seed 002: 8.36 GB before, 232 MB after). The split:

    FROM python:3.11 AS builder
    RUN apt-get update && apt-get install -y gcc libpq-dev      # as in the original
    RUN python -m venv /opt/venv
    ENV PATH="/opt/venv/bin:$PATH"
    WORKDIR /app
    COPY requirements.txt ./
    RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

    FROM python:3.11-slim
    RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
        && rm -rf /var/lib/apt/lists/*
    WORKDIR /app
    COPY --from=builder /opt/venv /opt/venv
    ENV PATH="/opt/venv/bin:$PATH"
    COPY . .
    ...                                                         # the rest, as in the original

The dependencies go into a virtualenv (one directory to copy between stages); the builder keeps
pip's download cache in a BuildKit cache mount instead of a layer; the runtime stage starts from
the slim variant of the same Python and installs only the runtime libraries of the `-dev`
packages (`layerwise.shell.debian`) and the packages that were not build tools. Everything else
of the stage (ENV, WORKDIR, EXPOSE, CMD, the source COPY, ...) is copied unchanged, comments
included, so the image's runtime contract stays the same apart from PATH, which now starts with
the virtualenv.

When the source is copied before the install, the manifest-first split
(`layerwise.fixes.manifest`) is applied first, so the builder needs only the manifests.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from layerwise.dockerfile.model import Stage, Step
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Dockerfile, Instruction
from layerwise.errors import DockerfileSyntaxError
from layerwise.fixes import text as tx
from layerwise.fixes.manifest import (
    copy_source,
    plan_manifest_first,
    render_split,
)
from layerwise.fixes.project import ProjectFiles, project_files
from layerwise.fixes.text import NotApplicable
from layerwise.rules.base import Edit, Fix, LintContext
from layerwise.shell.debian import is_build_only, is_dev_package, runtime_packages
from layerwise.shell.facts import APT_MANAGERS

VENV = "/opt/venv"
PIP_CACHE = "/root/.cache/pip"
_CODENAMES = ("bookworm", "bullseye", "buster", "trixie")
_BUILDER_NAMES = ("builder", "python-builder", "deps-builder")
# Commands an apt step may run besides apt itself.
_APT_HELPERS = frozenset({"rm", "echo", "true", "export", "set", "ln", "mkdir", "dpkg-reconfigure"})


@dataclass
class MultiStagePlan:
    """What goes where."""

    stage: Stage  # the stage that is split (the target)
    builder_name: str
    runtime_base: str  # FROM text of the runtime stage
    build_steps: list[Step]  # apt steps installing build tools (builder only)
    dependency_steps: list[Step]  # pip installs (builder only, into the venv)
    build_packages: list[str]  # packages left out of the runtime stage
    runtime_packages: list[str]  # packages the runtime stage installs
    text: str  # the new text of the stage (builder + runtime)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MultiStageSplit:
    fix: Fix | None
    reason: str | None
    plan: MultiStagePlan | None = None


def multistage_fix(ctx: LintContext, *, files: object | None = None) -> Fix | None:
    """The multi-stage split of the target stage, or None when it does not apply safely."""
    return split_multistage(ctx, files=files).fix


def split_multistage(ctx: LintContext, *, files: object | None = None) -> MultiStageSplit:
    pf = project_files(files if files is not None else ctx.build_context)
    try:
        plan, edit = _plan(ctx, pf)
    except NotApplicable as exc:
        return MultiStageSplit(None, str(exc))
    edits = [*tx.ensure_syntax_directive(ctx.dockerfile), edit]
    removed = ", ".join(plan.build_packages)
    description = (
        f"multi-stage: build in stage {plan.builder_name!r} with {removed}; the final stage "
        f"starts from {plan.runtime_base} with the virtualenv {VENV}"
    )
    if plan.runtime_packages:
        description += f" and {', '.join(plan.runtime_packages)}"
    return MultiStageSplit(Fix(tuple(sorted(edits)), "unsafe", description), None, plan)


def slim_base(image_text: str, expanded: str) -> str | None:
    """The slim variant of a Python image reference, written like the original
    (`python:3.11` -> `python:3.11-slim`, `python:3.12-bookworm` -> `python:3.12-slim-bookworm`,
    `python:${PY}` -> `python:${PY}-slim`); None when there is none to derive."""
    if "@" in expanded:
        return None
    name, tag = _split_tag(expanded)
    if name.rsplit("/", 1)[-1] != "python":
        return None
    if tag is not None and ("alpine" in tag or "windows" in tag or "nanoserver" in tag):
        return None
    if tag is not None and "slim" in tag:
        return image_text
    raw_name, raw_tag = _split_tag(image_text)
    if raw_tag is None:
        return f"{raw_name}:slim"
    for codename in _CODENAMES:
        if raw_tag == codename:
            return f"{raw_name}:slim-{codename}"
        if raw_tag.endswith("-" + codename):
            return f"{raw_name}:{raw_tag[: -len(codename) - 1]}-slim-{codename}"
    return f"{raw_name}:{raw_tag}-slim"


def _split_tag(ref: str) -> tuple[str, str | None]:
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, None


# -- planning ----------------------------------------------------------------------------------


def _plan(ctx: LintContext, files: ProjectFiles | None) -> tuple[MultiStagePlan, Edit]:
    original = ctx
    target = ctx.model.target
    if target is None:
        raise NotApplicable("no stage to build")
    _check_stage(ctx, target)
    # Manifest-first first, when the source is copied before the install.
    try:
        split = plan_manifest_first(ctx, None, files=files)
    except NotApplicable:
        split = None
    if split is not None and split.stage.index == target.index:
        from layerwise.fixes.engine import apply_edits

        text = apply_edits(ctx.dockerfile.text, render_split(ctx, split).edits)
        try:
            df = parse_dockerfile(text, ctx.dockerfile.path)
        except DockerfileSyntaxError as exc:  # pragma: no cover - render_split keeps syntax
            raise NotApplicable(f"the manifest-first split did not parse: {exc}") from None
        ctx = LintContext(df, config=ctx.config, build_context=ctx.build_context)
        target = ctx.model.target
        assert target is not None
    plan = _partition(ctx, target, files)
    start = tx.block_start(original.dockerfile, original.model.target.from_instruction)  # type: ignore[union-attr]
    end = original.model.target.steps[-1].instruction.span.end  # type: ignore[union-attr]
    stage_text = original.dockerfile.text[start:end]
    if not stage_text.endswith("\n") and plan.text.endswith("\n"):
        plan.text = plan.text.rstrip("\r\n")
    return plan, Edit(start, end, plan.text)


def _check_stage(ctx: LintContext, stage: Stage) -> None:
    if stage.base_stage is not None:
        raise NotApplicable("the final stage already builds on another stage")
    if stage.image is None or stage.image.base_name != "python":
        raise NotApplicable("the final stage is not based on a Python image")
    if not stage.steps:
        raise NotApplicable("the final stage is empty")
    # Inserting a stage renumbers the stages after it.
    for later in ctx.model.stages[stage.index + 1 :]:
        for step in later.steps:
            from_flag = step.instruction.flag("from")
            if from_flag is not None and (from_flag.value or "").isdigit():
                raise NotApplicable("a later stage refers to a stage by its number")


def _partition(ctx: LintContext, stage: Stage, files: ProjectFiles | None) -> MultiStagePlan:
    df = ctx.dockerfile
    style = tx.style_of(df)
    from_ins = stage.from_instruction
    image_word = from_ins.words[0]
    runtime_base = slim_base(image_word.value, stage.base_name)
    if runtime_base is None:
        raise NotApplicable(f"no slim variant of {stage.base_name} to run on")
    release_note = _debian_release(stage)
    kinds = {id(step): _classify(ctx, step) for step in stage.steps}
    build_steps: list[Step] = []
    apt_only: list[Step] = []  # apt update/clean without installs: the builder's business
    build_packages: list[str] = []
    keep_packages: list[str] = []
    dependency_steps: list[Step] = []
    notes: list[str] = []
    for step in stage.steps:
        kind = kinds[id(step)]
        if kind == "apt":
            found = _apt_packages(ctx, step)
            build = [p for p in found if is_build_only(p)]
            if not found:
                apt_only.append(step)
                continue
            if not build:
                continue
            build_steps.append(step)
            build_packages.extend(p for p in build if p not in build_packages)
            for p in found:
                if not is_build_only(p) and p not in keep_packages:
                    keep_packages.append(p)
        elif kind == "deps" and build_steps:
            dependency_steps.append(step)  # (installs before any build tool stay as they are)
    if not build_steps:
        raise NotApplicable("the final stage installs no build tools")
    if not dependency_steps:
        raise NotApplicable("no pip install after the build tools are installed")
    last_dep = dependency_steps[-1]
    last_index = stage.steps.index(last_dep)
    first_build = stage.steps.index(build_steps[0])
    broad = [i for i, s in enumerate(stage.steps) if copy_source(s, files) is not None]
    broad_first = broad[0] if broad else len(stage.steps)
    for i, step in enumerate(stage.steps[:last_index]):
        if step.name == "USER" and step.expanded and step.expanded[0] not in ("root", "0"):
            raise NotApplicable("the install runs as a non-root user")
        if i > broad_first and step.name not in _SCOPE:
            raise NotApplicable(
                f"line {step.line}: the installs come after the source COPY and cannot move "
                "ahead of it"
            )
        if (
            i > first_build
            and kinds[id(step)] == "other"
            and step.name == "RUN"
            and not _inert(ctx, step)
        ):
            raise NotApplicable(
                f"line {step.line} runs between the build tools and the installs and may "
                "need them; the runtime stage would not have them"
            )
    if broad_first < last_index:
        raise NotApplicable("the installs need the source copied before them")
    _check_command(stage)
    runtime_pkgs: list[str] = []
    for pkg in build_packages:
        base = pkg.split("=", 1)[0]
        if not is_dev_package(base) or _python_headers(base):
            continue  # a compiler or build tool, or headers of Debian's own Python
        mapped = runtime_packages(base)
        if mapped is None:
            runtime_pkgs.append(pkg)
            notes.append(f"no runtime package known for {base}: kept in the final stage")
        else:
            runtime_pkgs.extend(m for m in mapped if m not in runtime_pkgs)
    runtime_pkgs.extend(p for p in keep_packages if p not in runtime_pkgs)
    if release_note and any(runtime_packages(p.split("=", 1)[0]) for p in build_packages):
        notes.append(release_note)

    builder_name = _free_name(ctx)
    first_dep = dependency_steps[0]
    first_dep_index = stage.steps.index(first_dep)
    # The venv is made right after the build tools, before anything the installs read, so a
    # changed requirements file does not make it again.
    tools_before = [s for s in build_steps if stage.steps.index(s) < first_dep_index]
    venv_after = tools_before[-1] if tools_before else None

    builder = _Emitter(df, style)
    builder.raw(_leading(df, from_ins))
    builder.raw(_from_line(stage, image_word.value, builder_name, style))
    if venv_after is None:
        builder.generated(_venv_lines(style))
    for step in stage.steps[: last_index + 1]:
        if step in dependency_steps:
            builder.step(step, _with_cache_mount(ctx, step, style))
        elif (
            step in build_steps
            or step.name in _SCOPE
            or (step.name == "RUN" and not _creates_users_only(ctx, step))
            or (step.name in ("COPY", "ADD") and _from_context(step))
        ):
            builder.step(step)
        else:
            builder.skip(step)
        if step is venv_after:
            builder.generated(_venv_lines(style))

    runtime = _Emitter(df, style)
    runtime.raw(style.newline)
    runtime.raw(_from_line(stage, runtime_base, _stage_word(stage), style))
    venv_copied = False
    apt_done = False
    for i, step in enumerate(stage.steps):
        if not venv_copied and (step is first_dep or i == broad_first):
            copy_venv = f"{style.keyword('COPY')} --from={builder_name} {VENV} {VENV}"
            runtime.generated([copy_venv, _path_env(style)])
            venv_copied = True
        if step in build_steps:
            if not apt_done and runtime_pkgs:
                upgrade = _upgrades(ctx, build_steps)
                runtime.generated([_runtime_apt(style, runtime_pkgs, upgrade)], like=step)
            else:
                runtime.skip(step)
            apt_done = True
            continue
        if (
            step in dependency_steps
            or (step in apt_only and i < last_index)
            or (
                step.name in ("COPY", "ADD")
                and i < last_index
                and _from_context(step)
                and _covered_later(step, stage, files)
            )
        ):
            runtime.skip(step)
            continue
        runtime.step(step)
    text = builder.text() + runtime.text()
    return MultiStagePlan(
        stage,
        builder_name,
        runtime_base,
        build_steps,
        dependency_steps,
        build_packages,
        runtime_pkgs,
        text,
        notes,
    )


_SCOPE = frozenset({"ARG", "ENV", "WORKDIR", "SHELL", "USER"})
_INERT = frozenset(
    {"mkdir", "useradd", "groupadd", "adduser", "addgroup", "ln", "chmod", "chown", "rm",
     "echo", "true", ":", "touch", "export", "set", "id"}
)  # fmt: skip


def _inert(ctx: LintContext, step: Step) -> bool:
    """A RUN that needs no build tool: only file-system and user bookkeeping."""
    rs = ctx.run(step)
    return (
        rs is not None
        and not rs.script.parse_error
        and all(c.name in _INERT for c in rs.script.commands)
    )


def _debian_release(stage: Stage) -> str | None:
    """Check that the image is Debian bookworm, whose package names the runtime table gives;
    returns a note when that is assumed rather than written in the tag."""
    tag = (stage.image.tag if stage.image else None) or "latest"
    for codename in ("trixie", "bullseye", "buster", "stretch", "jessie"):
        if codename in tag:
            raise NotApplicable(
                f"{stage.base_name} is Debian {codename}; the runtime package table is for bookworm"
            )
    if "bookworm" in tag:
        return None
    m = re.match(r"(\d+)\.(\d+)", tag)
    if m and (int(m.group(1)), int(m.group(2))) < (3, 8):
        raise NotApplicable(
            f"{stage.base_name} is older than Debian bookworm, for which the runtime package "
            "table is"
        )
    return f"runtime packages are named as in Debian bookworm ({stage.base_name} names no release)"


def _creates_users_only(ctx: LintContext, step: Step) -> bool:
    """A RUN that only creates users and groups: the runtime's business, not the builder's."""
    rs = ctx.run(step)
    users = {"useradd", "groupadd", "adduser", "addgroup"}
    return (
        rs is not None
        and bool(rs.script.commands)
        and all(c.name in users for c in rs.script.commands)
    )


def _python_headers(package: str) -> bool:
    """Debian's Python headers (python3-dev, libpython3.11-dev): only used to compile."""
    return bool(re.fullmatch(r"(lib)?python[0-9.]*(-all)?-dev", package))


def _classify(ctx: LintContext, step: Step) -> str:
    """ "apt" (only system packages), "deps" (only pip installs), or "other"."""
    if step.name != "RUN":
        return "other"
    rs = ctx.run(step)
    if rs is None or rs.script.parse_error or not rs.exact:
        return "other"
    ops = {id(op.command): op for op in rs.script.package_ops}
    kinds: set[str] = set()
    for cmd in rs.script.commands:
        op = ops.get(id(cmd))
        if op is None:
            if cmd.name in _APT_HELPERS or (
                cmd.name in ("python", "python3")
                and cmd.args[:2]
                == [
                    "-m",
                    "venv",
                ]
            ):
                continue
            return "other"
        if op.manager in APT_MANAGERS:
            kinds.add("apt")
        elif op.manager == "pip" and op.action in ("install", "clean", "other"):
            if op.action == "install":
                _check_pip(op.flags, op.options, cmd.words[0].value)
                if op.local_paths:
                    return "other"  # the project itself: installed where the source is
            kinds.add("deps")
        elif op.manager in ("poetry", "uv", "pipenv") and op.action == "export":
            kinds.add("deps")
        else:
            return "other"
    if len(kinds) != 1:
        if kinds == {"apt", "deps"}:
            raise NotApplicable(
                f"line {step.line} installs build tools and Python packages in one RUN"
            )
        return "other"
    return kinds.pop()


def _check_pip(flags: frozenset[str], options: dict[str, list[str]], program: str) -> None:
    if "--user" in flags:
        raise NotApplicable("pip --user installs outside a virtualenv")
    if "--target" in options or "--prefix" in options or "--root" in options:
        raise NotApplicable("pip installs into a chosen directory, not a virtualenv")
    if program.startswith("/"):
        raise NotApplicable(f"pip is run by its path ({program}), not through PATH")


def _apt_packages(ctx: LintContext, step: Step) -> list[str]:
    rs = ctx.run(step)
    assert rs is not None
    out: list[str] = []
    for op in rs.script.package_ops:
        if op.manager in APT_MANAGERS and op.action in ("install", "upgrade"):
            if op.dynamic:
                raise NotApplicable(f"line {step.line}: apt packages come from a variable")
            out.extend(p.raw for p in op.packages if p.raw not in out)
    return out


def _check_command(stage: Stage) -> None:
    """The venv is found through PATH; a command naming the system Python by path would miss
    it."""
    for name in ("CMD", "ENTRYPOINT"):
        step = stage.last(name)
        if step is None:
            continue
        text = " ".join(step.instruction.arguments)
        if re.search(
            r"/usr(/local)?/bin/(python|pip|gunicorn|uvicorn)|/usr/local/lib/python", text
        ):
            raise NotApplicable(f"{name} runs a program by its system path")


def _from_context(step: Step) -> bool:
    return any(r.kind == "context" for r in step.reads)


class _Emitter:
    """Writes a stage: original instruction blocks with the blank lines that preceded them in
    the source, and generated lines."""

    def __init__(self, df: Dockerfile, style: tx.Style) -> None:
        self.df = df
        self.style = style
        self.parts: list[str] = []
        self.pending = ""

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def _gap(self, ins: Instruction) -> str:
        """What lies between the previous instruction and this one's block: blank lines and
        comments that belong to no instruction, kept as they are."""
        start = tx.block_start(self.df, ins)
        prev_end = 0
        for other in self.df.instructions:
            if other.span.end <= start:
                prev_end = other.span.end
            else:
                break
        return self.df.text[prev_end:start]

    def step(self, step: Step, text: str | None = None) -> None:
        ins = step.instruction
        self.parts.append(self._gap(ins) or self.pending)
        self.pending = ""
        self.parts.append(text if text is not None else tx.block_text(self.df, ins))

    def skip(self, step: Step) -> None:
        """A step left out: its blank lines go to the next one written."""
        self.pending = self.pending or self._gap(step.instruction)

    def generated(self, lines: list[str], like: Step | None = None) -> None:
        if like is not None:
            self.parts.append(self._gap(like.instruction) or self.pending)
            self.pending = ""
        self.parts.append(self.style.lines(lines))

    def text(self) -> str:
        return "".join(self.parts)


def _venv_lines(style: tx.Style) -> list[str]:
    return [style.run([f"python -m venv {VENV}"]), _path_env(style)]


def _covered_later(step: Step, stage: Stage, files: ProjectFiles | None) -> bool:
    """Whether a later COPY of the whole source into the same place brings this file again."""
    dest = posixpath.normpath(posixpath.join(step.workdir or "/", step.expanded[-1]))
    index = stage.steps.index(step)
    for later in stage.steps[index + 1 :]:
        found = copy_source(later, files)
        if found is None or found[0] != "":
            continue
        if dest == found[1] or dest.startswith(found[1].rstrip("/") + "/"):
            return True
    return False


def _from_line(stage: Stage, image: str, name: str | None, style: tx.Style) -> str:
    ins = stage.from_instruction
    flags = [ins.dockerfile.text[f.span.start : f.span.end] for f in ins.flags]
    parts = [style.keyword("FROM"), *flags, image]
    if name:
        parts += [style.keyword("AS"), name]
    return style.lines([" ".join(parts)])


def _stage_word(stage: Stage) -> str | None:
    words = stage.from_instruction.words
    return words[2].value if len(words) == 3 else None


def _leading(df: Dockerfile, ins: Instruction) -> str:
    """The comment lines above the FROM stay above the first (builder) stage."""
    return df.text[tx.block_start(df, ins) : ins.span.start]


def _free_name(ctx: LintContext) -> str:
    taken = {s.name for s in ctx.model.stages if s.name}
    for name in _BUILDER_NAMES:
        if name not in taken:
            return name
    n = 2
    while f"builder-{n}" in taken:
        n += 1
    return f"builder-{n}"


def _path_env(style: tx.Style) -> str:
    return f'{style.keyword("ENV")} PATH="{VENV}/bin:$PATH"'


def _upgrades(ctx: LintContext, steps: list[Step]) -> bool:
    """Whether the build-tool steps also upgrade the installed packages."""
    for step in steps:
        rs = ctx.run(step)
        for op in rs.script.package_ops if rs else ():
            if op.manager in APT_MANAGERS and op.action == "upgrade" and not op.packages:
                return True
    return False


def _runtime_apt(style: tx.Style, packages: list[str], upgrade: bool = False) -> str:
    return style.run(
        [
            "apt-get update",
            *(["apt-get upgrade -y"] if upgrade else []),
            "apt-get install -y --no-install-recommends " + " ".join(packages),
            # Images without Debian's docker-clean hook would keep the regenerated package
            # caches (tens of MB) in this layer.
            "apt-get clean",
            "rm -rf /var/lib/apt/lists/*",
        ]
    )


def _with_cache_mount(ctx: LintContext, step: Step, style: tx.Style) -> str:
    """The install step with pip's cache in a cache mount (and `--no-cache-dir` dropped)."""
    df = ctx.dockerfile
    ins = step.instruction
    start = tx.block_start(df, ins)
    text = df.text[start : ins.span.end]
    rs = ctx.run(step)
    assert rs is not None
    removals: list[tuple[int, int]] = []
    for op in rs.script.package_ops:
        if op.manager != "pip":
            continue
        for w in op.command.words:
            if w.value == "--no-cache-dir":
                span = rs.word_span(w)
                s = span.start
                while s > 0 and df.text[s - 1] in " \t":
                    s -= 1
                removals.append((s, span.end))
    for s, e in sorted(removals, reverse=True):
        text = text[: s - start] + text[e - start :]
    has_mount = any(m.type == "cache" and m.target == PIP_CACHE for m in step.mounts)
    if not has_mount:
        at = ins.keyword_span.end - start
        text = text[:at] + f" --mount=type=cache,target={PIP_CACHE}" + text[at:]
    if not text.endswith("\n"):
        text += style.newline
    return text
