"""Go's `path/filepath` rules on Unix, which Docker's build context code relies on.

`.dockerignore` lines are cleaned with `filepath.Clean` and syntax-checked with `filepath.Match`;
COPY/ADD wildcards are resolved with `filepath.Match` against paths relative to the source
directory. Python's `fnmatch` and `os.path.normpath` differ from both in small ways (`[!a]` is
not a negation in Go, `\\` escapes, a class may match `/`, `//a` is not kept), so the rules are
reproduced here.
"""

from __future__ import annotations

SEPARATOR = "/"


class BadPatternError(ValueError):
    """Go's `filepath.ErrBadPattern`: "syntax error in pattern"."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


def clean(path: str) -> str:
    """`filepath.Clean`: shortest equivalent path by lexical processing (Unix rules)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def join(*elems: str) -> str:
    """`filepath.Join`: joins non-empty elements with `/` and cleans the result ("" if none)."""
    kept = [e for e in elems if e]
    if not kept:
        return ""
    return clean("/".join(kept))


def go_dir(path: str) -> str:
    """`filepath.Dir`: everything before the last `/`, cleaned ("." when there is none)."""
    i = path.rfind("/")
    return clean(path[: i + 1])


def contains_wildcards(name: str) -> bool:
    """fsutil's containsWildcards: an unescaped `*`, `?` or `[` (a `\\` skips the next char)."""
    i = 0
    n = len(name)
    while i < n:
        ch = name[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "*?[":
            return True
        i += 1
    return False


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 < n:
                i += 1
        elif ch == "[":
            in_range = True
        elif ch == "]":
            in_range = False
        elif ch == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise BadPatternError()
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPatternError()
    r, rest = chunk[0], chunk[1:]
    # An invalid UTF-8 byte (kept as a lone surrogate by os.fsdecode) is Go's RuneError; and a
    # class must go on after the character (at least its closing `]`).
    if "\udc80" <= r <= "\udcff" or not rest:
        raise BadPatternError()
    return r, rest


def _match_chunk(chunk: str, s: str) -> tuple[str, bool]:
    """Go's matchChunk: does `chunk` (no `*`) match a prefix of `s`? After a mismatch the rest
    of the chunk is still parsed, so a malformed pattern always raises."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = False
            if chunk.startswith("^"):
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk.startswith("]") and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                if not failed and lo <= r <= hi:
                    matched = True
                nrange += 1
            if matched == negated:
                failed = True
        elif c == "?":
            if not failed:
                if s[0] == SEPARATOR:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPatternError()
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return "", False
    return s, True


def match(pattern: str, name: str) -> bool:
    """`filepath.Match(pattern, name)`; raises BadPatternError for a malformed pattern.

    `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` a character
    class (`^` negates; unlike `*` and `?` a class can match `/`), `\\` escapes the next char.
    """
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            # A trailing `*` matches the rest of the name unless it holds a `/`.
            return SEPARATOR not in name
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if star:
            # Try the chunk after skipping i+1 characters; `*` cannot skip a `/`.
            found = False
            i = 0
            while i < len(name) and name[i] != SEPARATOR:
                rest, ok = _match_chunk(chunk, name[i + 1 :])
                if ok:
                    if not pattern and rest:
                        i += 1
                        continue
                    name = rest
                    found = True
                    break
                i += 1
            if found:
                continue
        # Before answering "no", check that the rest of the pattern is well formed.
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return not name


def check_pattern(pattern: str) -> None:
    """Raise BadPatternError if `pattern` is malformed (Docker checks with Match(p, "."))."""
    match(pattern, ".")
