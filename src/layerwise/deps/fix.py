"""`layerwise deps --fix`: keep the production install to what the service uses.

What it writes (all files atomically, nothing outside the project):

* requirements files: the lines of unused dependencies and development tools leave the file
  the image installs (or the file of its `-r` chain that declares them) and go to a
  development file beside it (`requirements-dev.txt`, created starting with
  `-r requirements.txt`), so `pip install -r requirements-dev.txt` still installs everything
  that was installed before, and the image no longer does;
* pyproject.toml: they move from `[project].dependencies` to the `dev` group
  (`[dependency-groups]` for uv projects, `[project.optional-dependencies]` otherwise), or
  from `[tool.poetry.dependencies]` to `[tool.poetry.group.dev.dependencies]`;
  Pipfile: from `[packages]` to `[dev-packages]`;
* the Dockerfile: a `poetry install` / `uv sync` / `pipenv install` of the final stage that
  would still install the dev group gets the option that leaves it out.

A dependency that anything in the image uses (imports, commands, settings strings, entry
points, or a used dependency requiring it) is never moved. Without an image or a venv the
import names are only guessed, so then only development tools are moved.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.deps.analysis import DepsReport, _dev_name, _group_set
from layerwise.deps.installs import Install
from layerwise.deps.manifests import DEV, MAIN, Declared, ProjectManifest, RequirementsChain
from layerwise.errors import InputError
from layerwise.fsutil import atomic_write


@dataclass
class FileChange:
    path: Path
    rel: str
    before: str | None  # None: a new file
    after: str

    def diff(self) -> str:
        import difflib

        a = (self.before or "").splitlines(keepends=True)
        b = self.after.splitlines(keepends=True)
        src = f"a/{self.rel}" if self.before is not None else "/dev/null"
        return "".join(difflib.unified_diff(a, b, src, f"b/{self.rel}"))


@dataclass
class FixPlan:
    changes: list[FileChange] = field(default_factory=list)
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (name, from, to)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (name, why not moved)
    notes: list[str] = field(default_factory=list)
    saves: int | None = None  # bytes the image loses, from the analysis

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": [c.rel for c in self.changes],
            "moved": [{"name": n, "from": a, "to": b} for n, a, b in self.moved],
            "kept": [{"name": n, "why": w} for n, w in self.kept],
            "notes": self.notes,
            "saves_bytes": self.saves,
        }


class _Files:
    """Working copies of the files being changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.texts: dict[str, str] = {}
        self.originals: dict[str, str | None] = {}

    def get(self, rel: str) -> str | None:
        if rel not in self.texts:
            path = self.root / rel
            if not path.resolve().is_relative_to(self.root.resolve()):
                raise InputError(f"{rel}: outside the project; not written")
            text = path.read_text(encoding="utf-8") if path.is_file() else None
            self.originals[rel] = text
            if text is None:
                return None
            self.texts[rel] = text
        return self.texts[rel]

    def set(self, rel: str, text: str) -> None:
        self.get(rel)
        self.texts[rel] = text

    def changes(self) -> list[FileChange]:
        out = []
        for rel, text in self.texts.items():
            before = self.originals.get(rel)
            if before != text:
                out.append(FileChange(self.root / rel, rel, before, text))
        return out


