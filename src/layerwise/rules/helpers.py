"""Helpers shared by the rule families.

* Which stages make the image: `stage_chain`, `final_chain`, `in_final_image`.
* The RUN steps of some stages with their parsed scripts (ONBUILD RUN triggers included):
  `run_steps`, and the mounts a RUN declares (`run_mounts`, `mounted`).
* Fix edits that keep the file's style (single line or continued lines, `&& \\` at the end of a
  line or `&&` at the start of the next, the continuation indentation, the escape character,
  CRLF line endings): `append_command`, `prepend_command`, `insert_after_subcommand`.

Every edit is computed from spans the parser and the shell analysis give; nothing here searches
the raw text with patterns.
"""

from __future__ import annotations

import csv
import dataclasses
import fnmatch
import itertools
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from layerwise.dockerfile.model import Model, Stage, Step
from layerwise.dockerfile.syntax import Dockerfile, Instruction
from layerwise.rules.base import Edit, Finding, LintContext, Severity
from layerwise.shell.packages import PackageOp
from layerwise.shell.run import RunScript
from layerwise.shell.syntax import Command, ShellWord

# -- stages ---------------------------------------------------------------------------------------


def stage_chain(model: Model, stage: Stage) -> list[Stage]:
    """The stage and the stages it is built FROM, base first (`FROM a AS b` ... `FROM b`)."""
    chain = [stage]
    seen = {stage.index}
    while chain[0].base_stage is not None and chain[0].base_stage not in seen:
        base = model.stages[chain[0].base_stage]
        seen.add(base.index)
        chain.insert(0, base)
    return chain


def final_chain(model: Model) -> list[Stage]:
    """The stages whose layers are in the image: the target and its FROM ancestors."""
    return stage_chain(model, model.target) if model.target is not None else []


def in_final_image(model: Model, stage: Stage) -> bool:
    return any(s.index == stage.index for s in final_chain(model))


def steps_before(model: Model, step: Step) -> list[Step]:
    """The steps that run before `step` in the same filesystem: earlier steps of its stage and
    every step of the stages it is built FROM."""
    stage = model.stages[step.stage_index]
    out: list[Step] = []
    for st in stage_chain(model, stage):
        for s in st.steps:
            if s is step:
                return out
            out.append(s)
    return out


def as_style(ctx: LintContext, finding: Finding) -> Finding:
    """The finding with style severity (unless the configuration overrides the rule's)."""
    return dataclasses.replace(
        finding, severity=ctx.config.severity_for(finding.rule, Severity.STYLE)
    )


def is_root(user: str | None) -> bool:
    """Whether a USER value runs as root (no USER at all counts as root)."""
    if user is None:
        return True
    name = user.split(":", 1)[0].strip()
    return name in ("", "root", "0")


# -- RUN steps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStep:
    """A RUN step (or an ONBUILD RUN trigger) with its parsed script."""

    step: Step
    run: RunScript
    stage: Stage

    @property
    def instruction(self) -> Instruction:
        """The RUN instruction itself (the trigger of an ONBUILD RUN)."""
        return self.run.instruction

    @property
    def outer(self) -> Instruction:
        """What the Dockerfile lists: the RUN, or the ONBUILD wrapping it (findings point here)."""
        return self.step.instruction

    @property
    def onbuild(self) -> bool:
        return self.step.instruction.name == "ONBUILD"


def run_steps(ctx: LintContext, stages: Iterable[Stage] | None = None) -> Iterator[RunStep]:
    """Every RUN of the given stages (all stages by default) whose script could be read, in file
    order, ONBUILD RUN triggers included (hadolint checks those too)."""
    for stage in ctx.model.stages if stages is None else stages:
        for step in stage.steps:
            if step.name not in ("RUN", "ONBUILD"):
                continue
            run = ctx.run(step)
            if run is not None:
                yield RunStep(step, run, stage)


@dataclass(frozen=True)
class RunMount:
    type: str
    target: str


def run_mounts(ins: Instruction) -> list[RunMount]:
    """The `--mount` flags of a RUN (or of an ONBUILD RUN trigger), type and target only."""
    if ins.name == "ONBUILD" and ins.trigger is not None:
        ins = ins.trigger
    out = []
    for value in ins.flag_values("mount"):
        try:
            fields = next(csv.reader([value]), [])
        except csv.Error:
            continue
        kind, target = "bind", ""
        for fld in fields:
            key, _, val = fld.partition("=")
            key = key.strip().lower()
            if key == "type":
                kind = val.strip().lower()
            elif key in ("target", "dst", "destination"):
                target = val.strip()
        out.append(RunMount(kind, target))
    return out


