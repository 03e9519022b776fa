""".dockerignore files, with the exact semantics of Docker's pattern matcher.

Docker and BuildKit read `.dockerignore` with moby/patternmatcher's `ignorefile.ReadAll` and match
paths with `patternmatcher`. Both are reproduced here rule for rule, quirks included, because a
tool that predicts which files Docker sends must agree with Docker, not with the documentation:

* reading: a UTF-8 BOM is dropped; a line starting with `#` is a comment (only in column 0);
  lines are trimmed (Go's notion of space); `!` marks an exception; patterns are cleaned like
  `filepath.Clean` and one leading `/` is dropped;
* matching: each pattern becomes an exact, prefix (`abc/**`), suffix (`**/abc`) or regular
  expression match; `*` and `?` do not cross `/`, `**` does, classes and escapes are Go regexp
  syntax (so `[^a]` matches `/`, and `**foo` matches `xfoo`); the last matching pattern wins.

Two matching modes exist, as in Docker: `matches_or_parent` (a path is excluded if a pattern
matches it or any parent directory; what `cases.json` tests) and `match_with_parent` (the walker's
mode, where each directory passes on which patterns matched it; BuildKit's context transfer uses
this, and it differs for patterns such as `a/b` followed by `!a`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from layerwise.context import goregex
from layerwise.context.gopath import BadPatternError, check_pattern, clean, go_dir
from layerwise.dockerfile.gotext import trim_space
from layerwise.errors import InputError, Location

DOCKERIGNORE = ".dockerignore"

MatchKind = Literal["exact", "prefix", "suffix", "regexp"]

# Characters that mean something in a regexp but nothing in filepath.Match: patternmatcher escapes
# them; every other character (including `[`, `]`, `^` and `\`) reaches Go's regexp as is.
_REGEXP_META = frozenset(".+()|{}$")


class IgnorePatternError(InputError):
    """A pattern Docker refuses ("syntax error in pattern"), with where it was written."""

    def __init__(self, message: str, pattern: str, location: Location | None = None) -> None:
        super().__init__(message, location)
        self.pattern = pattern


@dataclass(frozen=True)
class IgnoreLine:
    """One pattern as `ignorefile.ReadAll` returns it (cleaned, `!` kept) and its line number."""

    pattern: str
    line: int


def read_ignore_text(text: str) -> list[IgnoreLine]:
    """`ignorefile.ReadAll`: the patterns of an ignore file's text, with their line numbers."""
    out: list[IgnoreLine] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # bufio.ScanLines: a final newline does not start another line
    for number, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line.startswith("#"):
            continue
        pattern = trim_space(line)
        if not pattern:
            continue
        invert = pattern[0] == "!"
        if invert:
            pattern = trim_space(pattern[1:])
        if pattern:
            pattern = clean(pattern)
            if len(pattern) > 1 and pattern[0] == "/":
                pattern = pattern[1:]
        if invert:
            pattern = "!" + pattern
        out.append(IgnoreLine(pattern, number))
    return out


@dataclass(eq=False)
class Pattern:
    """One compiled pattern of a matcher."""

    text: str  # cleaned, without the `!`
    exclusion: bool  # an exception (`!pattern`): re-includes what earlier patterns excluded
    line: int | None
    kind: MatchKind
    regexp: re.Pattern[str] | None
    dirs: int  # number of path components, as patternmatcher counts them

    def match(self, path: str) -> bool:
        """Does the pattern match this (slash-separated, relative) path itself?"""
        kind = self.kind
        if kind == "exact":
            return path == self.text
        if kind == "prefix":
            return path.startswith(self.text[:-2])
        if kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regexp is not None
        return self.regexp.match(path) is not None

    @property
    def source(self) -> str:
        return ("!" if self.exclusion else "") + self.text

    def without_trailing_glob(self) -> str:
        """fsutil's patternWithoutTrailingGlob: the pattern minus a final `/**` or `/*`."""
        text = self.text
        if text.endswith("/**"):
            text = text[:-3]
        if text.endswith("/*"):
            text = text[:-2]
        return text


def _compile(text: str) -> tuple[MatchKind, str | None]:
    """patternmatcher's compile: the match kind, and the Go regexp for the `regexp` kind."""
    reg = ["^"]
    kind: MatchKind = "exact"
    chars = text
    pos = 0
    if chars.startswith("\ufeff"):
        pos = 1  # text/scanner skips a byte-order mark at the start
    n = len(chars)
    first = True
    while pos < n:
        ch = chars[pos]
        pos += 1
        if ch == "*":
            if pos < n and chars[pos] == "*":
                pos += 1
                if pos < n and chars[pos] == "/":
                    pos += 1
                if pos >= n:
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        reg.append(".*")
                        kind = "regexp"
                else:
                    reg.append("(.*/)?")
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                reg.append("[^/]*")
                kind = "regexp"
        elif ch == "?":
            reg.append("[^/]")
            kind = "regexp"
        elif ch in _REGEXP_META:
            reg.append("\\" + ch)
        elif ch == "\\":
            if pos < n:
                reg.append("\\" + chars[pos])
                pos += 1
                kind = "regexp"
            else:
                reg.append("\\")
        elif ch in "[]":
            reg.append(ch)
            kind = "regexp"
        else:
            reg.append(ch)
        first = False
    if kind == "regexp":
        reg.append("$")
        return kind, "".join(reg)
    return kind, None


