"""LW2xx: image size and multi-stage builds.

Seed problem 2 ("bloated images slowing deployment"): production images that carry compilers,
headers, package caches and files deleted too late. Rules about what the image contains look at
the stages whose layers make the image (the target and the stages it is built FROM); rules
about how a RUN is written look at every stage, as hadolint does.

Public helpers for the multi-stage rewrite (`layerwise.fixes`): `build_tool_installs(ctx)` says
which RUN installs which build-only packages into the image, and `runtime_packages_for(...)` which
runtime libraries replace the `-dev` packages.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from layerwise.dockerfile.model import Stage, Step
from layerwise.rules.base import (
    Edit,
    Example,
    Finding,
    Fix,
    LintContext,
    Rule,
    Severity,
    register,
)
from layerwise.rules.helpers import (
    RunStep,
    append_command,
    as_style,
    context_files,
    context_path_of,
    final_chain,
    insert_after_subcommand,
    is_root,
    mounted,
    removes_dir,
    run_steps,
    steps_before,
)
from layerwise.shell.debian import is_build_only, runtime_packages
from layerwise.shell.facts import APT_MANAGERS
from layerwise.shell.packages import Package, PackageOp
from layerwise.shell.syntax import Command

SYSTEM_MANAGERS = frozenset(
    {"apt-get", "apt", "aptitude", "apk", "dnf", "dnf5", "yum", "microdnf", "tdnf", "zypper"}
)

# Stage names that say the target is meant for development or CI, where build tools belong.
_DEV_STAGE = re.compile(
    r"(^|[-_.])(dev|devel|development|test|tests|testing|ci|debug|build|builder)($|[-_.])"
)


def is_dev_stage(stage: Stage) -> bool:
    return stage.name is not None and _DEV_STAGE.search(stage.name) is not None


# -- LW201: build tools in the final image -------------------------------------------------------

# Build-only packages of Alpine and the RPM distributions that Debian's table does not name.
_BUILD_ONLY_EXTRA = frozenset(
    {"build-base", "alpine-sdk", "gcc-c++", "gcc-gfortran", "musl-dev", "linux-headers",
     "kernel-headers", "glibc-devel", "rpm-build", "redhat-rpm-config", "@development-tools",
     "development tools", "make", "cmake", "autoconf", "automake", "libtool", "pkgconf",
     "pkgconfig", "git"}
)  # fmt: skip
# Tools that may well be needed at run time too: only build-only when a RUN uses them.
_RUNTIME_POSSIBLE = frozenset({"git", "mercurial", "subversion"})


def is_build_package(name: str) -> bool:
    """Compilers, headers, build systems and VCS clients (any distribution's spelling)."""
    base = name.split("=", 1)[0].split(":", 1)[0].lower()
    return (
        is_build_only(base)
        or base in _BUILD_ONLY_EXTRA
        or base.endswith("-devel")
        or base.startswith(("gcc", "g++", "clang"))
    )


@dataclass(frozen=True)
class BuildToolInstall:
    """One RUN of the image's stages that installs build-only packages which stay in the image.

    `runtime` maps each Debian `-dev` package to the runtime libraries a program built against
    it needs (bookworm names; absent when the table does not know the package)."""

    step: Step
    stage: Stage
    op: PackageOp
    packages: tuple[Package, ...]
    runtime: dict[str, tuple[str, ...]]


def build_tool_installs(ctx: LintContext) -> list[BuildToolInstall]:
    """Build-only packages installed into the image (the target and the stages it is built
    FROM) and not removed again: in the same RUN (then they never reach a layer) or in a later
    one (LW204 reports those: the files stay in the earlier layer). A VCS client counts only
    when some RUN of those stages uses it (otherwise the application may need it)."""
    chain = final_chain(ctx.model)
    if not chain or is_dev_stage(chain[-1]):
        return []
    runs = [r for r in run_steps(ctx, chain) if not r.onbuild]
    used = {c.name for r in runs for c in r.run.script.commands}
    used |= {
        "git"
        for r in runs
        for o in r.run.script.package_ops
        for p in o.packages
        if p.kind == "vcs" or p.raw.startswith("git+")
    }
    out = []
    for i, r in enumerate(runs):
        ops = r.run.script.package_ops
        for k, op in enumerate(ops):
            if op.manager not in SYSTEM_MANAGERS or op.action != "install":
                continue
            later = list(ops[k + 1 :]) + [o for rr in runs[i + 1 :] for o in _ops(rr)]
            removed = _removed_names(later, op)
            pkgs = tuple(
                p
                for p in op.packages
                if is_build_package(p.name)
                and p.name not in removed
                and (p.name not in _RUNTIME_POSSIBLE or p.name in used)
            )
            if pkgs:
                runtime = {p.name: rt for p in pkgs if (rt := runtime_packages(p.name)) is not None}
                out.append(BuildToolInstall(r.step, r.stage, op, pkgs, runtime))
    return out


def runtime_packages_for(installs: Iterable[BuildToolInstall]) -> tuple[str, ...]:
    """The runtime libraries to install in a slim runtime stage instead of the `-dev` packages
    (bookworm names, in first-seen order)."""
    out: list[str] = []
    for inst in installs:
        for pkgs in inst.runtime.values():
            out.extend(p for p in pkgs if p not in out)
    return tuple(out)


def _ops(r: RunStep) -> list[PackageOp]:
    return r.run.script.package_ops


def _removed_names(later: list[PackageOp], install: PackageOp) -> set[str]:
    """Package names (and apk virtual names) that later operations remove."""
    names: set[str] = set()
    virtual = set(install.values("--virtual"))
    for o in later:
        if o.action not in ("remove", "autoremove") or o.manager not in SYSTEM_MANAGERS:
            continue
        for p in o.packages:
            names.add(p.name)
            if p.name in virtual:
                names.update(q.name for q in install.packages)
    return names


@register
class BuildToolsInFinalImage(Rule):
    id = "LW201"
    name = "build-tools-in-final-image"
    title = "Compilers and -dev headers end up in the final image"
    severity = Severity.WARNING
    rationale = (
        "Seed problem 2 (multi-stage builds): gcc, build-essential, make and `-dev` header "
        "packages are needed to compile wheels, not to run them, yet installed in the final "
        "stage they add hundreds of megabytes and attack surface to every pull. Install them "
        "in a builder stage that builds a virtualenv (or wheels), then copy only the result "
        "into a slim runtime stage that installs the runtime libraries (`libpq5` instead of "
        "`libpq-dev`). A VCS client such as git counts only when a RUN uses it (e.g. "
        "`pip install git+https://...`). Packages removed in the same RUN never reach a layer "
        "and are not reported; removed in a later RUN they still are in the image (LW204)."
    )
    bad = Example(
        "FROM python:3.11-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    good = Example(
        "FROM python:3.11-slim AS builder\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "RUN python -m venv /opt/venv\n"
        "COPY requirements.txt .\n"
        "RUN /opt/venv/bin/pip install --no-cache-dir -r requirements.txt\n"
        "FROM python:3.11-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY --from=builder /opt/venv /opt/venv\n"
    )
    fixed = (
        "# syntax=docker/dockerfile:1\n"
        "FROM python:3.11-slim AS builder\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "RUN python -m venv /opt/venv\n"
        'ENV PATH="/opt/venv/bin:$PATH"\n'
        "COPY requirements.txt .\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
        "\n"
        "FROM python:3.11-slim\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y --no-install-recommends libpq5 \\\n"
        "    && apt-get clean \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY requirements.txt .\n"
        "COPY --from=builder /opt/venv /opt/venv\n"
        'ENV PATH="/opt/venv/bin:$PATH"\n'
    )
    fix_safety = "unsafe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for inst in build_tool_installs(ctx):
            names = ", ".join(p.name for p in inst.packages)
            runtime = runtime_packages_for([inst])
            hint = f"; the runtime stage needs only {', '.join(runtime)}" if runtime else ""
            run = ctx.run(inst.step)
            at = run.command_span(inst.op.command) if run is not None else inst.step.instruction
            yield self.finding(
                ctx,
                at,
                f"Build tools stay in the final image ({names}): install them in a builder "
                f"stage and copy only the built packages{hint}",
                fix=self._fix(ctx),
            )

    def _fix(self, ctx: LintContext) -> Fix | None:
        # The multi-stage split (layerwise.fixes.multistage) rewrites the whole final stage,
        # so every finding of the file carries the same fix and the engine applies it once.
        from layerwise.fixes.multistage import multistage_fix

        return multistage_fix(ctx)


# -- LW202: --no-install-recommends -----------------------------------------------------------

# Packages whose HTTPS use relies on ca-certificates, which they only Recommend (directly or
# through a dependency) on Debian bookworm: with --no-install-recommends it must be named.
# Checked against the real package metadata in tests/integration/test_size_docker.py.
CERTIFICATES_VIA_RECOMMENDS = frozenset({"curl", "wget", "git", "libcurl4", "nodejs"})


def _recommends_disabled_globally(ctx: LintContext, step: Step) -> bool:
    """An earlier RUN wrote `APT::Install-Recommends "0"` (or false) into apt's configuration."""
    for prev in steps_before(ctx.model, step):
        run = ctx.run(prev) if prev.name == "RUN" else None
        if run is None:
            continue
        for cmd in run.script.commands:
            words = cmd.argv
            for i, w in enumerate(words):
                if "install-recommends" not in w.lower():
                    continue
                tail = " ".join(words[i : i + 2]).lower()
                if re.search(r"install-recommends[\"'\s]*(?:\"0\"|0|false|\"false\")", tail):
                    return True
    return False


@register
class NoInstallRecommends(Rule):
    id = "LW202"
    name = "apt-no-install-recommends"
    title = "apt-get install without --no-install-recommends"
    severity = Severity.INFO
    rationale = (
        "Seed guide technique 4: without `--no-install-recommends` apt also installs every "
        "package the requested ones merely recommend, often several times more than asked "
        "for (documentation tools, X libraries, compilers for python3-pip). The fix adds the "
        "flag; where a requested package gets its CA certificates only through a "
        "recommendation (curl, wget, git on Debian), it also names `ca-certificates` so HTTPS "
        "keeps working. A file that turns recommendations off in apt's configuration "
        '(`APT::Install-Recommends "0"`) is not reported (hadolint reports it).'
    )
    hadolint = ("DL3015",)
    bad = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
    fixed = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install --no-install-recommends -y curl ca-certificates"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for r in run_steps(ctx):
            ops = [
                o
                for o in r.run.script.package_ops
                if o.manager in ("apt-get", "apt")
                and o.subcommand == "install"
                and not o.no_recommends
            ]
            if not ops or _recommends_disabled_globally(ctx, r.step):
                continue
            installed_before = _apt_installed_before(ctx, r)
            for op in ops:
                edits = []
                edit = insert_after_subcommand(r.run, op, "--no-install-recommends")
                if edit is not None:
                    edits.append(edit)
                    names = {p.name for p in op.packages}
                    if (
                        names & CERTIFICATES_VIA_RECOMMENDS
                        and "ca-certificates" not in names | installed_before
                    ):
                        extra = _append_package(r, op, "ca-certificates")
                        edits = [edits[0], extra] if extra is not None else []
                fix = self.make_fix(edits, "add --no-install-recommends") if edits else None
                yield self.finding(
                    ctx,
                    r.run.command_span(op.command),
                    f"`{op.manager} install` without `--no-install-recommends` also installs "
                    "every recommended package",
                    fix=fix,
                    covers=("DL3015",) if op.manager == "apt-get" else (),
                )


def _apt_installed_before(ctx: LintContext, r: RunStep) -> set[str]:
    """Packages that earlier RUNs of the same filesystem installed with apt."""
    names: set[str] = set()
    for prev in steps_before(ctx.model, r.step):
        run = ctx.run(prev) if prev.name == "RUN" else None
        if run is not None:
            for o in run.script.package_ops:
                if o.manager in APT_MANAGERS and o.action == "install":
                    names.update(p.name for p in o.packages)
    return names


def _append_package(r: RunStep, op: PackageOp, name: str) -> Edit | None:
    if op.dynamic or not op.packages or not r.run.exact:
        return None
    last = op.packages[-1].word
    if last is None or op.command.words[-1] is not last:
        return None
    return Edit.insert(r.run.word_span(last).end, f" {name}")


# -- LW203: apt lists ----------------------------------------------------------------------------


def _disables_docker_clean(cmd: Command) -> bool:
    """`rm /etc/apt/apt.conf.d/docker-clean`, or apt told to keep downloaded packages: Debian's
    images then keep every downloaded .deb in /var/cache/apt/archives."""
    if cmd.name == "rm" and any(a.endswith("apt.conf.d/docker-clean") for a in cmd.args):
        return True
    return any("Keep-Downloaded-Packages" in a and "true" in a for a in cmd.args)


def _keeps_downloaded_packages(ctx: LintContext, r: RunStep) -> bool:
    for prev in [*steps_before(ctx.model, r.step), r.step]:
        run = ctx.run(prev) if prev.name in ("RUN", "ONBUILD") else None
        if run is not None and any(_disables_docker_clean(c) for c in run.script.commands):
            return True
    return False


def _removed_after(r: RunStep, index: int, directory: str) -> bool:
    """A recursive `rm` later in the script removes `directory` (or its contents); for the apt
    lists, `apt-get dist-clean` (apt 2.7) does too."""
    if directory == "/var/lib/apt/lists" and any(
        o.manager in APT_MANAGERS and o.subcommand in ("dist-clean", "distclean")
        for o in r.run.script.package_ops
        if o.command.index > index
    ):
        return True
    return any(
        rp.recursive and rp.command.index > index and removes_dir(rp.path, directory)
        for rp in r.run.script.facts.removed_paths
    )


@register
class AptListsKept(Rule):
    id = "LW203"
    name = "apt-lists-kept"
    title = "apt package lists left in the image"
    severity = Severity.INFO
    rationale = (
        "Seed guide technique 3 (clean up in the same layer): `apt-get update` downloads the "
        "package lists into /var/lib/apt/lists, tens of megabytes the running image never "
        "reads. Removing them in a later RUN saves nothing (the earlier layer keeps them), so "
        "`rm -rf /var/lib/apt/lists/*` goes at the end of the same RUN, or the directory is a "
        "cache mount. Only stages whose layers reach the image are checked. The removal must "
        "come after the last update (hadolint accepts it anywhere in the RUN). When "
        "/etc/apt/apt.conf.d/docker-clean is removed to keep downloaded packages for a cache "
        "mount, /var/cache/apt must be mounted too, or every .deb stays in the layer."
    )
    hadolint = ("DL3009",)
    bad = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends ca-certificates\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends ca-certificates && \\\n"
        "    rm -rf /var/lib/apt/lists/*\n"
    )
    fixed = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends ca-certificates && \\\n"
        "    rm -rf /var/lib/apt/lists/*\n"
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for r in run_steps(ctx, final_chain(ctx.model)):
            facts = r.run.script.facts
            ins = r.outer
            updates = facts.apt_updates
            if updates:
                last = max(o.command.index for o in updates)
                if not _removed_after(r, last, "/var/lib/apt/lists") and not mounted(
                    ins, "/var/lib/apt/lists"
                ):
                    # An update alone (LW104) leaves the lists for a later RUN's install:
                    # removing them here would make that install fail to find its packages.
                    installs_here = any(o.action == "install" for o in facts.apt_installs)
                    edit = append_command(r.run, "rm -rf /var/lib/apt/lists/*")
                    fix = (
                        self.make_fix([edit], "remove the apt lists")
                        if edit and installs_here
                        else None
                    )
                    yield self.finding(
                        ctx,
                        ins,
                        "Delete the apt lists (/var/lib/apt/lists) in the RUN that downloads them",
                        fix=fix,
                    )
                    continue
            installs = [o for o in facts.apt_installs if o.action == "install"]
            if (
                installs
                and not mounted(ins, "/var/cache/apt/archives")
                and _keeps_downloaded_packages(ctx, r)
                and not _removed_after(r, installs[-1].command.index, "/var/cache/apt/archives")
                and not any(
                    o.action == "clean" and o.command.index > installs[-1].command.index
                    for o in r.run.script.package_ops
                    if o.manager in APT_MANAGERS
                )
            ):
                yield self.finding(
                    ctx,
                    ins,
                    "Downloaded .deb files stay in the layer: docker-clean is disabled and "
                    "/var/cache/apt is not a cache mount",
                )


