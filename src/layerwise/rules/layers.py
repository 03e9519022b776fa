"""LW1xx: layer order and the build cache.

Seed problems 1 and 3: a build cache that a source change invalidates is no cache. BuildKit
reuses a layer only while every instruction before it is unchanged, so a dependency install
placed after `COPY . .` re-runs on every commit, a volatile ARG makes every later RUN miss, and
package managers download again what a cache mount would keep between builds.

What the manifest-first rewrite (`layerwise.fixes`) needs from LW101 is in
`layerwise.rules.manifests` (`manifest_first`, `dependency_installs`, `copies_source`), also
importable from here.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from layerwise.dockerfile.model import Stage, Step
from layerwise.dockerfile.syntax import Instruction, Trivia
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
    RunStyle,
    and_chain,
    append_command,
    as_style,
    command_text,
    context_files,
    context_sources,
    final_chain,
    insert_after_subcommand,
    is_root,
    is_whole_context,
    mounted,
    prepend_command,
    removes_dir,
    run_steps,
    run_style,
    stage_chain,
    steps_before,
    top_level,
    uses_buildkit_syntax,
)
from layerwise.rules.manifests import (
    DependencyInstall,
    ManifestFile,
    ManifestFirst,
    copies_source,
    dependency_installs,
    is_manifest,
    manifest_first,
)
from layerwise.shell.facts import APT_MANAGERS
from layerwise.shell.packages import PackageOp
from layerwise.shell.run import RunScript


def _manifest_names(mf: ManifestFirst) -> str:
    """The files to copy first, as the user would name them."""
    known: list[str] = []
    maybe: list[str] = []
    for m in mf.manifests:
        if m.produced_by is not None:
            continue
        name = m.context_path or posixpath.basename(m.path)
        if m.required or m.exists:
            known.append(name)
        elif m.exists is None:
            maybe.append(name)
    known = list(dict.fromkeys(known))
    maybe = [n for n in dict.fromkeys(maybe) if n not in known]
    if not known and not maybe:
        return "the dependency manifests"
    if not maybe:
        return ", ".join(known)
    if not known:
        return "the manifests (" + " / ".join(maybe) + ")"
    return ", ".join(known) + " (and " + " / ".join(maybe) + " if present)"


def _describe(inst: DependencyInstall, run: RunScript) -> str:
    text = command_text(run, inst.op.command)
    return text if len(text) <= 60 else text[:57] + "..."


@register
class InstallAfterSourceCopy(Rule):
    id = "LW101"
    name = "install-after-source-copy"
    title = "Dependencies installed after the source is copied"
    severity = Severity.WARNING
    rationale = (
        "Seed problems 1 and 3 (cache-friendly layering, dependency caching): BuildKit reuses "
        "a layer only while everything before it is unchanged, so `COPY . .` followed by "
        "`pip install -r requirements.txt` (or `pip install .`, `poetry install`, `uv sync`, "
        "`pipenv install`, `npm ci`, `yarn install`) re-installs every dependency whenever any "
        "source file changes. Copy only the manifests first (requirements files, "
        "pyproject.toml with its lock file, package.json with its lock file), install, then "
        "copy the rest; a local project is then installed with `--no-deps` after the source "
        "COPY. Packages named on the command line need nothing from the source and go before "
        "it. An install whose dependencies were already installed before the source COPY is "
        "the second half of that pattern and is not reported."
    )
    bad = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "app.py"]\n',
        files={"requirements.txt": "flask==3.0.3\n", "app.py": "print('hi')\n"},
    )
    # The fix (layerwise.fixes.manifest): the manifests the install reads are copied first,
    # the source after the install.
    fixed = (
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt ./\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY . .\n"
        'CMD ["python", "app.py"]\n'
    )
    fix_safety = "unsafe"
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
        'CMD ["python", "app.py"]\n',
        files={"requirements.txt": "flask==3.0.3\n", "app.py": "print('hi')\n"},
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for mf in manifest_first(ctx):
            run = ctx.run(mf.run)
            assert run is not None
            inst = mf.installs[0]
            copy_line = mf.copy.line
            what = _describe(inst, run)
            if inst.kind == "inline":
                advice = "it needs nothing from the source: run it before that COPY"
            else:
                advice = f"copy {_manifest_names(mf)} first, install, then copy the rest"
                if mf.installs_project:
                    advice += " and install the project itself without its dependencies"
            yield self.finding(
                ctx,
                run.command_span(inst.op.command),
                f"`{what}` runs after the source is copied (line {copy_line}): every source "
                f"change re-runs it; {advice}",
                fix=self._fix(ctx, mf.run),
            )

    def _fix(self, ctx: LintContext, install: Step) -> Fix | None:
        # The rewrite lives in layerwise.fixes (it reads the project's files to know which
        # manifests an install reads); imported here so the rule family loads without it.
        from layerwise.fixes.manifest import manifest_first_fix

        return manifest_first_fix(ctx, install)


# -- LW102: broad COPY of files the image does not run ------------------------------------------

# Files an application does not run but a broad COPY sweeps up: each edit to one of them
# invalidates the COPY and every layer after it. (Caches, VCS data, virtualenvs and logs are
# LW302's junk.)
_NOT_RUNTIME: tuple[tuple[str, str], ...] = (
    ("tests", r"^(tests?|testing)/|(^|/)conftest\.py$"),
    ("docs", r"^(docs?|documentation)/"),
    ("CI configuration", r"^(\.github|\.gitlab|\.circleci|\.buildkite)/|^(\.gitlab-ci\.yml|"
     r"\.travis\.yml|azure-pipelines\.yml|Jenkinsfile|bitbucket-pipelines\.yml)$"),
    ("container files", r"(^|/)(Dockerfile[^/]*|[^/]*\.Dockerfile|Containerfile|"
     r"\.dockerignore|(docker-)?compose[^/]*\.ya?ml)$"),
    ("dev tooling", r"^(\.pre-commit-config\.yaml|tox\.ini|noxfile\.py|\.editorconfig|\.flake8|"
     r"mypy\.ini|\.gitignore|\.gitattributes|\.pylintrc)$"),
    ("notebooks", r"\.ipynb$"),
)  # fmt: skip
_NOT_RUNTIME_RE = [(name, re.compile(rx)) for name, rx in _NOT_RUNTIME]
_TEST_RUNNERS = frozenset({"pytest", "py.test", "tox", "nox", "unittest"})


def _runs_tests(ctx: LintContext, stages: Sequence[Stage]) -> bool:
    for r in run_steps(ctx, stages):
        for c in r.run.script.commands:
            if c.name in _TEST_RUNNERS or any(a in _TEST_RUNNERS or a == "test" for a in c.args):
                return True
    return False


def not_runtime_files(paths: Sequence[str]) -> dict[str, list[str]]:
    """The files among `paths` (context-relative) that an application does not run, by kind."""
    out: dict[str, list[str]] = {}
    for p in paths:
        for name, rx in _NOT_RUNTIME_RE:
            if rx.search(p):
                out.setdefault(name, []).append(p)
                break
    return out


def _top(paths: Sequence[str]) -> str:
    tops = sorted({p.split("/", 1)[0] + ("/" if "/" in p else "") for p in paths})
    shown = ", ".join(tops[:4]) + (", ..." if len(tops) > 4 else "")
    return f"{shown} ({len(paths)} file{'s' if len(paths) != 1 else ''})"


@register
class BroadCopy(Rule):
    id = "LW102"
    name = "broad-copy"
    title = "A broad COPY brings files the image does not run"
    severity = Severity.INFO
    rationale = (
        "Seed problem 1 (reduce COPY scope) and problem 4 (the build context as an API "
        "boundary): `COPY . .` also copies tests, docs, CI configuration, Dockerfiles and "
        "compose files. The image does not run them, yet editing any of them changes the "
        "COPY's cache key and rebuilds that layer and every layer after it. Copy only the "
        "paths the application needs, or exclude the rest in .dockerignore. Tests are not "
        "reported when a RUN of the image's stages runs them. Needs the build context."
    )
    needs_context = True
    bad = Example(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        files={
            "app.py": "print('hi')\n",
            "tests/test_app.py": "def test(): pass\n",
            "docker-compose.yml": "services: {}\n",
        },
    )
    good = Example(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n',
        files={
            "app.py": "print('hi')\n",
            "tests/test_app.py": "def test(): pass\n",
            "docker-compose.yml": "services: {}\n",
        },
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for step, sources, found in not_runtime_copies(ctx):
            parts = [f"{kind}: {_top(paths)}" for kind, paths in found.items()]
            yield self.finding(
                ctx,
                step.instruction,
                f"`{step.name} {' '.join(sources)}` also copies what the image does "
                f"not run ({'; '.join(parts)}): "
                "editing them rebuilds this layer and every layer after it; copy only what "
                "the application needs, or exclude them in .dockerignore",
            )


def not_runtime_copies(
    ctx: LintContext,
) -> list[tuple[Step, tuple[str, ...], dict[str, list[str]]]]:
    """The broad COPY/ADDs of the built stages that bring files the image does not run (by
    kind), leaving out files a source names and the tests when a step runs them."""
    bc = ctx.build_context
    if bc is None:
        return []
    tests_run = _runs_tests(ctx, ctx.model.built_stages)
    out = []
    for read in bc.built_reads:
        step = read.step
        if read.read.via == "mount" or not any(
            is_whole_context(src) or src.endswith("/") for src in read.read.sources
        ):
            continue
        files = sorted(context_files(ctx, step) or ())
        found = not_runtime_files([f for f in files if not bc.is_named(f)])
        if tests_run:
            found.pop("tests", None)
        if found:
            out.append((step, tuple(read.read.sources), found))
    return out


def not_runtime_roots(ctx: LintContext) -> list[tuple[str, str]]:
    """(path, kind) for .dockerignore lines that keep out what `not_runtime_copies` finds: the
    topmost directory whose every file the image does not run, else the file itself."""
    bc = ctx.build_context
    if bc is None:
        return []
    kinds = {
        p: kind for _, _, found in not_runtime_copies(ctx) for kind, ps in found.items() for p in ps
    }
    if not kinds:
        return []
    files_under: dict[str, list[str]] = {}
    for path, entry in bc.snapshot.entries.items():
        if entry.kind == "dir":
            continue
        parts = path.split("/")
        for i in range(1, len(parts)):
            files_under.setdefault("/".join(parts[:i]), []).append(path)
    out: dict[str, str] = {}
    for path, kind in sorted(kinds.items()):
        parts = path.split("/")
        root = path
        for i in range(1, len(parts)):
            top = "/".join(parts[:i])
            if all(kinds.get(f) == kind for f in files_under.get(top, ())):
                root = top
                break
        out.setdefault(root, kind)
    return sorted(out.items())


# -- LW103: package-manager cache ----------------------------------------------------------------

_TRUTHY = frozenset({"1", "true", "on", "yes", "y", "t"})
_FALSY = frozenset({"0", "false", "off", "no", "n", "f"})


def _pip_env_value(op: PackageOp) -> str | None:
    value = op.env.get("PIP_NO_CACHE_DIR")
    return None if value is None else value.strip().strip("\"'")


def _pip_cache_target(step: Step, op: PackageOp) -> str | None:
    """Where pip's cache is for this step, when it is surely root's default."""
    env = {**step.env, **op.env}
    if not is_root(step.user) or any(k in env for k in ("PIP_CACHE_DIR", "XDG_CACHE_HOME")):
        return None
    home = env.get("HOME", "/root")
    return f"{home.rstrip('/')}/.cache/pip" if home.startswith("/") else None


def _mount_flag_edit(r: RunStep, text: str) -> Edit:
    ins = r.instruction
    at = ins.flags[0].span.start if ins.flags else ins.args_span.start
    return Edit.insert(at, text + " ")


_OTHER_CACHES = {
    # manager: (cache directory fragment for mounts, cleanup command or None, how to say it)
    "uv": (".cache/uv", None, "uv keeps its cache in ~/.cache/uv"),
    "poetry": (".cache/pypoetry", None, "poetry keeps its cache in ~/.cache/pypoetry"),
    "pipenv": (".cache", None, "pipenv keeps pip's cache in ~/.cache/pip"),
    "npm": ("/.npm", "npm cache clean --force", "npm keeps its cache in ~/.npm"),
    "conda": ("/pkgs", "conda clean --all --yes", "conda keeps downloaded packages in pkgs/"),
    "mamba": ("/pkgs", "mamba clean --all --yes", "mamba keeps downloaded packages in pkgs/"),
    "micromamba": ("/pkgs", "micromamba clean --all --yes", "micromamba keeps packages in pkgs/"),
}


def _cleaned_after(run: RunScript, op: PackageOp, manager: str, fragment: str) -> bool:
    for o in run.script.package_ops:
        if o.command.index > op.command.index and o.manager == manager and o.action == "clean":
            return True
    return any(
        rp.recursive and rp.command.index > op.command.index and fragment in rp.path
        for rp in run.script.facts.removed_paths
    )


@register
class PackageCacheKept(Rule):
    id = "LW103"
    name = "package-cache-kept"
    title = "Package-manager cache neither disabled nor mounted"
    severity = Severity.WARNING
    rationale = (
        "Seed guide (BuildKit cache mounts) and problem 2: pip, uv, poetry, npm, yarn and "
        "conda keep every download in a cache directory. In the image it is dead weight, and "
        "it is lost between builds anyway when a layer is rebuilt. Either disable it "
        "(`pip install --no-cache-dir`, `uv --no-cache`, `npm cache clean --force`, "
        "`yarn cache clean`) or mount it with `RUN --mount=type=cache,target=/root/.cache/pip`, "
        "which keeps it out of the image and reuses it across builds. The fix adds the cache "
        "mount when the Dockerfile already relies on BuildKit syntax and pip runs as root, "
        "`--no-cache-dir` otherwise. `PIP_NO_CACHE_DIR=0` is reported as misleading: pip "
        "disables its cache for any value. pip's cache removed later in the same RUN is "
        "reported as style only (hadolint reports it as a warning). yarn is checked only in "
        "the stages that make the image, as hadolint does."
    )
    hadolint = ("DL3042", "DL3060")
    bad = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    fixed = (
        "FROM python:3.11-slim\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        buildkit = uses_buildkit_syntax(ctx.dockerfile)
        image_stages = {s.index for s in final_chain(ctx.model)}
        for r in run_steps(ctx):
            yield from self._pip(ctx, r, buildkit)
            yield from self._others(ctx, r, r.stage.index in image_stages)

    def _pip(self, ctx: LintContext, r: RunStep, buildkit: bool) -> Iterator[Finding]:
        ops = [
            o
            for o in r.run.script.package_ops
            if o.manager == "pip" and o.action == "install" and "--no-cache-dir" not in o.flags
        ]
        if not ops or mounted(r.outer, ".cache/pip", fragment=True):
            return
        env_value = _pip_env_value(ops[0])
        if env_value is not None and env_value.lower() in _TRUTHY:
            return
        span = r.run.command_span(ops[0].command)
        if env_value is not None and env_value.lower() in _FALSY:
            yield as_style(
                ctx,
                self.finding(
                    ctx,
                    span,
                    f"PIP_NO_CACHE_DIR={env_value} reads as 'keep the cache', but pip disables its "
                    "cache for any value: write PIP_NO_CACHE_DIR=1 or `--no-cache-dir`",
                    covers=("DL3042",),
                ),
            )
            return
        fix = self._pip_fix(r, ops, buildkit)
        if r.run.script.facts.pip_cache_purged:
            yield as_style(
                ctx,
                self.finding(
                    ctx,
                    span,
                    "`pip install --no-cache-dir` says in one flag what removing pip's cache "
                    "afterwards does",
                    fix=fix,
                    covers=("DL3042",),
                ),
            )
            return
        yield self.finding(
            ctx,
            span,
            "pip keeps its download cache in the layer: use `pip install --no-cache-dir` or a "
            "cache mount (`RUN --mount=type=cache,target=/root/.cache/pip`)",
            fix=fix,
            covers=("DL3042",),
        )

    def _pip_fix(self, r: RunStep, ops: list[PackageOp], buildkit: bool) -> Fix | None:
        target = _pip_cache_target(r.step, ops[0])
        if buildkit and target is not None and r.run.exact:
            return self.make_fix(
                [_mount_flag_edit(r, f"--mount=type=cache,target={target}")],
                "mount pip's cache",
            )
        edits = [insert_after_subcommand(r.run, o, "--no-cache-dir") for o in ops]
        if not all(edits):
            return None
        return self.make_fix([e for e in edits if e is not None], "add --no-cache-dir")

    def _others(self, ctx: LintContext, r: RunStep, in_image: bool) -> Iterator[Finding]:
        run = r.run
        seen: set[str] = set()
        for op in run.script.package_ops:
            m = op.manager
            if m in seen:
                continue
            if m == "yarn":
                if not in_image or op.subcommand != "install":
                    continue
                if mounted(r.outer, ".cache/yarn", fragment=True):
                    continue
                if _yarn_cleaned_after(run, op):
                    continue
                seen.add(m)
                edit = append_command(run, "yarn cache clean")
                yield self.finding(
                    ctx,
                    run.command_span(op.command),
                    "`yarn cache clean` missing after `yarn install`: yarn's cache stays in the "
                    "layer",
                    fix=self.make_fix([edit], "append yarn cache clean") if edit else None,
                    covers=("DL3060",),
                    severity=Severity.INFO,
                )
                continue
            if m not in _OTHER_CACHES or not op.installs:
                continue
            if (
                m in ("npm", "conda", "mamba", "micromamba", "pipenv")
                and op.packages == []
                and (m != "npm" and op.action not in ("install", "sync"))
            ):
                continue
            fragment, cleanup, what = _OTHER_CACHES[m]
            if op.cache_disabled or mounted(r.outer, fragment, fragment=True):
                continue
            if m == "pipenv" and "PIP_NO_CACHE_DIR" in {**r.step.env, **op.env}:
                continue
            if _cleaned_after(run, op, m, fragment.strip("/")):
                continue
            seen.add(m)
            edit = append_command(run, cleanup) if cleanup else None
            if m == "uv":
                edit = insert_after_subcommand(run, op, "--no-cache")
            yield self.finding(
                ctx,
                run.command_span(op.command),
                f"{what}: disable or clean it in the same RUN, or use a cache mount",
                fix=self.make_fix([edit], "drop the cache") if edit else None,
                covers=(),
                severity=Severity.INFO,
            )


def _yarn_cleaned_after(run: RunScript, op: PackageOp) -> bool:
    return any(
        o.manager == "yarn" and o.subcommand == "cache clean" and o.command.index > op.command.index
        for o in run.script.package_ops
    )


# -- LW104: apt-get update in its own RUN ---------------------------------------------------------


def _apt_installs(run: RunScript) -> list[PackageOp]:
    return [
        o
        for o in run.script.package_ops
        if o.manager in APT_MANAGERS and o.action in ("install", "upgrade")
    ]


def _own_update_before(run: RunScript, op: PackageOp) -> bool:
    return any(u.command.index < op.command.index for u in run.script.facts.apt_updates)


def _update_only(run: RunScript) -> bool:
    """A RUN that only updates apt's lists (and maybe cleans up)."""
    cmds = and_chain(run)
    if not cmds:
        return False
    ops = {o.command.index: o for o in run.script.package_ops}
    has_update = False
    for c in cmds:
        op = ops.get(c.index)
        if op is not None and op.manager in APT_MANAGERS and op.action == "update":
            has_update = True
        elif (op is not None and op.manager in APT_MANAGERS and op.action == "clean") or (
            c.name == "rm"
            and all(
                removes_dir(a, "/var/lib/apt/lists") or removes_dir(a, "/var/cache/apt")
                for a in c.args
                if not a.startswith("-")
            )
        ):
            continue
        else:
            return False
    return has_update


