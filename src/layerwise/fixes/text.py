"""Writing Dockerfile text the way the file already writes it, and placing it by the syntax tree.

Structural fixes insert, move and replace whole instructions. Everything they write follows the
file's own conventions (line endings, keyword casing, the escape character and how continuation
lines are indented), and everything they do not rewrite is copied byte for byte from the source,
so comments and formatting outside the edited spans stay as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from layerwise.dockerfile.syntax import Dockerfile, Instruction, Trivia
from layerwise.rules.base import Edit

SYNTAX_DIRECTIVE = "docker/dockerfile:1"
# Longest line a generated RUN is written on before it is split at its `&&`s.
MAX_LINE = 100
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.,/@%+=:~-]+")


@dataclass(frozen=True)
class Style:
    """How a Dockerfile is written: what generated text must look like to fit in."""

    newline: str  # "\n" or "\r\n"
    upper: bool  # keywords in upper case
    escape: str  # the line-continuation character (`\` or a backquote)
    indent: str  # indentation of continuation lines

    def keyword(self, name: str) -> str:
        return name.upper() if self.upper else name.lower()

    def lines(self, lines: Iterable[str]) -> str:
        """Lines joined and terminated with the file's line ending."""
        return "".join(line + self.newline for line in lines)

    def run(self, commands: Sequence[str], flags: Sequence[str] = ()) -> str:
        """A RUN instruction chaining `commands` with `&&`, split over lines when long."""
        head = " ".join([self.keyword("RUN"), *flags])
        one = f"{head} {' && '.join(commands)}"
        if len(one) <= MAX_LINE or len(commands) == 1:
            return one
        sep = f" {self.escape}{self.newline}{self.indent}&& "
        return f"{head} {commands[0]}" + "".join(sep + c for c in commands[1:])


def style_of(df: Dockerfile) -> Style:
    text = df.text
    crlf = text.count("\r\n")
    newline = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
    keywords = [ins.keyword for ins in df.instructions]
    upper = sum(1 for k in keywords if k == k.upper()) >= sum(
        1 for k in keywords if k == k.lower() and k != k.upper()
    )
    return Style(newline, upper, df.escape, _continuation_indent(df))


def _continuation_indent(df: Dockerfile) -> str:
    """The indentation most continuation lines of the file use (four spaces when none)."""
    counts: dict[str, int] = {}
    for ins in df.instructions:
        if ins.end_line == ins.start_line or ins.heredocs:
            continue
        for line in range(ins.start_line + 1, ins.end_line + 1):
            raw = df.line_text(line)
            stripped = raw.lstrip(" \t")
            if stripped and not stripped.startswith("#"):
                indent = raw[: len(raw) - len(stripped)]
                if indent:
                    counts[indent] = counts.get(indent, 0) + 1
    if not counts:
        return "    "
    return max(sorted(counts), key=lambda k: counts[k])


# -- where things are --------------------------------------------------------------------------


def block_start(df: Dockerfile, ins: Instruction) -> int:
    """Where an instruction's block starts: the comment lines directly above it belong to it
    (they describe it and move with it); a blank line or a directive ends the block."""
    start = ins.span.start
    index = _item_index(df, ins)
    for item in reversed(df.items[:index]):
        if isinstance(item, Trivia) and item.kind == "comment":
            start = item.span.start
            continue
        break
    return start


def block_text(df: Dockerfile, ins: Instruction) -> str:
    """The instruction with its comment block, as written, ending with a line ending."""
    text = df.text[block_start(df, ins) : ins.span.end]
    return text if text.endswith("\n") else text + style_of(df).newline


def _item_index(df: Dockerfile, ins: Instruction) -> int:
    for i, item in enumerate(df.items):
        if item is ins:
            return i
    raise ValueError(f"{ins!r} is not an item of this Dockerfile")


def insert_before(df: Dockerfile, ins: Instruction, text: str) -> Edit:
    """Insert whole lines before an instruction's comment block."""
    return Edit.insert(block_start(df, ins), text)


class NotApplicable(Exception):
    """A structural fix would not keep the build working; the message says why (one line)."""


def open_at_end(df: Dockerfile, ins: Instruction) -> bool:
    """Whether the instruction's last line continues (ends with the escape character) into the
    end of the file: anything appended after it would become part of it."""
    if ins.span.end < len(df.text.rstrip("\r\n")) or ins.heredocs:
        return False
    for line in reversed(df.text[ins.span.start : ins.span.end].splitlines()):
        code = line.strip()
        if not code or code.startswith("#"):
            continue
        return code.endswith(df.escape)
    return False


def insert_after(df: Dockerfile, ins: Instruction, text: str) -> Edit:
    """Insert whole lines after an instruction (and its heredoc bodies)."""
    if open_at_end(df, ins):
        raise NotApplicable(
            f"line {ins.start_line}: the last instruction ends with a line continuation, so "
            "nothing can follow it"
        )
    end = ins.span.end
    if not df.text[ins.span.start : end].endswith("\n"):
        text = style_of(df).newline + text.removesuffix(style_of(df).newline)
    return Edit.insert(end, text)


def delete_block(df: Dockerfile, ins: Instruction) -> Edit:
    """Remove an instruction with its comment block."""
    return Edit(block_start(df, ins), ins.span.end, "")


# -- writing paths and commands ----------------------------------------------------------------


def copy_instruction(
    style: Style, sources: Sequence[str], dest: str, flags: Sequence[str] = (), name: str = "COPY"
) -> str:
    """`COPY [flags] src... dest`, in JSON form when a path needs quoting."""
    head = " ".join([style.keyword(name), *flags])
    paths = [*sources, dest]
    if all(_PLAIN_PATH.fullmatch(p) for p in paths):
        return f"{head} {' '.join(paths)}"
    return f"{head} {json.dumps(paths)}"


def shell_quote(word: str) -> str:
    """Quote a word for /bin/sh only when it needs it."""
    if word and _PLAIN_PATH.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


# -- the syntax directive ----------------------------------------------------------------------

# Syntax that only BuildKit's Dockerfile frontend understands.
_BUILDKIT_FLAGS = {
    "RUN": ("mount", "network", "security", "device"),
    "COPY": ("link", "chmod", "exclude", "parents"),
    "ADD": ("link", "chmod", "checksum", "keep-git-dir", "exclude", "unpack"),
}


def uses_buildkit_syntax(df: Dockerfile) -> bool:
    """Whether the file needs BuildKit's frontend: `RUN --mount`/`--network`, `COPY --link`/
    `--chmod`, heredocs, ..."""
    for ins in df.walk():
        if ins.heredocs:
            return True
        names = _BUILDKIT_FLAGS.get(ins.name, ())
        if any(f.name in names for f in ins.flags):
            return True
    return False


def ensure_syntax_directive(df: Dockerfile) -> list[Edit]:
    """The edit that adds `# syntax=docker/dockerfile:1` when the file has no syntax directive.

    Parser directives must come before anything else, so the line goes first (after other
    directives, which must stay in the leading block)."""
    if df.directive("syntax") is not None:
        return []
    style = style_of(df)
    at = 1 if df.bom and df.text.startswith("\ufeff") else 0
    directives = df.directives
    if directives:
        at = directives[-1].span.end
        if not df.text[directives[-1].span.start : at].endswith("\n"):
            return [Edit.insert(at, style.newline + f"# syntax={SYNTAX_DIRECTIVE}")]
    return [Edit.insert(at, f"# syntax={SYNTAX_DIRECTIVE}{style.newline}")]
