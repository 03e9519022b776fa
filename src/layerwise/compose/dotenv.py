"""`.env` files as Compose reads them (compose-go's dotenv parser).

`KEY=value`, `KEY: value`, `export KEY=value`; unquoted values end at a newline and lose a
trailing ` # comment`; single-quoted values are literal; double-quoted values take the shell
escapes `\\n \\t \\" \\\\ \\$ ...`; unquoted and double-quoted values are interpolated (with the
variables already set and the ones defined earlier in the file); a bare `KEY` line takes the
variable from the environment when it is set there.
"""

from __future__ import annotations

import re
from pathlib import Path

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.interpolate import InvalidTemplate, Lookup, MissingRequired, substitute
from layerwise.errors import Location

_EXPORT = re.compile(r"^export\s+")
_ESCAPES = re.compile(r'\\(?:[abcfnrtv$"\\]|0\d{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "c": "\\c",  # Go's UnquoteChar refuses \c: the text stays as it is
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
}
_SPACE = "\t\v\f\r \x85\xa0"


def _unescape(match: re.Match[str]) -> str:
    text = match.group()
    if text == "\\$":
        return "$$"
    if text.startswith("\\0"):
        digits = text[2:]
        if len(digits) == 3 and all(c in "01234567" for c in digits) and int(digits, 8) < 256:
            return chr(int(digits, 8))
        return text
    return _SIMPLE_ESCAPES[text[1]]


class _Parser:
    def __init__(self, path: str, lookup: Lookup) -> None:
        self.path = path
        self.lookup = lookup
        self.line = 1

    def error(self, message: str) -> ComposeFileError:
        return ComposeFileError(message, Location(self.path, self.line, 1))

    def expand(self, value: str, out: dict[str, str]) -> str:
        def find(name: str) -> str | None:
            found = self.lookup(name)
            return found if found is not None else out.get(name)

        try:
            return substitute(value, find)
        except (InvalidTemplate, MissingRequired) as exc:
            detail = str(exc) if isinstance(exc, MissingRequired) else "invalid interpolation"
            raise self.error(f"{detail} in {value!r}") from None

    def statement_start(self, src: str) -> str:
        while True:
            pos = 0
            while pos < len(src) and src[pos].isspace():
                if src[pos] == "\n":
                    self.line += 1
                pos += 1
            if pos == len(src):
                return ""
            src = src[pos:]
            if src[0] != "#":
                return src
            newline = src.find("\n")
            if newline < 0:
                return ""
            src = src[newline:]

    def parse(self, src: str) -> dict[str, str]:
        out: dict[str, str] = {}
        while True:
            src = self.statement_start(src)
            if not src:
                return out
            if _EXPORT.match(src):
                src = src[len("export") :].lstrip(_SPACE)
            key = ""
            offset = 0
            inherited = False
            found = False
            for index, char in enumerate(src):
                if char in _SPACE:
                    continue
                if char in "=:\n":
                    key = src[:index]
                    offset = index + 1
                    inherited = char == "\n"
                    found = True
                    break
                if char in "_.-[]" or char.isalnum():
                    continue
                first_line = src.split("\n", 1)[0]
                raise self.error(f"unexpected character {char!r} in variable name {first_line!r}")
            if not found:
                key, offset, inherited = src, len(src), True
            key = key.rstrip()
            if " " in key:
                raise self.error("key cannot contain a space")
            rest = src[offset:].lstrip(_SPACE)
            if inherited:
                self.line += 1
                value = self.lookup(key)
                if value is not None:
                    out[key] = value
                src = rest
                continue
            value, src = self.value(rest, out)
            out[key] = value

    def value(self, src: str, out: dict[str, str]) -> tuple[str, str]:
        if not src or src[0] not in "'\"":
            line, _, rest = src.partition("\n")
            self.line += 1
            line = line.split(" #", 1)[0].rstrip()
            return self.expand(line, out), rest
        quote = src[0]
        chars: list[str] = []
        escaped = False
        for index in range(1, len(src)):
            char = src[index]
            if char == "\n":
                self.line += 1
            if char != quote:
                if not escaped and char == "\\":
                    escaped = True
                    continue
                if escaped:
                    escaped = False
                    chars.append("\\")
                chars.append(char)
                continue
            if escaped:
                escaped = False
                chars.append(char)
                continue
            text = "".join(chars)
            if quote == '"':
                text = self.expand(_ESCAPES.sub(_unescape, text), out)
            return text, src[index + 1 :]
        raise self.error(f"unterminated quoted value {src.split(chr(10), 1)[0]}")


def parse_env(text: str, path: str, lookup: Lookup | None = None) -> dict[str, str]:
    """The variables an env file defines; `lookup` gives the variables already set."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return _Parser(path, lookup or (lambda _name: None)).parse(text)


def read_env_files(paths: list[Path], environment: dict[str, str]) -> dict[str, str]:
    """Read env files in order; later files see (and override) what earlier ones set."""
    result: dict[str, str] = {}

    def lookup(name: str) -> str | None:
        if name in environment:
            return environment[name]
        return result.get(name)

    for path in paths:
        if not path.exists():
            raise ComposeFileError(f"couldn't find env file: {path}")
        if path.is_dir():
            raise ComposeFileError(f"{path} is a directory, not an env file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ComposeFileError(f"cannot read env file {path}: {exc}") from None
        result.update(parse_env(text, str(path), lookup))
    return result
