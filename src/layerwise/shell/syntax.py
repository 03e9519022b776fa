"""Split a shell script into the simple commands it runs, in execution order.

The script is parsed once with tree-sitter's bash grammar (a real shell grammar, written in C,
that recovers from errors instead of giving up), then flattened: `&&`, `||`, `;`, newlines,
pipelines, subshells, `{ ...; }`, `if`/`case`/loop bodies, command and process substitutions,
heredocs fed to a shell, and wrappers that run another command (`sudo`, `env X=1`, `exec`,
`nice`, `timeout`, `xargs`, `sh -c '...'`, `bash -c`, `eval`, `su -c`) are all looked through,
so every `Command` is one program with its arguments after quote removal.

Offsets are indices into the analyzed text (`str`, not bytes), also for commands found inside a
`sh -c '...'` string or a heredoc, so that a fix can replace exactly one command or one word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import tree_sitter
import tree_sitter_bash

if TYPE_CHECKING:
    from layerwise.shell.facts import Facts
    from layerwise.shell.packages import PackageOp

Node = tree_sitter.Node

# Shells whose `-c STRING` argument, stdin heredoc or `eval` text is itself a script.
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"})
# Shells in which bash syntax works; anything else is treated as POSIX sh (dash on Debian).
BASH_LIKE = frozenset({"bash", "zsh", "ksh", "mksh"})

_parser: tree_sitter.Parser | None = None


def _get_parser() -> tree_sitter.Parser:
    global _parser
    if _parser is None:
        _parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    return _parser


@dataclass(frozen=True, slots=True)
class ShellWord:
    """One word of a command: `value` after quote removal, with `$VAR`, `${...}`, `$(...)` and
    backquotes kept as written (then `dynamic` is True); `text` exactly as written."""

    value: str
    text: str
    start: int
    end: int
    dynamic: bool = False


@dataclass(frozen=True, slots=True)
class Redirect:
    """A redirection such as `>/dev/null`, `2>&1`, `<<EOF` or `<<< "text"`."""

    op: str
    fd: str | None
    target: str | None  # file or fd after quote removal; heredoc/herestring content for those
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BashFeature:
    """Syntax or a builtin that needs bash (or ksh/zsh) and fails or differs under POSIX sh."""

    kind: str  # e.g. "[[", "process substitution", "source", "set -o pipefail"
    text: str
    start: int
    end: int
    shell: str  # the shell that runs it (basename), e.g. "sh"


Connector = str  # "&&", "||", ";", "&", "|", "|&", "\n"


@dataclass(eq=False)
class Command:
    """One simple command, after looking through wrappers (`sudo`, `env`, `sh -c`, ...)."""

    words: tuple[ShellWord, ...]
    start: int  # the whole simple command, with prefix assignments, wrappers and redirects
    end: int
    source: str  # the script text from start to end
    index: int = 0  # position in Script.commands
    assignments: dict[str, str] = field(default_factory=dict)  # `X=1 cmd`, `env X=1 cmd`
    redirects: tuple[Redirect, ...] = ()
    connector: Connector | None = None  # operator between this command and the next one
    negated: bool = False  # `! cmd`
    condition: bool = False  # its exit status is tested (if/while test, left of && or ||)
    conditional: bool = False  # may not run although all before succeeded (||, if/case arms)
    subshell: bool = False  # inside `( ... )`, `$( ... )` or a pipeline element of a group
    substitution: bool = False  # inside `$( ... )`, backquotes or `<( ... )`
    background: bool = False  # followed by `&`
    in_function: bool = False  # inside a function body (runs only when called)
    pipe_from: int | None = None  # index of the command whose stdout this one reads
    pipe_to: int | None = None  # index of the command that reads this one's stdout
    pipefail: bool = False  # `set -o pipefail` (or a shell started with it) is in effect
    wrappers: tuple[str, ...] = ()  # outermost first, e.g. ("sudo", "sh -c")
    shell: str = "sh"  # basename of the shell that runs this command
    depth: int = 0  # 0 for the script itself, +1 inside each `sh -c`, eval or heredoc script
    stdin: str | None = None  # heredoc or here-string text fed to the command

    @property
    def argv(self) -> list[str]:
        return [w.value for w in self.words]

    @cached_property
    def name(self) -> str:
        """The program's basename (`/usr/bin/pip3` -> `pip3`); '' for a bare redirection."""
        if not self.words:
            return ""
        return self.words[0].value.rsplit("/", 1)[-1]

    @property
    def args(self) -> list[str]:
        return [w.value for w in self.words[1:]]

    @property
    def piped(self) -> bool:
        return self.pipe_from is not None or self.pipe_to is not None

    def __repr__(self) -> str:
        return f"<Command {self.index} {' '.join(self.argv)!r}>"


@dataclass(eq=False)
class Script:
    """A shell script split into commands. Never raises: `parse_error` says what was not
    understood (the commands found around it are still listed)."""

    text: str
    shell: tuple[str, ...]
    commands: list[Command]
    parse_error: str | None
    features: list[BashFeature]  # bash-only syntax, wherever it appears
    env: dict[str, str]  # environment known from outside (Dockerfile ENV/ARG), as given
    interpreter: str | None = None  # set when the script is not shell (`#!/usr/bin/python3`)

    @property
    def bash_features(self) -> list[BashFeature]:
        """Bash-only syntax run by a shell that is not bash (e.g. `[[` under /bin/sh)."""
        return [f for f in self.features if f.shell not in BASH_LIKE]

    @property
    def needs_bash(self) -> bool:
        return bool(self.bash_features)

    def named(self, *names: str) -> list[Command]:
        """Commands whose program basename is one of `names`."""
        return [c for c in self.commands if c.name in names]

    @cached_property
    def package_ops(self) -> list[PackageOp]:
        """Package-manager operations (apt-get install, pip install, npm ci, ...), in order."""
        from layerwise.shell.packages import package_ops

        return package_ops(self)

    @cached_property
    def facts(self) -> Facts:
        """Derived facts the rules need (apt lists removed, pip cache disabled, ...)."""
        from layerwise.shell.facts import Facts

        return Facts(self)

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands)

    def __len__(self) -> int:
        return len(self.commands)