# -- LW204: deleted in a later layer -------------------------------------------------------------


@dataclass(frozen=True)
class _Created:
    path: str
    what: str
    step: Step
    whole: bool  # everything under `path` is new (a clone, a cache); False for a COPY's target


def _abs(path: str, cwd: str, user: str | None) -> str | None:
    if "$" in path and not path.startswith(("$HOME", "${HOME}")):
        return None
    for home in ("~", "$HOME", "${HOME}"):
        if path == home or path.startswith(home + "/"):
            if not is_root(user):
                return None
            path = "/root" + path[len(home) :]
    joined = posixpath.normpath(posixpath.join(cwd, path))
    return "/" + joined.lstrip("/")


def _created_by(ctx: LintContext, step: Step) -> list[_Created]:
    """Paths a step creates that a later `rm` could target."""
    out: list[_Created] = []
    ins = step.instruction
    if step.name in ("COPY", "ADD") and len(step.expanded) >= 2:
        dest = _abs(step.expanded[-1], step.workdir, step.user)
        if dest is not None:
            out.append(_Created(dest, f"{step.name} (line {step.line})", step, False))
        return out
    if step.name != "RUN":
        return out
    run = ctx.run(step)
    if run is None:
        return out
    for op in run.script.package_ops:
        idx = op.command.index
        if op.manager in APT_MANAGERS and op.action == "update":
            r = RunStep(step, run, ctx.model.stages[step.stage_index])
            lists = "/var/lib/apt/lists"
            if not _removed_after(r, idx, lists) and not mounted(ins, lists):
                out.append(_Created(lists, "apt lists", step, True))
        elif op.manager == "pip" and op.installs and not op.cache_disabled and is_root(step.user):
            purged = run.script.facts.pip_cache_purged
            if not purged and not mounted(ins, ".cache/pip", fragment=True):
                out.append(_Created("/root/.cache/pip", "pip cache", step, True))
        elif (
            op.manager == "apk"
            and op.installs
            and not op.cache_disabled
            and not mounted(ins, "/var/cache/apk")
        ):
            out.append(_Created("/var/cache/apk", "apk cache", step, True))
    for cmd in run.script.commands:
        target = _output_of(cmd)
        if target is not None:
            path = _abs(target, step.workdir, step.user)
            if path is not None:
                out.append(_Created(path, f"`{cmd.name}` (line {step.line})", step, True))
    return out


