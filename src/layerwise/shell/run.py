"""The script a Dockerfile RUN instruction executes, with offsets back into the Dockerfile.

BuildKit runs a shell-form RUN as `SHELL + [command]`, where the command is the logical line
(continuations joined, comment lines inside it dropped). With heredocs it does one of three
things (dockerfile2llb `dispatchRun`): `RUN <<EOF` alone runs the heredoc body as the script
(or, when the body starts with `#!`, as an executable file); anything else (`RUN python3 <<EOF`)
passes the command line followed by the heredoc bodies and terminators to the shell, which
reads them as ordinary heredocs. Exec form runs argv directly, without a shell, unless argv
starts one (`["/bin/sh", "-c", "..."]`).
"""

from __future__ import annotations

import bisect
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layerwise.dockerfile.gotext import GO_SPACE, trim_newline
from layerwise.dockerfile.parser import heredoc_marker
from layerwise.dockerfile.syntax import Instruction, Span
from layerwise.shell.syntax import Command, Script, ShellWord, analyze

if TYPE_CHECKING:
    from layerwise.dockerfile.model import Step

DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(eq=False)
class RunScript:
    """A RUN instruction's script and how its offsets map back to the Dockerfile."""

    instruction: Instruction
    script: Script
    offsets: list[int]  # offsets[i]: Dockerfile offset of script character i (one extra at end)
    exact: bool  # False when offsets only approximate (exec form, shebang heredoc)

    def source_offset(self, offset: int) -> int:
        if not self.offsets:
            return self.instruction.args_span.start
        return self.offsets[min(max(offset, 0), len(self.offsets) - 1)]

    def source_span(self, start: int, end: int) -> Span:
        """The Dockerfile span of script[start:end]."""
        s = self.source_offset(start)
        e = self.source_offset(end - 1) + 1 if end > start else s
        return Span(s, e)

    def command_span(self, cmd: Command) -> Span:
        return self.source_span(cmd.start, cmd.end)

    def word_span(self, word: ShellWord) -> Span:
        return self.source_span(word.start, word.end)


def analyze_run(
    ins: Instruction,
    *,
    shell: Sequence[str] = DEFAULT_SHELL,
    env: Mapping[str, str] | None = None,
) -> RunScript | None:
    """Analyze what a RUN instruction executes (None for other instructions or an empty RUN).

    `shell` is the stage's current SHELL, `env` the ENV/ARG values in scope (from the model).
    An ONBUILD RUN is analyzed through its trigger.
    """
    outer = ins
    if ins.name == "ONBUILD" and ins.trigger is not None:
        ins = ins.trigger  # its spans point into the ONBUILD line; the trigger has no own span
    if ins.name != "RUN" or not ins.arguments:
        return None
    if ins.json:
        return _exec_form(ins, list(ins.arguments), env)
    command = ins.arguments[0]
    offsets = _command_offsets(ins, command, outer.span.end)
    if ins.heredocs:
        marker = heredoc_marker(command.strip(GO_SPACE))
        first = ins.heredocs[0]
        if marker is not None:
            body = first.text
            body_offsets = _heredoc_offsets(ins, 0)
            if body.startswith("#!"):
                interpreter = body[2:].split("\n", 1)[0].strip()
                argv = interpreter.split()
                if argv and argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "dash", "ash", "zsh"):
                    script = analyze(body, shell=argv, env=env)
                    return RunScript(ins, script, body_offsets, first.chomp is False)
                script = Script(body, tuple(argv), [], None, [], dict(env or {}), interpreter)
                return RunScript(ins, script, body_offsets, False)
            script = analyze(body, shell=shell, env=env)
            return RunScript(ins, script, body_offsets, not first.chomp)
        full = command
        full_offsets = offsets[:-1]
        for doc in ins.heredocs:
            full += "\n" + doc.content + doc.name
            base = doc.span.start  # the shell gets the raw body; it chomps `<<-` itself
            full_offsets += [max(base - 1, 0), *range(base, base + len(doc.content))]
            full_offsets += _terminator_offsets(ins, doc.span.end, len(doc.name))
        full_offsets.append(ins.span.end)
        return RunScript(ins, analyze(full, shell=shell, env=env), full_offsets, True)
    return RunScript(ins, analyze(command, shell=shell, env=env), offsets, True)


def analyze_step(step: Step) -> RunScript | None:
    """`analyze_run` for a step of the semantic model, with the stage's SHELL and the ENV/ARG
    values in scope at that step."""
    return analyze_run(step.instruction, shell=step.shell, env=step.env)