def analyze(
    script: str,
    *,
    shell: Sequence[str] = ("/bin/sh", "-c"),
    env: Mapping[str, str] | None = None,
) -> Script:
    """Parse a shell script once and list the commands it runs.

    `shell` is the command that runs the script (Docker's `SHELL`, default `/bin/sh -c`): its
    name decides which syntax is bash-only, `-o pipefail` in it counts as `set -o pipefail`,
    and a non-POSIX shell (powershell, cmd) gives no commands and a `parse_error`.
    `env` is the environment known from outside the script (ENV and ARG values), read by
    facts such as "pip's cache is disabled".
    """
    shell = tuple(shell) or ("/bin/sh", "-c")
    shell_name = _basename(shell[0])
    result = Script(script, shell, [], None, [], dict(env or {}))
    if shell_name not in SHELLS:
        result.parse_error = f"not a POSIX shell: {shell[0]}"
        return result
    state = _State(result, pipefail=_shell_pipefail(shell[1:]))
    try:
        _Walker(state, script, None, shell_name, 0).run()
    except RecursionError:
        result.commands.clear()
        result.features.clear()
        state.errors.insert(0, "script is nested too deeply to analyze")
        _fallback_commands(state, script)
    for i, cmd in enumerate(result.commands):
        cmd.index = i
    for link_from, link_to in state.pipes:
        a, b = link_from.index, link_to.index
        link_from.pipe_to = b
        link_to.pipe_from = a
    if state.errors:
        result.parse_error = state.errors[0]
    return result


# -- internals ----------------------------------------------------------------------------------


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower().removesuffix(".exe")


def _shell_pipefail(options: Sequence[str]) -> bool:
    """Does a shell started with these options have pipefail on? (`-o pipefail`,
    `-opipefail`, and bundled forms such as `-eo pipefail` or `-euxo pipefail`.)"""
    opts = list(options)
    for i, opt in enumerate(opts):
        if not opt.startswith("-") or opt.startswith("--"):
            continue
        letters = opt[1:]
        at = letters.find("o")
        if at < 0:
            continue
        value = letters[at + 1 :] or (opts[i + 1] if i + 1 < len(opts) else "")
        if value == "pipefail":
            return True
    return False


@dataclass
class _State:
    """What all walkers of one analysis share (nested scripts included)."""

    script: Script
    pipefail: bool = False
    errors: list[str] = field(default_factory=list)
    pipes: list[tuple[Command, Command]] = field(default_factory=list)
    exported: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Ctx:
    condition: bool = False
    conditional: bool = False
    negated: bool = False
    subshell: bool = False
    substitution: bool = False
    in_function: bool = False
    wrappers: tuple[str, ...] = ()


_SEPARATORS = frozenset({";", "&", ";;", ";&", ";;&", "\n"})
_STATEMENT_SKIP = frozenset(
    {
        "comment",
        "heredoc_body",
        "heredoc_start",
        "heredoc_end",
        "heredoc_content",
        "(",
        ")",
        "{",
        "}",
        "do",
        "done",
        "then",
        "fi",
        "esac",
        "in",
    }
)
_DYNAMIC = frozenset(
    {
        "simple_expansion",
        "expansion",
        "command_substitution",
        "arithmetic_expansion",
        "process_substitution",
    }
)
_WORDISH = frozenset(
    {
        "word",
        "string",
        "raw_string",
        "ansi_c_string",
        "translated_string",
        "concatenation",
        "number",
        "extglob_pattern",
        "brace_expression",
        *_DYNAMIC,
    }
)
_BASH_VARS = re.compile(
    r"\$\{?(?:EUID|UID|RANDOM|PIPESTATUS|BASH_[A-Z_]+|BASH|SECONDS|HOSTTYPE|OSTYPE|SHLVL|"
    r"BASHPID|FUNCNAME|LINENO_NOT)\b"
)
_BRACE_EXPANSION = re.compile(r"\{[^{}\s]*(?:,[^{}\s]*)+\}|\{-?\w+\.\.-?\w+(?:\.\.-?\d+)?\}")
_BASH_PARAM = re.compile(r"^\$\{(?:!|#?[A-Za-z_]\w*\[|[A-Za-z_]\w*(?:/|\^|,|@|:(?![-=?+])))")
_BASH_BUILTINS = {
    "source": "source",
    "pushd": "pushd",
    "popd": "popd",
    "shopt": "shopt",
    "declare": "declare",
    "typeset": "typeset",
    "let": "let",
    "mapfile": "mapfile",
    "readarray": "readarray",
    "disown": "disown",
}