def _output_of(cmd: Command) -> str | None:
    """Where a download or clone writes (curl -o, wget -O, git clone URL DIR)."""
    args = cmd.args
    if cmd.name == "curl":
        for i, a in enumerate(args):
            if a in ("-o", "--output") and i + 1 < len(args):
                return args[i + 1]
            if a.startswith("--output="):
                return a.split("=", 1)[1]
    if cmd.name == "wget":
        for i, a in enumerate(args):
            if a in ("-O", "--output-document") and i + 1 < len(args) and args[i + 1] != "-":
                return args[i + 1]
    if cmd.name == "git" and args[:1] == ["clone"]:
        pos = [a for a in args[1:] if not a.startswith("-")]
        if len(pos) == 2:
            return pos[1]
    for red in cmd.redirects:
        if red.op in (">", ">|") and red.fd in (None, "1") and red.target:
            if red.target.startswith("/dev/"):
                continue
            return red.target
    return None


def _covers_path(pattern: str, created: str) -> bool:
    """Does removing `pattern` (globs allowed) remove `created` (or all of it)?"""
    p = pattern.rstrip("/")
    if p.endswith("/*"):
        base = p[:-2]
        if created.startswith(base + "/"):
            return True
    if p == created or created.startswith(p + "/"):
        return True
    if any(ch in p for ch in "*?["):
        parts = created.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[:n]), p) for n in range(2, len(parts) + 1))
    return False


