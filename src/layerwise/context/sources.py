"""Which context files a COPY, ADD or bind mount reads, resolved as BuildKit resolves them.

BuildKit copies from the context snapshot it received (so files removed by `.dockerignore` are
not there) with these rules (dockerfile2llb, then fsutil's copy in the file-op backend):

* a source is made absolute and cleaned (`../a` is `/a`: nothing escapes the context);
* if a path component holds a wildcard (`*`, `?`, `[`), the part before it is resolved through
  symlinks and the rest is matched with Go's `filepath.Match` against every path below it (a
  matching directory is not searched further); a wildcard that matches nothing copies nothing
  and is not an error, but a missing directory before the wildcard is;
* each match, and a source without wildcards, is resolved through symlinks inside the context
  (absolute targets start at the context root); a missing one fails the build (`not found`);
* a directory is copied recursively (its symlinks as links); `--exclude` patterns are matched
  against paths relative to each copied directory (`.dockerignore` syntax), `--parents` turns
  the source into an include pattern below an optional `/./` pivot.

`resolve_copy` works on plain inputs (the sources after ARG expansion, the excludes, the parents
flag) and a walked context, so it does not depend on how a Dockerfile was parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from layerwise.context import gopath
from layerwise.context.ignore import IgnorePatternError, MatchInfo, PatternMatcher
from layerwise.context.walk import ContextSnapshot, Entry

MAX_SYMLINKS = 255

MatchKind = Literal["file", "dir", "symlink", "other"]


@dataclass(frozen=True)
class Match:
    """One thing a source resolved to: `path` as matched (what names the destination, e.g. a
    symlink's own name), `resolved` after following symlinks, and the context entries read."""

    path: str
    resolved: str
    kind: MatchKind
    reads: tuple[str, ...]  # context paths read (files, links, special files, directories)


@dataclass(frozen=True)
class SourceResult:
    """What one source of a COPY/ADD (or a bind mount) reads, or why Docker fails on it."""

    source: str  # as given (after ARG expansion)
    wildcard: bool
    matches: tuple[Match, ...] = ()
    error: str | None = None  # the build fails on this source (e.g. it is not in the context)
    excluded_by: str | None = None  # for a missing source: the .dockerignore line removing it

    @property
    def matched_nothing(self) -> bool:
        """A wildcard that matched nothing: Docker copies nothing and does not fail."""
        return self.error is None and not self.matches

    @property
    def reads(self) -> set[str]:
        out: set[str] = set()
        for m in self.matches:
            out.update(m.reads)
        return out


@dataclass(frozen=True)
class CopyResult:
    """All sources of one COPY/ADD or mount."""

    sources: tuple[SourceResult, ...]
    errors: tuple[str, ...] = field(default=())

    @property
    def reads(self) -> set[str]:
        out: set[str] = set()
        for s in self.sources:
            out |= s.reads
        return out

    @property
    def ok(self) -> bool:
        return not self.errors


class _NotFoundError(Exception):
    pass


class _TooManyLinksError(Exception):
    pass


def _resolve(entries: dict[str, Entry], path: str, links: list[str]) -> str:
    """Follow symlinks along `path` (relative, cleaned) inside the context, like continuity's
    fs.RootPath: absolute targets start at the root, `..` stops at the root, a missing component
    ends resolution. Appends the symlinks it passes through to `links`."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    parts.reverse()  # a stack: the next component is at the end
    resolved: list[str] = []
    followed = 0
    while parts:
        c = parts.pop()
        if c in ("", "."):
            continue
        if c == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = "/".join([*resolved, c])
        entry = entries.get(candidate)
        if entry is not None and entry.kind == "symlink" and entry.target is not None:
            followed += 1
            if followed > MAX_SYMLINKS:
                raise _TooManyLinksError(candidate)
            links.append(candidate)
            target = entry.target
            if target.startswith("/"):
                resolved = []
            parts.extend(reversed(target.split("/")))
            continue
        resolved.append(c)
    return "/".join(resolved)


def _is_dir(entries: dict[str, Entry], path: str) -> bool:
    return not path or entries[path].kind == "dir"


def _split_wildcards(path: str) -> tuple[str, str]:
    """fsutil's splitWildcards on a cleaned absolute path: the components before the first one
    holding a wildcard, and the rest (both without a leading /)."""
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        if gopath.contains_wildcards(part):
            return "/".join(parts[:i]), "/".join(parts[i:])
    return "/".join(parts), ""


def _walk_matches(snapshot: ContextSnapshot, base: str, pattern: str) -> list[str]:
    """filepath.Walk below `base` collecting paths whose path relative to `base` matches
    `pattern`; a matching directory is not descended into (fsutil's resolveWildcards)."""
    children = snapshot.children()
    entries = snapshot.entries
    out: list[str] = []
    # `*` and `?` never match `/`; only a class can. Without one, a match has exactly as many
    # components as the pattern, so deeper directories need not be searched.
    max_depth = pattern.count("/") + 1 if "[" not in pattern else None
    stack: list[tuple[str, str, int]] = [(base, "", 0)]
    while stack:
        directory, rel_prefix, depth = stack.pop()
        for name in sorted(children.get(directory, ()), reverse=True):
            path = f"{directory}/{name}" if directory else name
            rel = rel_prefix + name
            try:
                hit = gopath.match(pattern, rel)
            except gopath.BadPatternError:
                hit = False
            entry = entries[path]
            if hit:
                out.append(path)
                continue
            if entry.kind == "dir" and (max_depth is None or depth + 1 < max_depth):
                stack.append((path, rel + "/", depth + 1))
    out.sort()
    return out


def _copy_reads(
    snapshot: ContextSnapshot,
    root: str,
    includes: PatternMatcher | None,
    excludes: PatternMatcher | None,
) -> list[str]:
    """The entries below directory `root` that fsutil's copier copies, with include patterns
    (from --parents) and exclude patterns (from --exclude) relative to `root`."""
    children = snapshot.children()
    entries = snapshot.entries
    reads: list[str] = []
    has_exceptions = excludes is not None and excludes.exclusions
    # (directory, its path relative to root, include info, exclude info, pending parents)
    stack: list[tuple[str, str, MatchInfo | None, MatchInfo | None, list[str]]] = [
        (root, "", None, None, [])
    ]
    while stack:
        directory, rel_prefix, iinfo, einfo, pending = stack.pop()
        for name in sorted(children.get(directory, ())):
            path = f"{directory}/{name}" if directory else name
            rel = rel_prefix + name
            entry = entries[path]
            include = True
            excluded = False
            child_iinfo = child_einfo = None
            if includes is not None:
                include, child_iinfo = includes.match_with_parent(rel, iinfo)
            if excludes is not None:
                excluded, child_einfo = excludes.match_with_parent(rel, einfo)
                if excluded:
                    include = False
            if not include and includes is None and not has_exceptions:
                continue
            is_dir = entry.kind == "dir"
            if not include and not is_dir:
                continue
            if include:
                # Directories that were not copied themselves are created once something
                # inside them is.
                reads.extend(pending)
                pending = []
                reads.append(path)
            if is_dir:
                if excluded and not has_exceptions:
                    continue
                below = [] if include else [*pending, path]
                stack.append((path, rel + "/", child_iinfo, child_einfo, below))
    return list(dict.fromkeys(reads))


def _explain_missing(snapshot: ContextSnapshot, path: str) -> str | None:
    """If `path` exists in the context directory but was not sent, the ignore line that
    removed it (`.dockerignore:3: node_modules`)."""
    if not path:
        return None
    full = snapshot.root / path
    if not (full.exists() or full.is_symlink()):
        return None
    ignore = snapshot.ignore
    if ignore is None or ignore.path is None:
        return None
    pattern = ignore.matcher.deciding_pattern(path)
    if pattern is None:
        return None
    return f"{ignore.path.name}:{pattern.line}: {pattern.source}"


def _resolve_one(
    snapshot: ContextSnapshot,
    original: str,
    src: str,
    includes: PatternMatcher | None,
    excludes: PatternMatcher | None,
    required: str | None,
    allow_wildcard: bool,
) -> SourceResult:
    entries = snapshot.entries
    wildcard = False
    links: list[str] = []
    try:
        if required is not None:
            req_links: list[str] = []
            req = _resolve(entries, required, req_links)
            if req and req not in entries:
                return _missing(snapshot, original, required, False)
        d1, d2 = _split_wildcards(src) if allow_wildcard else (src.strip("/"), "")
        if d2:
            wildcard = True
            base = _resolve(entries, d1, links)
            if base and base not in entries:
                # filepath.Walk cannot lstat the directory before the wildcard: the copy fails.
                return _missing(snapshot, original, d1, True)
            candidates = _walk_matches(snapshot, base, d2) if _is_dir(entries, base) else []
        else:
            candidates = [d1]
        matches: list[Match] = []
        for cand in candidates:
            cand_links = list(links)
            resolved = _resolve(entries, cand, cand_links)
            if resolved and resolved not in entries:
                if wildcard:
                    # A dangling symlink matched by a wildcard: Docker fails on it too.
                    return SourceResult(original, wildcard, (), f'"/{cand}": not found')
                return _missing(snapshot, original, cand, wildcard)
            kind: MatchKind = "dir" if not resolved else entries[resolved].kind
            reads = list(dict.fromkeys(cand_links))
            if kind == "dir":
                if resolved:
                    reads.append(resolved)
                reads.extend(_copy_reads(snapshot, resolved, includes, excludes))
            else:
                reads.append(resolved)
            matches.append(Match(cand, resolved, kind, tuple(reads)))
    except _TooManyLinksError as exc:
        return SourceResult(original, wildcard, (), f"{exc}: too many levels of symbolic links")
    return SourceResult(original, wildcard, tuple(matches))


def _missing(snapshot: ContextSnapshot, original: str, path: str, wildcard: bool) -> SourceResult:
    excluded_by = _explain_missing(snapshot, path)
    message = f'"/{path}": not found'
    if excluded_by is not None:
        message += f" (excluded by {excluded_by})"
    return SourceResult(original, wildcard, (), message, excluded_by)


def _pattern_matcher(patterns: Sequence[str], what: str) -> PatternMatcher | None:
    if not patterns:
        return None
    try:
        return PatternMatcher.from_patterns(patterns)
    except IgnorePatternError as exc:
        raise IgnorePatternError(f"invalid {what}: {exc.message}", exc.pattern) from None


def resolve_copy(
    snapshot: ContextSnapshot,
    sources: Iterable[str],
    excludes: Sequence[str] = (),
    parents: bool = False,
) -> CopyResult:
    """Resolve the context sources of one COPY/ADD (URLs and heredocs left out by the caller).

    `sources` are the source strings after ARG/ENV expansion; `excludes` the `--exclude`
    patterns; `parents` the `--parents` flag. Invalid exclude patterns raise
    IgnorePatternError (Docker fails the build the same way).
    """
    exclude_matcher = _pattern_matcher(excludes, "--exclude pattern")
    results: list[SourceResult] = []
    for original in sources:
        src = original
        includes: PatternMatcher | None = None
        required: str | None = None
        if parents:
            parent, sep, pattern = src.partition("/./")
            if not sep:
                pattern, parent = src, "/"
            pattern = gopath.clean("/" + pattern).lstrip("/")
            if not gopath.contains_wildcards(parent) and not gopath.contains_wildcards(pattern):
                required = gopath.clean(gopath.join(parent, pattern)).lstrip("/")
            includes = _pattern_matcher([pattern], "--parents source")
            src = parent
        src = gopath.clean("/" + src)
        results.append(
            _resolve_one(snapshot, original, src, includes, exclude_matcher, required, True)
        )
    errors = tuple(f"{r.source}: {r.error}" for r in results if r.error is not None)
    return CopyResult(tuple(results), errors)


def resolve_mount(snapshot: ContextSnapshot, source: str = "") -> CopyResult:
    """A `RUN --mount=type=bind` from the context: everything below `source` (no wildcards)."""
    src = gopath.clean("/" + source)
    result = _resolve_one(snapshot, source or ".", src, None, None, None, False)
    errors = (f"{source}: {result.error}",) if result.error is not None else ()
    return CopyResult((result,), errors)
