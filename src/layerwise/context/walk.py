"""The build context as BuildKit sends it: which files, symlinks and directories, and their sizes.

This follows BuildKit's context transfer (tonistiigi/fsutil's filtered walk, as the buildx client
runs it) step by step:

* the context directory is resolved through symlinks, then walked without following any: a
  symlink is sent as a link, special files (fifos, sockets, devices) as their metadata;
* `.dockerignore` patterns are matched in the walker's mode (each directory passes on which
  patterns matched it); an excluded directory is not read at all unless an exception (`!...`)
  could re-include something beneath it, and is sent only as the parent of something kept;
* when the Dockerfile limits what is transferred (BuildKit sends only the paths COPY/ADD and
  bind mounts name, unless one of them is the whole context), those paths become include
  patterns, after resolving the symlinks on them;
* a directory that cannot be read fails the build unless it is excluded; a file that cannot be
  read fails it when BuildKit opens it. Both are reported here instead of failing the walk.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from layerwise.context import gopath
from layerwise.context.ignore import IgnoreFile, MatchInfo, PatternMatcher
from layerwise.errors import InputError

EntryKind = Literal["file", "dir", "symlink", "other"]

# fsutil's patternChars: an include pattern or an exception containing one of these (before a
# trailing `/*` or `/**`) turns off the pruning of directories that cannot be matched.
_PATTERN_CHARS = frozenset("*[]?^\\")


class Entry(NamedTuple):
    """One entry BuildKit sends: `path` is relative to the context root, slash-separated.

    A tuple, because a walk creates one per file and a class instance costs twice as much."""

    path: str
    kind: EntryKind
    size: int = 0  # bytes of a regular file (0 for a repeated hard link); 0 for anything else
    target: str | None = None  # where a symlink points, as written


@dataclass(frozen=True, slots=True)
class Problem:
    """An entry the walk could not read. `fatal`: BuildKit would fail the build on it."""

    path: str
    reason: str
    fatal: bool


@dataclass(eq=False)
class ContextSnapshot:
    """The entries of a build context after `.dockerignore` (and the include paths, if any)."""

    root: Path  # the context directory, symlinks resolved
    entries: dict[str, Entry]
    problems: list[Problem] = field(default_factory=list)
    ignore: IgnoreFile | None = None
    include_paths: list[str] | None = None  # None: the whole context was walked
    _children: dict[str, list[str]] | None = field(default=None, repr=False)

    def files(self) -> list[Entry]:
        """Everything but directories (regular files, symlinks, special files), sorted."""
        return sorted((e for e in self.entries.values() if e.kind != "dir"), key=_path_key)

    @property
    def total_files(self) -> int:
        return sum(1 for e in self.entries.values() if e.kind != "dir")

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries.values())

    def empty_dirs(self) -> list[str]:
        children = self.children()
        return sorted(p for p, e in self.entries.items() if e.kind == "dir" and not children[p])

    def children(self) -> dict[str, list[str]]:
        """Directory path ("" for the root) -> the names of the entries sent inside it."""
        if self._children is None:
            index: dict[str, list[str]] = {"": []}
            for path, entry in self.entries.items():
                if entry.kind == "dir":
                    index.setdefault(path, [])
                parent, _, name = path.rpartition("/")
                index.setdefault(parent, []).append(name)
            self._children = index
        return self._children

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def under(self, directory: str) -> Iterator[Entry]:
        """Every entry below a directory ("" for the whole context), depth first."""
        children = self.children()
        stack = [directory]
        while stack:
            d = stack.pop()
            for name in children.get(d, ()):
                path = f"{d}/{name}" if d else name
                entry = self.entries[path]
                yield entry
                if entry.kind == "dir":
                    stack.append(path)


def _path_key(entry: Entry) -> str:
    return entry.path


def resolve_root(context_dir: str | Path) -> Path:
    """The context directory with symlinks resolved (fsutil.NewFS); InputError if unusable."""
    path = Path(context_dir)
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        raise InputError(f"build context {str(path)!r} does not exist") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise InputError(f"build context {str(path)!r} is a symlink loop") from None
        raise InputError(f"cannot resolve build context {str(path)!r}: {exc.strerror}") from None
    if not real.is_dir():
        raise InputError(f"build context {str(path)!r} is not a directory")
    return real


class _Dir:
    """A directory on the walk's stack: its match state and whether it has been sent yet."""

    __slots__ = ("einfo", "entry", "iinfo", "parent", "sent")

    def __init__(
        self,
        entry: Entry | None,
        parent: _Dir | None,
        einfo: MatchInfo | None,
        iinfo: MatchInfo | None,
        sent: bool,
    ) -> None:
        self.entry = entry
        self.parent = parent
        self.einfo = einfo
        self.iinfo = iinfo
        self.sent = sent


def _prunable(patterns: Iterable[str]) -> bool:
    return not any(_PATTERN_CHARS.intersection(p) for p in patterns)