class _Walker:
    """Walks one parse tree (the script, or a nested `sh -c` string / heredoc script)."""

    def __init__(
        self,
        state: _State,
        text: str,
        offsets: list[int] | None,
        shell: str,
        depth: int,
        base_ctx: _Ctx | None = None,
    ) -> None:
        self.state = state
        self.text = text
        # offsets[i]: where character i of `text` sits in the outermost script (None: here)
        self.offsets = offsets
        self.shell = shell
        self.depth = depth
        self.base_ctx = base_ctx or _Ctx()
        # tree-sitter (0.26 with tree-sitter-bash 0.25) can crash the process on some non-ASCII
        # input. Every shell metacharacter is ASCII, so parsing a copy in which each non-ASCII
        # character is an ASCII letter gives the same tree, with one byte per character.
        self.data = (
            text.encode("ascii") if text.isascii() else _NON_ASCII.sub("a", text).encode("ascii")
        )

    # -- positions

    def c(self, byte: int) -> int:
        """Local character offset of a byte offset."""
        return byte  # the parsed copy is ASCII: bytes and characters coincide

    def outer(self, local: int) -> int:
        """Offset in the outermost script of a local character offset."""
        if self.offsets is None:
            return local
        if local >= len(self.offsets):
            return self.offsets[-1] if self.offsets else 0
        return self.offsets[local]

    def span(self, node: Node) -> tuple[int, int]:
        """Outer character span of a node."""
        a, b = self.c(node.start_byte), self.c(node.end_byte)
        if self.offsets is None:
            return a, b
        if b <= a:
            s = self.outer(a)
            return s, s
        return self.outer(a), self.outer(b - 1) + 1

    def ntext(self, node: Node) -> str:
        return self.text[self.c(node.start_byte) : self.c(node.end_byte)]

    def source(self, start: int, end: int) -> str:
        return self.state.script.text[start:end]

    # -- entry

    def run(self) -> None:
        tree = _get_parser().parse(self.data)
        root = tree.root_node
        if root.has_error:
            moved = _redirect_first(self.text)
            if moved is not None:
                # `<<EOT bash` (a redirection before the command name) is valid shell that
                # tree-sitter-bash rejects: analyze `bash <<EOT` with the same offsets
                text, perm = moved
                offsets = [self.outer(p) for p in perm]
                retry = _Walker(self.state, text, offsets, self.shell, self.depth, self.base_ctx)
                if not _get_parser().parse(retry.data).root_node.has_error:
                    retry.run()
                    return
            self._record_error(root)
        self.stmt(root, self.base_ctx)

    def _record_error(self, root: Node) -> None:
        bad = _first_error(root)
        if bad is None:
            return
        at = self.outer(self.c(bad.start_byte))
        line = self.state.script.text.count("\n", 0, at) + 1
        col = at - (self.state.script.text.rfind("\n", 0, at) + 1) + 1
        snippet = self.ntext(bad)[:30].replace("\n", " ")
        what = f"missing {bad.type!r}" if bad.is_missing else f"near {snippet!r}"
        self.state.errors.append(f"shell syntax error at line {line}, column {col}: {what}")

    # -- statements

    def stmt(self, node: Node, ctx: _Ctx) -> None:
        t = node.type
        handler = _HANDLERS.get(t)
        if handler is not None:
            handler(self, node, ctx)
        elif t in _STATEMENT_SKIP or not node.is_named:
            return
        elif t == "ERROR":
            self.error_node(node, ctx)
        else:
            # an expression or word at statement level (e.g. inside `(( ))`): look for
            # substitutions, which do run
            self.substitutions(node, ctx)

    def sequence(self, nodes: Sequence[Node], ctx: _Ctx) -> None:
        """Statements separated by `;`, `&`, newlines (program, group, body)."""
        last_end_line = -1
        pending: str | None = None  # a separator applies only when a statement follows it
        cmds = self.state.script.commands
        for child in nodes:
            t = child.type
            if t in _SEPARATORS:
                pending = ";" if t.startswith(";") else t
                if t == "&" and cmds:
                    cmds[-1].background = True
                continue
            if not child.is_named or t in _STATEMENT_SKIP:
                continue
            if pending is not None:
                self.set_connector(pending)
            elif last_end_line >= 0 and child.start_point[0] > last_end_line:
                self.set_connector("\n")
            pending = None
            mark = len(self.state.script.commands)
            self.stmt(child, ctx)
            if len(self.state.script.commands) > mark:
                last_end_line = child.end_point[0]

    def set_connector(self, op: str) -> None:
        cmds = self.state.script.commands
        if cmds and cmds[-1].connector is None:
            cmds[-1].connector = op

    def program(self, node: Node, ctx: _Ctx) -> None:
        self.sequence(node.children, ctx)

    def group(self, node: Node, ctx: _Ctx) -> None:
        kids = node.children
        if kids and kids[0].type == "((":
            self.feature("((", node)
            self.substitutions(node, ctx)
            return
        self.sequence(kids, ctx)

    def subshell(self, node: Node, ctx: _Ctx) -> None:
        self.sequence(node.children, replace(ctx, subshell=True))

    def list_(self, node: Node, ctx: _Ctx) -> None:
        kids = [k for k in node.children if k.type != "comment"]
        op = next((k.type for k in kids if k.type in ("&&", "||")), "&&")
        named = [k for k in kids if k.is_named]
        if len(named) != 2:
            self.sequence(kids, ctx)
            return
        left, right = named
        self.stmt(left, replace(ctx, condition=True))
        self.set_connector(op)
        self.stmt(right, replace(ctx, conditional=ctx.conditional or op == "||"))

    def pipeline(self, node: Node, ctx: _Ctx) -> None:
        self.pipe_elements(node.children, ctx, None)

    def pipe_elements(self, kids: Sequence[Node], ctx: _Ctx, upstream: Command | None) -> None:
        cmds = self.state.script.commands
        prev_last = upstream
        pending_op: str | None = None
        for child in kids:
            if child.type in ("|", "|&"):
                pending_op = child.type
                if child.type == "|&":
                    self.feature("|&", child)
                if prev_last is not None and prev_last.connector is None:
                    prev_last.connector = child.type
                continue
            if not child.is_named or child.type == "comment":
                continue
            mark = len(cmds)
            self.stmt(child, ctx)
            if len(cmds) > mark:
                first = _first_top(cmds, mark)
                if prev_last is not None and (pending_op is not None or upstream is not None):
                    self.state.pipes.append((prev_last, first))
                prev_last = _last_top(cmds, mark)
            pending_op = None

    def negated(self, node: Node, ctx: _Ctx) -> None:
        inner = replace(ctx, negated=not ctx.negated, condition=True)
        for child in node.children:
            if child.is_named:
                self.stmt(child, inner)

    def if_(self, node: Node, ctx: _Ctx) -> None:
        cond = replace(ctx, condition=True)
        body = replace(ctx, conditional=True)
        in_body = False
        group: list[Node] = []
        for child in node.children:
            t = child.type
            if t in ("if", "elif"):
                continue
            if t == "then":
                self.sequence(group, cond)
                group = []
                in_body = True
                continue
            if t in ("elif_clause", "else_clause"):
                self.sequence(group, body if in_body else cond)
                group = []
                self.if_(child, ctx) if t == "elif_clause" else self.else_(child, body)
                continue
            group.append(child)
        self.sequence(group, body if in_body else cond)

    def else_(self, node: Node, ctx: _Ctx) -> None:
        self.sequence([k for k in node.children if k.type != "else"], ctx)

    def loop(self, node: Node, ctx: _Ctx) -> None:
        is_while = node.type == "while_statement"
        for k, child in enumerate(node.children):
            field_name = node.field_name_for_child(k)
            if field_name == "condition":
                self.stmt(child, replace(ctx, condition=True))
            elif child.type == "do_group":
                body = replace(ctx, conditional=ctx.conditional or is_while)
                self.sequence(child.children, body)
            elif child.type in _WORDISH or field_name == "value":
                self.substitutions(child, ctx)
            elif child.is_named and child.type not in ("variable_name", "comment"):
                self.stmt(child, ctx)
        if node.type == "c_style_for_statement":
            self.feature("for ((;;))", node)

    def case(self, node: Node, ctx: _Ctx) -> None:
        arm = replace(ctx, conditional=True)
        for child in node.children:
            if child.type == "case_item":
                stmts = [
                    k
                    for i, k in enumerate(child.children)
                    if child.field_name_for_child(i) != "value"
                ]
                self.sequence(stmts, arm)
            elif child.is_named:
                self.substitutions(child, ctx)

    def function(self, node: Node, ctx: _Ctx) -> None:
        if node.children and node.children[0].type == "function":
            self.feature("function keyword", node.children[0])
        body = node.child_by_field_name("body")
        if body is not None:
            self.stmt(body, replace(ctx, in_function=True, conditional=True))

    def assignments_stmt(self, node: Node, ctx: _Ctx) -> None:
        items = [node] if node.type == "variable_assignment" else node.named_children
        for item in items:
            if item.type != "variable_assignment":
                continue
            value = item.child_by_field_name("value")
            if value is not None:
                self.substitutions(value, ctx)

    def declaration(self, node: Node, ctx: _Ctx) -> None:
        words: list[ShellWord] = []
        keyword = node.children[0] if node.children else None
        if keyword is not None and not keyword.is_named:
            s, e = self.span(keyword)
            words.append(ShellWord(keyword.type, keyword.type, s, e))
            if keyword.type in ("declare", "typeset"):
                self.feature(keyword.type, keyword)
        for child in node.named_children:
            self.substitutions(child, ctx)
            if child.type == "variable_assignment":
                name_node = child.child_by_field_name("name")
                value_node = child.child_by_field_name("value")
                name = self.ntext(name_node) if name_node is not None else ""
                value, dynamic = ("", False)
                if value_node is not None:
                    value, dynamic = self.value(value_node)
                s, e = self.span(child)
                words.append(ShellWord(f"{name}={value}", self.ntext(child), s, e, dynamic))
                if words[0].value == "export":
                    self.state.exported[name] = value
            elif child.type in _WORDISH or child.type == "variable_name":
                value, dynamic = self.value(child)
                s, e = self.span(child)
                words.append(ShellWord(value, self.ntext(child), s, e, dynamic))
        s, e = self.span(node)
        self.emit(words, s, e, {}, (), ctx, [])

    def test(self, node: Node, ctx: _Ctx) -> None:
        kids = node.children
        opener = kids[0].type if kids else "["
        if opener == "[[":
            self.feature("[[", kids[0])
        words: list[ShellWord] = []
        if kids and not kids[0].is_named:
            s, e = self.span(kids[0])
            words.append(ShellWord(opener, opener, s, e))
        for leaf in _test_leaves(node):
            if leaf.type in _WORDISH or leaf.type in ("test_operator", "regex", "variable_name"):
                value, dynamic = self.value(leaf)
                s, e = self.span(leaf)
                words.append(ShellWord(value, self.ntext(leaf), s, e, dynamic))
            elif not leaf.is_named and leaf.type not in ("(", ")"):
                s, e = self.span(leaf)
                words.append(ShellWord(leaf.type, leaf.type, s, e))
                if leaf.type == "==" and opener == "[":
                    self.feature("== in [", leaf)
        if len(kids) > 1 and kids[-1].type in ("]", "]]"):
            s, e = self.span(kids[-1])
            words.append(ShellWord(kids[-1].type, kids[-1].type, s, e))
        self.substitutions(node, ctx)
        s, e = self.span(node)
        self.emit(words, s, e, {}, (), ctx, [])

    def redirected(self, node: Node, ctx: _Ctx) -> None:
        body = node.child_by_field_name("body")
        redirects: list[Redirect] = []
        heredoc_text: str | None = None
        heredoc_node: tuple[Node, Node] | None = None
        continuations: list[Node] = []
        for child in node.children:
            if child is body or _same(child, body):
                continue
            if child.type == "heredoc_redirect":
                red, hbody, extra, files = self.heredoc(child)
                redirects.append(red)
                redirects.extend(self.redirect(f, ctx) for f in files)
                heredoc_text = red.target
                if hbody is not None:
                    heredoc_node = (child, hbody)
                continuations.extend(extra)
            elif child.type in ("file_redirect", "herestring_redirect"):
                red = self.redirect(child, ctx)
                redirects.append(red)
                if child.type == "herestring_redirect":
                    heredoc_text = red.target
        cmds = self.state.script.commands
        mark = len(cmds)
        if body is not None:
            if body.type == "command":
                self.command(body, ctx, tuple(redirects), heredoc_text, heredoc_node)
            else:
                self.stmt(body, ctx)
                for cmd in cmds[mark:]:
                    if cmd.depth == self.depth and not cmd.redirects:
                        cmd.redirects = tuple(redirects)
        if continuations:
            self.continuation(
                continuations, ctx, _last_top(cmds, mark) if len(cmds) > mark else None
            )

    def continuation(self, nodes: list[Node], ctx: _Ctx, upstream: Command | None) -> None:
        """Operators and statements that tree-sitter attaches to a heredoc redirect
        (`cat <<EOF | sh`, `a <<EOF && b`): they follow the redirected command."""
        op: str | None = None
        for child in nodes:
            t = child.type
            if t in ("&&", "||", ";", "&", "|", "|&"):
                op = t
                self.set_connector(t)
                if upstream is not None and t in ("&&", "||"):
                    upstream.condition = True
                continue
            if t == "pipeline" and child.children and child.children[0].type in ("|", "|&"):
                self.set_connector(child.children[0].type)
                self.pipe_elements(child.children[1:], ctx, upstream)
                op = None
                continue
            if op in ("|", "|&"):
                self.pipe_elements([child], ctx, upstream)
            elif op == "||":
                self.stmt(child, replace(ctx, conditional=True))
            else:
                self.stmt(child, ctx)
            op = None

    def heredoc(self, node: Node) -> tuple[Redirect, Node | None, list[Node], list[Node]]:
        op = "<<"
        fd = None
        body: Node | None = None
        extra: list[Node] = []
        files: list[Node] = []
        marker_end = node.end_byte
        for child in node.children:
            t = child.type
            if t in ("<<", "<<-"):
                op = t
            elif t == "file_descriptor":
                fd = self.ntext(child)
            elif t == "heredoc_body":
                body = child
            elif t == "heredoc_start":
                marker_end = child.end_byte
            elif t in ("heredoc_end", "heredoc_content"):
                continue
            elif t == "file_redirect":
                files.append(child)
            else:
                extra.append(child)
        content = self.ntext(body) if body is not None else ""
        if op == "<<-":
            content = "".join(line.lstrip("\t") for line in content.splitlines(keepends=True))
        # the span covers `<<EOF` only: the body lines come after the rest of the command line
        s = self.span(node)[0]
        e = self.outer(max(self.c(marker_end) - 1, 0)) + 1
        return Redirect(op, fd, content, s, e), body, extra, files

    def redirect(self, node: Node, ctx: _Ctx) -> Redirect:
        op = ""
        fd = None
        target: str | None = None
        for child in node.children:
            t = child.type
            if t == "file_descriptor":
                fd = self.ntext(child)
            elif not child.is_named:
                op = t
                if t in ("&>", "&>>", "<<<", ">&|"):
                    self.feature(t if t != "<<<" else "here-string", child)
            else:
                self.substitutions(child, ctx)
                target, _ = self.value(child)
                if child.type == "process_substitution":
                    self.feature("process substitution", child)
        s, e = self.span(node)
        return Redirect(op, fd, target, s, e)

    def error_node(self, node: Node, ctx: _Ctx) -> None:
        """Recover what can be recovered from a region tree-sitter could not parse: statements
        inside it are walked; loose words are split into commands by a tolerant tokenizer."""
        loose: list[Node] = []
        for child in node.children:
            if child.type in _HANDLERS:
                self.loose(loose, ctx)
                loose = []
                self.stmt(child, ctx)
            elif child.type in _WORDISH or child.type in ("command_name", "variable_assignment"):
                loose.append(child)
            elif child.type in ("&&", "||", ";", "|", "&"):
                self.loose(loose, ctx)
                loose = []
                self.set_connector(child.type)
            elif child.type == "ERROR":
                self.loose(loose, ctx)
                loose = []
                self.error_node(child, ctx)
        self.loose(loose, ctx)

    def loose(self, nodes: list[Node], ctx: _Ctx) -> None:
        if not nodes:
            return
        words: list[ShellWord] = []
        assigns: dict[str, str] = {}
        for n in nodes:
            if n.type == "variable_assignment" and not words:
                name = n.child_by_field_name("name")
                vnode = n.child_by_field_name("value")
                assigns[self.ntext(name) if name is not None else ""] = (
                    self.value(vnode)[0] if vnode is not None else ""
                )
                continue
            inner = n.named_children[0] if n.type == "command_name" and n.named_children else n
            value, dynamic = self.value(inner)
            s, e = self.span(n)
            words.append(ShellWord(value, self.ntext(n), s, e, dynamic))
        if not words:
            return
        self.emit(words, words[0].start, words[-1].end, assigns, (), ctx, [])

    # -- simple commands

    def command(
        self,
        node: Node,
        ctx: _Ctx,
        outer_redirects: tuple[Redirect, ...] = (),
        stdin: str | None = None,
        heredoc: tuple[Node, Node] | None = None,
    ) -> None:
        words: list[ShellWord] = []
        nodes: list[Node] = []
        assigns: dict[str, str] = {}
        redirects = list(outer_redirects)
        for child in node.children:
            t = child.type
            if t == "variable_assignment":
                self.substitutions(child, ctx)
                name = child.child_by_field_name("name")
                vnode = child.child_by_field_name("value")
                key = self.ntext(name) if name is not None else ""
                assigns[key] = self.value(vnode)[0] if vnode is not None else ""
            elif t == "command_name":
                inner = child.named_children[0] if child.named_children else child
                self.substitutions(inner, ctx)
                value, dynamic = self.value(inner)
                s, e = self.span(child)
                words.append(ShellWord(value, self.ntext(child), s, e, dynamic))
                nodes.append(inner)
            elif t in ("file_redirect", "herestring_redirect"):
                red = self.redirect(child, ctx)
                redirects.append(red)
                if t == "herestring_redirect":
                    stdin = red.target
            elif child.is_named and t != "comment":
                self.substitutions(child, ctx)
                value, dynamic = self.value(child)
                s, e = self.span(child)
                words.append(ShellWord(value, self.ntext(child), s, e, dynamic))
                nodes.append(child)
                if t in ("word", "concatenation") and _BRACE_EXPANSION.search(self.ntext(child)):
                    self.feature("brace expansion", child)
        s, e = self.span(node)
        if outer_redirects:
            e = max(e, max(r.end for r in outer_redirects))
        self.emit(words, s, e, assigns, tuple(redirects), ctx, nodes, stdin, heredoc)

    def emit(
        self,
        words: list[ShellWord],
        start: int,
        end: int,
        assigns: dict[str, str],
        redirects: tuple[Redirect, ...],
        ctx: _Ctx,
        nodes: list[Node],
        stdin: str | None = None,
        heredoc: tuple[Node, Node] | None = None,
    ) -> None:
        """Unwrap wrappers, then add the command (or the script it runs) to the list."""
        wrappers = list(ctx.wrappers)
        assigns = dict(assigns)
        words_l = list(words)
        nodes_l: list[Node | None] = (
            list(nodes) if len(nodes) == len(words) else [None] * len(words)
        )
        while words_l:
            name = words_l[0].value.rsplit("/", 1)[-1]
            if words_l[0].dynamic:
                break
            if name in _WRAPPERS:
                skip = _WRAPPERS[name]([w.value for w in words_l], assigns)
                if skip is None or skip >= len(words_l):
                    break
                wrappers.append(name)
                words_l, nodes_l = words_l[skip:], nodes_l[skip:]
                continue
            if (name in SHELLS or name == "eval" or name == "su") and self.nested(
                words_l,
                nodes_l,
                name,
                start,
                end,
                assigns,
                ctx,
                wrappers,
                stdin,
                heredoc,
                redirects,
            ):
                return
            break
        self.check_builtin_features(words_l)
        cmd = Command(
            words=tuple(words_l),
            start=start,
            end=end,
            source=self.source(start, end),
            assignments=assigns,
            redirects=redirects,
            negated=ctx.negated,
            condition=ctx.condition,
            conditional=ctx.conditional,
            subshell=ctx.subshell,
            substitution=ctx.substitution,
            in_function=ctx.in_function,
            pipefail=self.state.pipefail,
            wrappers=tuple(wrappers),
            shell=self.shell,
            depth=self.depth,
            stdin=stdin,
        )
        self.state.script.commands.append(cmd)
        self.track_set(cmd)

    def track_set(self, cmd: Command) -> None:
        if cmd.name != "set" or cmd.substitution or cmd.subshell:
            return
        args = cmd.args
        for i, arg in enumerate(args):
            if arg in ("-o", "+o") and i + 1 < len(args) and args[i + 1] == "pipefail":
                self.state.pipefail = arg == "-o"
                if arg == "-o":
                    self.feature_words("set -o pipefail", cmd)
            elif (
                # `set -euo pipefail`: the bundle's last option takes the next word
                arg.startswith("-")
                and not arg.startswith("--")
                and arg.endswith("o")
                and i + 1 < len(args)
                and args[i + 1] == "pipefail"
            ):
                self.state.pipefail = True
                self.feature_words("set -o pipefail", cmd)

    def feature_words(self, kind: str, cmd: Command) -> None:
        self.state.script.features.append(
            BashFeature(kind, cmd.source, cmd.start, cmd.end, self.shell)
        )

    def check_builtin_features(self, words: list[ShellWord]) -> None:
        if not words:
            return
        name = words[0].value
        if name in _BASH_BUILTINS and not words[0].dynamic:
            w = words[0]
            self.state.script.features.append(
                BashFeature(_BASH_BUILTINS[name], w.text, w.start, w.end, self.shell)
            )
        if name == "echo" and len(words) > 1 and words[1].value in ("-e", "-ne", "-en"):
            w = words[1]
            self.state.script.features.append(
                BashFeature("echo -e", w.text, w.start, w.end, self.shell)
            )

    def nested(
        self,
        words: list[ShellWord],
        nodes: list[Node | None],
        name: str,
        start: int,
        end: int,
        assigns: dict[str, str],
        ctx: _Ctx,
        wrappers: list[str],
        stdin: str | None,
        heredoc: tuple[Node, Node] | None,
        redirects: tuple[Redirect, ...],
    ) -> bool:
        """`sh -c 'script'`, `eval "..."`, `su -c '...'`, or a shell reading a heredoc:
        analyze the inner script in place of the wrapper. False when there is none."""
        argv = [w.value for w in words]
        shell_name = name
        pipefail = False
        script_index: int | None = None
        if name == "busybox":
            if len(argv) < 2 or argv[1] not in ("sh", "ash"):
                return False
            argv, words, nodes = argv[1:], words[1:], nodes[1:]
            shell_name = "ash"
        if name == "eval":
            if len(words) < 2 or any(w.dynamic for w in words[1:]):
                return False
            if len(words) == 2:
                script_index = 1
            else:
                # `eval a b c` runs "a b c": analyze the joined words (offsets of the first)
                inner = " ".join(argv[1:])
                offs = _spread(words[1].start, words[-1].end, len(inner))
                self.run_nested(inner, offs, self.shell, ctx, [*wrappers, "eval"], assigns)
                return True
        elif name == "su":
            for i, arg in enumerate(argv[1:], 1):
                if arg in ("-c", "--command") and i + 1 < len(argv):
                    script_index = i + 1
                    break
                if arg.startswith("--command="):
                    return False
            if script_index is None:
                return False
            shell_name = "sh"
        else:
            i = 1
            while i < len(argv):
                arg = argv[i]
                if arg == "--":
                    i += 1
                    break
                if arg in ("-o", "+o") and i + 1 < len(argv):
                    if argv[i + 1] == "pipefail":
                        pipefail = arg == "-o"
                    i += 2
                    continue
                if arg.startswith("--") and len(arg) > 2:
                    i += 1
                    continue
                if len(arg) > 1 and arg[0] in "-+":
                    if "c" in arg[1:] and arg[0] == "-":
                        script_index = i + 1
                        if "o" in arg[1:] and i + 2 < len(argv) and argv[i + 1] == "pipefail":
                            pipefail = True
                            script_index = i + 2
                        break
                    if arg.endswith("o") and i + 1 < len(argv):
                        if argv[i + 1] == "pipefail":
                            pipefail = True
                        i += 2
                        continue
                    i += 1
                    continue
                break
            if script_index is None:
                if i < len(argv):
                    return False  # `sh script.sh`: runs a file we cannot see
                if heredoc is not None:
                    hbody = heredoc[1]
                    text = self.ntext(hbody)
                    a = self.c(hbody.start_byte)
                    offs = [self.outer(a + k) for k in range(len(text) + 1)]
                    self.run_nested(
                        text,
                        offs,
                        shell_name,
                        ctx,
                        [*wrappers, f"{name} <<"],
                        assigns,
                        pipefail,
                    )
                    return True
                return False
        if script_index is None or script_index >= len(words):
            return False
        word = words[script_index]
        node = nodes[script_index]
        if word.dynamic:
            return False
        if node is not None:
            value, offs_local = self.value_map(node)
            offs = [self.outer(o) for o in offs_local]
        else:
            value = word.value
            offs = _spread(word.start, word.end, len(value))
        label = "eval" if name == "eval" else f"{name} -c"
        self.run_nested(value, offs, shell_name, ctx, [*wrappers, label], assigns, pipefail)
        return True

    def run_nested(
        self,
        text: str,
        offsets: list[int],
        shell: str,
        ctx: _Ctx,
        wrappers: list[str],
        assigns: dict[str, str],
        pipefail: bool = False,
    ) -> None:
        saved = self.state.pipefail
        if wrappers and not wrappers[-1].startswith("eval"):
            self.state.pipefail = pipefail  # a new shell process starts without it
        cmds = self.state.script.commands
        mark = len(cmds)
        walker = _Walker(
            self.state, text, offsets, shell, self.depth + 1, replace(ctx, wrappers=tuple(wrappers))
        )
        walker.run()
        for cmd in cmds[mark:]:
            for k, v in assigns.items():
                cmd.assignments.setdefault(k, v)
        self.state.pipefail = saved

    # -- words

    def substitutions(self, node: Node, ctx: _Ctx) -> None:
        """Walk command and process substitutions inside a word: they run first."""
        stack = [node]
        while stack:
            n = stack.pop()
            t = n.type
            if t in ("command_substitution", "process_substitution"):
                if t == "process_substitution":
                    self.feature("process substitution", n)
                inner = replace(ctx, substitution=True, subshell=True, condition=False)
                self.sequence(n.children, inner)
                continue
            if t == "expansion":
                txt = self.ntext(n)
                if _BASH_PARAM.match(txt):
                    self.feature("${...} operator", n)
            elif t == "simple_expansion":
                if _BASH_VARS.match(self.ntext(n)):
                    self.feature("bash variable", n)
            elif t == "array":
                self.feature("array", n)
            elif t == "ansi_c_string":
                self.feature("$'...'", n)
            elif t == "translated_string":
                self.feature('$"..."', n)
            if n.child_count:
                stack.extend(reversed(n.children))

    def value(self, node: Node) -> tuple[str, bool]:
        """A word's value after quote removal, and whether it has expansions."""
        t = node.type
        if t == "word" or t == "number" or t == "extglob_pattern":
            raw = self.ntext(node)
            if "\\" not in raw:
                return raw, False
            return _unescape_bare(raw), False
        if t == "raw_string":
            return self.ntext(node)[1:-1], False
        if t in _DYNAMIC:
            return self.ntext(node), True
        out: list[str] = []
        dyn = self._value_into(node, out, None)
        return "".join(out), dyn

    def value_map(self, node: Node) -> tuple[str, list[int]]:
        """Value plus, for each character, its local offset (and one past the end)."""
        out: list[str] = []
        offs: list[int] = []
        self._value_into(node, out, offs)
        value = "".join(out)
        end = self.c(node.end_byte)
        offs.append(max(end - 1, 0) if node.type in ("string", "raw_string") else end)
        return value, offs

    def _value_into(self, node: Node, out: list[str], offs: list[int] | None) -> bool:
        t = node.type
        a, b = self.c(node.start_byte), self.c(node.end_byte)
        text = self.text
        if t in ("word", "number", "extglob_pattern", "variable_name", "test_operator", "regex"):
            _unescape_into(text, a, b, out, offs, quoted=False)
            return False
        if t == "raw_string":
            out.append(text[a + 1 : b - 1])
            if offs is not None:
                offs.extend(range(a + 1, b - 1))
            return False
        if t in _DYNAMIC:
            out.append(text[a:b])
            if offs is not None:
                offs.extend(range(a, b))
            return True
        if t == "ansi_c_string":
            _ansi_c_into(text, a + 2, b - 1, out, offs)
            return False
        if t in ("string", "translated_string"):
            open_len = 2 if t == "translated_string" else 1
            pos = a + open_len
            stop = b - 1 if b - 1 >= pos and text[b - 1 : b] == '"' else b
            dyn = False
            for child in node.children:
                cs, ce = self.c(child.start_byte), self.c(child.end_byte)
                if not child.is_named or child.type == "string_content":
                    continue
                if cs > pos:
                    _unescape_into(text, pos, min(cs, stop), out, offs, quoted=True)
                dyn = self._value_into(child, out, offs) or dyn
                pos = max(pos, ce)
            if pos < stop:
                _unescape_into(text, pos, stop, out, offs, quoted=True)
            return dyn
        if node.child_count == 0:
            out.append(text[a:b])
            if offs is not None:
                offs.extend(range(a, b))
            return False
        dyn = False
        pos = a
        for child in node.children:
            cs, ce = self.c(child.start_byte), self.c(child.end_byte)
            if cs > pos:  # text the grammar did not cover (inside concatenations)
                _unescape_into(text, pos, cs, out, offs, quoted=False)
            dyn = self._value_into(child, out, offs) or dyn
            pos = max(pos, ce)
        if pos < b:
            _unescape_into(text, pos, b, out, offs, quoted=False)
        return dyn

    def feature(self, kind: str, node: Node) -> None:
        s, e = self.span(node)
        self.state.script.features.append(BashFeature(kind, self.ntext(node), s, e, self.shell))


