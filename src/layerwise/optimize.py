"""`layerwise optimize`: find the problems, rewrite the Dockerfile and .dockerignore, predict the
gain, all in one pass over one build.

    from layerwise.optimize import optimize
    result = optimize("examples/flask-pip", unsafe=True)
    print(result.dockerfile.diff())
    result.gain.no_longer_rebuilt        # steps a source edit stops re-running
    result.write()                       # atomic writes of the changed files

The pipeline: the context is analysed (what is sent, what `.dockerignore` should add), the
Dockerfile is linted, the rules' fixes are applied (safe ones, and with `unsafe=True` the
structural ones: manifest-first, multi-stage with a virtualenv, non-root user), a HEALTHCHECK is
added when asked for, and the predicted gain compares the original and the result: context bytes
no longer sent, steps a source-code change no longer re-runs, build tools and packages no longer
in the final image. Nothing is written unless `write()` is called.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.config import Config, find_config
from layerwise.context.dockerignore import write_dockerignore
from layerwise.context.ignore import IgnoreFile, parse_ignore
from layerwise.context.project import BuildContext
from layerwise.context.walk import ContextSnapshot
from layerwise.dockerfile.parser import parse_dockerfile, read_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import InputError
from layerwise.fixes.healthcheck import check_path, split_healthcheck
from layerwise.fixes.predict import (
    StepRef,
    build_tools,
    final_base,
    final_packages,
    manifest_files,
    source_change_rebuilds,
)
from layerwise.fixes.project import project_files
from layerwise.fixes.structural import Options, fix_all
from layerwise.fsutil import atomic_write
from layerwise.rules.base import Finding, LintContext
from layerwise.rules.engine import lint
from layerwise.rules.layers import not_runtime_roots

DOCKERFILE_NAMES = ("Dockerfile", "Containerfile", "dockerfile", "containerfile")


@dataclass
class FileChange:
    """One file optimize would write: its current text (None: it does not exist) and new text."""

    path: Path
    original: str | None
    text: str

    @property
    def changed(self) -> bool:
        return self.original != self.text

    def diff(self, label: str | None = None) -> str:
        name = label or self.path.name
        before = (self.original or "").splitlines(keepends=True)
        after = self.text.splitlines(keepends=True)
        lines = difflib.unified_diff(
            before,
            after,
            fromfile="/dev/null" if self.original is None else f"a/{name}",
            tofile=f"b/{name}",
        )
        out = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        return out

    def to_json(self, label: str) -> dict[str, Any]:
        return {
            "path": label,
            "exists": self.original is not None,
            "changed": self.changed,
            "diff": self.diff(label) if self.changed else "",
        }


@dataclass(frozen=True)
class AppliedFix:
    rule: str
    safety: str
    line: int | None  # where the finding was, in the original file (None: not from a finding)
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "safety": self.safety,
            "line": self.line,
            "description": self.description,
        }


@dataclass
class ContextGain:
    files_before: int
    bytes_before: int
    files_after: int
    bytes_after: int

    def to_json(self) -> dict[str, Any]:
        return {
            "files_before": self.files_before,
            "bytes_before": self.bytes_before,
            "files_after": self.files_after,
            "bytes_after": self.bytes_after,
            "files_saved": self.files_before - self.files_after,
            "bytes_saved": self.bytes_before - self.bytes_after,
        }


@dataclass
class Gain:
    """What the changes are predicted to save, without building."""

    rebuilt_before: list[StepRef]  # steps a source edit re-runs now
    rebuilt_after: list[StepRef]  # ... after the changes
    base_before: str | None
    base_after: str | None
    packages_before: list[str]  # system packages in the final image
    packages_after: list[str]
    context: ContextGain | None = None

    @property
    def installs_rebuilt_before(self) -> list[StepRef]:
        return [s for s in self.rebuilt_before if s.installs]

    @property
    def installs_rebuilt_after(self) -> list[StepRef]:
        return [s for s in self.rebuilt_after if s.installs]

    @property
    def no_longer_rebuilt(self) -> list[StepRef]:
        """Steps of the original a source edit re-runs that the result keeps cached (matched
        by their instruction text; a step the fixes rewrote is matched by its line kind)."""
        after = {_key(s) for s in self.rebuilt_after}
        return [s for s in self.rebuilt_before if _key(s) not in after]

    @property
    def build_tools_removed(self) -> list[str]:
        return [p for p in build_tools(self.packages_before) if p not in self.packages_after]

    @property
    def packages_removed(self) -> list[str]:
        return [p for p in self.packages_before if p not in self.packages_after]

    @property
    def packages_added(self) -> list[str]:
        return [p for p in self.packages_after if p not in self.packages_before]

    def to_json(self) -> dict[str, Any]:
        return {
            "source_change": {
                "rebuilt_before": [s.to_json() for s in self.rebuilt_before],
                "rebuilt_after": [s.to_json() for s in self.rebuilt_after],
                "installs_rebuilt_before": len(self.installs_rebuilt_before),
                "installs_rebuilt_after": len(self.installs_rebuilt_after),
            },
            "final_image": {
                "base_before": self.base_before,
                "base_after": self.base_after,
                "build_tools_removed": self.build_tools_removed,
                "packages_removed": self.packages_removed,
                "packages_added": self.packages_added,
            },
            "context": self.context.to_json() if self.context else None,
        }


def _key(ref: StepRef) -> str:
    return " ".join(ref.instruction.split())


@dataclass
class OptimizeResult:
    directory: Path
    dockerfile: FileChange
    dockerignore: FileChange | None
    findings: list[Finding]  # in the original Dockerfile
    remaining: list[Finding]  # in the result
    fixes: list[AppliedFix]
    skipped: list[tuple[str, str]]  # structural fixes that do not apply, and why
    available: list[tuple[str, str]]  # structural fixes `--unsafe` would apply (when not given)
    gain: Gain
    unsafe: bool
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.dockerfile.changed or bool(self.dockerignore and self.dockerignore.changed)

    @property
    def changes(self) -> list[FileChange]:
        return [c for c in (self.dockerfile, self.dockerignore) if c is not None and c.changed]

    def label(self, path: Path) -> str:
        """A path as the report shows it: relative to the context directory."""
        try:
            return path.resolve().relative_to(self.directory.resolve()).as_posix()
        except ValueError:
            return str(path)

    def write(self) -> list[Path]:
        """Write the changed files atomically; returns their paths."""
        written = []
        for change in self.changes:
            atomic_write(change.path, change.text)
            written.append(change.path)
        return written

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "dockerfile": self.dockerfile.to_json(self.label(self.dockerfile.path)),
            "dockerignore": (
                self.dockerignore.to_json(self.label(self.dockerignore.path))
                if self.dockerignore
                else None
            ),
            "changed": self.changed,
            "unsafe": self.unsafe,
            "findings": [f.to_json() for f in self.findings],
            "fixes": [f.to_json() for f in self.fixes],
            "remaining": [f.to_json() for f in self.remaining],
            "skipped": [{"fix": n, "reason": r} for n, r in self.skipped],
            "available_with_unsafe": [{"fix": n, "description": d} for n, d in self.available],
            "gain": self.gain.to_json(),
            "notes": self.notes,
        }


def find_dockerfile(directory: Path, dockerfile: str | Path | None) -> Path:
    if dockerfile is not None:
        path = Path(dockerfile)
        if not path.is_absolute() and not path.exists() and (directory / path).exists():
            path = directory / path
        if not path.is_file():
            raise InputError(f"{dockerfile}: no such Dockerfile")
        return path
    for name in DOCKERFILE_NAMES:
        if (directory / name).is_file():
            return directory / name
    raise InputError(f"{directory}: no Dockerfile in this directory (name one with -f)")


def optimize(
    directory: str | Path,
    dockerfile: str | Path | None = None,
    *,
    unsafe: bool = False,
    healthcheck: str | None = None,
    writable: Sequence[str] = (),
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
) -> OptimizeResult:
    """Analyse one build (context directory + Dockerfile) and compute the optimized files.

    Raises InputError (one line) for a missing directory or Dockerfile, and
    DockerfileSyntaxError for a Dockerfile that does not parse."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"{directory}: not a directory (optimize takes the build context)")
    if healthcheck is not None:
        check_path(healthcheck)
    path = find_dockerfile(root, dockerfile)
    config = config if config is not None else find_config(path)
    df = read_dockerfile(path)
    args = dict(build_args or {})
    notes: list[str] = []

    original_context = BuildContext.load(root, path, build_args=args, target=target)
    extra: list[tuple[str, str]] = []
    if unsafe:
        # What a broad COPY sweeps up but the image never runs (tests, docs, tool files): only
        # with --unsafe, since leaving it out changes what the image contains.
        lint_ctx = LintContext(df, config=config, build_context=original_context)
        extra = [(p, f"{kind}: not run by the image") for p, kind in not_runtime_roots(lint_ctx)]
    dockerignore, build_context = _dockerignore(original_context, notes, extra)

    before = lint(df, config=config, select=select, ignore=ignore, build_context=original_context)
    options = Options(tuple(writable))
    fixed = fix_all(
        df,
        unsafe=unsafe,
        config=config,
        select=select,
        ignore=ignore,
        build_context=build_context,
        options=options,
    )
    fixes = [
        AppliedFix(f.rule, f.fix.safety, f.line, f.fix.description)
        for f in fixed.applied
        if f.fix is not None
    ]
    fixes.extend(AppliedFix(rule, "unsafe", None, what) for rule, what in fixed.structural)
    notes.extend(fixed.notes)
    text = fixed.text
    skipped = list(fixed.structural_skipped)
    available: list[tuple[str, str]] = []
    if not unsafe:
        available = [
            (f.rule, f.fix.description)
            for f in fixed.remaining
            if f.fix is not None and f.fix.safety == "unsafe"
        ]
    if healthcheck is not None:
        current = parse_dockerfile(text, df.path)
        fix, why = split_healthcheck(LintContext(current, config=config), healthcheck)
        if fix is not None:
            from layerwise.fixes.engine import apply_edits

            text = apply_edits(text, fix.edits)
            fixes.append(AppliedFix("healthcheck", "unsafe", None, fix.description))
        elif why:
            skipped.append(("healthcheck", why))

    result_df = parse_dockerfile(text, df.path)
    after = lint(
        result_df, config=config, select=select, ignore=ignore, build_context=build_context
    )
    gain = _gain(df, result_df, config, build_context, args, target)
    gain.context = _context_gain(original_context, build_context, result_df, args, target)
    return OptimizeResult(
        directory=root,
        dockerfile=FileChange(path, df.text, text),
        dockerignore=dockerignore,
        findings=before.findings,
        remaining=after.findings,
        fixes=fixes,
        skipped=skipped,
        available=available,
        gain=gain,
        unsafe=unsafe,
        notes=notes,
    )


