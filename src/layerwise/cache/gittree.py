"""The build context at a commit, read from git and kept up to date one commit at a time.

The history replay needs the digest of every selection a step makes (`COPY src/ ...`, a bind
mount, `COPY . .`) at every commit. Recomputing them over thousands of files per commit would be
far too slow, so each selection keeps a running sum of its entries' digests (see
`layerwise.cache.digest`) and a commit only adds and subtracts the files it changed. A revert
gives back exactly the earlier sum, so a step that reads reverted files is found in the cache,
as in BuildKit.

Files are git's: their blob id stands for their content, `100755` for an executable file and
`120000` for a symlink (which is not followed; its target is its content). Directories exist
through the files in them. A checkout's `.git` directory is in the context unless
`.dockerignore` excludes it, and its content changes with every commit; it is modelled as one
entry whose content is the commit id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from layerwise.cache.digest import h, set_digest, term
from layerwise.cache.files import EntryKind, SourceDigest, SourceSpec, clean_source
from layerwise.context import gopath
from layerwise.context.ignore import MatchInfo, PatternMatcher

GIT_ENTRY = ".git/HEAD"
_KINDS = {"100644": ("file", 0o644), "100755": ("file", 0o755), "120000": ("symlink", 0o777)}


class _Selector:
    """Which context paths one source selects, and the name each is digested under."""

    __slots__ = ("base", "depth", "excludes", "pattern", "src", "wildcard")

    def __init__(self, source: str, excludes: PatternMatcher | None, allow_wildcard: bool) -> None:
        src = clean_source(source)
        self.src = src
        self.excludes = excludes
        self.wildcard = False
        self.base = src
        self.pattern = ""
        self.depth = 0
        if allow_wildcard:
            parts = src.split("/") if src else []
            for i, part in enumerate(parts):
                if gopath.contains_wildcards(part):
                    self.wildcard = True
                    self.base = "/".join(parts[:i])
                    self.pattern = "/".join(parts[i:])
                    # `*` and `?` never match `/`: a match has as many parts as the pattern
                    self.depth = 0 if "[" in self.pattern else self.pattern.count("/") + 1
                    break

    def rel(self, path: str) -> str | None:
        """The name `path` is digested under, or None when this source does not select it."""
        if self.wildcard:
            base = self.base
            if base:
                if not path.startswith(base + "/"):
                    return None
                rest = path[len(base) + 1 :]
            else:
                rest = path
            parts = rest.split("/")
            lengths = [self.depth] if self.depth else range(1, len(parts) + 1)
            for n in lengths:
                if n > len(parts):
                    return None
                try:
                    hit = gopath.match(self.pattern, "/".join(parts[:n]))
                except gopath.BadPatternError:
                    return None
                if hit:
                    inner = "/".join(parts[n:])
                    if inner and self._excluded(inner):
                        return None
                    return rest
            return None
        src = self.src
        if not src:
            rel = path
        elif path == src:
            return ""  # a single-file source is digested without its name
        elif path.startswith(src + "/"):
            rel = path[len(src) + 1 :]
        else:
            return None
        if self._excluded(rel):
            return None
        return rel

    def _excluded(self, rel: str) -> bool:
        if self.excludes is None:
            return False
        info: MatchInfo | None = None
        excluded = False
        parts = rel.split("/")
        for i in range(len(parts)):
            excluded, info = self.excludes.match_with_parent("/".join(parts[: i + 1]), info)
        return excluded


@dataclass
class _Sum:
    selector: _Selector
    total: int = 0
    count: int = 0


class GitContext:
    """The files of a context directory at one commit, after `.dockerignore`."""

    def __init__(self, matcher: PatternMatcher | None = None) -> None:
        self.files: dict[str, tuple[str, str]] = {}  # path -> (git mode, blob id), unfiltered
        self.dirs: Counter[str] = Counter()
        self.matcher = matcher if matcher is not None and matcher.patterns else None
        self._excluded: dict[str, tuple[bool, MatchInfo]] = {}
        self._sums: dict[SourceSpec, list[_Sum]] = {}
        self._digests: dict[SourceSpec, SourceDigest] = {}

    # -- the tree ----------------------------------------------------------------------------

    def load(self, files: Iterable[tuple[str, str, str]]) -> None:
        """Set the whole tree: (path, mode, blob) for every file."""
        self.files = {}
        self.dirs = Counter()
        for path, mode, blob in files:
            self._put(path, mode, blob)
        self._rebuild_sums()

    def apply(self, path: str, mode: str | None, blob: str | None) -> None:
        """One file changed (mode None: deleted)."""
        old = self.files.get(path)
        visible = not self.excluded(path)
        if old is not None:
            self._drop(path)
            if visible:
                self._account(path, old, -1)
        if mode is not None and blob is not None:
            self._put(path, mode, blob)
            if visible:
                self._account(path, (mode, blob), 1)

    def set_ignore(self, matcher: PatternMatcher | None) -> None:
        """A new ignore file: only the files it excludes or lets through differently from the
        old one change the selections."""
        before = {p for p in self.files if self.excluded(p)}
        self.matcher = matcher if matcher is not None and matcher.patterns else None
        self._excluded = {}
        for path, entry in self.files.items():
            now = self.excluded(path)
            if now != (path in before):
                self._account(path, entry, -1 if now else 1)

    def _put(self, path: str, mode: str, blob: str) -> None:
        if path in self.files:
            self.files[path] = (mode, blob)
            return
        self.files[path] = (mode, blob)
        self._digests.clear()  # a missing source may exist now
        parts = path.split("/")
        for i in range(1, len(parts)):
            self.dirs["/".join(parts[:i])] += 1

    def _drop(self, path: str) -> None:
        del self.files[path]
        self._digests.clear()
        parts = path.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            self.dirs[d] -= 1
            if self.dirs[d] <= 0:
                del self.dirs[d]

    # -- .dockerignore -----------------------------------------------------------------------

    def excluded(self, path: str) -> bool:
        if self.matcher is None:
            return False
        return self._match(path)[0]

    def _match(self, path: str) -> tuple[bool, MatchInfo]:
        found = self._excluded.get(path)
        if found is not None:
            return found
        assert self.matcher is not None
        parent, _, _ = path.rpartition("/")
        info = self._match(parent)[1] if parent else None
        found = self.matcher.match_with_parent(path, info)
        self._excluded[path] = found
        return found

    # -- selections --------------------------------------------------------------------------

    def _sums_for(self, spec: SourceSpec) -> list[_Sum]:
        sums = self._sums.get(spec)
        if sums is None:
            excludes = PatternMatcher.from_patterns(spec.excludes) if spec.excludes else None
            sources = spec.sources or (".",)
            sums = [_Sum(_Selector(s, excludes, not spec.mount)) for s in sources]
            self._fill(sums)
            self._sums[spec] = sums
        return sums

    def _fill(self, sums: list[_Sum]) -> None:
        for s in sums:
            s.total = s.count = 0
        for path, entry in self.files.items():
            if self.excluded(path):
                continue
            for s in sums:
                rel = s.selector.rel(path)
                if rel is not None:
                    s.total += _term(rel, entry)
                    s.count += 1

    def _rebuild_sums(self) -> None:
        self._digests = {}
        for sums in self._sums.values():
            self._fill(sums)

    def _account(self, path: str, entry: tuple[str, str], sign: int) -> None:
        for spec, sums in self._sums.items():
            for s in sums:
                rel = s.selector.rel(path)
                if rel is not None:
                    s.total += sign * _term(rel, entry)
                    s.count += sign
                    self._digests.pop(spec, None)

    # -- ContextFiles ------------------------------------------------------------------------

    def digest(self, spec: SourceSpec) -> SourceDigest:
        found = self._digests.get(spec)
        if found is None:
            found = self._digests[spec] = self._digest(spec)
        return found

    def _digest(self, spec: SourceSpec) -> SourceDigest:
        sums = self._sums_for(spec)
        parts = []
        errors = []
        count = 0
        for s in sums:
            count += s.count
            if s.count == 0 and not s.selector.wildcard and self.kind(s.selector.src) is None:
                errors.append(f'"/{s.selector.src}": not found')
                parts.append(h("missing", s.selector.src))
            else:
                parts.append(set_digest(s.total, s.count))
        return SourceDigest(h(*parts), count, "; ".join(errors) if errors else None)

    def members(self, spec: SourceSpec) -> dict[str, str]:
        sums = self._sums_for(spec)
        out: dict[str, str] = {}
        for path, entry in self.files.items():
            if self.excluded(path):
                continue
            for s in sums:
                rel = s.selector.rel(path)
                if rel is not None:
                    out[path] = f"{_term(rel, entry):032x}"
        return out

    def selects(self, spec: SourceSpec, path: str) -> bool:
        if self.excluded(path):
            return False
        return any(s.selector.rel(path) is not None for s in self._sums_for(spec))

    def kind(self, path: str) -> EntryKind | None:
        if not path:
            return "dir"
        entry = self.files.get(path)
        if entry is not None:
            if self.excluded(path):
                return None
            return "symlink" if entry[0] == "120000" else "file"
        if path in self.dirs and not self.excluded(path):
            return "dir"
        return None


def _term(rel: str, entry: tuple[str, str]) -> int:
    kind, mode = _KINDS.get(entry[0], ("other", 0))
    return term(rel, kind, mode, entry[1])