_HANDLERS: dict[str, Callable[[_Walker, Node, _Ctx], None]] = {
    "program": _Walker.program,
    "compound_statement": _Walker.group,
    "do_group": _Walker.program,
    "subshell": _Walker.subshell,
    "list": _Walker.list_,
    "pipeline": _Walker.pipeline,
    "command": _Walker.command,
    "redirected_statement": _Walker.redirected,
    "negated_command": _Walker.negated,
    "if_statement": _Walker.if_,
    "while_statement": _Walker.loop,
    "for_statement": _Walker.loop,
    "c_style_for_statement": _Walker.loop,
    "case_statement": _Walker.case,
    "function_definition": _Walker.function,
    "variable_assignment": _Walker.assignments_stmt,
    "variable_assignments": _Walker.assignments_stmt,
    "declaration_command": _Walker.declaration,
    "unset_command": _Walker.declaration,
    "test_command": _Walker.test,
}


def _same(a: Node, b: Node | None) -> bool:
    return b is not None and a.id == b.id


def _first_error(node: Node) -> Node | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return None


def _test_leaves(node: Node) -> Iterator[Node]:
    for child in node.children:
        if child.type in ("[", "]", "[[", "]]"):
            continue
        if child.type in _WORDISH or child.type in ("test_operator", "regex") or not child.is_named:
            yield child
        elif child.child_count:
            yield from _test_leaves(child)
        else:
            yield child