def _deletes_part_of(ctx: LintContext, path: str, c: _Created) -> bool:
    """`rm path` removes something `c` created inside its target: anything when all of the
    target is new; for a COPY, only what the build context says it copied."""
    if not path.startswith(c.path.rstrip("/") + "/"):
        return False
    if c.whole:
        return True
    files = context_files(ctx, c.step)
    rel = context_path_of(c.step, path)
    if not files or rel is None:
        return False
    return any(f == rel or f.startswith(rel.rstrip("/") + "/") for f in files)


@register
class DeletedInLaterLayer(Rule):
    id = "LW204"
    name = "deleted-in-later-layer"
    title = "Files deleted in a later layer than the one that created them"
    severity = Severity.WARNING
    rationale = (
        "Seed guide technique 3 (clean up in the same layer): every RUN, COPY and ADD is a "
        "layer, and a later layer can only hide files, not take them out of the earlier one. "
        "`RUN rm -rf /var/lib/apt/lists/*`, `RUN apt-get purge gcc` or `RUN rm /tmp/pkg.tar.gz` "
        "in its own RUN makes the image no smaller. Delete in the RUN that creates the files, "
        "or keep them out with a cache mount or a builder stage. Only deletions of files this "
        "Dockerfile creates in the image's own stages are reported."
    )
    bad = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc\n"
        "RUN apt-get purge -y gcc && rm -rf /var/lib/apt/lists/*\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc \\\n"
        "    && apt-get purge -y gcc && rm -rf /var/lib/apt/lists/*\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        chain = final_chain(ctx.model)
        created: list[_Created] = []
        installed: dict[str, Step] = {}
        for stage in chain:
            for step in stage.steps:
                run = ctx.run(step) if step.name == "RUN" else None
                if run is not None:
                    yield from self._check_run(ctx, step, run, created, installed)
                    for op in run.script.package_ops:
                        if op.installs and op.manager in SYSTEM_MANAGERS | {"pip"}:
                            for p in op.packages:
                                installed.setdefault(p.name, step)
                created.extend(_created_by(ctx, step))

    def _check_run(
        self,
        ctx: LintContext,
        step: Step,
        run: object,
        created: list[_Created],
        installed: dict[str, Step],
    ) -> Iterator[Finding]:
        from layerwise.shell.run import RunScript

        assert isinstance(run, RunScript)
        reported: set[int] = set()
        for rp in run.script.facts.removed_paths:
            if rp.command.index in reported or rp.command.depth > 0:
                continue
            path = _abs(rp.path, step.workdir, step.user)
            if path is None or path in ("/", "/root", "/tmp"):
                continue
            for c in created:
                if _covers_path(path, c.path) or _deletes_part_of(ctx, path, c):
                    reported.add(rp.command.index)
                    where = (
                        "leave them out of that COPY (a narrower source or .dockerignore)"
                        if c.step.name in ("COPY", "ADD")
                        else f"delete them in the RUN at line {c.step.line}"
                    )
                    yield self.finding(
                        ctx,
                        run.command_span(rp.command),
                        f"`rm {rp.path}` deletes files that an earlier layer created ({c.what}): "
                        f"they stay in the image; {where}",
                    )
                    break
        same_run = {p.name for o in run.script.package_ops if o.installs for p in o.packages}
        for op in run.script.package_ops:
            if op.action != "remove" or not (op.manager in SYSTEM_MANAGERS or op.manager == "pip"):
                continue
            late = [p.name for p in op.packages if p.name in installed and p.name not in same_run]
            if late:
                first = installed[late[0]]
                yield self.finding(
                    ctx,
                    run.command_span(op.command),
                    f"Removing {', '.join(late)} in a later layer than the install (line "
                    f"{first.line}) saves no space: remove it in the same RUN, or build in a "
                    "separate stage",
                )


