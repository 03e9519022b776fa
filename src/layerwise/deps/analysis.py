"""Declared versus used, per dependency, with what each costs in the final image.

    report = analyze_dependencies("examples/unused-deps", image="unused-deps:latest")
    for dep in report.dependencies:
        print(dep.name, dep.used, dep.installed_bytes, dep.pulled_in_by)
    for finding in report.findings:
        print(finding.code, finding.name, finding.bytes, finding.message)

Steps: the Dockerfile's install commands (which manifest, which groups, which stage), the
files the context engine says reach the final stage, their imports and the names the
Dockerfile's commands use, the distributions the image really holds (bytes, modules,
requirements), and from those: what is never used, what only development needs, and what
removing them saves (each removed distribution is counted once, so the savings add up to what
the rebuilt image loses).
"""

from __future__ import annotations

import bisect
import posixpath
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.context.project import BuildContext
from layerwise.deps.commands import ProgramUse, argv_uses, env_references
from layerwise.deps.imports import (
    ENTRY_POINT,
    FileScan,
    Reference,
    file_role,
    first_party,
    scan_files,
)
from layerwise.deps.installed import Environment
from layerwise.deps.installs import Install, _final_chain, dockerfile_installs
from layerwise.deps.manifests import (
    DEV,
    MAIN,
    Declared,
    ManifestError,
    ProjectManifest,
    RequirementsChain,
    find_manifests,
    read_manifest,
)
from layerwise.deps.names import (
    SCRIPT_DISTS,
    STDLIB,
    canonical,
    guess_modules,
    is_dev_tool,
)
from layerwise.dockerfile.model import Stage
from layerwise.dockerfile.syntax import Instruction
from layerwise.errors import LayerwiseError

RUNTIME = "runtime"
BUILD = "build"
TESTS = "tests"

UNUSED = "LW801"
DEV_TOOL = "LW802"
TRANSITIVE = "LW803"
SINGLE_FILE = "LW804"
CUDA = "LW805"

_SKIP_DIRS = frozenset(
    {"site-packages", "dist-packages", ".venv", "venv", "node_modules", ".tox", ".nox", ".git"}
)


@dataclass
class Usage:
    kind: str  # runtime, build, tests
    where: str  # "service.py:7", "Dockerfile:11 (CMD)"
    how: str  # import, import_module, string, setting, implied, command, entry_point, env


@dataclass
class Dependency:
    """A distribution: declared directly, or installed because a direct one requires it."""

    name: str
    key: str
    version: str | None
    declared_in: list[str]
    direct: bool
    group: str
    used: bool
    usage: list[Usage] = field(default_factory=list)
    required_by: list[str] = field(default_factory=list)  # direct dependencies requiring it
    pulled_in_by: list[str] = field(default_factory=list)  # for transitive ones
    installed_bytes: int | None = None
    files: int | None = None
    dev_tool: bool = False
    installed: bool | None = None  # in the final image (None: no image to tell)
    removable_bytes: int | None = None  # attributed share of what the suggested change saves
    declarations: list[Declared] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "declared_in": self.declared_in,
            "direct": self.direct,
            "group": self.group if self.direct else None,
            "used": self.used,
            "used_at": [f"{u.where} ({u.how})" for u in self.usage[:5]],
            "required_by": self.required_by,
            "pulled_in_by": self.pulled_in_by,
            "dev_tool": self.dev_tool,
            "installed": self.installed,
            "installed_bytes": self.installed_bytes,
            "files": self.files,
            "removable_bytes": self.removable_bytes,
        }


@dataclass
class DepsFinding:
    code: str
    name: str  # the dependency (or the manifest, for LW804)
    message: str
    bytes: int | None
    path: str | None = None  # where to act: the manifest line
    line: int = 0
    instruction: Instruction | None = None  # the Dockerfile step that installs it
    fixable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "bytes": self.bytes,
            "path": self.path,
            "line": self.line or None,
            "dockerfile_line": self.instruction.start_line if self.instruction else None,
            "fixable": self.fixable,
        }


