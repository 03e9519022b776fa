"""The lossless syntax tree of a Dockerfile.

The tree is a flat sequence of items (instructions, comment lines, blank lines, parser
directives) whose source spans tile the file exactly, so `Dockerfile.to_text()` gives back the
input byte for byte. Every token keeps its span, so a finding can point at a column and a fix
can replace exactly the characters it means to (see `layerwise.fixes`).

Offsets are indices into `Dockerfile.text` (a `str`); lines and columns are 1-based and count
characters. A file's byte-order mark is kept in the text but is not counted as a column.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from layerwise.dockerfile.model import Model


class Span(NamedTuple):
    """Half-open range of offsets into the Dockerfile text."""

    start: int
    end: int


class Position(NamedTuple):
    line: int
    column: int


class Word(NamedTuple):
    """One argument of an instruction, as BuildKit's parser splits it (quotes not yet removed
    where BuildKit keeps them), and where it sits in the source."""

    value: str
    span: Span


class Flag(NamedTuple):
    """An instruction flag such as `--mount=type=cache,target=/root/.cache/pip`.

    `text` is the flag as BuildKit's parser extracts it (quotes removed); `name` is without the
    leading dashes; `value` is None for a flag written without `=`.
    """

    text: str
    span: Span

    @property
    def name(self) -> str:
        return self.text[2:].split("=", 1)[0]

    @property
    def value(self) -> str | None:
        parts = self.text.split("=", 1)
        return parts[1] if len(parts) == 2 else None


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A here-document attached to RUN, COPY or ADD (`<<EOF` ... `EOF`)."""

    name: str
    content: str
    chomp: bool  # `<<-`: leading tabs are removed from the content
    expand: bool  # unquoted delimiter: variables in the content are expanded
    fd: int  # `3<<EOF`; 0 when not given
    span: Span  # body lines and the terminator line

    @property
    def text(self) -> str:
        """The content as the instruction receives it (tabs chomped for `<<-`)."""
        if not self.chomp:
            return self.content
        return "".join(line.lstrip("\t") for line in self.content.splitlines(keepends=True))


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One `key=value` (or legacy `key value`) pair of ENV or LABEL, value not yet unquoted."""

    key: str
    value: str
    legacy: bool  # written as `ENV key value`, without `=`
    span: Span


TriviaKind = Literal["blank", "comment", "directive"]


@dataclass(eq=False)
class Trivia:
    """A line that is not part of an instruction: blank, comment, or parser directive."""

    kind: TriviaKind
    span: Span
    line: int
    text: str  # the line without its line ending (and without a byte-order mark)

    @property
    def comment(self) -> str | None:
        """The comment's text after `#`, stripped; None for blank lines."""
        stripped = self.text.lstrip()
        if not stripped.startswith("#"):
            return None
        return stripped[1:].strip()


@dataclass(eq=False)
class Directive(Trivia):
    """A parser directive (`# syntax=...`, `# escape=...`, `# check=...`)."""

    name: str = ""
    value: str = ""


Form = Literal["exec", "shell", "words", "none"]


@dataclass(eq=False)
class Instruction:
    """One instruction, spanning one or more physical lines (continuations and heredocs).

    `arguments` are the values BuildKit's parser keeps for the instruction (its AST node
    values): for exec form one string per JSON element; for shell-form RUN/CMD/ENTRYPOINT/
    SHELL the whole command line; for FROM/COPY/ADD/EXPOSE/VOLUME whitespace-separated words;
    for ENV/LABEL key, value and separator (`=` or empty) triples; for ARG one word per
    declaration. For ONBUILD, `trigger` holds the wrapped instruction.
    """

    dockerfile: Dockerfile = field(repr=False)
    keyword: str  # as written, e.g. "run"
    keyword_span: Span
    flags: tuple[Flag, ...]
    words: tuple[Word, ...]  # arguments with their spans (JSON elements, words, or the command)
    arguments: tuple[str, ...]
    json: bool
    heredocs: tuple[Heredoc, ...]
    trigger: Instruction | None
    pairs: tuple[KeyValue, ...]  # ENV and LABEL only
    args_span: Span  # the text after the flags, as written
    logical: str  # the instruction with continuations joined (BuildKit's "Original")
    span: Span  # every physical line of the instruction, line endings included
    start_line: int
    end_line: int
    comments: tuple[str, ...]  # the comments BuildKit attaches (its PrevComment)
    index: int = -1  # position among the Dockerfile's instructions

    @cached_property
    def name(self) -> str:
        """The keyword in upper case (`RUN`); read by every rule, so computed once."""
        return self.keyword.upper()

    @property
    def form(self) -> Form:
        if self.json:
            return "exec"
        if self.name in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK"):
            return "shell" if self.arguments else "none"
        return "words" if self.arguments else "none"

    @property
    def source(self) -> str:
        return self.dockerfile.text[self.span.start : self.span.end]

    @property
    def args_text(self) -> str:
        """The arguments as written (after the flags), continuations included."""
        return self.dockerfile.text[self.args_span.start : self.args_span.end]

    @property
    def start(self) -> Position:
        return self.dockerfile.position(self.span.start)

    def flag(self, name: str) -> Flag | None:
        """The last flag with this name (`from`, `mount`, ...), as BuildKit lets the last win."""
        found = None
        for f in self.flags:
            if f.name == name:
                found = f
        return found

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @property
    def command(self) -> str | None:
        """For shell-form RUN/CMD/ENTRYPOINT/SHELL: the command line; None for exec form."""
        if self.json or not self.arguments:
            return None
        if self.name == "HEALTHCHECK":
            return self.arguments[1] if len(self.arguments) > 1 else None
        return self.arguments[0]

    def __repr__(self) -> str:
        return f"<Instruction {self.name} line {self.start_line}>"


Item = Instruction | Trivia


@dataclass(eq=False)
class Dockerfile:
    """A parsed Dockerfile: its text, its items in order, and how to locate offsets."""

    text: str
    path: str | None
    items: list[Item]
    escape: str
    bom: bool
    line_starts: list[int] = field(repr=False)
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def instructions(self) -> list[Instruction]:
        return [item for item in self.items if isinstance(item, Instruction)]

    @cached_property
    def directives(self) -> list[Directive]:
        return [item for item in self.items if isinstance(item, Directive)]

    def directive(self, name: str) -> str | None:
        for d in self.directives:
            if d.name == name:
                return d.value
        return None

    def to_text(self) -> str:
        """The source, rebuilt from the items; equal to the input for every input."""
        prefix = "\ufeff" if self.bom else ""
        return prefix + "".join(self.text[item.span.start : item.span.end] for item in self.items)

    def position(self, offset: int) -> Position:
        """Line and column (1-based) of an offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        line = max(line, 0)
        return Position(line + 1, offset - self.line_starts[line] + 1)

    def end_position(self, offset: int) -> Position:
        """Position just after the character before `offset` (for exclusive span ends)."""
        if offset <= 0:
            return Position(1, 1)
        p = self.position(offset - 1)
        return Position(p.line, p.column + 1)

    def line_text(self, line: int) -> str:
        """A physical line without its line ending (1-based)."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def walk(self) -> Iterator[Instruction]:
        """Instructions and ONBUILD triggers, depth first."""
        for ins in self.instructions:
            yield ins
            if ins.trigger is not None:
                yield ins.trigger

    def model(self, build_args: dict[str, str] | None = None, target: str | None = None) -> Model:
        """The semantic model (stages, stage graph, scopes), built on demand."""
        from layerwise.dockerfile.model import build_model

        return build_model(self, build_args=build_args, target=target)