# -- LW205: full base image ----------------------------------------------------------------------

_SLIM_IMAGES = frozenset({"python", "node", "ruby", "perl", "rust", "debian", "openjdk"})
_NOT_FULL = ("slim", "alpine", "windowsservercore", "nanoserver", "distroless", "musl")
_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")


def slim_tag(image: str, tag: str) -> str | None:
    """The -slim variant of an official image's tag (`python:3.11` -> `3.11-slim`,
    `python:3.11-bookworm` -> `3.11-slim-bookworm`, `node:20-bookworm` -> `20-bookworm-slim`),
    or None when the tag already is small or has no slim variant."""
    if any(part in tag for part in _NOT_FULL):
        return None
    if image == "debian":
        return "stable-slim" if tag == "latest" else f"{tag}-slim"
    if image == "openjdk":
        return None if tag == "latest" else f"{tag}-slim"
    if tag == "latest":
        return "slim"
    for codename in _CODENAMES:
        if tag == codename:
            return f"slim-{codename}" if image != "node" else f"{codename}-slim"
        if tag.endswith("-" + codename):
            version = tag[: -len(codename) - 1]
            return f"{tag}-slim" if image == "node" else f"{version}-slim-{codename}"
    return f"{tag}-slim"


@register
class FullBaseImage(Rule):
    id = "LW205"
    name = "full-base-image"
    title = "The final stage uses a full base image where a -slim variant exists"
    severity = Severity.INFO
    rationale = (
        "Seed guide technique 1 (slim base images): `python:3.11` is about 1 GB because it "
        "carries compilers, headers and tools for building; `python:3.11-slim` is a fraction "
        "of that and runs the same code. Build in a stage on the full image if you need its "
        "tools, and base the final stage on the slim one. The fix is unsafe: packages that "
        "compile at install time, or that use a library only the full image has (libpq, "
        "libjpeg), then need a builder stage or the runtime library installed; it is not "
        "offered when the final stage installs build tools itself (LW201's rewrite moves "
        "those)."
    )
    bad = Example('FROM python:3.11\nCOPY app.py .\nCMD ["python", "app.py"]\n')
    good = Example('FROM python:3.11-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n')
    fixed = 'FROM python:3.11-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    fix_safety = "unsafe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        chain = final_chain(ctx.model)
        if not chain or is_dev_stage(chain[-1]):
            return
        root = chain[0]
        ref = root.image
        if ref is None or not ref.is_official or ref.digest:
            return
        image = ref.base_name
        tag = ref.effective_tag
        if image not in _SLIM_IMAGES or tag is None:
            return
        slim = slim_tag(image, tag)
        if slim is None:
            return
        word = root.from_instruction.words[0]
        fix = None
        if "$" not in word.value and not build_tool_installs(ctx):
            fix = self.make_fix(
                [Edit.replace(word.span, ref.with_tag(slim))], f"use {image}:{slim}"
            )
        yield self.finding(
            ctx,
            word.span,
            f"The final image is based on {ref.familiar_name}:{tag}, which carries build "
            f"tools; {image}:{slim} is much smaller",
            fix=fix,
        )