@dataclass(frozen=True)
class _AptRun:
    step: Step
    run: RunScript
    stage: Stage


def _apt_runs(ctx: LintContext) -> list[_AptRun]:
    out = []
    for stage in ctx.model.stages:
        for step in stage.steps:
            run = ctx.run(step) if step.name == "RUN" else None
            if run is not None and any(o.manager in APT_MANAGERS for o in run.script.package_ops):
                out.append(_AptRun(step, run, stage))
    return out


def _relies_on(ctx: LintContext, a: _AptRun, runs: Sequence[_AptRun]) -> _AptRun | None:
    """The latest earlier RUN (same filesystem) whose `apt-get update` `a`'s installs use."""
    earlier = {id(s.instruction) for s in steps_before(ctx.model, a.step)}
    found = None
    for b in runs:
        if id(b.step.instruction) in earlier and b.run.script.facts.apt_updates:
            found = b
    return found


@register
class AptUpdateSeparate(Rule):
    id = "LW104"
    name = "apt-update-separate"
    title = "apt-get update in a different RUN from the install"
    severity = Severity.WARNING
    rationale = (
        "Seed problem 3 (deterministic builds): a RUN that only runs `apt-get update` is "
        "cached with whatever lists it downloaded the first time; a later `apt-get install` "
        "in another RUN then installs from stale lists (or fails with 'Unable to locate "
        "package' once the lists were removed). Run `apt-get update && apt-get install ...` "
        "in one RUN, so a change to the package list also refreshes the index, and remove the "
        "lists at its end. The fix runs the update in the installing RUN and deletes a RUN "
        "that did nothing but update once no install depends on it."
    )
    bad = Example(
        "FROM debian:bookworm-slim\nRUN apt-get update\n"
        "RUN apt-get install -y --no-install-recommends curl\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
    )
    fixed = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        runs = _apt_runs(ctx)
        dependents: dict[int, list[_AptRun]] = {}
        lacking: list[tuple[_AptRun, PackageOp, _AptRun]] = []
        for a in runs:
            installs = _apt_installs(a.run)
            if not installs or _own_update_before(a.run, installs[0]):
                continue
            source = _relies_on(ctx, a, runs)
            if source is None:
                continue
            dependents.setdefault(id(source.step.instruction), []).append(a)
            lacking.append((a, installs[0], source))
        for a, op, source in lacking:
            update = source.run.script.facts.apt_updates[-1]
            edits = []
            edit = prepend_command(a.run, op.command, command_text(source.run, update.command))
            if edit is not None:
                edits.append(edit)
                deps = dependents[id(source.step.instruction)]
                if (
                    len(deps) == 1
                    and source.stage is a.stage
                    and _update_only(source.run)
                    and not source.step.instruction.flags
                ):
                    edits.append(Edit.delete(source.step.instruction.span))
            yield self.finding(
                ctx,
                a.run.command_span(op.command),
                f"`{op.manager} {op.subcommand}` uses the package lists of an earlier RUN "
                f"(line {source.step.line}), cached from whenever that layer was built: run "
                f"`{update.manager} update` in this RUN",
                fix=self.make_fix(edits, "update in the installing RUN") if edits else None,
            )
        for b in runs:
            if id(b.step.instruction) in dependents or not _update_only(b.run):
                continue
            if _installs_later_in_children(ctx, b):
                continue
            fix = None
            if not b.step.instruction.flags:
                fix = self.make_fix([Edit.delete(b.step.instruction.span)], "remove the RUN")
            yield self.finding(
                ctx,
                b.step.instruction,
                "`apt-get update` in a RUN of its own: no later install in this stage uses "
                "these lists",
                fix=fix,
            )


