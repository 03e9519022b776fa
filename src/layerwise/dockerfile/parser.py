"""Parse Dockerfile text into the lossless tree, with BuildKit's rules.

The algorithm follows BuildKit's own parser (moby/buildkit frontend/dockerfile/parser) step by
step, because "what Docker does" is defined by that code, not by the documentation:

* the file is read line by line (LF separates lines; CR before it belongs to the line ending);
* parser directives (`syntax`, `escape`, `check`) are recognised only in the run of comment
  lines at the very top, and the escape character takes effect at once;
* a line whose last non-blank character is the escape character continues on the next line;
  comment lines and blank lines inside a continuation are skipped (the latter with a warning);
* the first word is the keyword, then `--flags`, then the arguments, parsed per instruction
  (JSON/exec form with fallback to shell form, whitespace-separated words, key=value pairs);
* RUN, COPY and ADD (also under ONBUILD) in shell form may carry heredocs, whose bodies are the
  lines after the instruction up to the terminator.

Where BuildKit versions differ, this follows current BuildKit (>= 0.15); see
`docs/parser-compatibility.md` for the named differences with older releases.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layerwise.dockerfile.gotext import (
    GO_SPACE,
    WORD_SEPARATOR,
    is_space,
    trim_left_space,
    trim_newline,
    trim_space,
)
from layerwise.dockerfile.lex import HEREDOC_LEXER, Lexer, LexError
from layerwise.dockerfile.syntax import (
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    Item,
    KeyValue,
    Span,
    Trivia,
    TriviaKind,
    Word,
)
from layerwise.errors import DockerfileSyntaxError, InputError

MAX_LINE_BYTES = 65536  # bufio.Scanner's default limit: a longer line is refused
VALID_DIRECTIVES = ("syntax", "escape", "check")

_DIRECTIVE_RE = re.compile(
    r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z", re.S
)
_HEREDOC_RE = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NON_SEPARATOR = re.compile(r"[^\t\v\f\r ]+")

_HEREDOC_KEYWORDS = frozenset(("add", "copy", "run"))
_KEYWORD_ARGS = {
    "add": "json_list",
    "copy": "json_list",
    "volume": "json_list",
    "arg": "name_or_name_val",
    "cmd": "maybe_json",
    "entrypoint": "maybe_json",
    "run": "maybe_json",
    "shell": "maybe_json",
    "env": "name_val",
    "label": "name_val",
    "expose": "words",
    "from": "words",
    "healthcheck": "health",
    "maintainer": "string",
    "stopsignal": "string",
    "user": "string",
    "workdir": "string",
    "onbuild": "sub_command",
}


def read_dockerfile(path: str | Path) -> Dockerfile:
    """Read and parse a Dockerfile from disk, keeping its bytes (CRLF, BOM, invalid UTF-8)."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a Dockerfile") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_dockerfile(text, str(path))


def parse_dockerfile(text: str, path: str | None = None) -> Dockerfile:
    """Parse Dockerfile text. Raises `DockerfileSyntaxError` (with line and column) for input
    that BuildKit's parser refuses; never any other exception."""
    return _Parser(text, path).parse()


