"""Translate the Go (RE2) regular expressions that Docker's pattern matcher builds into Python.

moby/patternmatcher turns each `.dockerignore` pattern into a Go regexp by rewriting `*`, `?`
and `**` and escaping `.+()|{}$`, and passes everything else through, character classes and
backslash escapes included. So `[[:digit:]]`, `\\d` or `[^a]` (which, unlike `*`, matches `/`)
mean what Go's regexp package says they mean. Python's `re` differs on several of these (POSIX
classes, Unicode-aware `\\d`, `$` before a final newline, `[` inside a class), so the Go
expression is parsed here and rebuilt with explicit ranges. Compile the result with `re.ASCII`.
"""

from __future__ import annotations

MAX_RUNE = 0x10FFFF

Ranges = list[tuple[int, int]]


class RegexSyntaxError(ValueError):
    """Go's regexp.Compile would refuse this expression."""


class UnsupportedRegexError(ValueError):
    """Valid in Go but not reproduced here (Unicode classes such as `\\pL`)."""


_PERL: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}

_POSIX: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}

_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def _negate(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= MAX_RUNE:
        out.append((nxt, MAX_RUNE))
    return out


def _esc(cp: int) -> str:
    ch = chr(cp)
    if ch.isascii() and ch.isalnum():
        return ch
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _class(ranges: Ranges) -> str:
    if not ranges:
        return "(?!)"
    body = "".join(_esc(lo) if lo == hi else f"{_esc(lo)}-{_esc(hi)}" for lo, hi in ranges)
    return f"[{body}]"


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _parse_escape(s: str, i: int) -> tuple[int, int]:
    """Go's parseEscape at s[i] == '\\': one literal rune and the index after it."""
    if i + 1 >= len(s):
        raise RegexSyntaxError("trailing backslash at end of expression")
    c = s[i + 1]
    j = i + 2
    if c.isascii() and not _is_alnum(c):
        return ord(c), j
    if c in "1234567" and (j >= len(s) or s[j] not in _OCTAL):
        raise RegexSyntaxError(f"invalid escape sequence: \\{c}")
    if c in _OCTAL:
        value = int(c)
        for _ in range(2):
            if j < len(s) and s[j] in _OCTAL:
                value = value * 8 + int(s[j])
                j += 1
            else:
                break
        return value, j
    if c == "x":
        if j < len(s) and s[j] == "{":
            end = s.find("}", j)
            digits = s[j + 1 : end] if end >= 0 else ""
            if end < 0 or not digits or any(d not in _HEX for d in digits):
                raise RegexSyntaxError("invalid escape sequence: \\x")
            value = int(digits, 16)
            if value > MAX_RUNE:
                raise RegexSyntaxError("invalid escape sequence: \\x")
            return value, end + 1
        digits = s[j : j + 2]
        if len(digits) != 2 or any(d not in _HEX for d in digits):
            raise RegexSyntaxError("invalid escape sequence: \\x")
        return int(digits, 16), j + 2
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], j
    raise RegexSyntaxError(f"invalid escape sequence: \\{c}")


def _perl_class(s: str, i: int) -> tuple[Ranges, int] | None:
    if s[i] == "\\" and i + 1 < len(s) and s[i + 1].lower() in _PERL:
        c = s[i + 1]
        ranges = _PERL[c.lower()]
        return (_negate(ranges) if c.isupper() else list(ranges)), i + 2
    return None


def _check_unicode_class(s: str, i: int) -> None:
    if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in "pP":
        raise UnsupportedRegexError("Unicode character classes (\\p, \\P) are not supported")