def _installs_later_in_children(ctx: LintContext, b: _AptRun) -> bool:
    """Some later RUN in a stage built on `b`'s stage installs with apt without updating."""
    for stage in ctx.model.stages:
        if b.stage not in stage_chain(ctx.model, stage):
            continue
        for step in stage.steps:
            if step.line <= b.step.line and stage is b.stage:
                continue
            run = ctx.run(step) if step.name in ("RUN", "ONBUILD") else None
            if run is None:
                continue
            installs = _apt_installs(run)
            if installs and not _own_update_before(run, installs[0]):
                return True
    return False


# -- LW105: volatile instruction before expensive layers ------------------------------------------

_VOLATILE_ARG = re.compile(
    r"(^|_)(BUILD_?DATE|BUILD_?TIME|BUILD_?TIMESTAMP|TIMESTAMP|DATE|TIME|GIT_?COMMIT|COMMIT"
    r"|COMMIT_?SHA|GIT_?SHA|SHA|GIT_?REV|REV|REVISION|VCS_?REF|SOURCE_?COMMIT|BUILD_?NUMBER"
    r"|BUILD_?ID|PIPELINE_?ID|RUN_?ID|RUN_?NUMBER|JOB_?ID)($|_)",
    re.I,
)
_CACHE_BUST = re.compile(r"CACHE_?BUST|BUST|NOCACHE|NO_CACHE", re.I)