@dataclass
class ManifestUse:
    """Which manifest (and which groups of it) reaches which stage."""

    manifest: str | None
    kind: str
    groups: list[str]
    stage: str
    line: int
    in_final: bool
    command: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "kind": self.kind,
            "groups": self.groups,
            "stage": self.stage,
            "dockerfile_line": self.line or None,
            "in_final": self.in_final,
            "manager": self.command,
            "note": self.note,
        }


@dataclass
class DepsReport:
    root: Path
    dockerfile: Path | None
    image: str | None
    environment: Environment | None
    dependencies: list[Dependency]
    findings: list[DepsFinding]
    manifests: list[ManifestUse]
    scanned_files: int
    parse_errors: list[str]
    notes: list[str]
    first_party: set[str]
    installs: list[Install] = field(default_factory=list)
    project_manifests: dict[str, ProjectManifest | RequirementsChain] = field(default_factory=dict)
    removable: dict[str, list[str]] = field(default_factory=dict)  # direct -> dists it owns
    image_python_bytes: int | None = None

    @property
    def removable_bytes(self) -> int | None:
        if self.environment is None:
            return None
        return sum(d.removable_bytes or 0 for d in self.dependencies)

    def dependency(self, name: str) -> Dependency | None:
        key = canonical(name)
        return next((d for d in self.dependencies if d.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.root),
            "dockerfile": str(self.dockerfile) if self.dockerfile else None,
            "image": self.image,
            "sizes": "image" if self.environment is not None else None,
            "dependencies": [d.to_json() for d in self.dependencies],
            "findings": [f.to_json() for f in self.findings],
            "manifests": [m.to_json() for m in self.manifests],
            "removable_bytes": self.removable_bytes,
            "scanned_files": self.scanned_files,
            "parse_errors": self.parse_errors,
            "notes": self.notes,
        }


# -- inputs ---------------------------------------------------------------------------------


def _group_set(install: Install, manifest: ProjectManifest) -> set[str]:
    groups = set(install.groups)
    if "*" in groups:
        groups.discard("*")
        groups |= manifest.default_groups(install.manager)
    groups = {g for g in groups if not g.startswith("-")} - {
        g[1:] for g in install.groups if g.startswith("-")
    }
    extras = set(install.extras)
    if "*" in extras:
        extras = {g for g, optional in manifest.groups.items() if optional}
    if manifest.kind == "pep621":
        groups |= {e for e in extras if e in manifest.groups}
    elif manifest.kind == "poetry" and extras:
        groups |= set()  # Poetry extras select optional packages of the main group
    return groups


def _declared_for(
    root: Path, install: Install, cache: dict[str, ProjectManifest | RequirementsChain]
) -> tuple[list[Declared], list[str]]:
    """The declarations one install command brings in, and any problems reading them."""
    if install.kind == "packages":
        return list(install.packages), []
    if install.manifest is None:
        return [], [install.note or f"{install.image_path}: manifest not found in the context"]
    manifest = cache.get(install.manifest)
    if manifest is None:
        try:
            manifest = read_manifest(root, install.manifest)
        except ManifestError as exc:
            return [], [str(exc)]
        cache[install.manifest] = manifest
    if isinstance(manifest, RequirementsChain):
        decls = list(manifest.requirements)
        errors = list(manifest.errors)
        for directory, extras, _line in manifest.projects:
            rel = "pyproject.toml" if directory in ("", ".") else f"{directory}/pyproject.toml"
            if not (root / rel).is_file() or rel in cache:
                continue
            project = read_manifest(root, rel)
            cache[rel] = project
            if isinstance(project, ProjectManifest):
                wanted = {MAIN} | {e for e in extras if e in project.groups}
                decls += [d for d in project.dependencies if d.group in wanted]
        return decls, errors
    groups = _group_set(install, manifest)
    out = []
    for d in manifest.dependencies:
        if d.group not in groups:
            continue
        if d.optional and d.group == MAIN and manifest.kind == "poetry" and not install.extras:
            # Poetry's optional packages come only with an extra (`-E name`, `--all-extras`);
            # which extra holds which package ([tool.poetry.extras]) is not read: any extra
            # is taken to bring them all.
            continue
        out.append(d)
    return out, []