# -- LW206: dev dependencies in the final image --------------------------------------------------

_DEV_REQUIREMENTS = re.compile(
    r"(^|[/_.-])(dev|devel|develop|development|test|tests|testing|lint|linting|docs|ci|local)"
    r"([/_.-]|$)",
    re.I,
)
_DEV_EXTRAS = frozenset(
    {"dev", "devel", "develop", "development", "test", "tests", "testing", "lint", "docs", "ci"}
)
DEV_TOOLS = frozenset(
    {"pytest", "pytest-cov", "pytest-mock", "pytest-xdist", "pytest-asyncio", "pytest-django",
     "coverage", "tox", "nox", "black", "flake8", "isort", "mypy", "pylint", "ruff",
     "pre-commit", "ipdb", "pdbpp", "debugpy",
     "bandit", "hypothesis", "factory-boy", "sphinx", "mkdocs", "twine", "pyright",
     "autopep8", "yapf", "pycodestyle", "pydocstyle", "django-debug-toolbar", "watchdog",
     "nodemon", "eslint", "prettier", "jest", "mocha", "typescript-eslint"}
)  # fmt: skip


def dev_dependency_reason(op: PackageOp) -> str | None:
    """Why an install brings development dependencies into the image, or None."""
    m = op.manager
    if m in ("pip", "uv") and op.installs:
        for req in op.requirements:
            if _DEV_REQUIREMENTS.search(posixpath.basename(req).rsplit(".", 1)[0]):
                return f"installs {req}"
        tools = [p.name for p in op.packages if p.name.lower() in DEV_TOOLS]
        if tools:
            return f"installs {', '.join(tools)}"
        for p in [*op.packages, *(Package(e, None, None, e) for e in op.editables)]:
            extras = re.search(r"\[([^\]]+)\]", p.raw)
            if extras and {x.strip().lower() for x in extras.group(1).split(",")} & _DEV_EXTRAS:
                return f"installs the extras of {p.raw}"
        if m == "uv" and op.action == "sync" and not op.dev_excluded:
            return "`uv sync` installs the dev group unless given --no-dev"
        return None
    if m == "poetry" and op.action in ("install", "sync") and not op.dev_excluded:
        return "`poetry install` installs the dev group unless given --only main"
    if m == "pipenv" and op.installs and "--dev" in op.flags:
        return "`pipenv install --dev`"
    if (
        m in ("npm", "yarn", "pnpm")
        and op.action == "install"
        and not op.packages
        and not op.dev_excluded
        and "--global" not in op.flags
    ):
        return f"`{m} {op.subcommand or 'install'}` installs devDependencies"
    return None