def plan_fix(report: DepsReport) -> FixPlan:
    """The file changes that take unused dependencies and development tools out of the
    production install."""
    plan = FixPlan()
    files = _Files(report.root)
    have_metadata = report.environment is not None
    moving: list[tuple[Declared, str]] = []  # (declaration, reason)
    for dep in report.dependencies:
        if not dep.direct:
            continue
        if dep.used:
            if dep.dev_tool and not any(u.kind == "runtime" for u in dep.usage):
                plan.kept.append((dep.name, "used while building (" + _uses(dep) + ")"))
            continue
        if not dep.dev_tool and not have_metadata:
            plan.kept.append((dep.name, "no image or venv: its import names are only guessed"))
            continue
        if have_metadata and dep.installed is False:
            plan.kept.append((dep.name, "not installed in the image"))
            continue
        reason = "development tool" if dep.dev_tool else "not used by the service"
        for decl in dep.declarations:
            if decl.group == MAIN or decl.source.endswith(".txt") or decl.source == "Dockerfile":
                moving.append((decl, reason))
    if not moving:
        return plan
    by_install = _top_files(report)
    dockerfile_edits: list[tuple[int, int, str]] = []
    moving = _install_included_instead(report, moving, plan, dockerfile_edits)
    batches: dict[tuple[str, str, str], list[Declared]] = {}
    for decl, _reason in moving:
        if decl.source == "Dockerfile":
            plan.kept.append((decl.name, f"named on the command line at Dockerfile:{decl.line}"))
            continue
        if not _inside(report.root, decl.source):
            plan.kept.append((decl.name, f"declared in {decl.source}, outside the project"))
            continue
        manifest = report.project_manifests.get(decl.source)
        if decl.source.endswith(("pyproject.toml", "Pipfile")):
            pm = manifest if isinstance(manifest, ProjectManifest) else None
            if pm is None:
                pm = next(
                    (
                        m
                        for m in report.project_manifests.values()
                        if isinstance(m, ProjectManifest) and m.rel == decl.source
                    ),
                    None,
                )
            if pm is None:
                plan.kept.append((decl.name, f"{decl.source} not read"))
                continue
            target = _move_in_project(files, pm, decl, report)
            if target:
                plan.moved.append((decl.name, decl.declared_in, target))
            continue
        top = by_install.get(decl.source, decl.source)
        dev = _dev_name(top)
        batches.setdefault((decl.source, top, dev), []).append(decl)
        plan.moved.append((decl.name, decl.declared_in, dev))
    for (source, top, dev), decls in batches.items():
        _move_requirements(files, source, decls, top, dev)
    _adjust_dockerfile(files, report, plan, dockerfile_edits)
    plan.changes = files.changes()
    plan.saves = report.removable_bytes
    return plan


def _inside(root: Path, rel: str) -> bool:
    return (root / rel).resolve().is_relative_to(root.resolve())


def _uses(dep: Any) -> str:
    return ", ".join(u.where for u in dep.usage[:2])


def _top_files(report: DepsReport) -> dict[str, str]:
    """declaring file -> the requirements file the Dockerfile installs (top of its chain)."""
    out: dict[str, str] = {}
    for m in report.project_manifests.values():
        if isinstance(m, RequirementsChain):
            for f in m.files:
                out.setdefault(f.rel, m.top)
    return out


def _logical_range(lines: list[str], start: int) -> tuple[int, int]:
    """0-based [first, last] physical lines of the logical requirement line at `start`."""
    first = start - 1
    last = first
    while last < len(lines) - 1 and lines[last].split(" #", 1)[0].rstrip().endswith("\\"):
        last += 1
    return first, last


_DEV_HEADER = (
    "# Development and test requirements: everything the image installs, plus the tools and\n"
    "# packages the service itself does not use (moved here by `layerwise deps --fix`).\n"
)