class _LineError(Exception):
    """An error inside one logical line, at an offset of that line."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class _Node:
    """What one logical line parses into, in logical-line offsets."""

    keyword: str
    keyword_at: tuple[int, int]
    flags: list[tuple[str, int, int]]
    words: list[tuple[str, int, int]]
    arguments: list[str]
    json: bool
    pairs: list[tuple[str, str, bool, int, int]]
    args_at: tuple[int, int]
    trigger: _Node | None

    def can_contain_heredoc(self) -> bool:
        node = self
        if node.keyword.lower() == "onbuild" and node.trigger is not None:
            node = node.trigger
        return node.keyword.lower() in _HEREDOC_KEYWORDS and not node.json


class _DirectiveParser:
    """Parser directives: only the unbroken run of `# key=value` lines at the top counts."""

    def __init__(self) -> None:
        self.done = False
        self.seen: set[str] = set()

    def parse_line(self, line: str) -> tuple[str, str] | None:
        if self.done:
            return None
        if not line.startswith("#"):
            self.done = True
            return None
        m = _DIRECTIVE_RE.match(line[1:].lstrip(GO_SPACE))
        if m is None:
            self.done = True
            return None
        key = m.group(1).lower()
        if key not in VALID_DIRECTIVES:
            self.done = True
            return None
        if key in self.seen:
            raise _LineError(f"only one {key} parser directive can be used")
        self.seen.add(key)
        return key, m.group(2)


class _Parser:
    def __init__(self, text: str, path: str | None) -> None:
        self.text = text
        self.path = path
        self.bom = text.startswith("\ufeff")
        self.escape = "\\"
        self._set_escape("\\")
        # physical lines: [start, end) including the line ending
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        if starts[-1] == len(text) and len(starts) > 1:
            starts.pop()
        if not text:
            starts = []
        self.starts = starts
        self.n = len(starts)
        self.line_starts = list(starts) or [0]
        if self.bom:
            self.line_starts[0] = 1

    def _set_escape(self, token: str) -> None:
        if token not in ("`", "\\"):
            raise _LineError(f"invalid escape token '{token}' does not match ` or \\")
        self.escape = token
        e = re.escape(token)
        self._continuation = re.compile(f"([^{e}]){e}[ \\t]*\\Z|^{e}[ \\t]*\\Z", re.S)

    def _bounds(self, i: int) -> tuple[int, int]:
        start = self.starts[i]
        end = self.starts[i + 1] if i + 1 < self.n else len(self.text)
        return start, end

    def _trim_continuation(self, line: str) -> tuple[str, bool]:
        """Drop a trailing escape character; True when the line does not continue."""
        if not line.rstrip(" \t").endswith(self.escape):
            return line, True
        m = self._continuation.search(line)
        if m is None:
            return line, True
        return line[: m.start() + len(m.group(1) or "")], False

    def _error(self, message: str, line: int, column: int = 1) -> DockerfileSyntaxError:
        return DockerfileSyntaxError(message, self.path, max(line, 1), max(column, 1))

    def parse(self) -> Dockerfile:
        text = self.text
        items: list[Item] = []
        warnings: list[str] = []
        comments: list[str] = []
        directives = _DirectiveParser()
        df = Dockerfile(text, self.path, items, "\\", self.bom, self.line_starts, warnings)
        i = 0
        n = self.n
        while i < n:
            start, end = self._bounds(i)
            content_start = start + 1 if i == 0 and self.bom else start
            raw = text[content_start:end]
            if len(raw) > MAX_LINE_BYTES // 4 and len(
                text[start:end].encode("utf-8", "surrogateescape")
            ) > (MAX_LINE_BYTES - (0 if raw.endswith("\n") else 1)):
                raise self._error(
                    f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES - 1}", i + 1
                )
            stripped_raw = raw.lstrip(GO_SPACE)
            is_comment = stripped_raw.startswith("#")
            if is_comment:
                comment = trim_space(raw[1:])
                if comment:
                    comments.append(comment)
                else:
                    comments = []
            token = trim_newline(raw)
            token_l = trim_left_space(token)
            lead = len(token) - len(token_l)
            try:
                directive = directives.parse_line(token_l)
                if directive is not None and directive[0] == "escape":
                    self._set_escape(directive[1])
            except _LineError as exc:
                raise self._error(exc.message, i + 1) from None
            if directive is not None and comments:
                comments.pop()
            processed = "" if token_l.startswith("#") else token_l
            i += 1
            start_line = i
            kept, eol = self._trim_continuation(processed)
            if eol and not kept:
                if directive is not None:
                    items.append(
                        Directive(
                            "directive",
                            Span(content_start, end),
                            i,
                            token,
                            name=directive[0],
                            value=directive[1],
                        )
                    )
                else:
                    kind: TriviaKind = "comment" if is_comment else "blank"
                    items.append(Trivia(kind, Span(content_start, end), i, token))
                continue

            # An instruction: join its continuation lines into one logical line.
            seg_logical = [0]
            seg_source = [content_start + lead]
            parts = [kept]
            length = len(kept)
            has_empty = False
            while not eol and i < n:
                s2, e2 = self._bounds(i)
                raw2 = text[s2:e2]
                i += 1
                if raw2.lstrip(GO_SPACE).startswith("#"):
                    continue
                tok2 = trim_newline(raw2)
                if not trim_left_space(tok2):
                    has_empty = True
                    continue
                kept2, eol = self._trim_continuation(tok2)
                seg_logical.append(length)
                seg_source.append(s2)
                parts.append(kept2)
                length += len(kept2)
            line = "".join(parts)
            if has_empty:
                warnings.append(
                    f"line {i}: empty continuation line found in: {line} "
                    "(empty continuation lines will become errors in a future release)"
                )

            to_source = _offset_map(seg_logical, seg_source)

            try:
                node = self._node_from_line(line, 0)
            except _LineError as exc:
                pos = df.position(to_source(min(exc.offset, max(len(line) - 1, 0))))
                raise self._error(
                    exc.message, start_line, pos.column if pos.line == start_line else 1
                ) from None

            heredocs: list[Heredoc] = []
            if "<<" in line and node.can_contain_heredoc():
                try:
                    found = _heredocs_from_line(line)
                except LexError as exc:
                    raise self._error(str(exc), start_line) from None
                for name, chomp, expand, fd in found:
                    body: list[str] = []
                    body_start = self.starts[i] if i < n else len(text)
                    terminated = False
                    while i < n:
                        s3, e3 = self._bounds(i)
                        raw3 = text[s3:e3]
                        i += 1
                        candidate = trim_newline(raw3)
                        if chomp:
                            candidate = candidate.lstrip("\t")
                        if candidate == name:
                            terminated = True
                            break
                        body.append(raw3)
                    if not terminated:
                        col = line.find("<<") + 1
                        pos = df.position(to_source(max(col - 1, 0)))
                        raise self._error(
                            f"unterminated heredoc {name!r}: no line {name!r} after it",
                            start_line,
                            pos.column if pos.line == start_line else 1,
                        )
                    body_end = self._bounds(i - 1)[1]
                    heredocs.append(
                        Heredoc(name, "".join(body), chomp, expand, fd, Span(body_start, body_end))
                    )

            end_offset = self._bounds(i - 1)[1]
            instruction = _build(df, node, line, to_source, heredocs)
            instruction.span = Span(content_start, end_offset)
            instruction.start_line = start_line
            instruction.end_line = i
            instruction.comments = tuple(comments)
            items.append(instruction)
            comments = []

        if not any(isinstance(item, Instruction) for item in items):
            raise self._error("file with no instructions", max(n, 1))
        df.escape = self.escape
        for index, ins in enumerate(df.instructions):
            ins.index = index
        return df

    # -- one logical line --------------------------------------------------------------------

    def _node_from_line(self, line: str, base: int) -> _Node:
        """Split a logical line into keyword, flags and arguments (BuildKit's newNodeFromLine).
        Offsets in the result are relative to the whole logical line (`base` is where `line`
        starts in it)."""
        stripped = trim_space(line)
        lead = base + len(line) - len(line.lstrip(GO_SPACE))
        sep = WORD_SEPARATOR.search(stripped)
        flags: list[tuple[str, int, int]] = []
        if sep is None:
            keyword = stripped
            args = ""
            args_at = lead + len(stripped)
        else:
            keyword = stripped[: sep.start()]
            rest = stripped[sep.end() :]
            rest_at = lead + sep.end()
            args_rel, raw_flags = _extract_flags(rest, self.escape)
            flags = [(t, rest_at + a, rest_at + b) for t, a, b in raw_flags]
            remainder = rest[args_rel:]
            args = trim_space(remainder)
            args_at = rest_at + args_rel + len(remainder) - len(remainder.lstrip(GO_SPACE))
        node = _Node(
            keyword,
            (lead, lead + len(keyword)),
            flags,
            [],
            [],
            False,
            [],
            (args_at, args_at + len(args)),
            None,
        )
        kind = _KEYWORD_ARGS.get(keyword.lower())
        if kind is None or not args:
            return node
        if kind == "maybe_json":
            self._maybe_json(node, args, args_at)
        elif kind == "json_list":
            if not self._json(node, args, args_at):
                _split_words(node, args, args_at)
        elif kind == "words":
            _split_words(node, args, args_at)
        elif kind == "string":
            node.words = [(args, args_at, args_at + len(args))]
            node.arguments = [args]
        elif kind == "name_or_name_val":
            node.words = [
                (w, args_at + a, args_at + b) for w, a, b in _parse_words(args, self.escape)
            ]
            node.arguments = [w for w, _, _ in node.words]
        elif kind == "name_val":
            self._name_val(node, keyword.upper(), args, args_at)
        elif kind == "health":
            self._health(node, args, args_at)
        elif kind == "sub_command":
            node.trigger = self._node_from_line(args, args_at)
            trig = node.trigger
            node.json = trig.json
            node.arguments = [trig.keyword, *trig.arguments]
            node.words = [(trig.keyword, *trig.keyword_at), *trig.words]
        return node

    def _json(self, node: _Node, args: str, at: int) -> bool:
        """Exec form: a JSON array of strings. False when the text is not a JSON array."""
        try:
            values = _parse_json_array(args)
        except _LineError as exc:
            exc.offset = at
            raise
        if values is None:
            return False
        node.json = True
        node.arguments = values
        spans = [(m.start(), m.end()) for m in _JSON_STRING.finditer(args)]
        if len(spans) != len(values):  # pragma: no cover - strings inside strings cannot happen
            spans = [(0, len(args))] * len(values)
        node.words = [(v, at + a, at + b) for v, (a, b) in zip(values, spans, strict=True)]
        return True

    def _maybe_json(self, node: _Node, args: str, at: int) -> None:
        if not self._json(node, args, at):
            node.words = [(args, at, at + len(args))]
            node.arguments = [args]

    def _name_val(self, node: _Node, keyword: str, args: str, at: int) -> None:
        words = _parse_words(args, self.escape)
        if not words:
            return
        if "=" not in words[0][0]:
            m = WORD_SEPARATOR.search(args)
            if m is None:
                raise _LineError(f"{keyword} must have two arguments", at)
            key, value = args[: m.start()], args[m.end() :]
            node.pairs = [(key, value, True, at, at + len(args))]
            node.words = [(key, at, at + m.start()), (value, at + m.end(), at + len(args))]
            node.arguments = [key, value, ""]
            return
        for word, a, b in words:
            if "=" not in word:
                raise _LineError(
                    f"Syntax error - can't find = in {_go_quote(word)}. "
                    "Must be of the form: name=value",
                    at + a,
                )
            key, value = word.split("=", 1)
            node.pairs.append((key, value, False, at + a, at + b))
            node.words.append((word, at + a, at + b))
            node.arguments.extend((key, value, "="))

    def _health(self, node: _Node, args: str, at: int) -> None:
        # BuildKit finds the end of the type word byte by byte (see _extract_flags).
        raw = args if args.isascii() else args.encode("utf-8", "surrogateescape").decode("latin-1")
        sep = 0
        while sep < len(raw) and not is_space(raw[sep]):
            sep += 1
        nxt = sep
        while nxt < len(raw) and is_space(raw[nxt]):
            nxt += 1
        if raw is not args:
            data = args.encode("utf-8", "surrogateescape")
            sep, nxt = _char_offset(data, sep), _char_offset(data, nxt)
        if sep == 0:
            return
        typ = args[:sep]
        sub = _Node("", (0, 0), [], [], [], False, [], (0, 0), None)
        rest = args[nxt:]
        if rest:
            self._maybe_json(sub, rest, at + nxt)
        node.json = sub.json
        node.arguments = [typ, *sub.arguments]
        node.words = [(typ, at, at + sep), *sub.words]


class _Shift:
    """The offset map of a one-line instruction."""

    __slots__ = ("base",)

    def __init__(self, base: int) -> None:
        self.base = base

    def __call__(self, offset: int) -> int:
        return self.base + offset


def _offset_map(logical: list[int], source: list[int]) -> Callable[[int], int]:
    """Map an offset in the joined logical line to an offset in the file."""
    if len(logical) == 1:
        return _Shift(source[0])

    def to_source(offset: int) -> int:
        k = bisect.bisect_right(logical, offset) - 1
        return source[k] + (offset - logical[k])

    return to_source


def _split_words(node: _Node, args: str, at: int) -> None:
    node.words = [(m.group(), at + m.start(), at + m.end()) for m in _NON_SEPARATOR.finditer(args)]
    node.arguments = [w for w, _, _ in node.words]


def _build(
    df: Dockerfile,
    node: _Node,
    line: str,
    to_source: Callable[[int], int],
    heredocs: list[Heredoc],
) -> Instruction:
    """Turn a logical-line node into an Instruction with source spans."""
    base = getattr(to_source, "base", None)
    if base is not None:  # one physical line: offsets map by a constant shift

        def span(a: int, b: int) -> Span:
            return Span(base + a, base + b)
    else:

        def span(a: int, b: int) -> Span:
            start = to_source(a)
            return Span(start, to_source(b - 1) + 1 if b > a else start)

    trigger = None
    if node.trigger is not None:
        trigger = _build(df, node.trigger, line, to_source, heredocs)
    return Instruction(
        dockerfile=df,
        keyword=node.keyword,
        keyword_span=span(*node.keyword_at),
        flags=tuple(Flag(t, span(a, b)) for t, a, b in node.flags),
        words=tuple(Word(w, span(a, b)) for w, a, b in node.words),
        arguments=tuple(node.arguments),
        json=node.json,
        heredocs=tuple(heredocs),
        trigger=trigger,
        pairs=tuple(KeyValue(k, v, legacy, span(a, b)) for k, v, legacy, a, b in node.pairs),
        args_span=span(*node.args_at),
        logical=line,
        span=Span(0, 0),
        start_line=0,
        end_line=0,
        comments=(),
    )


def _extract_flags(line: str, escape: str) -> tuple[int, list[tuple[str, int, int]]]:
    """Leading `--flag` words of the arguments (BuildKit's extractBuilderFlags).

    Returns where the arguments start and each flag's text (quotes and escapes removed) with its
    offsets. A bare `--` ends the flags and is dropped.

    BuildKit walks this text byte by byte and turns each byte into a character, so a non-ASCII
    flag value comes out mangled (`é` becomes `Ã©`) and the bytes 0x85 and 0xA0 inside a UTF-8
    sequence count as spaces. That is what Docker then uses, so it is reproduced here.
    """
    if line.isascii():
        return _extract_flags_chars(line, escape)
    raw = line.encode("utf-8", "surrogateescape")
    end, words = _extract_flags_chars(raw.decode("latin-1"), escape)
    return _char_offset(raw, end), [
        (w, _char_offset(raw, a), _char_offset(raw, b)) for w, a, b in words
    ]


def _char_offset(raw: bytes, byte_offset: int) -> int:
    return len(raw[:byte_offset].decode("utf-8", "surrogateescape"))


def _extract_flags_chars(line: str, escape: str) -> tuple[int, list[tuple[str, int, int]]]:
    words: list[tuple[str, int, int]] = []
    n = len(line)
    pos = 0
    while True:
        # looking for the start of a word
        while pos < n and is_space(line[pos]):
            pos += 1
        if pos == n:
            return n, words
        if line[pos] != "-" or pos + 1 == n or line[pos + 1] != "-":
            return pos, words
        start = pos
        buf: list[str] = []
        blank_ok = False
        quote = ""
        while True:
            if pos == n:
                word = "".join(buf)
                if word != "--" and (blank_ok or word):
                    words.append((word, start, pos))
                return n, words
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                    pos += 1
                    continue
                if ch == escape:
                    if pos + 1 == n:
                        quote = ""
                        pos += 1
                        continue
                    pos += 1
                    ch = line[pos]
                buf.append(ch)
                pos += 1
                continue
            if is_space(ch):
                word = "".join(buf)
                if word == "--":
                    return pos, words
                if blank_ok or word:
                    words.append((word, start, pos))
                pos += 1
                break
            if ch in "'\"":
                quote = ch
                blank_ok = True
                pos += 1
                continue
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            buf.append(ch)
            pos += 1


def _parse_words(rest: str, escape: str) -> list[tuple[str, int, int]]:
    """Words of ARG/ENV/LABEL (BuildKit's parseWords): quotes are kept, escapes kept with the
    character they escape; a quoted empty string is a word."""
    words: list[tuple[str, int, int]] = []
    n = len(rest)
    pos = 0
    while True:
        while pos < n and is_space(rest[pos]):
            pos += 1
        if pos == n:
            return words
        start = pos
        buf: list[str] = []
        blank_ok = False
        quote = ""
        while True:
            if pos == n:
                if blank_ok or buf:
                    words.append(("".join(buf), start, pos))
                return words
            ch = rest[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == escape and quote != "'":
                    if pos + 1 == n:
                        quote = ""
                        pos += 1
                        continue
                    buf.append(ch)
                    pos += 1
                    ch = rest[pos]
                buf.append(ch)
                pos += 1
                continue
            if is_space(ch):
                if blank_ok or buf:
                    words.append(("".join(buf), start, pos))
                pos += 1
                break
            if ch in "'\"":
                quote = ch
                blank_ok = True
            elif ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1


def _reject_constant(name: str) -> None:
    raise ValueError(name)


def _parse_json_array(rest: str) -> list[str] | None:
    """An exec-form argument list, or None when the text is not a JSON array (shell form).

    Like Go's json.Unmarshal: nothing but whitespace may follow the array, and NaN/Infinity are
    not JSON. An array that holds anything but strings is an error, as in BuildKit.
    """
    if not rest.lstrip(GO_SPACE).startswith("["):
        return None
    try:
        value = json.loads(rest, parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(value, list):  # pragma: no cover - a text starting with [ is an array
        return None
    if not all(isinstance(v, str) for v in value):
        raise _LineError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _heredocs_from_line(line: str) -> list[tuple[str, bool, bool, int]]:
    """The heredocs a RUN/COPY/ADD line opens: (name, chomp, expand, fd) in order."""
    try:
        words = HEREDOC_LEXER.process_words(line, {})
    except LexError:
        return []
    found = []
    for word in words:
        m = _HEREDOC_RE.match(word)
        if m is None:
            continue
        heredoc = parse_heredoc_marker(m)
        if heredoc is not None:
            found.append(heredoc)
    return found


_PLAIN = Lexer("\\", skip_unset_env=True)
_RAW = Lexer("\\", raw_quotes=True, skip_unset_env=True)


def parse_heredoc_marker(m: re.Match[str]) -> tuple[str, bool, bool, int] | None:
    rest = m.group(3)
    if not rest:
        return None
    words = _PLAIN.process_words(rest, {})
    if len(words) != 1:
        return None
    raw_words = _RAW.process_words(rest, {})
    if len(raw_words) != len(words):
        raise LexError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    word = words[0]
    expand = word.count("'") + word.count('"') == raw_words[0].count("'") + raw_words[0].count('"')
    try:
        fd = int(m.group(1)) if m.group(1) else 0
    except ValueError:  # pragma: no cover
        fd = 0
    return word, m.group(2) == "-", expand, fd


def heredoc_marker(word: str) -> tuple[str, bool, bool, int] | None:
    """If a word is a heredoc marker (`<<EOF`, `<<-"EOF"`): its (name, chomp, expand, fd)."""
    m = _HEREDOC_RE.match(word)
    if m is None:
        return None
    try:
        return parse_heredoc_marker(m)
    except LexError:
        return None


def _go_quote(s: str) -> str:
    """Go's %q for a string (close enough: JSON escaping of a double-quoted string)."""
    return json.dumps(s, ensure_ascii=False)