def _first_top(cmds: list[Command], mark: int) -> Command:
    depth = min(c.depth for c in cmds[mark:])
    for c in cmds[mark:]:
        if c.depth == depth and not c.substitution:
            return c
    return cmds[mark]


def _last_top(cmds: list[Command], mark: int) -> Command:
    depth = min(c.depth for c in cmds[mark:])
    for c in reversed(cmds[mark:]):
        if c.depth == depth and not c.substitution:
            return c
    return cmds[-1]


_REDIRECT_FIRST = re.compile(r"""[ \t]*(\d*<<-?[ \t]*(?:'\w+'|"\w+"|\w+))([ \t]+)([^\n]*)""")


def _redirect_first(text: str) -> tuple[str, list[int]] | None:
    """Move a heredoc redirection that starts the first line behind that line's command:
    the reordered text and, per character, its offset in `text`."""
    m = _REDIRECT_FIRST.match(text)
    if m is None or not m.group(3).strip():
        return None
    a, b = m.span(1)
    c, d = m.span(3)
    sep = m.span(2)
    order = [*range(a), *range(c, d), *range(sep[0], sep[1]), *range(a, b)]
    order += range(d, len(text) + 1)
    reordered = "".join(text[i] for i in order[:-1])
    return reordered, order


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _spread(start: int, end: int, n: int) -> list[int]:
    """Offsets for n characters whose exact origin is unknown: all inside [start, end)."""
    last = max(end - 1, start)
    return [min(start + i, last) for i in range(n)] + [end]