def mounted(ins: Instruction, path: str, *, fragment: bool = False) -> bool:
    """Whether a cache or tmpfs mount keeps `path` out of the layer: the mount target is the
    directory or one of its parents (with `fragment=True`: the target contains `path`, as
    hadolint tests for `.cache/pip`)."""
    want = path.rstrip("/")
    for m in run_mounts(ins):
        if m.type not in ("cache", "tmpfs"):
            continue
        target = m.target.rstrip("/")
        if fragment and want in target:
            return True
        if target and (want == target or want.startswith(target + "/")):
            return True
    return False


def removes_dir(path: str, directory: str) -> bool:
    """Whether a recursive `rm path` removes the contents of `directory`: the directory, its
    contents (`/var/lib/apt/lists/*`), a parent, or a glob matching one of those
    (`/var/lib/apt/lists*`)."""
    p = path.rstrip("/")
    if p.endswith(("/*", "/**")):
        p = p.rsplit("/", 1)[0]
    parts = directory.rstrip("/").split("/")
    ancestors = ["/".join(parts[:n]) for n in range(2, len(parts) + 1)]
    if any(ch in p for ch in "*?["):
        return any(fnmatch.fnmatchcase(a, p) for a in ancestors)
    return p in ancestors


def uses_buildkit_syntax(df: Dockerfile) -> bool:
    """The file already relies on BuildKit's Dockerfile frontend: a `# syntax=` directive or a
    `RUN --mount` somewhere. A fix may then add cache mounts without changing what the file
    needs to build."""
    if df.directive("syntax"):
        return True
    return any(f.name == "mount" for ins in df.walk() for f in ins.flags)


# -- the shape of a script ------------------------------------------------------------------------


def top_level(run: RunScript) -> list[Command]:
    """The commands the script itself runs (not those inside `$(...)` or a `sh -c` string)."""
    return [c for c in run.script.commands if c.depth == 0 and not c.substitution]


def and_chain(run: RunScript) -> list[Command] | None:
    """The top-level commands when the script is nothing but `a && b && c` (no `;`, `||`, pipes,
    compound commands or comments); None otherwise."""
    cmds = top_level(run)
    if not cmds or any(c.subshell or c.in_function or c.background for c in cmds):
        return None
    text = run.script.text
    gaps = [text[: cmds[0].start], text[cmds[-1].end :]]
    if any(g.strip() for g in gaps):
        return None
    for a, b in itertools.pairwise(cmds):
        if text[a.end : b.start].strip() != "&&":
            return None
    return cmds


def _appendable(run: RunScript) -> Command | None:
    """The last top-level command when something can be chained after it with `&&`."""
    if not run.exact or run.instruction.heredocs or run.instruction.json:
        return None
    cmds = top_level(run)
    if not cmds or run.script.parse_error:
        return None
    last = max(cmds, key=lambda c: c.end)
    if last.background or last.subshell or last.in_function:
        return None
    if run.script.text[last.end :].strip():
        return None  # `; done`, `fi`, a trailing comment, `&`...
    return last


@dataclass(frozen=True)
class RunStyle:
    """How a RUN is laid out, so inserted commands look like the rest."""

    multiline: bool
    leading_ops: bool  # continuation lines start with `&&` rather than lines ending with it
    indent: str  # indentation of continuation lines
    newline: str  # "\n" or "\r\n"
    escape: str  # the line-continuation character (`\` or the `# escape=` one)


def run_style(ins: Instruction) -> RunStyle:
    df = ins.dockerfile
    last_line = ins.end_line
    if ins.heredocs:
        last_line = df.position(ins.heredocs[0].span.start).line - 1
    first = df.line_starts[ins.start_line - 1]
    nl_at = df.text.find("\n", first)
    newline = "\r\n" if nl_at > 0 and df.text[nl_at - 1] == "\r" else "\n"
    indent = "    "
    leading = False
    conts = []
    for line in range(ins.start_line + 1, last_line + 1):
        text = df.line_text(line)
        body = text.lstrip(" \t")
        if not body or body.startswith("#"):
            continue
        conts.append((text[: len(text) - len(body)], body))
    if conts:
        indent = conts[-1][0] or indent
        leading = sum(1 for _, b in conts if b.startswith(("&&", "||", "|", ";"))) * 2 >= len(conts)
    return RunStyle(bool(conts), leading, indent, newline, df.escape)