def _dockerignore(
    ctx: BuildContext, notes: list[str], extra: list[tuple[str, str]]
) -> tuple[FileChange | None, BuildContext]:
    """The ignore file with the context engine's suggestions (and `extra` (path, why)), and the
    context as the build will see it with that file (the fixes plan against what will be
    sent)."""
    try:
        planned = write_dockerignore(ctx, dry_run=True, extra=extra)
    except InputError as exc:
        notes.append(f".dockerignore not changed: {exc}")
        return None, ctx
    target = planned.path
    existing = (
        target.read_text(encoding="utf-8", errors="surrogateescape") if target.is_file() else None
    )
    if not planned.added:
        return None, ctx
    lines, matcher = parse_ignore(planned.text, str(target))
    after = BuildContext(ctx.root, ctx.dockerfile, IgnoreFile(target, lines, matcher), ctx.model)
    change = FileChange(target, existing, planned.text)
    return change, after


def _context_gain(
    before: BuildContext,
    after: BuildContext,
    result: Dockerfile,
    build_args: dict[str, str],
    target: str | None,
) -> ContextGain:
    """Files and bytes BuildKit transfers for the build, before and after."""
    old = before.transfer
    new = after.with_model(result.model(build_args, target)).transfer
    return ContextGain(_files(old), old.total_bytes, _files(new), new.total_bytes)