def compile_pattern(source: str, line: int | None = None, path: str | None = None) -> Pattern:
    """Compile one pattern as `patternmatcher.New` does (trim, clean, `!`, syntax check).

    Raises IgnorePatternError for a pattern Docker refuses.
    """
    location = Location(path, line) if line is not None else None
    p = clean(trim_space(source))
    exclusion = False
    if p.startswith("!"):
        if len(p) == 1:
            raise IgnorePatternError(
                'illegal exclusion pattern: "!" (Docker refuses a lone "!"); remove the line',
                source,
                location,
            )
        exclusion = True
        p = p[1:]
    try:
        check_pattern(p)
    except BadPatternError:
        raise IgnorePatternError(
            f"syntax error in pattern {source!r}, which Docker refuses; fix the pattern "
            "(escape a literal *, ?, [ or \\ with a backslash)",
            source,
            location,
        ) from None
    kind, go_regexp = _compile(p)
    regexp = None
    if go_regexp is not None:
        try:
            regexp = re.compile(goregex.translate(go_regexp), re.ASCII)
        except goregex.RegexSyntaxError as exc:
            # Go's regexp refuses it, so patternmatcher fails when it first matches a path.
            raise IgnorePatternError(
                f"syntax error in pattern {source!r} ({exc}): Docker fails the build when it "
                "reaches this pattern; fix or remove it",
                source,
                location,
            ) from None
        except goregex.UnsupportedRegexError as exc:
            raise IgnorePatternError(
                f"pattern {source!r} is valid for Docker but not supported by layerwise: {exc}",
                source,
                location,
            ) from None
    return Pattern(p, exclusion, line, kind, regexp, len(p.split("/")))


MatchInfo = tuple[bool, ...]


def _parent_matches(pattern: Pattern, path: str) -> bool:
    parts = path.split("/")[:-1]
    return any(pattern.match("/".join(parts[: j + 1])) for j in range(len(parts)))


def _compile_matcher(
    patterns: Sequence[Pattern],
) -> Callable[[str, MatchInfo | None], tuple[bool, MatchInfo]]:
    """`match_with_parent` for these patterns as one generated function: the loop unrolled and
    each pattern's test inlined (an equality, a startswith, a bound regexp match). The walker
    calls this for every path it visits, so the interpreter overhead of a loop over pattern
    objects is what bounds its speed; the generated code is checked against the plain loop."""
    n = len(patterns)
    if n == 0:
        return lambda path, parent: (False, ())
    names: dict[str, object] = {"_parent_matches": _parent_matches}
    lines = ["def match(path, parent):", "    matched = False"]
    hits = ", ".join(f"h{i}" for i in range(n))
    lines.append("    if parent:")
    lines.append(f"        {hits}{',' if n == 1 else ''} = parent")
    lines.append("    else:")
    lines.append(f"        {' = '.join(f'h{i}' for i in range(n))} = False")
    for i, pattern in enumerate(patterns):
        names[f"p{i}"] = pattern
        if pattern.kind == "exact":
            test = f"path == {pattern.text!r}"
        elif pattern.kind == "prefix":
            test = f"path.startswith({pattern.text[:-2]!r})"
        elif pattern.kind == "suffix":
            suffix = pattern.text[2:]
            test = f"path.endswith({suffix!r})"
            if suffix.startswith("/"):
                test += f" or path == {suffix[1:]!r}"
        else:
            assert pattern.regexp is not None
            names[f"m{i}"] = pattern.regexp.match
            test = f"m{i}(path) is not None"
        # Evaluated only when it could change the answer: an exclusion pattern while the path
        # is excluded, a normal pattern while it is not.
        state = "matched" if pattern.exclusion else "not matched"
        lines.append(f"    if not h{i} and {state}:")
        lines.append(f"        h{i} = {test}")
        lines.append(f"        if not h{i} and not parent and '/' in path:")
        lines.append(f"            h{i} = _parent_matches(p{i}, path)")
        lines.append(f"    if h{i}:")
        lines.append(f"        matched = {not pattern.exclusion}")
    lines.append(f"    return matched, ({hits}{',' if n == 1 else ''})")
    exec("\n".join(lines), names)  # the source is built above from our own pattern data
    return names["match"]  # type: ignore[return-value]


