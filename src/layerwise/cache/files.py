"""The context files a step reads, digested the way BuildKit's content cache sees them.

BuildKit keys a COPY/ADD from the context, and a `RUN --mount=type=bind` from it, on a checksum of
the paths the step selects (BuildKit's `contenthash`): for every entry its name relative to the
selected path, its type, its permission bits, a symlink's target and a file's bytes. Not its
modification time, not its owner (buildx sends every file as 0:0), and nothing that
`.dockerignore` removed, since those files never reach BuildKit. A single-file source is digested
without its name (`COPY a/x.txt` and `COPY b/x.txt` of equal files have equal checksums).

`SourceSpec` says what a step selects (its sources after ARG expansion, `--exclude`, `--parents`,
bind mount or copy); a `ContextFiles` answers with a `SourceDigest`. `WorkingTree` is a directory
on disk (resolved exactly as the context engine resolves COPY sources); the history replay has its
own implementation over git trees (`layerwise.cache.gittree`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from layerwise.cache.digest import h, set_digest, term
from layerwise.context import gopath
from layerwise.context.ignore import IgnoreFile, PatternMatcher, load_ignore
from layerwise.context.sources import CopyResult, resolve_copy, resolve_mount
from layerwise.context.walk import ContextSnapshot, Entry, walk_context

EntryKind = Literal["file", "dir", "symlink", "other"]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceSpec:
    """What one step selects from the context."""

    sources: tuple[str, ...]  # after ARG/ENV expansion, as written
    excludes: tuple[str, ...] = ()
    parents: bool = False
    mount: bool = False  # a bind mount: one source, a whole directory or file, no wildcards

    def sub(self, source: str) -> SourceSpec:
        """The same selection narrowed to one path (no wildcards, no patterns)."""
        return SourceSpec((source,), (), False, self.mount)


@dataclass(frozen=True)
class SourceDigest:
    """The checksum of a selection; `error` when BuildKit would fail on it (missing source)."""

    value: str
    count: int  # entries selected
    error: str | None = None


class ContextFiles(Protocol):
    """A build context at one point in time, as the cache model reads it."""

    def digest(self, spec: SourceSpec) -> SourceDigest: ...

    def members(self, spec: SourceSpec) -> dict[str, str]:
        """Context path -> entry digest for everything the selection reads (for explanations)."""
        ...

    def kind(self, path: str) -> EntryKind | None:
        """What is at a context path (after .dockerignore), None if nothing."""
        ...

    def selects(self, spec: SourceSpec, path: str) -> bool:
        """Does the selection read this path (or something below it)?"""
        ...


def clean_source(source: str) -> str:
    """A source as BuildKit resolves it inside the context: cleaned, relative, "" for the root."""
    return gopath.clean("/" + source).lstrip("/")


@dataclass
class WorkingTree:
    """A context directory on disk after `.dockerignore`.

    `content=True` digests files by their bytes (SHA-256, read once, only for files some step
    selects); `content=False` only by name, type and mode, which is enough when the question is
    "what if these paths changed" (`changed`): a changed path (or every file below a changed
    directory) gets a different digest, and a changed path that does not exist yet is added as a
    new file unless `.dockerignore` excludes it.
    """

    root: Path
    ignore: IgnoreFile
    content: bool = True
    changed: frozenset[str] = frozenset()
    snapshot: ContextSnapshot = field(init=False)
    _tokens: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _modes: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _digests: dict[SourceSpec, tuple[SourceDigest, dict[str, str]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        snapshot = walk_context(self.root, self.ignore)
        self.root = snapshot.root
        added = [p for p in self.changed if p and p not in snapshot.entries]
        if added:
            snapshot = _with_added(snapshot, added, self.ignore.matcher)
        self.snapshot = snapshot

    @classmethod
    def open(
        cls,
        root: str | Path,
        dockerfile: str | Path | None = None,
        *,
        content: bool = True,
        changed: Iterable[str] = (),
    ) -> WorkingTree:
        """The context at `root` with the ignore file BuildKit would use for `dockerfile`."""
        ignore = load_ignore(root, dockerfile)
        return cls(Path(root), ignore, content, frozenset(clean_source(p) for p in changed))

    def kind(self, path: str) -> EntryKind | None:
        if not path:
            return "dir"
        entry = self.snapshot.entries.get(path)
        return entry.kind if entry is not None else None

    def digest(self, spec: SourceSpec) -> SourceDigest:
        return self._resolve(spec)[0]

    def members(self, spec: SourceSpec) -> dict[str, str]:
        return self._resolve(spec)[1]

    def selects(self, spec: SourceSpec, path: str) -> bool:
        members = self._resolve(spec)[1]
        if path in members:
            return True
        prefix = path.rstrip("/") + "/"
        return any(m.startswith(prefix) for m in members)

    def _resolve(self, spec: SourceSpec) -> tuple[SourceDigest, dict[str, str]]:
        cached = self._digests.get(spec)
        if cached is not None:
            return cached
        result: CopyResult
        if spec.mount:
            result = resolve_mount(self.snapshot, spec.sources[0] if spec.sources else "")
        else:
            result = resolve_copy(self.snapshot, spec.sources, spec.excludes, spec.parents)
        members: dict[str, str] = {}
        parts: list[str] = []
        count = 0
        for source in result.sources:
            if source.error is not None:
                parts.append(h("error", source.source, source.error))
                continue
            total = n = 0
            for match in source.matches:
                base = match.resolved
                prefix = f"{match.path}/" if source.wildcard else ""
                for path in match.reads:
                    if path == base and match.kind == "dir":
                        continue  # the selected directory's own entry
                    if path == base:
                        rel = prefix.rstrip("/")
                    elif not base or path.startswith(base + "/"):
                        rel = prefix + (path[len(base) + 1 :] if base else path)
                    else:
                        rel = "@" + path  # a symlink passed on the way
                    digest = self._entry_digest(path, rel)
                    members[path] = digest
                    total += int(digest, 16)
                    n += 1
            count += n
            parts.append(set_digest(total, n))
        errors = list(result.errors)
        out = SourceDigest(h(*parts), count, "; ".join(errors) if errors else None)
        self._digests[spec] = (out, members)
        return out, members

    def _entry_digest(self, path: str, rel: str) -> str:
        entry = self.snapshot.entries.get(path)
        if entry is None:
            return h("missing", rel)
        return f"{term(rel, entry.kind, self._mode(entry), self._token(entry)):032x}"

    def _mode(self, entry: Entry) -> int:
        mode = self._modes.get(entry.path)
        if mode is None:
            try:
                st = os.lstat(self.root / entry.path)
                mode = stat.S_IMODE(st.st_mode)
            except OSError:
                mode = 0o644 if entry.kind == "file" else 0o755
            self._modes[entry.path] = mode
        return mode

    def _token(self, entry: Entry) -> str:
        token = self._tokens.get(entry.path)
        if token is not None:
            return token
        if entry.kind == "symlink":
            token = entry.target or ""
        elif entry.kind == "file" and self.content:
            token = _file_sha256(self.root / entry.path)
        else:
            token = ""
        if self.changed and _is_changed(entry.path, self.changed):
            token = h("changed", token)
        self._tokens[entry.path] = token
        return token


def _is_changed(path: str, changed: frozenset[str]) -> bool:
    if path in changed:
        return True
    parts = path.split("/")
    return any("/".join(parts[:i]) in changed for i in range(1, len(parts)))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        return f"unreadable:{exc.errno}"
    return digest.hexdigest()


def _with_added(
    snapshot: ContextSnapshot, paths: Iterable[str], matcher: PatternMatcher
) -> ContextSnapshot:
    """The snapshot with new files at `paths` (and their directories), as BuildKit would receive
    them: paths `.dockerignore` excludes are left out."""
    entries = dict(snapshot.entries)
    for path in paths:
        if matcher.patterns and _excluded(matcher, path):
            continue
        parts = path.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in entries:
                entries[d] = Entry(d, "dir")
        entries[path] = Entry(path, "file", 0)
    return ContextSnapshot(
        snapshot.root, entries, snapshot.problems, snapshot.ignore, snapshot.include_paths
    )


def _excluded(matcher: PatternMatcher, path: str) -> bool:
    """The walker's answer for a path: excluded by .dockerignore (through its parents)."""
    info = None
    excluded = False
    parts = path.split("/")
    for i in range(len(parts)):
        excluded, info = matcher.match_with_parent("/".join(parts[: i + 1]), info)
    return excluded


def diff_members(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Paths whose entry differs between two selections: changed, added or removed."""
    out = [p for p, d in after.items() if before.get(p) != d]
    out.extend(p for p in before if p not in after)
    return sorted(set(out))