@register
class DevDependenciesInFinalImage(Rule):
    id = "LW206"
    name = "dev-dependencies-in-final-image"
    title = "Development and test dependencies installed in the production image"
    severity = Severity.WARNING
    rationale = (
        "Seed problem 3 and the dev/prod sections of the seeds: test runners, linters and "
        "debuggers belong to the development image, not to the one you deploy; they grow it, "
        "slow every build and widen what an attacker finds. Install the main dependencies "
        "only (`poetry install --only main`, `uv sync --no-dev`, `npm ci --omit=dev`, "
        "`pip install -r requirements.txt` without the dev file), and build a separate dev "
        "target for development. Targets named dev/test/ci are not checked."
    )
    bad = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt requirements-dev.txt ./\n"
        "RUN pip install --no-cache-dir -r requirements.txt -r requirements-dev.txt\n"
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt ./\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        chain = final_chain(ctx.model)
        if not chain or is_dev_stage(chain[-1]):
            return
        for r in run_steps(ctx, chain):
            if r.onbuild:
                continue
            for op in r.run.script.package_ops:
                reason = dev_dependency_reason(op)
                if reason is not None:
                    yield self.finding(
                        ctx,
                        r.run.command_span(op.command),
                        f"Development dependencies in the production image: {reason}",
                    )


# -- LW207: apk cache ----------------------------------------------------------------------------


@register
class ApkCacheKept(Rule):
    id = "LW207"
    name = "apk-cache-kept"
    title = "apk add without --no-cache"
    severity = Severity.INFO
    rationale = (
        "Seed guide technique 3: `apk add` keeps the package index and downloaded packages in "
        "/var/cache/apk unless given `--no-cache` (which also makes a separate `apk update` "
        "unnecessary). `apk add --update ... && rm -rf /var/cache/apk/*` leaves no cache "
        "either, but says in three steps what `--no-cache` says in one: reported with style "
        "severity. `apk add --no-network` downloads nothing and is not reported (hadolint "
        "does not see `apk` behind `xargs` at all)."
    )
    hadolint = ("DL3019",)
    bad = Example("FROM alpine:3.19\nRUN apk add curl\n")
    good = Example("FROM alpine:3.19\nRUN apk add --no-cache curl\n")
    fixed = "FROM alpine:3.19\nRUN apk add --no-cache curl\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for r in run_steps(ctx):
            ops = r.run.script.package_ops
            adds = [
                o
                for o in ops
                if o.manager == "apk"
                and o.subcommand == "add"
                and not o.flags & {"--no-cache", "--no-network"}
            ]
            if not adds or mounted(r.outer, "/var/cache/apk", fragment=True):
                continue
            last = max(o.command.index for o in adds)
            cleaned = _removed_after(r, last, "/var/cache/apk") or any(
                o.manager == "apk" and o.action == "clean" and o.command.index > last for o in ops
            )
            edits = [insert_after_subcommand(r.run, o, "--no-cache") for o in adds]
            fix = (
                self.make_fix([e for e in edits if e is not None], "add --no-cache")
                if all(edits)
                else None
            )
            if cleaned:
                yield as_style(
                    ctx,
                    self.finding(
                        ctx,
                        r.run.command_span(adds[0].command),
                        "`apk add --no-cache` does in one flag what updating the index and "
                        "removing /var/cache/apk afterwards do",
                        fix=fix,
                    ),
                )
            else:
                yield self.finding(
                    ctx,
                    r.run.command_span(adds[0].command),
                    "Use `apk add --no-cache`: the package cache stays in /var/cache/apk",
                    fix=fix,
                )