class _Readable:
    """Would BuildKit (running as this user) be able to open this file? From the lstat result."""

    def __init__(self) -> None:
        self.uid = os.geteuid()
        self.groups = {os.getegid(), *os.getgroups()}

    def __call__(self, st: os.stat_result) -> bool:
        if self.uid == 0:
            return True
        mode = st.st_mode
        if st.st_uid == self.uid:
            return bool(mode & stat.S_IRUSR)
        if st.st_gid in self.groups:
            return bool(mode & stat.S_IRGRP)
        return bool(mode & stat.S_IROTH)


def walk_context(
    context_dir: str | Path,
    ignore: IgnoreFile | PatternMatcher | None = None,
    include_paths: Sequence[str] | None = None,
    *,
    on_error: Callable[[Problem], None] | None = None,
) -> ContextSnapshot:
    """Walk a build context as BuildKit's transfer does and return what it sends.

    `ignore`: the `.dockerignore` (see `layerwise.context.ignore.load_ignore`), or a matcher.
    `include_paths`: BuildKit's FollowPaths, the context paths the Dockerfile uses (see
    `transfer_paths`); None sends the whole context.
    """
    root = resolve_root(context_dir)
    matcher = ignore.matcher if isinstance(ignore, IgnoreFile) else ignore
    if matcher is not None and not matcher.patterns:
        matcher = None
    includes: PatternMatcher | None = None
    follow: list[str] | None = None
    if include_paths is not None:
        follow = follow_links(root, include_paths)
        if follow:
            includes = PatternMatcher.from_patterns(follow)
    entries: dict[str, Entry] = {}
    problems: list[Problem] = []

    def problem(p: Problem) -> None:
        problems.append(p)
        if on_error is not None:
            on_error(p)

    if follow is None or follow:  # an empty list: the build uses nothing from the context
        _walk(root, matcher, includes, entries, problem)
    return ContextSnapshot(
        root=root,
        entries=entries,
        problems=problems,
        ignore=ignore if isinstance(ignore, IgnoreFile) else None,
        include_paths=follow,
    )


def _walk(
    root: Path,
    excludes: PatternMatcher | None,
    includes: PatternMatcher | None,
    entries: dict[str, Entry],
    problem: Callable[[Problem], None],
) -> None:
    readable = _Readable()
    seen_inodes: set[tuple[int, int]] = set()

    excl = excludes.match_with_parent if excludes is not None else None
    incl = includes.match_with_parent if includes is not None else None
    # Prefixes (with a trailing /) of the patterns that could re-include or include something
    # below an excluded / not included directory, for fsutil's pruning shortcut.
    exception_prefixes: list[str] = []
    prune_excluded = True
    has_exceptions = False
    if excludes is not None:
        exceptions = [p for p in excludes.patterns if p.exclusion]
        has_exceptions = bool(exceptions)
        prune_excluded = _prunable(p.without_trailing_glob() for p in exceptions)
        exception_prefixes = [p.without_trailing_glob() + "/" for p in exceptions]
    include_prefixes: list[str] = []
    prune_unincluded = True
    if includes is not None:
        positive = [p for p in includes.patterns if not p.exclusion]
        prune_unincluded = _prunable(p.without_trailing_glob() for p in positive)
        include_prefixes = [p.without_trailing_glob() + "/" for p in positive]

    def send_parents(parent: _Dir) -> None:
        # Directories that were skipped (excluded, or not included) but are the parents of
        # something sent are sent first, as fsutil does.
        chain = []
        d: _Dir | None = parent
        while d is not None and not d.sent:
            chain.append(d)
            d = d.parent
        for d in reversed(chain):
            assert d.entry is not None
            entries[d.entry.path] = d.entry
            d.sent = True

    check_readable = os.geteuid() != 0
    new_entry = tuple.__new__  # Entry(...) without the Python-level __new__
    s_isreg, s_islnk = stat.S_ISREG, stat.S_ISLNK
    top = _Dir(None, None, None, None, True)
    stack: list[tuple[str, str, _Dir]] = [(str(root), "", top)]
    while stack:
        abs_dir, prefix, parent = stack.pop()
        try:
            it = os.scandir(abs_dir)
        except (FileNotFoundError, NotADirectoryError):
            continue  # vanished during the walk: BuildKit skips it too
        except OSError as exc:
            # BuildKit ignores a directory it cannot read only when it is not sent anyway.
            rel = prefix[:-1]
            fatal = parent.sent or not isinstance(exc, PermissionError)
            problem(Problem(rel, f"cannot read directory: {exc.strerror or exc}", fatal))
            continue
        subdirs: list[tuple[str, str, _Dir]] = []
        p_iinfo, p_einfo = parent.iinfo, parent.einfo
        with it:
            for de in it:
                rel = prefix + de.name
                try:
                    is_dir = de.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                skip = False
                iinfo: MatchInfo | None = None
                einfo: MatchInfo | None = None
                if incl is not None:
                    m, iinfo = incl(rel, p_iinfo)
                    if not m:
                        if is_dir and prune_unincluded:
                            slash = rel + "/"
                            if not any(p.startswith(slash) for p in include_prefixes):
                                continue
                        skip = True
                if excl is not None:
                    m, einfo = excl(rel, p_einfo)
                    if m:
                        if is_dir and prune_excluded:
                            if not has_exceptions:
                                continue
                            slash = rel + "/"
                            if not any(p.startswith(slash) for p in exception_prefixes):
                                continue
                        skip = True
                if is_dir:
                    entry = new_entry(Entry, (rel, "dir", 0, None))
                    node = _Dir(entry, parent, einfo, iinfo, False)
                    if not skip:
                        if not parent.sent:
                            send_parents(parent)
                        entries[rel] = entry
                        node.sent = True
                    subdirs.append((de.path, rel + "/", node))
                    continue
                if skip:
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    problem(Problem(rel, f"cannot stat: {exc.strerror or exc}", True))
                    continue
                mode = st.st_mode
                if s_isreg(mode):
                    size = st.st_size
                    if st.st_nlink > 1:
                        # BuildKit sends the data of a hard-linked file once.
                        key = (st.st_dev, st.st_ino)
                        if key in seen_inodes:
                            size = 0
                        seen_inodes.add(key)
                    if check_readable and not readable(st):
                        problem(Problem(rel, "cannot read file: permission denied", True))
                    entry = new_entry(Entry, (rel, "file", size, None))
                elif s_islnk(mode):
                    try:
                        target = os.readlink(de.path)  # noqa: PTH115 (hot path, str in and out)
                    except OSError as exc:
                        problem(Problem(rel, f"cannot read link: {exc.strerror or exc}", True))
                        continue
                    entry = new_entry(Entry, (rel, "symlink", 0, target))
                else:
                    entry = new_entry(Entry, (rel, "other", 0, None))
                if not parent.sent:
                    send_parents(parent)
                entries[rel] = entry
        # Walk subdirectories in name order (as filepath.WalkDir does), depth first.
        subdirs.sort(key=lambda t: t[1], reverse=True)
        stack.extend(subdirs)