def _unescape_bare(raw: str) -> str:
    out: list[str] = []
    _unescape_into(raw, 0, len(raw), out, None, quoted=False)
    return "".join(out)


_DQ_ESCAPABLE = frozenset('$`"\\\n')


def _unescape_into(
    text: str, a: int, b: int, out: list[str], offs: list[int] | None, *, quoted: bool
) -> None:
    i = a
    while i < b:
        ch = text[i]
        if ch == "\\" and i + 1 < b:
            nxt = text[i + 1]
            if nxt == "\n":
                i += 2
                continue
            if not quoted or nxt in _DQ_ESCAPABLE:
                out.append(nxt)
                if offs is not None:
                    offs.append(i + 1)
                i += 2
                continue
        out.append(ch)
        if offs is not None:
            offs.append(i)
        i += 1


_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
         "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip


def _ansi_c_into(text: str, a: int, b: int, out: list[str], offs: list[int] | None) -> None:
    i = a
    while i < b:
        ch = text[i]
        start = i
        if ch == "\\" and i + 1 < b:
            nxt = text[i + 1]
            if nxt in _ANSI:
                ch, i = _ANSI[nxt], i + 2
            elif nxt in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[nxt]
                m = re.match(f"[0-9A-Fa-f]{{1,{width}}}", text[i + 2 : b])
                if m:
                    ch, i = chr(min(int(m.group(), 16), 0x10FFFF)), i + 2 + len(m.group())
                else:
                    i += 1
            elif nxt in "01234567":
                m = re.match(r"[0-7]{1,3}", text[i + 1 : b])
                assert m is not None
                ch, i = chr(int(m.group(), 8) & 0xFF), i + 1 + len(m.group())
            else:
                i += 1
        else:
            i += 1
        out.append(ch)
        if offs is not None:
            offs.append(start)