def _move_requirements(
    files: _Files, source: str, decls: list[Declared], top: str, dev: str
) -> None:
    """Move the lines of `decls` (all declared in `source`) to `dev`, with the comment lines
    that head a block when the whole block moves."""
    text = files.get(source)
    if text is None:
        return
    lines = text.splitlines(keepends=True)
    moved: set[int] = set()
    for decl in decls:
        if decl.line:
            first, last = _logical_range(lines, decl.line)
            moved.update(range(first, last + 1))
    # Comment lines right above moved lines go with them when nothing stays below them.
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("#"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("#") and j not in moved:
                j += 1
            k = j
            while k < len(lines) and k in moved:
                k += 1
            block_ends = k == len(lines) or not lines[k].strip() or lines[k].lstrip()[:1] == "#"
            if k > j and block_ends and j > i:
                moved.update(range(i, j))
            i = max(j, i + 1)
        else:
            i += 1
    taken = [lines[n] for n in sorted(moved)]
    if taken and not taken[-1].endswith("\n"):
        taken[-1] += "\n"
    files.set(source, "".join(line for n, line in enumerate(lines) if n not in moved))
    dev_text = files.get(dev)
    include = posixpath.relpath(top, posixpath.dirname(dev) or ".")
    if dev_text is None:
        dev_text = f"{_DEV_HEADER}-r {include}\n"
    elif dev_text and not dev_text.endswith("\n"):
        dev_text += "\n"
    dev_text += f"\n# from {source}\n" + "".join(taken)
    files.set(dev, dev_text)


def _move_in_project(
    files: _Files, pm: ProjectManifest, decl: Declared, report: DepsReport
) -> str | None:
    import tomlkit

    text = files.get(pm.rel)
    if text is None:
        return None
    doc = tomlkit.parse(text)
    target: str | None = None
    if pm.kind == "pipfile":
        packages = doc.get("packages")
        if packages is None or decl.name not in packages:
            return None
        value = packages[decl.name]
        del packages[decl.name]
        dev = doc.setdefault("dev-packages", tomlkit.table())
        dev[decl.name] = value
        target = f"{pm.rel} [dev-packages]"
    elif pm.kind == "poetry":
        poetry = doc["tool"]["poetry"]
        table = poetry.get("dependencies")
        if table is None or decl.name not in table:
            return None
        value = table[decl.name]
        del table[decl.name]
        groups = poetry.setdefault("group", tomlkit.table(is_super_table=True))
        dev = groups.setdefault(DEV, tomlkit.table())
        deps = dev.setdefault("dependencies", tomlkit.table())
        deps[decl.name] = value
        target = f"{pm.rel} [tool.poetry.group.dev.dependencies]"
    else:
        project = doc.get("project")
        array = project.get("dependencies") if project is not None else None
        if project is None or array is None:
            return None
        index = next((i for i, item in enumerate(array) if str(item) == decl.raw), None)
        if index is None:
            return None
        del array[index]
        uv_project = (
            "uv" in pm.tools or (report.root / posixpath.dirname(pm.rel) / "uv.lock").exists()
        )
        if uv_project:
            groups = doc.setdefault("dependency-groups", tomlkit.table())
            target = f"{pm.rel} [dependency-groups] dev"
        else:
            groups = project.setdefault("optional-dependencies", tomlkit.table())
            target = f"{pm.rel} [project.optional-dependencies] dev"
        dev_list = groups.setdefault(DEV, tomlkit.array())
        if decl.raw not in [str(x) for x in dev_list]:
            dev_list.append(decl.raw)
    files.set(pm.rel, tomlkit.dumps(doc))
    return target


def _install_included_instead(
    report: DepsReport,
    moving: list[tuple[Declared, str]],
    plan: FixPlan,
    edits: list[tuple[int, int, str]],
) -> list[tuple[Declared, str]]:
    """A final stage that installs a development file (`-r requirements.txt` plus tools) is
    changed to install the file it includes, when everything the development file adds is to
    go: the Dockerfile changes, the requirements files do not."""
    from layerwise.shell.packages import package_ops
    from layerwise.shell.run import analyze_run

    out = list(moving)
    for inst in report.installs:
        if not inst.in_final or inst.kind != "requirements" or inst.manifest is None:
            continue
        chain = report.project_manifests.get(inst.manifest)
        if not isinstance(chain, RequirementsChain) or not chain.files:
            continue
        top = chain.files[0]
        includes = [rel for kind, rel, _ in top.includes if kind == "-r"]
        own = {(d.source, d.line) for d in top.requirements}
        leaving = {(d.source, d.line) for d, _ in out if d.source == top.rel}
        if len(includes) != 1 or not own or own != leaving:
            continue
        run = analyze_run(inst.instruction)
        if run is None or not run.exact:
            continue
        for op in package_ops(run.script):
            for word in op.command.words:
                if word.value in op.requirements and (
                    posixpath.basename(word.value) == posixpath.basename(top.rel)
                ):
                    written_dir = posixpath.dirname(word.value)
                    rel = posixpath.relpath(includes[0], posixpath.dirname(top.rel) or ".")
                    new = posixpath.normpath(posixpath.join(written_dir, rel))
                    span = run.word_span(word)
                    edits.append((span.start, span.end, new))
                    plan.notes.append(
                        f"Dockerfile:{inst.line}: installs {new} instead of {word.value} "
                        f"(everything {top.rel} adds stays out of the image)"
                    )
                    for d, _ in out:
                        if d.source == top.rel:
                            plan.moved.append((d.name, d.declared_in, f"{top.rel} only"))
                    out = [(d, r) for d, r in out if d.source != top.rel]
                    break
    return out


def _adjust_dockerfile(
    files: _Files,
    report: DepsReport,
    plan: FixPlan,
    edits: list[tuple[int, int, str]] | None = None,
) -> None:
    """Keep the dev group out of the final stage's project installs."""
    if report.dockerfile is None:
        return
    edits = list(edits or [])
    for inst in report.installs:
        if not inst.in_final or inst.kind != "project" or inst.manifest is None:
            continue
        pm = report.project_manifests.get(inst.manifest)
        if not isinstance(pm, ProjectManifest):
            continue
        edit = _exclude_dev(inst, pm)
        if edit is not None:
            edits.append(edit)
            plan.notes.append(
                f"Dockerfile:{inst.line}: the {inst.manager} install now leaves the dev group out"
            )
        here = report.root / posixpath.dirname(pm.rel)
        if pm.kind == "poetry" and (here / "poetry.lock").exists():
            plan.notes.append("run `poetry lock --no-update`: poetry.lock records the groups")
        if pm.kind == "pipfile":
            plan.notes.append("run `pipenv lock`: Pipfile.lock records the sections")
        if "uv" in pm.tools or (here / "uv.lock").exists():
            plan.notes.append("run `uv lock`: uv.lock records the groups")
    if not edits:
        return
    rel = report.dockerfile.resolve().relative_to(report.root.resolve()).as_posix()
    text = files.get(rel)
    if text is None:
        return
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    files.set(rel, text)


def _exclude_dev(inst: Install, pm: ProjectManifest) -> tuple[int, int, str] | None:
    from layerwise.shell.packages import package_ops
    from layerwise.shell.run import analyze_run

    if inst.manager == "poetry":
        # The defaults: every non-optional group, which after the fix includes `dev`.
        defaults = "*" in inst.groups or not any(g != "*" for g in inst.groups)
        if f"-{DEV}" in inst.groups or (not defaults and DEV not in inst.groups):
            return None
    elif inst.manager == "pipenv":
        if DEV not in inst.groups:
            return None
    elif DEV not in _group_set(inst, pm):
        return None
    run = analyze_run(inst.instruction)
    if run is None or not run.exact:
        return None
    for op in package_ops(run.script):
        if op.manager != inst.manager or not op.installs:
            continue
        words = list(op.command.words)
        sub = next((w for w in words[1:] if w.value == op.subcommand.split()[-1]), None)
        if sub is None:
            continue
        end = run.word_span(sub).end
        if inst.manager == "poetry":
            return end, end, " --without dev"
        if inst.manager == "uv":
            return end, end, " --no-dev"
        if inst.manager == "pipenv":
            dev = next((w for w in words if w.value == "--dev"), None)
            if dev is None:
                return None
            span = run.word_span(dev)
            start = (
                span.start - 1
                if run.instruction.dockerfile.text[span.start - 1] == " "
                else span.start
            )
            return start, span.end, ""
    return None


def apply_fix(plan: FixPlan) -> None:
    """Write every change of the plan (each file atomically)."""
    for change in plan.changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(change.path, change.after)
