"""BuildKit's shell-word lexer: quote removal, word splitting and variable expansion.

Docker does not run a shell to expand `$VAR` in FROM, COPY, ENV, WORKDIR, ... lines; BuildKit has
its own small lexer with its own rules (`${VAR:-x}`, `${VAR:+x}`, `${VAR-x}`, `${VAR?err}`,
`${VAR#pat}`, `${VAR%pat}`, `${VAR/pat/rep}`, quotes, the escape character). The parser also uses
it to find heredoc markers (`<<EOF`, `<<-"EOF"`) on RUN/COPY/ADD lines. This module reproduces
those rules, quirks included, because a model that expands differently from BuildKit predicts the
wrong cache keys and the wrong files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from layerwise.dockerfile.gotext import GO_SPACE, is_space

_EOF = ""


class LexError(ValueError):
    """A word BuildKit's lexer refuses (unterminated quote, bad substitution, ...)."""


@dataclass
class LexResult:
    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


class _WordBuffer:
    """The text of the word being built. One buffer is shared by nested scans, as in BuildKit."""

    __slots__ = ("chars",)

    def __init__(self) -> None:
        self.chars: list[str] = []


class _Words:
    __slots__ = ("buf", "in_word", "words")

    def __init__(self, buf: _WordBuffer) -> None:
        self.buf = buf
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if is_space(ch):
            if self.in_word and self.buf.chars:
                self.words.append("".join(self.buf.chars))
                self.buf.chars.clear()
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf.chars.append(ch)
        self.in_word = True

    def add_string(self, s: str) -> None:
        for ch in s:
            self.add_char(ch)

    def add_raw_string(self, s: str) -> None:
        # An empty string (from `''`) marks a word as started but adds no text: like BuildKit,
        # a word is only emitted when its buffer holds at least one byte.
        if s:
            self.buf.chars.append(s)
        self.in_word = True

    def get_words(self) -> list[str]:
        if self.buf.chars:
            self.words.append("".join(self.buf.chars))
            self.buf.chars.clear()
            self.in_word = False
        return self.words


_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_SPECIAL = re.compile(r"[$'\"<\\]")
_GO_SPACE_RUN = re.compile(f"[{re.escape(GO_SPACE)}]+")