def _shipped_files(ctx: BuildContext) -> list[str]:
    """Regular files of the context that reach the stages feeding the image (every file of
    the context when there is no Dockerfile), vendored environments left out."""
    entries = ctx.snapshot.entries
    if ctx.model is None:
        paths = [e.path for e in ctx.snapshot.files()]
    else:
        chain = _final_chain(ctx.model)
        paths = []
        for sr in ctx.built_reads:
            if sr.stage in chain and sr.read.via in ("copy", "add"):
                paths.extend(sr.result.reads)
    out = []
    for p in sorted(set(paths)):
        entry = entries.get(p)
        if entry is None or entry.kind != "file":
            continue
        if any(part in _SKIP_DIRS for part in p.split("/")[:-1]):
            continue
        out.append(p)
    return out


_SHELLS = (b"#!/bin/sh", b"#!/bin/bash", b"#!/usr/bin/env sh", b"#!/usr/bin/env bash",
           b"#!/bin/dash", b"#!/usr/bin/env dash", b"#!/bin/ash")  # fmt: skip


def _script_uses(root: Path, paths: list[str]) -> tuple[list[ProgramUse], list[Reference]]:
    """Programs and modules that the shell scripts shipped in the image run (an entrypoint
    script that starts gunicorn uses gunicorn)."""
    from layerwise.shell.packages import parse_command
    from layerwise.shell.syntax import analyze

    programs: list[ProgramUse] = []
    refs: list[Reference] = []
    for rel in paths:
        path = root / rel
        try:
            if path.stat().st_size > 1 << 20:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if not (rel.endswith(".sh") or data.startswith(_SHELLS)):
            continue
        text = data.decode("utf-8", "replace")
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        for cmd in analyze(text).commands:
            line = bisect.bisect_right(starts, cmd.start)
            if parse_command(cmd) is not None:
                programs.append(ProgramUse(cmd.name, rel, line, True))
                continue
            p, r = argv_uses(cmd.argv, rel, line, runtime=True)
            programs += p
            refs += r
    return programs, refs


def _command_uses(
    ctx: BuildContext, dockerfile_rel: str
) -> tuple[list[ProgramUse], list[Reference], list[Reference]]:
    """(programs, run-time module references, build-time module references) of the final
    stage's CMD/ENTRYPOINT/HEALTHCHECK, the RUN steps of the stages feeding it, and ENV."""
    from layerwise.shell.run import analyze_step
    from layerwise.shell.syntax import analyze

    model = ctx.model
    programs: list[ProgramUse] = []
    runtime: list[Reference] = []
    build: list[Reference] = []
    if model is None or model.target is None:
        return programs, runtime, build
    chain = _final_chain(model)
    final_line_stages = []
    stage: Stage | None = model.target
    while stage is not None:
        final_line_stages.append(stage.index)
        stage = model.stages[stage.base_stage] if stage.base_stage is not None else None
    for idx in sorted(chain):
        st = model.stages[idx]
        for step in st.steps:
            ins = step.instruction
            name = step.name
            if name in ("CMD", "ENTRYPOINT", "HEALTHCHECK") and idx in final_line_stages:
                argvs: list[list[str]] = []
                args = list(ins.arguments)
                if name == "HEALTHCHECK":
                    if not args or args[0].upper() != "CMD":
                        continue
                    args = args[1:]
                # Exec form is read as the shell analysis reads it (shell.run does the same
                # for RUN): the words themselves, or the script of `["sh", "-c", "..."]`.
                text = shlex.join(args) if ins.json else " ".join(args)
                argvs.extend(c.argv for c in analyze(text, env=step.env).commands)
                for argv in argvs:
                    p, r = argv_uses(argv, dockerfile_rel, ins.start_line, runtime=True)
                    programs += p
                    runtime += r
            elif name == "RUN":
                run = analyze_step(step)
                if run is None:
                    continue
                from layerwise.shell.packages import parse_command

                for cmd in run.script.commands:
                    op = parse_command(cmd)
                    if op is not None:
                        # the package manager itself is used (`pip install poetry` then
                        # `poetry install`), its arguments are packages, not modules
                        programs.append(ProgramUse(cmd.name, dockerfile_rel, ins.start_line, False))
                        if op.manager == "poetry" and op.action == "export":
                            # Poetry 2 exports through its plugin, installed beside it
                            programs.append(
                                ProgramUse(
                                    "poetry-plugin-export", dockerfile_rel, ins.start_line, False
                                )
                            )
                        continue
                    p, r = argv_uses(cmd.argv, dockerfile_rel, ins.start_line, runtime=False)
                    programs += p
                    build += r
            elif name == "ENV" and idx in final_line_stages:
                env = dict(p.split("=", 1) for p in step.expanded if "=" in p)
                runtime += env_references(env, dockerfile_rel, ins.start_line)
    return programs, runtime, build