# -- LW208: yum / dnf / zypper caches ------------------------------------------------------------

_RPM_FAMILY = {"yum": "dnf", "dnf": "dnf", "dnf5": "dnf", "microdnf": "microdnf",
               "tdnf": "tdnf", "zypper": "zypper"}  # fmt: skip
_RPM_CACHE = {
    "dnf": ("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"),
    "microdnf": ("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"),
    "tdnf": ("/var/cache/tdnf",),
    "zypper": ("/var/cache/zypp",),
}
_RPM_CODE = {"yum": "DL3032", "dnf": "DL3040", "dnf5": "DL3040", "microdnf": "DL3040",
             "zypper": "DL3036"}  # fmt: skip
_CLEAN_COMMAND = {"zypper": "zypper clean --all"}
# dnf's short aliases that layerwise.shell does not map to an action (yet).
_DNF_INSTALL_ALIASES = frozenset({"up-min", "rei", "upgrade-minimal", "update-minimal"})


def _rpm_installs(op: PackageOp) -> bool:
    if op.manager not in _RPM_FAMILY:
        return False
    return op.action in ("install", "upgrade") or op.subcommand in _DNF_INSTALL_ALIASES


def _rpm_cleaned(r: RunStep, op: PackageOp) -> bool:
    family = _RPM_FAMILY[op.manager]
    after = op.command.index
    for o in r.run.script.package_ops:
        if o.command.index <= after or o.action != "clean":
            continue
        if _RPM_FAMILY.get(o.manager) != family:
            continue
        if o.manager == "zypper" or any(w in o.subcommand.split() for w in ("all", "packages")):
            return True
    return any(
        rp.recursive
        and rp.command.index > after
        and any(rp.path.startswith(d) or d.startswith(rp.path.rstrip("/*")) for d in
                _RPM_CACHE[family])
        for rp in r.run.script.facts.removed_paths
    )  # fmt: skip


@register
class RpmCacheKept(Rule):
    id = "LW208"
    name = "rpm-cache-kept"
    title = "yum, dnf or zypper cache not cleaned in the same RUN"
    severity = Severity.WARNING
    rationale = (
        "Seed guide technique 3 (clean up in the same layer): yum, dnf, microdnf and zypper "
        "keep repository metadata and downloaded packages in /var/cache; `yum clean all`, "
        "`dnf clean all` or `zypper clean --all` after the last install of the RUN (or a cache "
        "mount) keeps them out of the layer. A clean before the install cleans nothing."
    )
    hadolint = ("DL3032", "DL3040", "DL3036")
    bad = Example("FROM fedora:40\nRUN dnf install -y python3 && \\\n    dnf -y upgrade\n")
    good = Example(
        "FROM fedora:40\nRUN dnf install -y python3 && \\\n    dnf -y upgrade && \\\n"
        "    dnf clean all\n"
    )
    fixed = (
        "FROM fedora:40\nRUN dnf install -y python3 && \\\n    dnf -y upgrade && \\\n"
        "    dnf clean all\n"
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for r in run_steps(ctx):
            missing: dict[str, PackageOp] = {}
            for op in r.run.script.package_ops:
                if not _rpm_installs(op):
                    continue
                family = _RPM_FAMILY[op.manager]
                if any(mounted(r.outer, d) for d in _RPM_CACHE[family]):
                    continue
                if family in ("dnf", "microdnf") and mounted(
                    r.outer, ".cache/libdnf5", fragment=True
                ):
                    continue
                if not _rpm_cleaned(r, op):
                    missing[op.manager] = op
            if not missing:
                continue
            commands = [_CLEAN_COMMAND.get(m, f"{m} clean all") for m in missing]
            edit = append_command(r.run, " && ".join(commands))
            first = min(missing.values(), key=lambda o: o.command.index)
            covers = sorted({_RPM_CODE[m] for m in missing if m in _RPM_CODE})
            yield self.finding(
                ctx,
                r.run.command_span(first.command),
                f"`{' && '.join(commands)}` missing after {', '.join(missing)} installs: the "
                "package cache stays in the layer",
                fix=self.make_fix([edit], f"append {' && '.join(commands)}") if edit else None,
                covers=covers,
            )