def transfer_paths(sources: Iterable[str]) -> list[str] | None:
    """BuildKit's FollowPaths for the main context: the context paths that COPY/ADD sources and
    bind mounts of the built stages name (after ARG expansion), or None when one of them is the
    whole context (`.`, `/`, a bind mount without `source=`), which sends everything.

    An empty list means nothing uses the context: BuildKit does not transfer it at all.
    """
    paths = set()
    for src in sources:
        p = gopath.clean("/" + src)
        if p == "/":
            return None
        paths.add(p[1:])
    return sorted(paths)


def follow_links(root: Path, paths: Sequence[str]) -> list[str] | None:
    """fsutil.FollowLinks: the paths plus every symlink target met along them (resolved inside
    the context), sorted and de-duplicated; None when the whole context is needed."""
    resolved: set[str] = set()
    for p in paths:
        _follow(root, p, resolved, 0)
    return _dedupe(sorted(resolved))


def _follow(root: Path, p: str, resolved: set[str], depth: int) -> None:
    if depth > 255:
        return
    p = gopath.join(".", p)
    current = "."
    while True:
        first, sep, rest = p.partition("/")
        current = gopath.join(current, first)
        targets = _read_symlink(root, current, allow_wildcard=True)
        p = rest if sep else ""
        if (not p or targets is not None) and current in resolved:
            return
        if targets is not None:
            resolved.add(current)
            for target in targets:
                _follow(root, gopath.join(target, p), resolved, depth + 1)
            return
        if not p:
            resolved.add(current)
            return


def _read_symlink(root: Path, p: str, allow_wildcard: bool) -> list[str] | None:
    base = p.rpartition("/")[2]
    if allow_wildcard and gopath.contains_wildcards(base):
        parent = gopath.go_dir(p)
        try:
            names = [c.name for c in (root / parent).iterdir()]
        except OSError:
            return None
        out: list[str] = []
        for name in sorted(names):
            try:
                hit = gopath.match(base, name)
            except gopath.BadPatternError:
                hit = False
            if hit:
                out.extend(_read_symlink(root, gopath.join(parent, name), False) or [])
        return out or None
    if p in (".", "/"):
        return None
    full = root / p
    try:
        if not stat.S_ISLNK(os.lstat(full).st_mode):
            return None
        link = str(full.readlink())
    except OSError:
        return None
    link = gopath.clean(link)
    if link.startswith("/"):
        return [link]
    return [gopath.join("/", gopath.join(gopath.go_dir(p), link))]


def _dedupe(paths: list[str]) -> list[str] | None:
    out: list[str] = []
    last: str | None = None
    for s in paths:
        if s == ".":
            return None
        if last is not None and s.startswith(last + "/"):
            continue
        out.append(s)
        last = s
    return out