# -- wrappers ------------------------------------------------------------------------------------
# Each returns how many words to drop to reach the wrapped command (None: not wrapping), and
# adds `NAME=value` words it consumes to the assignments.


def _skip_options(
    argv: list[str], with_value: frozenset[str], *, stop_at_positional: bool = True
) -> int:
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return i + 1
        if not arg.startswith("-") or arg == "-":
            return i
        if arg in with_value:
            i += 2
            continue
        if "=" not in arg and any(arg.startswith(v) and len(v) == 2 for v in with_value):
            i += 1  # `-uroot`
            continue
        i += 1
    return i


def _assignment_words(argv: list[str], i: int, assigns: dict[str, str]) -> int:
    while i < len(argv) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[i]):
        key, value = argv[i].split("=", 1)
        assigns[key] = value
        i += 1
    return i


def _sudo(argv: list[str], assigns: dict[str, str]) -> int | None:
    vals = frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "-c",
                      "--user", "--group", "--host", "--prompt", "--chdir", "--role", "--type",
                      "--other-user", "--command-timeout", "--close-from"})  # fmt: skip
    i = _skip_options(argv, vals)
    return _assignment_words(argv, i, assigns)


def _env(argv: list[str], assigns: dict[str, str]) -> int | None:
    vals = frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"})
    i = _skip_options(argv, vals)
    i = _assignment_words(argv, i, assigns)
    return i if i < len(argv) else None