def is_volatile_arg(name: str) -> bool:
    """An ARG whose value changes with every build or commit (BUILD_DATE, GIT_COMMIT,
    VCS_REF...). Deliberate cache busters (CACHEBUST) are not: they are meant to invalidate."""
    if _CACHE_BUST.search(name) or "SHA256" in name.upper() or "SHA512" in name.upper():
        return False
    return _VOLATILE_ARG.search(name) is not None


def _expensive(ctx: LintContext, step: Step) -> str | None:
    """What makes a RUN expensive (a package install or a download), or None."""
    run = ctx.run(step) if step.name == "RUN" else None
    if run is None:
        return None
    for op in run.script.package_ops:
        if op.installs:
            return f"`{op.manager} {op.subcommand}`".replace(" `", "`")
    for cmd in run.script.commands:
        if cmd.name in ("curl", "wget") and not cmd.substitution:
            return f"`{cmd.name}`"
    return None


def _mentions(ctx: LintContext, step: Step, needle: str) -> bool:
    run = ctx.run(step)
    if run is None or not needle:
        return False
    return any(needle in w.value for c in run.script.commands for w in c.words)


def _system_installs(ctx: LintContext, step: Step) -> str | None:
    run = ctx.run(step) if step.name == "RUN" else None
    if run is None:
        return None
    for op in run.script.package_ops:
        if (
            op.installs
            and op.manager in ("apt-get", "apt", "apk", "dnf", "yum", "microdnf", "zypper")
            and not op.dynamic
        ):
            return f"`{op.manager} {op.subcommand}`"
    return None


