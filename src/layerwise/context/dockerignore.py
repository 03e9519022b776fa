"""Suggested `.dockerignore` lines, and writing or merging the file.

Each suggestion is one line with the files and bytes it would stop sending, computed exactly: the
line is appended after the existing patterns (where the last match wins) and evaluated in the
walker's mode on the current context. Suggestions come in this order, and each one counts only
what the ones before it did not already drop:

1. secret-looking files, unless a COPY/ADD names them (then the build needs them, and they are
   reported, not hidden);
2. well-known junk (version control, caches, virtualenvs, node_modules, logs, editor files...),
   even when a broad `COPY . .` copies it, but never where a source names it; build outputs
   (`dist`, `build`) only when nothing reads them;
3. paths the caller knows the image does not need (`optimize --unsafe`: the tests, docs and
   tool files a broad COPY sweeps up, LW102), unless a source names them;
4. with a Dockerfile: the largest subtrees that no step of the built stages reads.

`write_dockerignore` then keeps every line and comment of an existing file, appends only what is
missing, checks the result (it parses, every source still resolves, everything still read is
still sent, apart from the junk and secrets it meant to drop) and writes it atomically.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from layerwise.context.ignore import (
    DOCKERIGNORE,
    IgnoreFile,
    Pattern,
    PatternMatcher,
    compile_pattern,
    parse_ignore,
)
from layerwise.context.junk import is_under
from layerwise.context.project import BuildContext
from layerwise.context.secrets import name_rule
from layerwise.context.walk import ContextSnapshot, Entry
from layerwise.dockerfile.gotext import is_space
from layerwise.errors import InputError
from layerwise.fsutil import atomic_write

HEADER = (
    "# Written by `layerwise context --write-dockerignore`: each line stops sending files that\n"
    "# the build does not need. Lines are matched in order and the last match wins.\n"
)
MERGE_HEADER = "# Added by `layerwise context --write-dockerignore`:\n"


@dataclass(frozen=True)
class Suggestion:
    pattern: str
    why: str  # the comment group it belongs to
    category: str  # "secret", "junk", "not-runtime" or "unused"
    entries: tuple[Entry, ...]  # files (not directories) it stops sending

    @property
    def files(self) -> int:
        return len(self.entries)

    @property
    def bytes(self) -> int:
        return sum(e.size for e in self.entries)


def escape_path(path: str) -> str:
    """A .dockerignore line matching exactly this path (relative to the context root)."""
    line = "".join("\\" + c if c in "*?[]\\" else ("?" if c in "\r\n" else c) for c in path)
    if line.startswith(("#", "!")):
        line = "\\" + line
    # Surrounding whitespace is trimmed when the file is read: match it with a class instead.
    start, end = 0, len(line)
    while start < end and is_space(line[start]):
        start += 1
    while end > start and is_space(line[end - 1]):
        end -= 1
    lead = "".join(f"[{c}]" for c in line[:start])
    trail = "".join(f"[{c}]" for c in line[end:])
    return lead + line[start:end] + trail


def _lazily_sent_dirs(snapshot: ContextSnapshot, matcher: PatternMatcher) -> set[str]:
    """Directories sent only as the parents of something re-included (excluded themselves)."""
    if not matcher.patterns:
        return set()
    out: set[str] = set()
    infos: dict[str, tuple[bool, ...] | None] = {"": None}
    for path in sorted(p for p, e in snapshot.entries.items() if e.kind == "dir"):
        parent = path.rpartition("/")[0]
        excluded, info = matcher.match_with_parent(path, infos.get(parent))
        infos[path] = info
        if excluded:
            out.add(path)
    return out


class _Planner:
    """Accumulates suggestions, computing what each new line drops (see the module doc)."""

    def __init__(self, snapshot: ContextSnapshot, matcher: PatternMatcher) -> None:
        self.snapshot = snapshot
        self.remaining = sorted(snapshot.entries)  # parents before children
        self.lazy = _lazily_sent_dirs(snapshot, matcher)
        self.removed: set[str] = set()
        self.suggestions: list[Suggestion] = []
        self.lines: set[str] = set()

    def hits(self, pattern: Pattern) -> list[str]:
        """Paths not yet dropped that the pattern drops when appended last: it hits a path
        itself (not where the path is only sent as a parent: the walker skips the pattern
        there), or a parent it hit."""
        if self.removed:
            self.remaining = [p for p in self.remaining if p not in self.removed]
        paths = self.remaining
        if pattern.kind == "exact":
            # Only the path itself and what is below it: find them by bisection.
            text = pattern.text
            i = bisect_left(paths, text)
            if i == len(paths) or paths[i] != text or text in self.lazy:
                return []
            lo, hi = bisect_left(paths, text + "/"), bisect_left(paths, text + "0")
            return [text, *paths[lo:hi]]
        entries = self.snapshot.entries
        lazy = self.lazy
        dir_hit: dict[str, bool] = {}
        out = []
        for path in paths:
            parent = path.rpartition("/")[0]
            hit = dir_hit.get(parent, False) or (path not in lazy and pattern.match(path))
            if entries[path].kind == "dir":
                dir_hit[path] = hit
            if hit:
                out.append(path)
        return out

    def add(self, line: str, why: str, category: str, *, force: bool = False) -> Suggestion | None:
        """Add the line if it drops something not dropped yet (`force`: even if not)."""
        if line in self.lines:
            return None
        pattern = compile_pattern(line)
        dropped = self.hits(pattern)
        if not dropped and not force:
            return None
        self.removed.update(dropped)
        entries = self.snapshot.entries
        files = tuple(entries[p] for p in dropped if entries[p].kind != "dir")
        suggestion = Suggestion(line, why, category, files)
        self.suggestions.append(suggestion)
        self.lines.add(line)
        return suggestion


def suggest(ctx: BuildContext, extra: Iterable[tuple[str, str]] = ()) -> list[Suggestion]:
    """The lines to add to the context's ignore file (see the module doc for the order).

    `extra` is (path, why) for more paths the caller knows the build does not need (the
    files a broad COPY sweeps up that the image does not run, LW102): they come after the
    junk, each unless a source names it or another Dockerfile here reads it."""
    snapshot = ctx.snapshot
    planner = _Planner(snapshot, ctx.ignore.matcher)
    read = ctx.read_paths

    why = "secrets: never send them (use RUN --mount=type=secret)"
    by_line: dict[str, list[str]] = {}
    for secret in ctx.secrets:
        if ctx.is_named(secret.path):
            continue  # the build asks for it: hiding it would break the build
        rule = name_rule(secret.path) if secret.by == "name" else None
        by_line.setdefault(rule[1] if rule else escape_path(secret.path), []).append(secret.path)
    for line, paths in by_line.items():
        if "*" in line and any(ctx.is_named(p) for p in planner.hits(compile_pattern(line))):
            # The broad line would also hide a file the build names: list the secrets instead.
            for path in paths:
                planner.add(escape_path(path), why, "secret")
        else:
            planner.add(line, why, "secret")

    for found in ctx.junk:
        kind = found.kind
        roots = list(found.roots)
        if not kind.droppable:
            if any(is_under(p, root) for root in roots for p in read):
                continue
            planner.add(kind.pattern, kind.why, "junk")
            continue
        named = [r for r in roots if ctx.is_named(r)]
        if not named:
            planner.add(kind.pattern, kind.why, "junk")
        else:
            for root in roots:
                if root not in named:
                    planner.add(escape_path(root), kind.why, "junk")

    others = ctx.other_dockerfile_reads if ctx.model is not None else None
    added_extra = False
    for path, why in extra:
        if ctx.is_named(path) or any(is_under(p, path) or is_under(path, p) for p in others or ()):
            continue
        added_extra = planner.add(escape_path(path), why, "not-runtime") is not None or added_extra
    target = _ignore_target(ctx).relative_to(ctx.root).as_posix()
    if added_extra and not ctx.is_named(target) and not _excluded(ctx, target):
        # The ignore file is one of those container files once it exists: name it now, so
        # that the file written is complete (a second run has nothing to add).
        planner.add(
            escape_path(target), "container files: not run by the image", "not-runtime", force=True
        )
    if ctx.model is not None and others is not None:
        # The ignore file itself is left alone, so that writing it changes nothing more.
        keep = {_ignore_target(ctx).relative_to(ctx.root).as_posix()}
        for path in _unused_roots(snapshot, read | others | keep, planner.removed):
            planner.add(escape_path(path), _unused_reason(ctx, bool(others)), "unused")
    return planner.suggestions


def _excluded(ctx: BuildContext, path: str) -> bool:
    return ctx.ignore.matcher.matches_or_parent(path) if ctx.ignore.matcher.patterns else False


def _ignore_target(ctx: BuildContext) -> Path:
    return ctx.ignore.path or ctx.root / DOCKERIGNORE


def _unused_reason(ctx: BuildContext, others: bool) -> str:
    name = ctx.dockerfile.name if ctx.dockerfile is not None else "the Dockerfile"
    target = ctx.model.target.display_name if ctx.model and ctx.model.target else None
    reason = f"not read by {name}" + (f" (target {target})" if target else "")
    return reason + (" nor by the other Dockerfiles here" if others else "")


def _unused_roots(snapshot: ContextSnapshot, read: set[str], removed: set[str]) -> list[str]:
    """The topmost entries with nothing read at or below them."""
    used: set[str] = set()
    for path in read:
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            used.add("/".join(parts[:i]))
    out = []
    covered: list[str] = []
    for path in sorted(snapshot.entries):
        if path in used or path in removed:
            continue
        if covered and is_under(path, covered[-1]):
            continue
        out.append(path)
        covered.append(path)
    return out


@dataclass
class WriteResult:
    path: Path
    text: str
    added: list[Suggestion] = field(default_factory=list)
    written: bool = False
    dropped_read: list[str] = field(default_factory=list)  # read before, deliberately dropped


def render(existing: str | None, suggestions: Iterable[Suggestion]) -> str:
    """The new file: the existing text untouched, then the suggestions grouped by comment."""
    groups: dict[str, list[str]] = {}
    for s in suggestions:
        groups.setdefault(s.why, []).append(s.pattern)
    blocks = ["\n".join([f"# {why}", *lines]) for why, lines in groups.items()]
    body = "\n\n".join(blocks) + "\n" if blocks else ""
    if existing is None or not existing.strip():
        return HEADER + ("\n" + body if body else "")
    text = existing if existing.endswith("\n") else existing + "\n"
    if not body:
        return text
    return text + "\n" + MERGE_HEADER + body


def write_dockerignore(
    ctx: BuildContext, *, dry_run: bool = False, extra: Iterable[tuple[str, str]] = ()
) -> WriteResult:
    """Add the suggested lines to the ignore file the build uses (`.dockerignore` at the root,
    or the Dockerfile's own `<name>.dockerignore` if that is the one in use), after checking
    that the build still gets every file it needs. The write is atomic. `extra`: see
    `suggest`."""
    target = _ignore_target(ctx)
    existing: str | None = None
    if ctx.ignore.path is not None:
        existing = ctx.ignore.path.read_bytes().decode("utf-8", errors="surrogateescape")
    extra = list(extra)
    suggestions = suggest(ctx, extra) if extra else ctx.suggestions
    text = render(existing, suggestions)
    result = WriteResult(target, text, suggestions)
    if not suggestions:
        return result
    result.dropped_read = _verify(ctx, text, target, suggestions)
    if not dry_run:
        atomic_write(target, text)
        result.written = True
    return result


def _verify(ctx: BuildContext, text: str, target: Path, suggestions: list[Suggestion]) -> list[str]:
    """Check the new file before writing it; returns the files still read today that it drops
    on purpose (junk and secrets swept up by a broad COPY). Raises InputError otherwise."""
    lines, matcher = parse_ignore(text, str(target))
    after = BuildContext(ctx.root, ctx.dockerfile, IgnoreFile(target, lines, matcher), ctx.model)
    before_errors = {(id(r.step), e) for r, e in ctx.errors}
    new_errors = [e for r, e in after.errors if (id(r.step), e) not in before_errors]
    if new_errors:
        raise InputError(f"not writing {target}: the build would fail: {new_errors[0]}")
    meant = {e.path for s in suggestions if s.category != "unused" for e in s.entries}
    lost = sorted(ctx.read_paths - after.read_paths)
    unexpected = [p for p in lost if p not in meant and ctx.snapshot.entries[p].kind != "dir"]
    if unexpected:
        raise InputError(
            f"not writing {target}: {unexpected[0]!r} is read by the build but would be dropped"
        )
    return [p for p in lost if ctx.snapshot.entries[p].kind != "dir"]