def _simple(
    vals: frozenset[str], positional: int = 0
) -> Callable[[list[str], dict[str, str]], int | None]:
    def skip(argv: list[str], assigns: dict[str, str]) -> int | None:
        i = _skip_options(argv, vals)
        i += positional
        return i if i < len(argv) else None

    return skip


def _command_builtin(argv: list[str], assigns: dict[str, str]) -> int | None:
    if any(a in ("-v", "-V") for a in argv[1:2]):
        return None
    return _skip_options(argv, frozenset())


def _xargs(argv: list[str], assigns: dict[str, str]) -> int | None:
    vals = frozenset({"-I", "-i", "-n", "-P", "-L", "-l", "-s", "-E", "-e", "-d", "-a",
                      "--max-args", "--max-procs", "--max-lines", "--max-chars", "--delimiter",
                      "--arg-file", "--eof", "--replace", "--process-slot-var"})  # fmt: skip
    i = _skip_options(argv, vals)
    return i if i < len(argv) else None


def _user_then_command(argv: list[str], assigns: dict[str, str]) -> int | None:
    """`gosu USER cmd`, `su-exec USER cmd`, `chroot DIR cmd`."""
    i = _skip_options(argv, frozenset()) + 1
    return i if i < len(argv) else None


_WRAPPERS: dict[str, Callable[[list[str], dict[str, str]], int | None]] = {
    "sudo": _sudo,
    "doas": _simple(frozenset({"-u", "-C"})),
    "env": _env,
    "exec": _simple(frozenset({"-a"})),
    "nohup": _simple(frozenset()),
    "nice": _simple(frozenset({"-n", "--adjustment"})),
    "ionice": _simple(frozenset({"-c", "-n", "-p", "--class", "--classdata"})),
    "timeout": _simple(frozenset({"-s", "-k", "--signal", "--kill-after"}), positional=1),
    "stdbuf": _simple(frozenset({"-i", "-o", "-e"})),
    "time": _simple(frozenset({"-f", "-o", "--format", "--output"})),
    "command": _command_builtin,
    "builtin": _simple(frozenset()),
    "xargs": _xargs,
    "gosu": _user_then_command,
    "su-exec": _user_then_command,
    "chroot": _user_then_command,
    "runuser": _simple(frozenset({"-u", "-g", "-G", "--user", "--group"})),
    "setpriv": _simple(frozenset({"--reuid", "--regid", "--groups"})),
    "eatmydata": _simple(frozenset()),
    "fakeroot": _simple(frozenset()),
    "chronic": _simple(frozenset()),
    "retry": _simple(frozenset({"-t", "-d", "--times", "--delay"})),
    "tini": _simple(frozenset({"-s", "-e", "-p"})),
    "dumb-init": _simple(frozenset()),
    "unbuffer": _simple(frozenset()),
    "catchsegv": _simple(frozenset()),
}


# -- tolerant fallback -------------------------------------------------------------------------

_FALLBACK_TOKEN = re.compile(
    r"""\s+|(?P<op>&&|\|\||[;&|\n])|(?P<word>(?:[^\s;&|'"\\]|\\.|'[^']*'?|"(?:[^"\\]|\\.)*"?)+)""",
    re.S,
)


def _fallback_commands(state: _State, text: str) -> None:
    """Split text into commands with a plain tokenizer, for input the parser cannot handle."""
    words: list[ShellWord] = []

    def flush(op: str | None) -> None:
        if words:
            cmd = Command(
                words=tuple(words),
                start=words[0].start,
                end=words[-1].end,
                source=text[words[0].start : words[-1].end],
                connector=op,
            )
            state.script.commands.append(cmd)
            words.clear()

    for m in _FALLBACK_TOKEN.finditer(text):
        if m.group("op"):
            flush(m.group("op"))
        elif m.group("word"):
            raw = m.group("word")
            words.append(ShellWord(_fallback_unquote(raw), raw, m.start(), m.end(), "$" in raw))
    flush(None)


def _fallback_unquote(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        elif ch == "'":
            j = raw.find("'", i + 1)
            j = len(raw) if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        elif ch == '"':
            j = i + 1
            while j < len(raw) and raw[j] != '"':
                j += 2 if raw[j] == "\\" else 1
            _unescape_into(raw, i + 1, min(j, len(raw)), out, None, quoted=True)
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