@dataclass(eq=False)
class PatternMatcher:
    """An ordered list of compiled patterns (moby/patternmatcher's PatternMatcher)."""

    patterns: list[Pattern]
    path: str | None = None  # the ignore file they came from, for messages
    exclusions: bool = field(init=False)
    _fast: Callable[[str, MatchInfo | None], tuple[bool, MatchInfo]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.exclusions = any(p.exclusion for p in self.patterns)
        self._fast = _compile_matcher(self.patterns)

    @classmethod
    def from_patterns(
        cls, patterns: Iterable[str | IgnoreLine], path: str | None = None
    ) -> PatternMatcher:
        compiled = []
        for item in patterns:
            text, line = (item.pattern, item.line) if isinstance(item, IgnoreLine) else (item, None)
            if not trim_space(text):
                continue
            compiled.append(compile_pattern(text, line, path))
        return cls(compiled, path)

    def matches_or_parent(self, path: str) -> bool:
        """`MatchesOrParentMatches`: is the path excluded, by a pattern matching it or one of
        its parent directories? (The context root `.` is never excluded.)"""
        path = clean(path)
        if path == ".":
            return False
        parent = go_dir(path)
        parent_dirs = parent.split("/")
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            if not hit and parent != ".":
                for i in range(len(parent_dirs)):
                    if pattern.match("/".join(parent_dirs[: i + 1])):
                        hit = True
                        break
            if hit:
                matched = not pattern.exclusion
        return matched

    def match_with_parent(self, path: str, parent: MatchInfo | None) -> tuple[bool, MatchInfo]:
        """`MatchesUsingParentResults`: the walker's mode. `parent` is what this call returned
        for the parent directory (None at the top level); returns (excluded, info for children).

        A pattern that matched the parent counts as matching the child; other patterns are tried
        on the child's own path only, and only when they could change the answer.
        """
        return self._fast(path, parent)

    def match_with_parent_reference(
        self, path: str, parent: MatchInfo | None
    ) -> tuple[bool, MatchInfo]:
        """The same as `match_with_parent`, written as a plain loop (the specification that the
        compiled version is tested against)."""
        matched = False
        info = [False] * len(self.patterns)
        for i, pattern in enumerate(self.patterns):
            hit = parent[i] if parent else False
            if not hit:
                if pattern.exclusion != matched:
                    continue
                hit = pattern.match(path)
                if not hit and not parent and "/" in path:
                    hit = _parent_matches(pattern, path)
            info[i] = hit
            if hit:
                matched = not pattern.exclusion
        return matched, tuple(info)

    def deciding_pattern(self, path: str) -> Pattern | None:
        """The pattern that excludes `path` in the walker's mode (the last exclusion pattern that
        matched it or a parent), or None if the path is not excluded."""
        info: MatchInfo | None = None
        parts = path.split("/")
        excluded = False
        for i in range(len(parts)):
            excluded, info = self.match_with_parent("/".join(parts[: i + 1]), info)
        if not excluded:
            return None
        for pattern, hit in zip(reversed(self.patterns), reversed(info or ()), strict=True):
            if hit and not pattern.exclusion:
                return pattern
        return None


@dataclass(frozen=True)
class IgnoreFile:
    """The ignore file that applies to a build, and its compiled patterns."""

    path: Path | None  # None: no ignore file (nothing is excluded)
    lines: list[IgnoreLine]
    matcher: PatternMatcher

    @property
    def patterns(self) -> list[str]:
        return [line.pattern for line in self.lines]


def parse_ignore(text: str, path: str | None = None) -> tuple[list[IgnoreLine], PatternMatcher]:
    """Read an ignore file's text and compile it; IgnorePatternError names file and line."""
    lines = read_ignore_text(text)
    return lines, PatternMatcher.from_patterns(lines, path)


def ignore_file_for(context_dir: Path, dockerfile: Path | None = None) -> Path | None:
    """Which ignore file BuildKit uses: `<Dockerfile name>.dockerignore` beside the Dockerfile
    if it exists (e.g. `Dockerfile.prod.dockerignore`), else `.dockerignore` at the context root.
    """
    if dockerfile is not None:
        specific = dockerfile.parent / (dockerfile.name + ".dockerignore")
        if specific.is_file():
            return specific
    root = context_dir / DOCKERIGNORE
    if root.is_file():
        return root
    return None


def load_ignore(context_dir: str | Path, dockerfile: str | Path | None = None) -> IgnoreFile:
    """The ignore file for a build of `context_dir` with `dockerfile` (either may be relative
    to the current directory), read and compiled. A missing file excludes nothing."""
    context = Path(context_dir)
    df = Path(dockerfile) if dockerfile is not None else None
    found = ignore_file_for(context, df)
    if found is None:
        return IgnoreFile(None, [], PatternMatcher([]))
    try:
        data = found.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {found}: {exc.strerror or exc}") from None
    text = data.decode("utf-8", errors="surrogateescape")
    lines, matcher = parse_ignore(text, str(found))
    return IgnoreFile(found, lines, matcher)


def matcher_for(patterns: Sequence[str]) -> PatternMatcher:
    """A matcher for patterns given as strings (as `patternmatcher.New` takes them)."""
    return PatternMatcher.from_patterns(patterns)