def _exec_form(ins: Instruction, argv: list[str], env: Mapping[str, str] | None) -> RunScript:
    """Exec form: no shell. A first element that is a shell with -c gives its script."""
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "dash", "ash", "zsh"):
        for i, arg in enumerate(argv[1:-1], 1):
            if arg.startswith("-") and "c" in arg[1:]:
                script_text = argv[i + 1]
                word = ins.words[i + 1]
                offsets = _json_string_offsets(ins, word.span, script_text)
                script = analyze(script_text, shell=argv[: i + 1], env=env)
                return RunScript(ins, script, offsets, offsets is not None and len(offsets) > 0)
    text = shlex.join(argv)
    script = analyze(text, shell=("sh", "-c"), env=env)
    span = ins.args_span
    offsets = [span.start] * len(text) + [span.end]
    return RunScript(ins, script, offsets, False)


def _json_string_offsets(ins: Instruction, span: Span, value: str) -> list[int]:
    """Map characters of a decoded JSON string back to the source (escapes map to their start)."""
    raw = ins.dockerfile.text[span.start : span.end]
    out: list[int] = []
    i = 1 if raw.startswith('"') else 0
    while i < len(raw) - 1 and len(out) < len(value):
        if raw[i] == "\\":
            out.append(span.start + i)
            i += 6 if raw[i + 1 : i + 2] == "u" else 2
        else:
            out.append(span.start + i)
            i += 1
    try:
        if json.loads(raw) != value or len(out) != len(value):
            raise ValueError
    except ValueError:
        out = [span.start] * len(value)
    out.append(span.end)
    return out


def _command_offsets(ins: Instruction, command: str, end: int) -> list[int]:
    """Dockerfile offset of each character of the shell-form command (plus one past the end),
    rebuilt by joining the instruction's physical lines the way BuildKit's parser does."""
    df = ins.dockerfile
    text = df.text
    escape = df.escape
    start = ins.words[0].span.start if ins.words else ins.args_span.start
    limit = ins.heredocs[0].span.start if ins.heredocs else end
    offsets: list[int] = []
    pos = start
    first = True
    while pos < limit and len(offsets) < len(command):
        nl = text.find("\n", pos, limit)
        line_end = limit if nl < 0 else nl + 1
        raw = text[pos:line_end]
        if not first and (
            raw.lstrip(GO_SPACE).startswith("#") or not trim_newline(raw).strip(GO_SPACE)
        ):
            pos = line_end
            continue
        line = trim_newline(raw)
        kept = _kept_length(line, escape)
        offsets.extend(range(pos, pos + kept))
        first = False
        pos = line_end
    if len(offsets) < len(command):  # should not happen: fall back to the argument span
        return _spread(ins.args_span, len(command))
    offsets = offsets[: len(command)]
    if "".join(text[o] for o in offsets) != command:
        return _spread(ins.args_span, len(command))
    offsets.append(offsets[-1] + 1 if offsets else start)
    return offsets


def _kept_length(line: str, escape: str) -> int:
    """How much of a physical line stays in the logical line (a trailing escape is dropped)."""
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        before = stripped[:-1]
        if not before or not before.endswith(escape):
            return len(before)
        # `\\` at the end: BuildKit's regex needs a non-escape before the escape
        return len(line)
    return len(line)


def _spread(span: Span, n: int) -> list[int]:
    return [min(span.start + i, max(span.end - 1, span.start)) for i in range(n)] + [span.end]


def _heredoc_offsets(ins: Instruction, k: int) -> list[int]:
    """Offsets of heredoc k's content as the instruction receives it (tabs chomped for `<<-`)."""
    doc = ins.heredocs[k]
    base = doc.span.start
    if not doc.chomp:
        return [*range(base, base + len(doc.content)), base + len(doc.content)]
    out: list[int] = []
    pos = base
    for line in doc.content.splitlines(keepends=True):
        stripped = line.lstrip("\t")
        skip = len(line) - len(stripped)
        out.extend(range(pos + skip, pos + len(line)))
        pos += len(line)
    out.append(pos)
    return out


def _terminator_offsets(ins: Instruction, body_end: int, n: int) -> list[int]:
    text = ins.dockerfile.text
    starts = ins.dockerfile.line_starts
    line = bisect.bisect_right(starts, max(body_end - 1, 0)) - 1
    term_start = starts[line] if line < len(starts) else body_end
    term = text[term_start : term_start + n + 16]
    lead = len(term) - len(term.lstrip("\t"))
    return [term_start + lead + i for i in range(n)]