class Lexer:
    """A configured lexer; mirrors the options of BuildKit's `shell.Lex`."""

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_process_quotes: bool = False,
        skip_unset_env: bool = False,
    ) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_process_quotes = skip_process_quotes
        self.skip_unset_env = skip_unset_env

    def process_word(self, word: str, env: Mapping[str, str]) -> LexResult:
        """Expand variables and remove quotes; the result keeps inner spaces."""
        if self._plain(word):
            return LexResult(word, [w for w in _GO_SPACE_RUN.split(word) if w])
        return _Scan(self, word, env).run()

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Expand, then split into words on unquoted whitespace."""
        return self.process_word(word, env).words

    def _plain(self, word: str) -> bool:
        """Nothing to expand, unquote or unescape: the lexer would return the word as is."""
        return _SPECIAL.search(word) is None and (self.escape == "\\" or self.escape not in word)


class _Scan:
    def __init__(self, lexer: Lexer, text: str, env: Mapping[str, str]) -> None:
        self.lx = lexer
        self.text = text
        self.pos = 0
        self.env = env
        self.raw_escapes = lexer.raw_escapes
        self.buffer = _WordBuffer()
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    # -- character access (text/scanner's Peek and Next) --
    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else _EOF

    def next(self) -> str:
        if self.pos >= len(self.text):
            return _EOF
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def run(self) -> LexResult:
        try:
            result, words = self.stop_on(_EOF, self.raw_escapes)
        except LexError as exc:
            raise LexError(f"failed to process {self.text!r}: {exc}") from None
        return LexResult(result, words, self.matched, self.unmatched)

    def stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        result: list[str] = []
        self.buffer.chars.clear()
        words = _Words(self.buffer)
        saved = self.raw_escapes
        self.raw_escapes = raw_escapes
        try:
            while self.pos < len(self.text):
                ch = self.text[self.pos]
                if stop and ch == stop:
                    self.pos += 1
                    return "".join(result), words.get_words()
                if ch == "$":
                    tmp = self.dollar()
                    result.append(tmp)
                    words.add_string(tmp)
                    continue
                if ch == "<":
                    tmp = self.possible_heredoc()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                    continue
                if not self.lx.skip_process_quotes and ch in "'\"":
                    tmp = self.single_quote() if ch == "'" else self.double_quote()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                    continue
                self.pos += 1
                if ch == self.lx.escape:
                    if self.raw_escapes:
                        words.add_raw_char(ch)
                        result.append(ch)
                    ch = self.next()
                    if ch == _EOF:
                        break
                    words.add_raw_char(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
            if stop:
                raise LexError(f"unexpected end of statement while looking for matching {stop}")
            return "".join(result), words.get_words()
        finally:
            self.raw_escapes = saved

    def single_quote(self) -> str:
        out: list[str] = []
        ch = self.next()
        if self.lx.raw_quotes:
            out.append(ch)
        while True:
            ch = self.next()
            if ch == _EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.lx.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        out: list[str] = []
        ch = self.next()
        if self.lx.raw_quotes:
            out.append(ch)
        while True:
            p = self.peek()
            if p == _EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if p == '"':
                ch = self.next()
                if self.lx.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if p == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == self.lx.escape:
                if self.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if nxt == _EOF:
                    continue
                if nxt in ('"', "$", self.lx.escape):
                    ch = self.next()
            out.append(ch)

    def possible_heredoc(self) -> str:
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        spaces: list[str] = []
        while self.peek() in ("\t", "\r", " "):
            spaces.append(self.next())
        return "<<" + "".join(spaces)

    def name(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if not out and ch.isdecimal():
                while self.pos < len(self.text) and self.text[self.pos].isdecimal():
                    out.append(self.text[self.pos])
                    self.pos += 1
                return "".join(out)
            if not out and ch in _SPECIAL_PARAMS:
                self.pos += 1
                return ch
            if not (ch.isalpha() or ch.isdecimal() or ch == "_"):
                break
            out.append(ch)
            self.pos += 1
        return "".join(out)

    def get_env(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.matched.add(name)
            return self.env[name], True
        self.unmatched.add(name)
        return "", False

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value, found = self.get_env(name)
            if not found and self.lx.skip_unset_env:
                return "$" + name
            return value

        self.next()
        p = self.peek()
        if p == _EOF:
            raise LexError("syntax error: missing '}'")
        if p in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        # Go turns scanner.EOF (-1) into U+FFFD when printing the modifier.
        chs = ch or "\ufffd"
        null_is_unset = False

        if ch == "}":
            value, found = self.get_env(name)
            if not found and self.lx.skip_unset_env:
                return "${" + name + "}"
            return value
        if ch == ":" or (ch in ("+", "-", "?", "#", "%") and ch):
            if ch == ":":
                null_is_unset = True
                ch = self.next()
                chs += ch or "\ufffd"
            raw = ch in ("#", "%") and ch != _EOF
            if null_is_unset and raw:
                raise LexError(f"unsupported modifier ({chs}) in substitution")
            try:
                word, _ = self.stop_on("}", raw)
            except LexError:
                if self.peek() == _EOF:
                    raise LexError("syntax error: missing '}'") from None
                raise
            value, found = self.get_env(name)
            if self.lx.skip_unset_env and not found:
                return "${" + name + chs + word + "}"
            empty = not found or (null_is_unset and value == "")
            if ch == "-":
                return word if empty else value
            if ch == "+":
                return "" if empty else word
            if ch == "?":
                if not found:
                    raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
                if null_is_unset and value == "":
                    raise LexError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            if ch in ("#", "%") and ch:
                greedy = word[:1] == ch
                if greedy:
                    word = word[1:]
                if ch == "%":
                    return _trim_suffix(word, value, greedy)
                return _trim_prefix(word, value, greedy)
            raise LexError(f"unsupported modifier ({chs}) in substitution")
        if ch == "/":
            replace_all = self.peek() == "/"
            if replace_all:
                self.next()
            try:
                pattern, _ = self.stop_on("/", True)
            except LexError:
                if self.peek() == _EOF:
                    raise LexError("syntax error: missing '/' in ${}") from None
                raise
            try:
                replacement, _ = self.stop_on("}", True)
            except LexError:
                if self.peek() == _EOF:
                    raise LexError("syntax error: missing '}'") from None
                raise
            value, found = self.get_env(name)
            if self.lx.skip_unset_env and not found:
                return "${" + name + "/" + pattern + "/" + replacement + "}"
            regex = _shell_pattern_to_regex(pattern, greedy=True, anchored=False)
            rep = _go_template(replacement)
            if replace_all:
                return regex.sub(rep, value)
            return regex.sub(rep, value, count=1)
        raise LexError(f"unsupported modifier ({chs}) in substitution")


_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def _shell_pattern_to_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A `${VAR#pattern}` glob (`*`, `?`, `\\` escapes; no brackets) as a regular expression."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(star)
            continue
        if tok == "?":
            out.append(".")
            continue
        if tok == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue
            tok = nxt
            i += 1
            if tok not in ("*", "?", "\\"):
                raise LexError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{tok}'"
                )
            out.append("\\" + tok)
            continue
        out.append("\\" + tok if tok in _REGEX_SPECIAL else tok)
    return re.compile("".join(out))


def _go_template(replacement: str) -> Callable[[re.Match[str]], str]:
    """Go's Regexp.ReplaceAllString expands `$name`/`${name}`; a pattern here has no groups,
    so every such reference expands to the empty string and `$$` to `$`."""

    def expand(_match: re.Match[str]) -> str:
        return re.sub(r"\$\$|\$\{[A-Za-z0-9_]+\}|\$[A-Za-z0-9_]+", _dollar_sub, replacement)

    return expand


def _dollar_sub(m: re.Match[str]) -> str:
    return "$" if m.group(0) == "$$" else ""


def _trim_prefix(word: str, value: str, greedy: bool) -> str:
    regex = _shell_pattern_to_regex(word, greedy=greedy, anchored=True)
    m = regex.search(value)
    return value[m.end() :] if m else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern without reversing its escapes (`a\\*c` -> `c\\*a`)."""
    chars = list(pattern)
    out = [""] * len(chars)
    last = len(chars) - 1
    i = 0
    while i <= last:
        tok = chars[i]
        at = last - i
        if tok == "\\" and i != last:
            out[at - 1] = tok
            out[at] = chars[i + 1]
            i += 2
        else:
            out[at] = tok
            i += 1
    return "".join(out)


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # Regular expressions cannot find the shortest rightmost match, so search the reversed text.
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


HEREDOC_LEXER = Lexer("\\", raw_quotes=True, raw_escapes=True, skip_unset_env=True)