def _parse_class(s: str, i: int) -> tuple[str, int]:
    """Go's parseClass at s[i] == '[' (Perl flags: `-` is literal where it cannot be a range)."""
    i += 1
    negated = False
    if i < len(s) and s[i] == "^":
        negated = True
        i += 1
    ranges: Ranges = []
    first = True
    while i >= len(s) or s[i] != "]" or first:
        first = False
        if i + 2 < len(s) and s[i] == "[" and s[i + 1] == ":":
            end = s.find(":]", i + 2)
            if end >= 0:
                name = s[i + 2 : end]
                neg = name.startswith("^")
                group = _POSIX.get(name[1:] if neg else name)
                if group is None:
                    raise RegexSyntaxError(f"invalid character class range: [:{name}:]")
                ranges.extend(_negate(group) if neg else group)
                i = end + 2
                continue
        if i < len(s):
            _check_unicode_class(s, i)
            perl = _perl_class(s, i)
            if perl is not None:
                ranges.extend(perl[0])
                i = perl[1]
                continue
        lo, i = _class_char(s, i)
        hi = lo
        if i + 1 < len(s) and s[i] == "-" and s[i + 1] != "]":
            hi, i = _class_char(s, i + 1)
            if hi < lo:
                raise RegexSyntaxError("invalid character class range")
        ranges.append((lo, hi))
    i += 1  # the closing ]
    if negated:
        ranges = _negate(ranges)
    return _class(_normalize(ranges)), i


def _class_char(s: str, i: int) -> tuple[int, int]:
    if i >= len(s):
        raise RegexSyntaxError("missing closing ]")
    if s[i] == "\\":
        return _parse_escape(s, i)
    return ord(s[i]), i + 1


def _normalize(ranges: Ranges) -> Ranges:
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def translate(go: str) -> str:
    """The Python `re` source (to compile with re.ASCII) equivalent to Go regexp `go`.

    Covers what a patternmatcher expression can contain: literals, escapes, character classes
    (POSIX and Perl classes included), `.`, `*`, `?`, `+`, groups, `^` and `$`.
    """
    out: list[str] = []
    depth = 0
    i = 0
    n = len(go)
    can_repeat = False  # is there an operand for a repetition operator?
    while i < n:
        c = go[i]
        if c == "[":
            cls, i = _parse_class(go, i)
            out.append(cls)
            can_repeat = True
            continue
        if c == "\\":
            _check_unicode_class(go, i)
            perl = _perl_class(go, i)
            if perl is not None:
                out.append(_class(_normalize(perl[0])))
                i = perl[1]
                can_repeat = True
                continue
            nxt = go[i + 1] if i + 1 < n else ""
            if nxt in ("A", "z", "b", "B"):
                out.append({"A": r"\A", "z": r"\Z", "b": r"\b", "B": r"\B"}[nxt])
                i += 2
                can_repeat = True
                continue
            if nxt == "Q":
                end = go.find("\\E", i + 2)
                lit = go[i + 2 :] if end < 0 else go[i + 2 : end]
                out.append("".join(_esc(ord(ch)) for ch in lit))
                i = n if end < 0 else end + 2
                can_repeat = bool(lit)
                continue
            cp, i = _parse_escape(go, i)
            out.append(_esc(cp))
            can_repeat = True
            continue
        if c in "*+?":
            if not can_repeat:
                raise RegexSyntaxError(f"missing argument to repetition operator: {c}")
            out.append(c)
            i += 1
            if i < n and go[i] == "?":  # non-greedy: same language
                i += 1
            if i < n and go[i] in "*+?":
                raise RegexSyntaxError("invalid nested repetition operator")
            can_repeat = False
            continue
        if c == "(":
            depth += 1
            out.append("(?:")
            can_repeat = False
        elif c == ")":
            if depth == 0:
                raise RegexSyntaxError("unexpected )")
            depth -= 1
            out.append(")")
            can_repeat = True
        elif c == "|":
            out.append("|")
            can_repeat = False
        elif c == "^":
            out.append(r"\A")
            can_repeat = True
        elif c == "$":
            out.append(r"\Z")
            can_repeat = True
        elif c == ".":
            out.append("[^\\n]")
            can_repeat = True
        else:
            out.append(_esc(ord(c)))
            can_repeat = True
        i += 1
    if depth:
        raise RegexSyntaxError("missing closing )")
    return "".join(out)