# -- the analysis ---------------------------------------------------------------------------


def analyze_context(
    ctx: BuildContext,
    environment: Environment | None = None,
    *,
    image: str | None = None,
    scans: list[FileScan] | None = None,
) -> DepsReport:
    """Dependencies of one build context (with its Dockerfile), optionally with what an image
    of it really holds."""
    root = ctx.root
    notes: list[str] = []
    dockerfile_rel = _relative(ctx.dockerfile, root) if ctx.dockerfile is not None else "Dockerfile"
    installs = dockerfile_installs(ctx) if ctx.model is not None else []
    cache: dict[str, ProjectManifest | RequirementsChain] = {}
    manifests: list[ManifestUse] = []
    declared: list[tuple[Declared, Install | None]] = []
    problems: list[str] = []
    marker_env = environment.marker_env() if environment is not None else _default_marker_env()
    incomplete = False  # some install of the image brings declarations that cannot be read
    for inst in installs:
        decls, errs = _declared_for(root, inst, cache)
        problems += errs
        incomplete = incomplete or (inst.in_final and bool(errs))
        groups = sorted(inst.groups - {"*"}) if inst.kind == "project" else []
        if inst.kind == "project" and inst.manifest in cache:
            m = cache[inst.manifest]
            if isinstance(m, ProjectManifest):
                groups = sorted(_group_set(inst, m))
        manifests.append(
            ManifestUse(
                inst.manifest,
                inst.kind,
                groups,
                inst.stage_name,
                inst.line,
                inst.in_final,
                inst.manager,
                inst.note,
            )
        )
        if inst.in_final:
            declared += [(d, inst) for d in decls if d.marker_applies(marker_env)]
    if ctx.model is None:
        notes.append("no Dockerfile: every manifest at the top of the project is assumed installed")
        for rel in find_manifests(root):
            m = read_manifest(root, rel)
            cache[rel] = m
            if isinstance(m, RequirementsChain):
                decls = m.requirements
            else:
                decls = [d for d in m.dependencies if not m.groups.get(d.group, False)]
            manifests.append(ManifestUse(rel, "manifest", [], "-", 0, True, "-"))
            declared += [(d, None) for d in decls if d.marker_applies(marker_env)]
    elif not installs:
        notes.append("the Dockerfile installs no Python packages with pip, uv, poetry or pipenv")
    if incomplete:
        notes.append(
            "some installs of the image could not be read (see the warnings): imports that no "
            "declared dependency provides are not reported"
        )
    # Other manifests in the project, not installed into the final image: shown, so the
    # report says which file reaches which stage and which reaches none.
    installed_files = {m.manifest for m in manifests if m.manifest}
    for rel in find_manifests(root):
        if rel not in installed_files:
            manifests.append(ManifestUse(rel, "manifest", [], "", 0, False, "", "not installed"))

    shipped = _shipped_files(ctx)
    files = [p for p in shipped if p.endswith(".py")]
    if scans is None:
        scans = scan_files(root, files)
    local = first_party(files)
    for m in cache.values():
        if isinstance(m, ProjectManifest) and m.name:
            local.add(canonical(m.name).replace("-", "_"))
    parse_errors = [s.error for s in scans if s.error]
    gpu = any(s.gpu for s in scans)

    # What uses what.
    refs: list[tuple[Reference, str]] = []
    for scan in scans:
        role = file_role(scan.path)
        kind = RUNTIME if role == "app" else TESTS
        refs.extend((r, kind) for r in scan.references if not r.typing)
    for m in cache.values():
        if isinstance(m, ProjectManifest):
            for _group, _name, value in m.entry_points:
                module = value.split(":", 1)[0].strip()
                if module:
                    refs.append((Reference(module, m.rel, 0, ENTRY_POINT), RUNTIME))
    programs, cmd_runtime, cmd_build = _command_uses(ctx, dockerfile_rel)
    script_programs, script_refs = _script_uses(root, [p for p in shipped if p not in files])
    programs += script_programs
    cmd_runtime += script_refs
    refs += [(r, RUNTIME) for r in cmd_runtime] + [(r, BUILD) for r in cmd_build]
    if ctx.model is not None and ctx.model.target is not None:
        env_text = " ".join(f"{k}={v}" for k, v in ctx.model.target.env.items())
        gpu = gpu or "NVIDIA_VISIBLE_DEVICES" in env_text or "CUDA" in env_text.upper()
        base = ctx.model.target.base_name.lower()
        gpu = gpu or "cuda" in base or "nvidia" in base

    # Direct dependencies, first declaration wins for group and name.
    direct: dict[str, Dependency] = {}
    for d, _ in declared:
        dep = direct.get(d.key)
        if dep is None:
            dep = Dependency(
                d.name, d.key, _pinned(d), [], True, d.group, False, dev_tool=is_dev_tool(d.name)
            )
            direct[d.key] = dep
        if d.declared_in not in dep.declared_in:
            dep.declared_in.append(d.declared_in)
        dep.declarations.append(d)

    module_map = _module_map(environment, direct)
    script_map = dict(SCRIPT_DISTS)
    if environment is not None:
        script_map.update(environment.by_script())
    usage: dict[str, list[Usage]] = {}
    unresolved: list[tuple[Reference, str]] = []
    for ref, kind in refs:
        top = ref.top
        if top in STDLIB or top in local:
            continue
        keys = _keys_for(ref.module, module_map)
        if not keys:
            unresolved.append((ref, kind))
            continue
        for key in keys:
            usage.setdefault(key, []).append(Usage(kind, ref.where, ref.kind))
    for prog in programs:
        provider = script_map.get(prog.program)
        if provider is None and canonical(prog.program) in direct:
            provider = canonical(prog.program)
        if provider is not None:
            kind = RUNTIME if prog.runtime else BUILD
            where = f"{prog.path}:{prog.line}"
            usage.setdefault(canonical(provider), []).append(Usage(kind, where, "command"))

    # The dependency graph in the image.
    closure: dict[str, set[str]] = {}
    if environment is not None:
        for key, dep in direct.items():
            extras = {e for decl in dep.declarations for e in decl.extras}
            closure[key] = _closure(environment, key, extras)

    def used_directly(key: str) -> bool:
        return any(u.kind in (RUNTIME, BUILD) for u in usage.get(key, []))

    # A direct dependency that a used one requires is used (removing its line removes nothing).
    used = {k for k in direct if used_directly(k)}
    if environment is not None:
        changed = True
        while changed:
            changed = False
            for k in list(direct):
                if k in used:
                    continue
                holders = [u for u in used if k in closure.get(u, set()) and u != k]
                if holders:
                    used.add(k)
                    direct[k].required_by = sorted(holders)
                    changed = True
    for key, dep in direct.items():
        dep.used = key in used
        dep.usage = usage.get(key, [])
        if environment is not None:
            got = environment.dists.get(key)
            dep.installed = got is not None
            if got is not None:
                dep.version = got.version
                dep.name = got.name
                dep.installed_bytes = got.bytes
                dep.files = got.files

    # What the suggested change removes: unused dependencies, and development tools that
    # nothing at run or build time uses.
    remove: list[str] = []
    for key, dep in direct.items():
        if dep.used:
            continue
        remove.append(key)
    removable: dict[str, list[str]] = {}
    transitive: dict[str, Dependency] = {}
    if environment is not None:
        kept = [k for k in direct if k not in remove]
        keep_set: set[str] = set()
        for k in kept:
            keep_set |= closure.get(k, {k})
        for k in remove:
            removable[k] = []
        owned: set[str] = set()
        for k in remove:  # a direct dependency owns itself
            if k in environment.dists and k not in keep_set:
                removable[k].append(k)
                owned.add(k)
        for k in remove:
            for t in sorted(closure.get(k, set())):
                if t in owned or t in keep_set or t in direct:
                    continue
                removable[k].append(t)
                owned.add(t)
        for k, dists in removable.items():
            direct[k].removable_bytes = sum(environment.dists[t].bytes for t in dists)
        all_closure: set[str] = set()
        for c in closure.values():
            all_closure |= c
        for t in sorted(all_closure - set(direct)):
            dist = environment.dists[t]
            holders = sorted(k for k, c in closure.items() if t in c)
            transitive[t] = Dependency(
                dist.name,
                t,
                dist.version,
                [],
                False,
                "",
                bool(set(holders) & used),
                usage=usage.get(t, []),
                pulled_in_by=[direct[h].name for h in holders],
                installed_bytes=dist.bytes,
                files=dist.files,
                dev_tool=is_dev_tool(dist.name),
                installed=True,
            )
    else:
        notes.append(
            "no image: installed sizes are unknown (give --image REF, or --build to build one); "
            "dependencies are matched to modules by name"
        )

    findings: list[DepsFinding] = []
    inst_of = {d.key: inst for d, inst in declared}
    for key, dep in direct.items():
        if dep.used:
            continue
        decl = dep.declarations[0]
        source = inst_of.get(key)
        ins = source.instruction if source is not None else None
        test_use = [u for u in dep.usage if u.kind == TESTS]
        if environment is not None and not dep.installed:
            state = " (declared but not installed in the image)"
        else:
            state = _size_text(dep.removable_bytes, environment, " ({})")
        if dep.dev_tool:
            extra = f" (only tests use it: {test_use[0].where})" if test_use else ""
            msg = (
                f"{dep.name} is a development tool installed into the final image{extra}"
                f"{state}: move it to a development requirements file or group"
            )
            code = DEV_TOOL
        else:
            extra = f"; only tests use it ({test_use[0].where})" if test_use else ""
            msg = (
                f"{dep.name} is declared in {decl.declared_in} but nothing in the image "
                f"imports or runs it{extra}{state}"
            )
            code = UNUSED
        shared = _shared_with(dep, direct, closure, remove)
        if shared:
            msg += f" (also required by {', '.join(shared)}, removed with it)"
        findings.append(
            DepsFinding(
                code, dep.name, msg, dep.removable_bytes, decl.source, decl.line, ins, fixable=True
            )
        )
    # Development tools that something in the image does use (RUN pytest, a test import).
    for key, dep in direct.items():
        if not (dep.used and dep.dev_tool):
            continue
        if any(u.kind == RUNTIME for u in dep.usage):
            continue
        decl = dep.declarations[0]
        source = inst_of.get(key)
        uses = ", ".join(u.where for u in dep.usage[:2]) or "a dependency"
        findings.append(
            DepsFinding(
                DEV_TOOL,
                dep.name,
                f"{dep.name} is a development tool in the final image, used at build time "
                f"({uses}): run it in a separate stage so it stays out of the image"
                + _size_text(dep.installed_bytes, environment, " ({})"),
                dep.installed_bytes,
                decl.source,
                decl.line,
                source.instruction if source else None,
            )
        )
    # Imports of modules that only arrive because something else requires them.
    seen_tr: set[str] = set()
    for ref, kind in unresolved:
        if kind != RUNTIME or ref.optional or ref.kind not in ("import", "import_module"):
            continue
        if ref.top in seen_tr:
            continue
        seen_tr.add(ref.top)
        if environment is None and not incomplete:
            findings.append(
                DepsFinding(
                    TRANSITIVE,
                    ref.top,
                    f"{ref.where} imports {ref.top}, which no declared dependency provides: "
                    "declare the distribution that provides it (it may only arrive through "
                    "another dependency, which can drop it in any release)",
                    None,
                    ref.path,
                    ref.line,
                )
            )
    for dep in transitive.values():
        runtime_uses = [u for u in dep.usage if u.kind == RUNTIME and u.how == "import"]
        if not runtime_uses:
            continue
        findings.append(
            DepsFinding(
                TRANSITIVE,
                dep.name,
                f"{runtime_uses[0].where} imports {dep.name}, which is not declared and only "
                f"arrives because {', '.join(dep.pulled_in_by)} requires it: declare it",
                dep.installed_bytes,
                runtime_uses[0].where.rsplit(":", 1)[0],
                int(runtime_uses[0].where.rsplit(":", 1)[1] or 0),
            )
        )
    # One requirements file for every environment, with development tools in it.
    dev_by_file: dict[str, list[Dependency]] = {}
    for dep in direct.values():
        if not dep.dev_tool or any(u.kind == RUNTIME for u in dep.usage):
            continue
        for decl in dep.declarations:
            if decl.source.endswith((".toml", "Pipfile")) or decl.source == "Dockerfile":
                continue
            dev_by_file.setdefault(_top_file(decl, installs, cache), []).append(dep)
    for top, deps in dev_by_file.items():
        names = ", ".join(sorted({d.name for d in deps}))
        total = None if environment is None else sum(d.removable_bytes or 0 for d in deps)
        installer = next((i for i in installs if i.manifest == top), None)
        findings.append(
            DepsFinding(
                SINGLE_FILE,
                top,
                f"{top} serves every environment and carries development tools ({names}) "
                f"into the final image{_size_text(total, environment, ' ({})')}: split it into "
                f"{top} and {_dev_name(top)} (which starts with `-r {posixpath.basename(top)}`)",
                total,
                top,
                0,
                installer.instruction if installer else None,
                fixable=True,
            )
        )
    findings += _cuda_findings(environment, direct, transitive, gpu, installs, cache, root)
    # Largest saving first; without an image, what can go first (unused, then development
    # tools), then what is used, by name.
    deps_list = sorted(
        direct.values(),
        key=lambda d: (-(d.removable_bytes or 0), d.used, d.dev_tool, d.key),
    )
    deps_list += sorted(transitive.values(), key=lambda d: (-(d.installed_bytes or 0), d.key))
    findings.sort(key=lambda f: (f.code, -(f.bytes or 0), f.name))
    report = DepsReport(
        root,
        ctx.dockerfile,
        image,
        environment,
        deps_list,
        findings,
        manifests,
        len(files),
        parse_errors + problems,
        notes,
        local,
        installs,
        cache,
        removable,
    )
    return report