def append_command(run: RunScript, command: str) -> Edit | None:
    """An edit that runs `command` after everything the RUN does (`... && command`), laid out
    like the RUN; None when the script's shape makes that unsafe (a trailing comment, a compound
    command, a heredoc, exec form)."""
    last = _appendable(run)
    if last is None:
        return None
    at = run.command_span(last).end
    style = run_style(run.instruction)
    if not style.multiline or last.depth > 0:
        text = f" && {command}"
    elif style.leading_ops:
        text = f" {style.escape}{style.newline}{style.indent}&& {command}"
    else:
        text = f" && {style.escape}{style.newline}{style.indent}{command}"
    return Edit.insert(at, text)


def prepend_command(run: RunScript, before: Command, command: str) -> Edit | None:
    """An edit that runs `command && ` just before the top-level command `before`."""
    if not run.exact or before.substitution or before.subshell or before.in_function:
        return None
    if before.depth > 0 and not run.exact:
        return None
    at = run.command_span(before).start
    style = run_style(run.instruction)
    if not style.multiline or before.depth > 0:
        text = f"{command} && "
    elif style.leading_ops:
        text = f"{command} {style.escape}{style.newline}{style.indent}&& "
    else:
        text = f"{command} && {style.escape}{style.newline}{style.indent}"
    return Edit.insert(at, text)


def subcommand_word(op: PackageOp) -> ShellWord | None:
    """The word that ends the manager's subcommand (`install` in `python -m pip install x`,
    `install` in `uv pip install`)."""
    if not op.subcommand:
        return None
    last = op.subcommand.split()[-1]
    for w in op.command.words[1:]:
        if w.value == last:
            return w
    return None


def insert_after_subcommand(run: RunScript, op: PackageOp, text: str) -> Edit | None:
    """An edit that adds ` text` right after the subcommand (`apt-get install` ->
    `apt-get install --no-install-recommends`)."""
    if not run.exact:
        return None
    word = subcommand_word(op)
    if word is None:
        return None
    return Edit.insert(run.word_span(word).end, f" {text}")


def command_text(run: RunScript, cmd: Command) -> str:
    """A command as written in the script (quotes kept)."""
    return run.script.text[cmd.start : cmd.end]


# -- what COPY/ADD bring from the build context ---------------------------------------------------


def context_sources(step: Step) -> list[str]:
    """The build-context sources of a COPY/ADD (not `--from`, not remote URLs)."""
    return [s for r in step.reads if r.kind == "context" and r.via != "mount" for s in r.sources]


def context_files(ctx: LintContext, step: Step) -> set[str] | None:
    """The context files (not directories) a COPY/ADD reads, from the build context engine;
    None without a build context."""
    bc = ctx.build_context
    if bc is None:
        return None
    paths: set[str] = set()
    for r in bc.step_reads:
        if r.step is step:
            paths |= r.result.reads
    entries = bc.snapshot.entries
    return {p for p in paths if (e := entries.get(p)) is None or e.kind != "dir"}


def copy_destination(step: Step) -> str | None:
    """The absolute destination of a COPY/ADD."""
    if len(step.expanded) < 2:
        return None
    return absolute(step.workdir, step.expanded[-1])


def context_path_of(copy: Step, image_path: str) -> str | None:
    """Where an image path under a COPY's destination comes from in the build context."""
    dest = copy_destination(copy)
    sources = context_sources(copy)
    if dest is None or not sources:
        return None
    if image_path != dest and not image_path.startswith(dest.rstrip("/") + "/"):
        return None
    rel = posixpath.relpath(image_path, dest)
    whole = [s for s in sources if is_whole_context(s)]
    if whole or len(sources) > 1:
        return rel
    src = sources[0].strip()
    while src.startswith("./"):
        src = src[2:]
    if src.endswith("/") or len(sources) == 1:
        # a directory source copies its contents into the destination
        return posixpath.normpath(posixpath.join(src.rstrip("/"), rel))
    return None


def absolute(cwd: str, path: str) -> str:
    """`path` resolved against the working directory, normalised."""
    return "/" + posixpath.normpath(posixpath.join(cwd, path)).lstrip("/")


def is_whole_context(source: str) -> bool:
    """A COPY/ADD source that names the whole build context (`.`, `./`, `*`, `./*`, `/`)."""
    s = source.strip()
    while s.startswith("./"):
        s = s[2:]
    s = s.rstrip("/")
    return s in ("", ".", "*", "/*", "**", ".*") or s == "/"