@register
class VolatileBeforeExpensive(Rule):
    id = "LW105"
    name = "volatile-before-expensive"
    title = "Something that changes every build comes before expensive layers"
    severity = Severity.WARNING
    rationale = (
        "Seed problem 1 (cache-friendly layering: stable layers first, volatile last): every "
        "RUN after an `ARG` sees its value, so `ARG BUILD_DATE` or `ARG GIT_COMMIT` near the "
        "top of a stage makes each later package install miss the cache on every build; "
        "declare such ARGs just before the instruction that uses them (usually a final LABEL). "
        "The same holds for `ADD https://...` (fetched again and its checksum compared each "
        "build) before steps that do not use it, and for system packages installed after "
        "`COPY . .` (language dependencies after the source are LW101). Deliberate cache "
        "busters such as `ARG CACHEBUST` are not reported."
    )
    bad = Example(
        "FROM python:3.11-slim\nARG GIT_COMMIT\nLABEL org.opencontainers.image.revision="
        "$GIT_COMMIT\nRUN apt-get update && apt-get install -y --no-install-recommends libpq5 "
        "&& rm -rf /var/lib/apt/lists/*\n"
    )
    good = Example(
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y "
        "--no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*\nARG GIT_COMMIT\n"
        "LABEL org.opencontainers.image.revision=$GIT_COMMIT\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            steps = stage.steps
            for i, step in enumerate(steps):
                later = steps[i + 1 :]
                if step.name == "ARG":
                    names = [w.split("=", 1)[0] for w in step.instruction.arguments]
                    volatile = [n for n in names if is_volatile_arg(n)]
                    if not volatile:
                        continue
                    hit = next(
                        ((s, e) for s in later if (e := _expensive(ctx, s)) is not None), None
                    )
                    if hit is not None:
                        yield self.finding(
                            ctx,
                            step.instruction,
                            f"ARG {volatile[0]} changes between builds and every later RUN "
                            f"sees it: the {hit[1]} at line {hit[0].line} misses the cache each "
                            "time; declare it after the expensive steps, where it is used",
                        )
                elif step.name == "ADD" and any(r.kind in ("url", "git") for r in step.reads):
                    dest = step.expanded[-1] if step.expanded else ""
                    base = posixpath.basename(dest.rstrip("/")) or dest
                    hit = next(
                        (
                            (s, e)
                            for s in later
                            if (e := _expensive(ctx, s)) is not None
                            and not _mentions(ctx, s, base)
                            and not _mentions(ctx, s, dest.rstrip("/"))
                        ),
                        None,
                    )
                    if hit is not None:
                        yield self.finding(
                            ctx,
                            step.instruction,
                            f"ADD of a remote URL is checked again on every build and a new "
                            f"version invalidates everything after it, including the {hit[1]} at "
                            f"line {hit[0].line} that does not use it: move it down",
                        )
                elif step.name in ("COPY", "ADD") and any(
                    is_whole_context(s) for s in context_sources(step)
                ):
                    hit2 = next(
                        ((s, e) for s in later if (e := _system_installs(ctx, s)) is not None),
                        None,
                    )
                    if hit2 is not None:
                        yield self.finding(
                            ctx,
                            step.instruction,
                            f"The whole build context is copied before the {hit2[1]} at line "
                            f"{hit2[0].line}: any source change re-installs system packages; "
                            "install them before the COPY",
                        )


# -- LW106 / LW107: consecutive RUNs ---------------------------------------------------------------

_STATE_CHANGERS = frozenset(
    {"cd", "export", "set", "source", ".", "unset", "umask", "alias", "shopt", "trap", "exec",
     "declare", "typeset", "local", "readonly", "eval", "ulimit", "pushd", "popd", "hash",
     "enable", "builtin"}
)  # fmt: skip
_MANAGER_FAMILY = {"apt-get": "apt", "apt": "apt", "aptitude": "apt",
                   "yum": "dnf", "microdnf": "dnf", "dnf5": "dnf"}  # fmt: skip


def hadolint_command_count(run: RunScript) -> int:
    """How many commands hadolint (through ShellCheck) counts in a RUN: those of the script
    itself, inside `$(...)` and loop bodies included, whose name is written literally (`$x/a`
    is not counted); a `sh -c '...'` string is one command; a heredoc script is never counted
    as a single command; exec form is one."""
    ins = run.instruction
    if ins.json:
        return 1
    if ins.heredocs:
        return 99
    own = [c for c in run.script.commands if c.depth == 0 and c.words and not c.words[0].dynamic]
    nested = any(c.depth > 0 for c in run.script.commands)
    return len(own) + (1 if nested else 0)


def _op_family(op: PackageOp) -> str:
    if op.manager == "uv":
        return "pip" if op.subcommand.startswith("pip") else "uv"
    return _MANAGER_FAMILY.get(op.manager, op.manager)


def _package_family(run: RunScript) -> str | None:
    """The package-manager family when every top-level command is that manager's (or an `rm`
    cleaning up after it)."""
    cmds = top_level(run)
    ops = {o.command.index: o for o in run.script.package_ops}
    family = None
    for c in cmds:
        op = ops.get(c.index)
        if op is None:
            if c.name == "rm":
                continue
            return None
        f = _op_family(op)
        if family is not None and f != family:
            return None
        family = f
    return family


def _flags_key(ins: Instruction) -> tuple[str, ...]:
    return tuple(sorted(f.text for f in ins.flags))


@dataclass(frozen=True)
class _Pair:
    first: RunStep
    second: RunStep
    comments_between: bool


def consecutive_runs(ctx: LintContext) -> list[_Pair]:
    """Pairs of RUN instructions with only comments or blank lines between them, in the same
    stage."""
    by_ins = {id(r.step.instruction): r for r in run_steps(ctx) if not r.onbuild}
    out = []
    prev: RunStep | None = None
    comments = False
    for item in ctx.dockerfile.items:
        if isinstance(item, Trivia):
            if item.kind == "comment":
                comments = True
            continue
        r = by_ins.get(id(item))
        if r is not None and prev is not None and prev.stage is r.stage:
            out.append(_Pair(prev, r, comments))
        prev = r
        comments = False
    return out


def merge_edit(pair: _Pair) -> Edit | None:
    """Join the second RUN onto the first with `&&`, when that keeps what both do: same flags,
    both plain `a && b` chains, no comment between them, and the first changes no shell state
    (`cd`, `export`, `set`...) the second would then inherit."""
    a, b = pair.first, pair.second
    if pair.comments_between or _flags_key(a.instruction) != _flags_key(b.instruction):
        return None
    for r in (a, b):
        if not r.run.exact or r.instruction.heredocs or r.instruction.json:
            return None
    ca, cb = and_chain(a.run), and_chain(b.run)
    if ca is None or cb is None or any(c.name in _STATE_CHANGERS for c in ca):
        return None
    end = a.run.command_span(ca[-1]).end
    start = b.run.command_span(cb[0]).start
    style = run_style(a.instruction)
    if not style.multiline:
        style = _file_style(a)
    if style.leading_ops:
        text = f" {style.escape}{style.newline}{style.indent}&& "
    else:
        text = f" && {style.escape}{style.newline}{style.indent}"
    return Edit(end, start, text)


def _file_style(r: RunStep) -> RunStyle:
    """The layout most multi-line RUNs of the file use (for a first RUN on one line)."""
    df = r.instruction.dockerfile
    styles = [
        run_style(i) for i in df.instructions if i.name == "RUN" and i.end_line > i.start_line
    ]
    styles = [s for s in styles if s.multiline]
    own = run_style(r.instruction)
    if not styles:
        return RunStyle(True, False, "    ", own.newline, own.escape)
    leading = sum(1 for s in styles if s.leading_ops) * 2 > len(styles)
    return RunStyle(True, leading, styles[-1].indent, own.newline, own.escape)


def _lw104_pair(pair: _Pair) -> bool:
    """The first RUN only updates apt and the second installs: LW104 reports and fixes that."""
    return _update_only(pair.first.run) and bool(_apt_installs(pair.second.run))


@register
class ConsecutivePackageRuns(Rule):
    id = "LW106"
    name = "consecutive-package-runs"
    title = "Consecutive RUNs of the same package manager"
    severity = Severity.INFO
    rationale = (
        "Seed guides (combine RUN commands, group RUN commands to reduce layers): two RUNs in "
        "a row that both run apt-get, or both pip, make two layers, two cache entries and "
        "(for apt) two downloads of the package lists where one would do. The fix joins them "
        "with `&&` in the first RUN's layout. Installs separated by a COPY (manifest-first, "
        "base and dev requirements in separate layers) are not consecutive and not reported."
    )
    hadolint = ("DL3059",)
    bad = Example(
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir gunicorn==22.0.0\n"
        "RUN pip install --no-cache-dir flask==3.0.3\n"
    )
    good = Example(
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir gunicorn==22.0.0 && \\\n"
        "    pip install --no-cache-dir flask==3.0.3\n"
    )
    fixed = (
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir gunicorn==22.0.0 && \\\n"
        "    pip install --no-cache-dir flask==3.0.3\n"
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for pair in consecutive_runs(ctx):
            family = _package_family(pair.first.run)
            if family is None or family != _package_family(pair.second.run):
                continue
            if _lw104_pair(pair):
                continue
            single = all(hadolint_command_count(r.run) <= 1 for r in (pair.first, pair.second))
            same_flags = _flags_key(pair.first.instruction) == _flags_key(pair.second.instruction)
            edit = merge_edit(pair)
            yield self.finding(
                ctx,
                pair.second.outer,
                f"Consecutive RUNs of {family} (lines {pair.first.step.line} and "
                f"{pair.second.step.line}) make two layers: join them",
                fix=self.make_fix([edit], "join the RUNs") if edit else None,
                covers=("DL3059",) if single and same_flags else (),
            )


@register
class ConsecutiveRuns(Rule):
    id = "LW107"
    name = "consecutive-runs"
    title = "Consecutive single-command RUNs"
    severity = Severity.STYLE
    rationale = (
        "Seed guides (combine RUN commands): a run of one-command RUN instructions makes a "
        "layer each. hadolint's DL3059 as it behaves: two consecutive RUNs with the same flags "
        "that each run a single command. Joining them is safe when the first changes no shell "
        "state (`cd`, `export`, `set`); the fix does it only then."
    )
    hadolint = ("DL3059",)
    bad = Example("FROM debian:bookworm-slim\nRUN mkdir -p /app/data\nRUN useradd app\n")
    good = Example("FROM debian:bookworm-slim\nRUN mkdir -p /app/data && useradd app\n")
    fixed = "FROM debian:bookworm-slim\nRUN mkdir -p /app/data && \\\n    useradd app\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for pair in consecutive_runs(ctx):
            if _flags_key(pair.first.instruction) != _flags_key(pair.second.instruction):
                continue
            if not all(hadolint_command_count(r.run) <= 1 for r in (pair.first, pair.second)):
                continue
            family = _package_family(pair.first.run)
            same = family is not None and family == _package_family(pair.second.run)
            if same and not _lw104_pair(pair):
                continue  # LW106 reports it
            edit = merge_edit(pair)
            yield self.finding(
                ctx,
                pair.second.outer,
                f"Multiple consecutive RUN instructions (lines {pair.first.step.line} and "
                f"{pair.second.step.line}): consider joining them",
                fix=self.make_fix([edit], "join the RUNs") if edit else None,
            )


__all__ = [
    "DependencyInstall",
    "ManifestFile",
    "ManifestFirst",
    "copies_source",
    "dependency_installs",
    "hadolint_command_count",
    "is_manifest",
    "is_volatile_arg",
    "is_whole_context",
    "manifest_first",
]