def _closure(env: Environment, key: str, extras: Iterable[str]) -> set[str]:
    if key not in env.dists:
        return set()
    out = {key}
    todo = [(key, tuple(extras))]
    while todo:
        current, ex = todo.pop()
        for dep in env.requirements_of(current, ex):
            if dep not in out:
                out.add(dep)
                todo.append((dep, ()))
    return out


def _shared_with(
    dep: Dependency, direct: Mapping[str, Dependency], closure: Mapping[str, set[str]],
    remove: list[str],
) -> list[str]:  # fmt: skip
    return sorted(
        direct[k].name for k in remove if k != dep.key and dep.key in closure.get(k, set())
    )


def _module_map(env: Environment | None, direct: Mapping[str, Dependency]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if env is not None:
        out = env.by_module()
    for key, dep in direct.items():
        if env is not None and key in env.dists:
            continue
        for module in guess_modules(dep.name):
            keys = out.setdefault(module, [])
            if key not in keys:
                keys.append(key)
    return out


def _keys_for(module: str, module_map: Mapping[str, list[str]]) -> list[str]:
    parts = module.split(".")
    for n in range(min(len(parts), 3), 0, -1):
        keys = module_map.get(".".join(parts[:n]))
        if keys:
            return keys
    return []


def _pinned(d: Declared) -> str | None:
    spec = d.specifier
    if spec.startswith("==") and "," not in spec and "*" not in spec:
        return spec[2:]
    return None


def _size_text(value: int | None, env: Environment | None, form: str) -> str:
    """`form` filled with the size in the image; empty without an image (the report says
    once that sizes need one)."""
    if env is None or value is None:
        return ""
    from layerwise.deps.render import mb

    return form.format(f"{mb(value)} in the image")


def _top_file(
    decl: Declared,
    installs: list[Install],
    cache: Mapping[str, ProjectManifest | RequirementsChain],
) -> str:
    """The requirements file the Dockerfile installs that brings in this declaration."""
    for inst in installs:
        m = cache.get(inst.manifest or "")
        if isinstance(m, RequirementsChain) and any(f.rel == decl.source for f in m.files):
            return m.top
    return decl.source


def _dev_name(top: str) -> str:
    head, _, name = top.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    new = f"{stem}-dev.{ext}" if dot else f"{name}-dev"
    return f"{head}/{new}" if head else new


_CUDA_HINT = (
    "install the CPU builds instead (for torch: `--index-url https://download.pytorch.org/whl/cpu`)"
)


def _cuda_findings(
    env: Environment | None,
    direct: Mapping[str, Dependency],
    transitive: Mapping[str, Dependency],
    gpu: bool,
    installs: list[Install],
    cache: Mapping[str, ProjectManifest | RequirementsChain],
    root: Path,
) -> list[DepsFinding]:
    if gpu:
        return []
    if env is not None:
        cuda = [
            d
            for k, d in env.dists.items()
            if k.startswith("nvidia-") or k in ("triton", "pytorch-triton")
        ]
        if not cuda:
            return []
        total = sum(d.bytes for d in cuda)
        owners = sorted(
            {
                h
                for k in (d.key for d in cuda)
                if k in transitive
                for h in transitive[k].pulled_in_by
            }
        )
        via = f" (pulled in by {', '.join(owners)})" if owners else ""
        return [
            DepsFinding(
                CUDA,
                "nvidia-*",
                f"{len(cuda)} CUDA distributions{via} take {_size_text(total, env, '{}')}, and "
                f"nothing in the image uses a GPU: {_CUDA_HINT}",
                total,
            )
        ]
    heavy = [d for k, d in direct.items() if k in ("torch", "torchvision", "torchaudio")]
    if not heavy:
        return []
    cpu_index = any(
        "whl/cpu" in (inst.instruction.source if inst.instruction else "")
        or "whl/cpu" in _manifest_text(cache.get(inst.manifest or ""))
        for inst in installs
    )
    if cpu_index:
        return []
    decl = heavy[0].declarations[0]
    return [
        DepsFinding(
            CUDA,
            heavy[0].name,
            f"{heavy[0].name} from PyPI pulls the CUDA (nvidia-*) wheels on Linux, and nothing in "
            f"the image uses a GPU: {_CUDA_HINT}",
            None,
            decl.source,
            decl.line,
        )
    ]


def _manifest_text(m: ProjectManifest | RequirementsChain | None) -> str:
    if m is None:
        return ""
    if isinstance(m, ProjectManifest):
        return m.text
    return "\n".join(f.text for f in m.files)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _default_marker_env() -> dict[str, str]:
    return {
        "python_version": "3.11",
        "python_full_version": "3.11.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "extra": "",
    }


def analyze_dependencies(
    directory: str | Path,
    dockerfile: str | Path | None = None,
    *,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    image: str | None = None,
    venv: str | Path | None = None,
    environment: Environment | None = None,
) -> DepsReport:
    """`layerwise deps` as a library call: the build context in `directory` (its Dockerfile by
    default), measured against `image` (an engine reference, a `docker save` tarball or an OCI
    layout) or a local `venv` when given."""
    from layerwise.deps.installed import image_environment, venv_environment

    ctx = BuildContext.load(directory, dockerfile, build_args=build_args, target=target)
    if environment is None and image is not None:
        environment = image_environment(image)
    elif environment is None and venv is not None:
        environment = venv_environment(venv)
    if ctx.model is not None:
        for error in ctx.model.errors:
            raise LayerwiseError(
                f"{error.message} (BuildKit refuses this Dockerfile)", error.location
            )
    return analyze_context(ctx, environment, image=image)


__all__ = [
    "DEV",
    "MAIN",
    "Dependency",
    "DepsFinding",
    "DepsReport",
    "ManifestUse",
    "analyze_context",
    "analyze_dependencies",
]