def _files(snapshot: ContextSnapshot) -> int:
    return sum(1 for e in snapshot.entries.values() if e.kind != "dir")


def _gain(
    before: Dockerfile,
    after: Dockerfile,
    config: Config,
    build_context: BuildContext,
    build_args: dict[str, str],
    target: str | None,
) -> Gain:
    old = LintContext(
        before, before.model(build_args, target), config=config, build_context=build_context
    )
    new = LintContext(
        after, after.model(build_args, target), config=config, build_context=build_context
    )
    files = project_files(build_context)
    return Gain(
        rebuilt_before=source_change_rebuilds(old, manifest_files(old, files)),
        rebuilt_after=source_change_rebuilds(new, manifest_files(new, files)),
        base_before=final_base(old),
        base_after=final_base(new),
        packages_before=final_packages(old),
        packages_after=final_packages(new),
    )


@dataclass
class BuildOptimization:
    """The optimization of one build of a compose project (the services that build it)."""

    services: list[str]
    result: OptimizeResult
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"services": self.services, "note": self.note, **self.result.to_json()}


def optimize_compose(
    directory: str | Path,
    *,
    services: Sequence[str] = (),
    files: Sequence[str] = (),
    unsafe: bool = False,
    healthcheck: str | None = None,
    writable: Sequence[str] = (),
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
) -> tuple[list[BuildOptimization], list[str]]:
    """Optimize every build the compose files of `directory` (or `files`) define (each local
    Dockerfile once), with each service's build context, Dockerfile, target and build arguments
    as Compose resolves them. Returns the optimizations and notes on the builds left out
    (remote contexts, inline Dockerfiles); a Dockerfile several services build with different
    targets is optimized for the first service's, with a note. `build_args` add to (and win
    over) every service's, `target` replaces theirs."""
    from layerwise.compose.targets import resolve_builds

    resolved = resolve_builds(directory, files, services)
    notes = list(resolved.notes)
    out: list[BuildOptimization] = []
    for build in resolved.builds:
        build = build.overridden(build_args or {}, target)
        if build.dockerfile is None:
            notes.append(f"{build.label}: an inline Dockerfile is not optimized")
            continue
        result = optimize(
            build.context,
            build.dockerfile,
            unsafe=unsafe,
            healthcheck=healthcheck,
            writable=writable,
            config=config,
            select=select,
            ignore=ignore,
            build_args=build.args,
            target=build.target,
        )
        out.append(BuildOptimization(build.services, result, build.note))
    if not out and not notes:
        raise InputError(f"{directory}: the compose project has no service with a local build")
    return out, notes


def has_compose_project(directory: str | Path, dockerfile: str | Path | None) -> bool:
    """Whether `optimize DIR` means the compose project: no -f and no Dockerfile in DIR, but
    compose files."""
    from layerwise.compose.targets import is_compose_directory

    return is_compose_directory(directory, dockerfile)
