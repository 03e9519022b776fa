"""LW6xx: how the container behaves when it runs, and Dockerfile operability.

The seeds ask for images that stop cleanly (exec-form CMD, so the app is PID 1 and gets
SIGTERM), report their health, log without buffering, do not run development servers in
production, and say where they work (absolute WORKDIR). The rest of this family are the
hadolint and Docker build checks about instructions whose meaning depends on something the
reader cannot see: a relative path resolved against the base image's WORKDIR, an ENV that
reads the value it is replacing, a pipe whose failure `/bin/sh` hides.

Helpers here are private to this family (other families keep their own).
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Iterator, Sequence

from layerwise.dockerfile.lex import Lexer, LexError
from layerwise.dockerfile.model import DEFAULT_SHELL, Model, Stage, Step
from layerwise.dockerfile.parser import heredoc_marker
from layerwise.dockerfile.syntax import Instruction, Word
from layerwise.rules.base import (
    Edit,
    Example,
    Finding,
    Fix,
    LintContext,
    Rule,
    Safety,
    Severity,
    register,
)
from layerwise.shell.run import RunScript
from layerwise.shell.syntax import Command, analyze

# -- shared helpers -------------------------------------------------------------------------------


def _chain(model: Model, stage: Stage) -> list[Stage]:
    """The stage and the stages it is built FROM, root first (what it inherits)."""
    out = [stage]
    seen = {stage.index}
    while out[0].base_stage is not None and out[0].base_stage not in seen:
        base = model.stages[out[0].base_stage]
        seen.add(base.index)
        out.insert(0, base)
    return out


def _chain_steps(model: Model, stage: Stage) -> list[Step]:
    return [step for st in _chain(model, stage) for step in st.steps]


def _derived(model: Model, stage: Stage) -> list[Stage]:
    """Stages built FROM this one, directly or not."""
    out: list[Stage] = []
    for other in model.stages:
        if other.index != stage.index and stage in _chain(model, other):
            out.append(other)
    return out


def _run_steps(ctx: LintContext, *, onbuild: bool) -> Iterator[tuple[Stage, Step, RunScript]]:
    """Every RUN of every stage with its parsed script; with `onbuild`, `ONBUILD RUN` too
    (hadolint checks some rules inside ONBUILD triggers, and so do we for those)."""
    for stage in ctx.model.stages:
        yield from _stage_runs(ctx, stage, onbuild=onbuild)


def _stage_runs(
    ctx: LintContext, stage: Stage, *, onbuild: bool
) -> Iterator[tuple[Stage, Step, RunScript]]:
    for step in stage.steps:
        ins = step.instruction
        if ins.name == "RUN" or (
            onbuild
            and ins.name == "ONBUILD"
            and ins.trigger is not None
            and ins.trigger.name == "RUN"
        ):
            run = ctx.run(step)
            if run is not None:
                yield stage, step, run


def _top(run: RunScript) -> list[Command]:
    """Commands the RUN's own shell executes (also inside `$(...)` and subshells), not the
    scripts it hands to `sh -c` or `eval` (hadolint does not look into those either)."""
    return [c for c in run.script.commands if c.depth == 0]


def _strip_quotes(text: str) -> str:
    return text.strip("\"'")


def _is_windows_absolute(path: str) -> bool:
    return len(path) >= 2 and path[0].isalpha() and path[1] == ":"


def _has_variable(text: str) -> bool:
    return "$" in text


def _keyword(ins: Instruction, name: str) -> str:
    """`name` in the casing the file uses for this instruction's keyword."""
    return name.lower() if ins.keyword == ins.keyword.lower() else name.upper()


def _line_end_insert(ctx: LintContext, ins: Instruction, text: str) -> Edit:
    """Insert whole lines after an instruction (its span ends at a line ending, except on a
    last line without one)."""
    end = ins.span.end
    src = ctx.text
    newline = "\r\n" if src[max(end - 2, 0) : end] == "\r\n" else "\n"
    if end == 0 or src[end - 1] != "\n":
        return Edit.insert(end, newline + text.rstrip("\n"))
    return Edit.insert(end, text.replace("\n", newline))


def _exec_argv(ins: Instruction) -> list[list[str]]:
    """The commands a CMD/ENTRYPOINT runs: its argv in exec form, or the commands of its
    shell-form script."""
    if ins.json:
        return [list(ins.arguments)] if ins.arguments else []
    if ins.command is None:
        return []
    return [c.argv for c in analyze(ins.command).commands if c.argv]


def _start_argv(stage_steps: Sequence[Step]) -> list[list[str]]:
    """The commands the image runs at start: ENTRYPOINT, and CMD when it is an argument list
    to an exec-form ENTRYPOINT or the whole command."""
    entry = next((s for s in reversed(stage_steps) if s.name == "ENTRYPOINT"), None)
    cmd = next((s for s in reversed(stage_steps) if s.name == "CMD"), None)
    out: list[list[str]] = []
    if entry is not None:
        out.extend(_exec_argv(entry.instruction))
        if entry.instruction.json and cmd is not None and out:
            out[-1] = out[-1] + [a for argv in _exec_argv(cmd.instruction) for a in argv]
        return out
    if cmd is not None:
        out.extend(_exec_argv(cmd.instruction))
    return out


def _explicit_shell(model: Model, stage: Stage, before: Step) -> bool:
    """Whether a SHELL instruction is in effect at `before` (in its stage or inherited from
    a base stage). Docker then does not ask for JSON arguments: the shell was chosen."""
    for step in _chain_steps(model, stage):
        if step is before:
            return False
        if step.name == "SHELL":
            return True
    return False


def _closest(name: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(name, list(options), n=1, cutoff=0.75)
    return found[0] if found else None


# -- LW601 ---------------------------------------------------------------------------------------


@register
class MissingHealthcheck(Rule):
    id = "LW601"
    name = "missing-healthcheck"
    title = "The image serves a port but has no HEALTHCHECK"
    severity = Severity.INFO
    rationale = (
        "The seeds' health-check pattern: without a HEALTHCHECK, Docker and Compose only know "
        "that the process runs, not that it answers, so `depends_on: condition: "
        "service_healthy`, Swarm's rolling updates and `docker ps` cannot tell a hung server "
        "from a working one. A final stage that EXPOSEs a port is a server; give it a cheap "
        'check (`HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('
        "'http://localhost:8000/health')\"`), or `HEALTHCHECK NONE` to say it is deliberate "
        "(Kubernetes ignores HEALTHCHECK and uses its own probes). Covers hadolint's DL3057 "
        "(off by default there) for servers only: a stage that serves nothing needs none."
    )
    hadolint = ("DL3057",)
    bad = Example('FROM python:3.11-slim\nEXPOSE 8000\nCMD ["python", "-m", "http.server"]\n')
    good = Example(
        "FROM python:3.11-slim\nEXPOSE 8000\n"
        "HEALTHCHECK --interval=30s --timeout=3s CMD python -c "
        "\"import urllib.request; urllib.request.urlopen('http://localhost:8000/')\"\n"
        'CMD ["python", "-m", "http.server"]\n'
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        final = ctx.model.target
        if final is None:
            return
        steps = _chain_steps(ctx.model, final)
        exposes = [s for s in steps if s.name == "EXPOSE"]
        if not exposes or any(s.name == "HEALTHCHECK" for s in steps):
            return
        ports = " ".join(p for s in exposes for p in s.expanded)
        yield self.finding(
            ctx,
            exposes[-1].instruction,
            f"The image exposes {ports} but has no HEALTHCHECK: orchestrators cannot tell a "
            "hung server from a healthy one (add a HEALTHCHECK, or HEALTHCHECK NONE)",
        )


# -- LW602 ---------------------------------------------------------------------------------------

# Characters that make a shell-form command mean more than its words: operators, expansions,
# globs, comments, escapes. A command containing any of them outside quotes is not converted.
_SHELL_SYNTAX = set("|&;<>()$`*?[]{}~#\\\n")


@register
class ShellFormCommand(Rule):
    id = "LW602"
    name = "shell-form-command"
    title = "CMD and ENTRYPOINT should use the exec (JSON) form"
    severity = Severity.WARNING
    rationale = (
        'Shell form runs `/bin/sh -c "..."`, so the shell is PID 1, not the application: '
        "Debian's dash does not exec the last command (checked in a real container), does not "
        "forward SIGTERM, and `docker stop` waits its 10 s timeout and then kills the app "
        "without a graceful shutdown. A shell-form ENTRYPOINT also ignores CMD and `docker run` "
        "arguments. The seeds' runtime stages all use the exec form. The fix writes the JSON "
        'form when the command is plain words, and `["/bin/sh", "-c", "exec ..."]` when it '
        "is one command whose variables, globs or redirections the shell must still expand "
        "(the shell then replaces itself with the application); it is unsafe when an "
        "ENTRYPOINT/CMD pairing changes meaning (an ENTRYPOINT, also one of a base image "
        "other than the official python, debian, ubuntu, alpine and the like, would receive "
        "CMD's words). Docker's JSONArgsRecommended (which, like this rule, stays quiet "
        "when a SHELL instruction chose the shell) and hadolint's DL3025."
    )
    hadolint = ("DL3025",)
    buildkit = ("JSONArgsRecommended",)
    bad = Example("FROM python:3.11-slim\nCMD gunicorn --bind 0.0.0.0:8000 app:app\n")
    good = Example('FROM python:3.11-slim\nCMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n')
    fixed = 'FROM python:3.11-slim\nCMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        model = ctx.model
        for stage in model.stages:
            for step in stage.steps:
                ins = step.instruction
                if ins.name not in ("CMD", "ENTRYPOINT") or ins.json or ins.command is None:
                    continue
                if _explicit_shell(model, stage, step):
                    continue
                yield self.finding(
                    ctx,
                    ins,
                    f"{ins.name} in shell form runs under /bin/sh, which becomes PID 1 and does "
                    "not pass SIGTERM to the application: use the JSON form "
                    f'{ins.name} ["executable", "arg"]',
                    fix=self._fix(ctx, stage, step),
                )

    def _fix(self, ctx: LintContext, stage: Stage, step: Step) -> Fix | None:
        ins = step.instruction
        argv = _plain_words(ins.command or "")
        if argv is None and _single_command(ins.command or ""):
            # The shell must still expand `$PORT`, a glob or a redirection: keep it, but let
            # it `exec` the command so the application replaces it as PID 1.
            argv = ["/bin/sh", "-c", "exec " + (ins.command or "").strip()]
        if argv is None:
            return None
        model = ctx.model
        if ins.name == "CMD":
            # An ENTRYPOINT receives CMD as its arguments: the words would change. The base
            # image's own ENTRYPOINT is invisible here, so only bases known to have none count.
            pairing = any(s.name == "ENTRYPOINT" for s in _chain_steps(model, stage))
            pairing = pairing or not _no_base_entrypoint(model, stage)
        else:
            # An exec-form ENTRYPOINT takes CMD as arguments; a shell-form one ignores it.
            # Docker clears an inherited CMD when a stage sets ENTRYPOINT, so only a CMD in
            # this stage or in a stage built from it matters.
            pairing = any(
                s.name == "CMD" for st in [stage, *_derived(model, stage)] for s in st.steps
            )
        text = json.dumps(argv, ensure_ascii=False)
        safety: Safety = "unsafe" if pairing else "safe"
        return Fix(
            (Edit.replace(ins.args_span, text),),
            safety,
            f"write {ins.name} {text}",
        )


_RESERVED = frozenset(
    {"!", "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do",
     "done", "in", "function", "select", "time", "exec", "eval", "export", "set", "."}
)  # fmt: skip
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


# Official images without an ENTRYPOINT: a CMD there is the whole command. (node, postgres,
# eclipse-temurin and many others have an entrypoint script that reads CMD's words.)
_NO_ENTRYPOINT_IMAGES = frozenset(
    {"python", "pypy", "debian", "ubuntu", "alpine", "busybox", "fedora", "rockylinux",
     "almalinux", "amazonlinux", "golang", "rust", "buildpack-deps", "gcc", "archlinux"}
)  # fmt: skip


def _no_base_entrypoint(model: Model, stage: Stage) -> bool:
    root = _chain(model, stage)[0]
    if root.is_scratch:
        return True
    ref = root.image
    return ref is not None and ref.familiar_name in _NO_ENTRYPOINT_IMAGES


def _plain_words(command: str) -> list[str] | None:
    """The argv of a command that is only words (quotes allowed), or None when the shell
    would do more than split it: operators, variables, globs, redirections, escapes,
    comments, assignments, reserved words and builtins that change the shell itself."""
    if _unquoted_syntax(command):
        return None
    try:
        argv = shlex.split(command)  # POSIX quote removal: all that is left to do
    except ValueError:
        return None
    if not argv or argv[0] in _RESERVED or _ASSIGNMENT.match(argv[0]):
        return None
    return argv


# Outside quotes, these make more than one command (or a subshell, or a comment).
_SEPARATORS = set(";&|()\n`")


def _single_command(command: str) -> bool:
    """One simple command whose words the shell only expands (variables, globs, `~`,
    redirections): `exec` in front of it replaces the shell. Lists, pipelines, subshells,
    command substitutions, comments, assignments and reserved words are not."""
    words = command.split()
    if not words or words[0] in _RESERVED or _ASSIGNMENT.match(words[0]):
        return False
    quote = ""
    escaped = False
    previous = " "
    for ch in command:
        if escaped:
            escaped = False
        elif quote == "'":
            if ch == "'":
                quote = ""
        elif ch == "\\":
            escaped = True
        elif quote == '"':
            if ch == '"':
                quote = ""
            elif ch == "`" or (previous == "$" and ch == "("):
                return False
        elif ch in "'\"":
            quote = ch
        elif ch in _SEPARATORS or (ch == "#" and previous in " \t"):
            return False
        previous = ch
    return not quote and not escaped


def _unquoted_syntax(raw: str) -> bool:
    quote = ""
    for ch in raw:
        if quote:
            if ch == quote:
                quote = ""
            elif quote == '"' and ch in "$`\\":
                return True
            continue
        if ch in "'\"":
            quote = ch
        elif ch in _SHELL_SYNTAX:
            return True
    return False


# -- LW603 ---------------------------------------------------------------------------------------

_PYTHON_PROGRAMS = frozenset(
    {"python", "python2", "python3", "pypy", "pypy3", "gunicorn", "uvicorn", "hypercorn",
     "daphne", "granian", "celery", "flask", "django-admin", "streamlit", "uwsgi",
     "waitress-serve", "jupyter", "jupyter-lab", "jupyter-notebook", "fastapi", "gradio",
     "chainlit", "rq", "dramatiq", "panel", "bokeh", "mlflow", "huey_consumer"}
)  # fmt: skip
_PYTHON_VERSIONED = re.compile(r"python\d(\.\d+)?|pypy\d(\.\d+)?")
_PYTHON_IMAGE = re.compile(r"(^|[/_.-])(python|pypy)([/_.-]|\d|$)")
# What each variable does, and the interpreter option that does the same.
_PYTHON_ENV = {"PYTHONDONTWRITEBYTECODE": "-B", "PYTHONUNBUFFERED": "-u"}


def _is_python_program(argv: Sequence[str]) -> bool:
    if not argv:
        return False
    name = argv[0].rsplit("/", 1)[-1]
    if name.startswith(("python", "pypy")) and (
        name in _PYTHON_PROGRAMS or _PYTHON_VERSIONED.fullmatch(name)
    ):
        # A bare interpreter (the official images' `CMD ["python3"]`) is a REPL, not an app.
        return len(argv) > 1
    return name in _PYTHON_PROGRAMS or name.endswith(".py")


def _python_image(model: Model, stage: Stage) -> bool:
    root = _chain(model, stage)[0]
    if root.image is None:
        return False
    ref = root.image
    return bool(_PYTHON_IMAGE.search(ref.repository) or _PYTHON_IMAGE.search(ref.tag or ""))


@register
class PythonRuntimeEnv(Rule):
    id = "LW603"
    name = "python-runtime-env"
    title = "Python image without PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE"
    severity = Severity.INFO
    rationale = (
        "The seeds' Python checklist: `PYTHONUNBUFFERED=1` makes stdout unbuffered, so logs "
        "reach `docker logs` as they are written and are not lost when the container is "
        "killed (stdout is block-buffered when it is not a terminal); "
        "`PYTHONDONTWRITEBYTECODE=1` stops the app writing `__pycache__` into the container "
        "(or into a bind-mounted source tree in development). The fix adds one ENV after the "
        "final stage's last filesystem step: an ENV changes the cache key of every later "
        "instruction, and there it invalidates no layer, while both variables still reach the "
        "running app, which is where they matter."
    )
    bad = Example(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nEXPOSE 8000\nCMD ["python", "app.py"]\n'
    )
    good = Example(
        "FROM python:3.11-slim\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"
        'WORKDIR /app\nCOPY . .\nEXPOSE 8000\nCMD ["python", "app.py"]\n'
    )
    fixed = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nEXPOSE 8000\n"
        'CMD ["python", "app.py"]\n'
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        final = ctx.model.target
        if final is None:
            return
        steps = _chain_steps(ctx.model, final)
        start = _start_argv(steps)
        python_start = [argv for argv in start if _is_python_program(argv)]
        if not (_python_image(ctx.model, final) or python_start):
            return
        env = _env_values(steps)
        missing = []
        for var, option in _PYTHON_ENV.items():
            if env.get(var):
                continue
            # `python -u app.py` / `python -B` do the same as the variable.
            if any(_has_python_option(argv, option) for argv in python_start):
                continue
            missing.append(var)
        if not missing:
            return
        anchor = _last_layer_step(final) or final.from_instruction
        line = _keyword(final.from_instruction, "ENV") + " " + " ".join(f"{v}=1" for v in missing)
        fix = self.make_fix([_line_end_insert(ctx, anchor, line + "\n")], f"add `{line}`")
        yield self.finding(
            ctx,
            final.from_instruction,
            f"Python image without {' and '.join(missing)}: set "
            f"{' '.join(f'{v}=1' for v in missing)} so logs are not held in a buffer and no "
            "bytecode is written at run time",
            fix=fix,
        )


def _env_values(steps: Sequence[Step]) -> dict[str, str]:
    """Values set by ENV (not ARG: build arguments are gone when the container runs)."""
    out: dict[str, str] = {}
    for step in steps:
        if step.name == "ENV":
            for pair in step.expanded:
                key, _, value = pair.partition("=")
                out[key] = value
    return out


def _has_python_option(argv: Sequence[str], option: str) -> bool:
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if not (name.startswith(("python", "pypy"))):
        return False
    for arg in argv[1:]:
        if not arg.startswith("-") or arg.startswith("--") or arg in ("-m", "-c"):
            break
        if option[1] in arg[1:]:
            return True
    return False


def _last_layer_step(stage: Stage) -> Instruction | None:
    """The last instruction of a stage that writes to its filesystem."""
    for step in reversed(stage.steps):
        if step.name in ("RUN", "COPY", "ADD", "WORKDIR"):
            return step.instruction
    return None


# -- LW604 ---------------------------------------------------------------------------------------

_DEV_NAMES = re.compile(
    r"(^|[^a-z])(dev|devel|development|debug|local|test|tests|testing)([^a-z]|$)"
)


def _dev_server(argv: Sequence[str]) -> str | None:
    """What development server an argv starts, if any."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    args = list(argv[1:])
    if name.startswith(("python", "pypy")):
        if "-m" in args:
            i = args.index("-m")
            module = args[i + 1] if i + 1 < len(args) else ""
            return _dev_server([module, *args[i + 2 :]])
        scripts = [a for a in args if not a.startswith("-")]
        if scripts and scripts[0].endswith("manage.py") and "runserver" in scripts[1:2]:
            return "manage.py runserver (Django's development server)"
        return None
    if name.endswith("manage.py") and args[:1] == ["runserver"]:
        return "manage.py runserver (Django's development server)"
    if name == "django-admin" and "runserver" in args[:1]:
        return "django-admin runserver (Django's development server)"
    if name == "flask" and "run" in [a for a in args if not a.startswith("-")][:1]:
        return "flask run (Flask's development server)"
    if name == "fastapi" and args[:1] == ["dev"]:
        return "fastapi dev (auto-reloading development server)"
    if name in ("uvicorn", "gunicorn", "hypercorn", "granian") and any(
        a == "--reload" or a.startswith("--reload=") for a in args
    ):
        return f"{name} --reload (restarts on file changes: a development setting)"
    return None


@register
class DevelopmentServer(Rule):
    id = "LW604"
    name = "development-server"
    title = "The image starts a development server"
    severity = Severity.WARNING
    rationale = (
        "The seeds separate development (hot reload, debugger, volume mounts) from "
        "production. `flask run`, `manage.py runserver` and `--reload` are single-process "
        "servers meant for a laptop: they handle one request at a time or watch the file "
        "system, and Flask's debug mode serves an interactive debugger that runs any code a "
        "visitor sends. Production images run gunicorn/uvicorn workers without reload. Files "
        "or targets named for development (`Dockerfile.dev`, `--target dev`) are left alone."
    )
    bad = Example(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["flask", "run", "--host=0.0.0.0"]\n'
    )
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        final = ctx.model.target
        if final is None or self._development_file(ctx, final):
            return
        steps = _chain_steps(ctx.model, final)
        start = next(
            (s for s in reversed(steps) if s.name == "ENTRYPOINT"),
            next((s for s in reversed(steps) if s.name == "CMD"), None),
        )
        if start is not None:
            for argv in _start_argv(steps):
                what = _dev_server(argv)
                if what is not None:
                    yield self.finding(
                        ctx,
                        start.instruction,
                        f"The image starts {what}; run a production server (gunicorn or "
                        "uvicorn workers, without --reload) in the final stage",
                    )
                    break
        for step in steps:
            if step.name != "ENV":
                continue
            for kv in step.instruction.pairs:
                key, value = kv.key, _strip_quotes(kv.value).lower()
                debug = (key == "FLASK_DEBUG" and value in ("1", "true", "yes", "on")) or (
                    key == "FLASK_ENV" and value == "development"
                )
                if debug:
                    yield self.finding(
                        ctx,
                        kv.span,
                        f"{key}={_strip_quotes(kv.value)} turns on Flask's debugger, which "
                        "runs code sent by any client; do not set it in the final stage",
                    )

    @staticmethod
    def _development_file(ctx: LintContext, final: Stage) -> bool:
        name = (ctx.path or "").replace("\\", "/").rsplit("/", 1)[-1].lower()
        return bool(_DEV_NAMES.search(name) or _DEV_NAMES.search(final.name or ""))


# -- LW605 ---------------------------------------------------------------------------------------


@register
class CdInRun(Rule):
    id = "LW605"
    name = "cd-in-run"
    title = "Use WORKDIR instead of `cd` in RUN"
    severity = Severity.INFO
    rationale = (
        "A `cd` lasts only until the end of its RUN, so the next instruction silently runs "
        "somewhere else, and a reader has to trace every `cd` to know where files land. "
        "WORKDIR states the directory once for the following RUN, COPY, CMD and ENTRYPOINT. "
        "hadolint's DL3003."
    )
    hadolint = ("DL3003",)
    bad = Example(
        "FROM python:3.11-slim\nCOPY . /app\nRUN cd /app && pip install --no-cache-dir .\n"
    )
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _, _, run in _run_steps(ctx, onbuild=False):
            cds = [c for c in _top(run) if c.name == "cd"]
            if cds:
                where = " ".join(cds[0].args) or "~"
                yield self.finding(
                    ctx,
                    run.command_span(cds[0]) if run.exact else run.instruction.span,
                    f"Use WORKDIR to switch to a directory (`cd {where}` only lasts until the "
                    "end of this RUN)",
                )


# -- LW606 ---------------------------------------------------------------------------------------


@register
class RelativeWorkdir(Rule):
    id = "LW606"
    name = "relative-workdir"
    title = "WORKDIR should be an absolute path"
    severity = Severity.WARNING
    rationale = (
        "A relative WORKDIR is resolved against the base image's working directory, which "
        "the Dockerfile does not show and which changes when the base image does: "
        "`WORKDIR app` is `/app` on python:3.11 but `/go/app` on golang. Once an absolute "
        "WORKDIR is set in the stage (or the stage it is built FROM), relative ones are "
        "well defined and not reported (Docker's WorkdirRelativePath does the same; hadolint's "
        "DL3000 reports those too). The fix makes the path absolute from `/`, which is only "
        "right when the base image sets no WORKDIR: unsafe."
    )
    hadolint = ("DL3000",)
    buildkit = ("WorkdirRelativePath",)
    bad = Example("FROM python:3.11-slim\nWORKDIR app\nCOPY . .\n")
    good = Example("FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n")
    fixed = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
    fix_safety = "unsafe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            inherited = [
                s for st in _chain(ctx.model, stage)[:-1] for s in st.steps if s.name == "WORKDIR"
            ]
            if inherited:
                continue
            for step in stage.steps:
                if step.name != "WORKDIR" or not step.instruction.words:
                    continue
                word = step.instruction.words[0]
                raw = _strip_quotes(word.value)
                # Docker checks only the first WORKDIR of a stage: it anchors the others.
                if not self._relative(raw, step):
                    break
                quote = 1 if word.value[:1] in "\"'" else 0
                yield self.finding(
                    ctx,
                    step.instruction,
                    f"Relative WORKDIR {raw!r} depends on the base image's working directory; "
                    f"use an absolute path such as '/{raw.lstrip('./')}'",
                    fix=self.make_fix(
                        [Edit.insert(word.span.start + quote, "/")], "make the path absolute"
                    ),
                )
                break

    @staticmethod
    def _relative(raw: str, step: Step) -> bool:
        if raw.startswith(("/", "$", "\\")) or _is_windows_absolute(raw):
            return False
        value = step.expanded[0] if step.expanded else raw
        if step.unmatched and _has_variable(raw):
            return False  # depends on a variable from outside the Dockerfile
        return not (value.startswith("/") or _is_windows_absolute(value))


# -- LW607, LW608, LW609 --------------------------------------------------------------------------


class _PortSpec:
    """One EXPOSE word split as BuildKit does: `[ip:][hostport:]port[-end][/proto]`."""

    def __init__(self, text: str) -> None:
        parts = text.split(":")
        if len(parts) == 1:
            self.ip, self.host, container = "", "", parts[0]
        elif len(parts) == 2:
            self.ip, self.host, container = "", parts[0], parts[1]
        else:
            self.ip, self.host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
        self.port, _, self.proto = container.partition("/")

    @property
    def container(self) -> str:
        return self.port + ("/" + self.proto if self.proto else "")

    def error(self) -> tuple[str, bool] | None:
        """Why BuildKit refuses this port (message, out of range), or None."""
        if not self.port:
            return "no port specified", False
        if self.proto.lower() not in ("", "tcp", "udp", "sctp"):
            return f"invalid protocol {self.proto!r} (tcp, udp or sctp)", False
        for part, what in ((self.port, "port"), (self.host, "host port")):
            if what == "host port" and not part:
                continue
            start, dash, end = part.partition("-")
            numbers = [start] + ([end] if dash else [])
            for n in numbers:
                if not n.isdigit():
                    return f"invalid {what} {part!r}", False
                if int(n) > 65535:
                    return f"{what} {part!r} is out of range (0-65535)", True
            if dash and int(end) < int(start):
                return f"invalid {what} range {part!r}", False
        return None


def _expose_words(step: Step) -> Iterator[tuple[Word, str]]:
    """Each EXPOSE word with its expanded value; words that use variables from outside the
    Dockerfile are skipped (their value is unknown)."""
    ins = step.instruction
    lexer = Lexer(ins.dockerfile.escape)
    for word in ins.words:
        try:
            res = lexer.process_word(word.value, step.env)
        except LexError:
            continue
        if res.unmatched:
            continue
        for value in res.result.split():
            yield word, value


@register
class InvalidExpose(Rule):
    id = "LW607"
    name = "invalid-expose"
    title = "EXPOSE names a port BuildKit refuses"
    severity = Severity.ERROR
    rationale = (
        "Ports are 0-65535 with an optional tcp, udp or sctp protocol; BuildKit fails the "
        "build at any other EXPOSE value (checked against the real engine). hadolint's DL3011 "
        "(out-of-range ports)."
    )
    hadolint = ("DL3011",)
    bad = Example("FROM python:3.11-slim\nEXPOSE 80000\n")
    good = Example("FROM python:3.11-slim\nEXPOSE 8000\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for step in ctx.model.steps():
            if step.name != "EXPOSE":
                continue
            for word, value in _expose_words(step):
                problem = _PortSpec(value).error()
                if problem is not None:
                    message, out_of_range = problem
                    yield self.finding(
                        ctx,
                        word.span,
                        f"EXPOSE {value}: {message}",
                        covers=("DL3011",) if out_of_range else (),
                    )


@register
class ExposeHostMapping(Rule):
    id = "LW608"
    name = "expose-host-mapping"
    title = "EXPOSE takes a container port, not a host mapping"
    severity = Severity.WARNING
    rationale = (
        "EXPOSE documents which port the container listens on; publishing to a host port or "
        "IP is decided at `docker run -p` / Compose `ports:`. BuildKit drops the host part "
        "and keeps only the container port, so `EXPOSE 8080:80` does not publish anything "
        "(and will become an error). The fix keeps the container port: the image is the same. "
        "Docker's ExposeInvalidFormat."
    )
    buildkit = ("ExposeInvalidFormat",)
    bad = Example("FROM python:3.11-slim\nEXPOSE 8080:8000\n")
    good = Example("FROM python:3.11-slim\nEXPOSE 8000\n")
    fixed = "FROM python:3.11-slim\nEXPOSE 8000\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for step in ctx.model.steps():
            if step.name != "EXPOSE":
                continue
            for word, value in _expose_words(step):
                spec = _PortSpec(value)
                if (spec.ip or spec.host) and spec.error() is None:
                    fix = None
                    if word.value == value:  # plain text: rewrite it
                        fix = self.make_fix(
                            [Edit.replace(word.span, spec.container)],
                            f"expose {spec.container}",
                        )
                    yield self.finding(
                        ctx,
                        word.span,
                        "EXPOSE should not define an IP address or host-port mapping, found "
                        f"'{value}' (publish ports with `docker run -p` or Compose `ports:`)",
                        fix=fix,
                    )


@register
class ExposeProtoCasing(Rule):
    id = "LW609"
    name = "expose-proto-casing"
    title = "The protocol in EXPOSE should be lower case"
    severity = Severity.STYLE
    rationale = (
        "BuildKit lowercases the protocol, so `80/TCP` works but reads as if case mattered; "
        "write `80/tcp`. Docker's ExposeProtoCasing. The fix gives the same image."
    )
    buildkit = ("ExposeProtoCasing",)
    bad = Example("FROM python:3.11-slim\nEXPOSE 8000/TCP\n")
    good = Example("FROM python:3.11-slim\nEXPOSE 8000/tcp\n")
    fixed = "FROM python:3.11-slim\nEXPOSE 8000/tcp\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for step in ctx.model.steps():
            if step.name != "EXPOSE":
                continue
            for word, value in _expose_words(step):
                proto = _PortSpec(value).proto
                if proto == proto.lower():
                    continue
                fix = None
                if word.value == value:
                    fix = self.make_fix(
                        [Edit.replace(word.span, word.value[: -len(proto)] + proto.lower())],
                        "lowercase the protocol",
                    )
                yield self.finding(
                    ctx,
                    word.span,
                    f"Defined protocol '{value}' in EXPOSE instruction should be lowercase",
                    fix=fix,
                )


# -- LW610 ---------------------------------------------------------------------------------------


def _copy_parts(step: Step) -> tuple[list[Word], Word, str] | None:
    """Sources, the destination word and the expanded destination of a COPY/ADD step."""
    words = list(step.instruction.words)
    if len(words) < 2:
        return None
    dest = step.expanded[-1] if len(step.expanded) == len(words) else words[-1].value
    return words[:-1], words[-1], dest


@register
class CopyManyToFile(Rule):
    id = "LW610"
    name = "copy-many-to-file"
    title = "COPY of several sources needs a destination ending in /"
    severity = Severity.ERROR
    rationale = (
        "With several sources and a destination that is not an existing directory, BuildKit "
        "copies each source to the same file path: only the last one survives and the others "
        "are lost without an error (checked against the real engine). End the destination "
        "with `/` to get a directory. `.` and the current WORKDIR are directories already and "
        "are not reported (hadolint's DL3021 reports them). The fix appends `/`; it changes "
        "the image (a directory instead of one file), so it is unsafe."
    )
    hadolint = ("DL3021",)
    bad = Example("FROM python:3.11-slim\nCOPY setup.py pyproject.toml /src\n")
    good = Example("FROM python:3.11-slim\nCOPY setup.py pyproject.toml /src/\n")
    fixed = "FROM python:3.11-slim\nCOPY setup.py pyproject.toml /src/\n"
    fix_safety = "unsafe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for step in ctx.model.steps():
            if step.name not in ("COPY", "ADD"):
                continue
            parts = _copy_parts(step)
            if parts is None or len(parts[0]) < 2:
                continue
            _, dest_word, dest = parts
            if step.unmatched and _has_variable(dest_word.value):
                continue
            if dest.endswith(("/", "\\", "/.", "/..")) or dest in (".", ".."):
                continue
            if posixpath.normpath(posixpath.join(step.workdir, dest)) == step.workdir:
                continue  # the working directory: a directory already
            raw = ctx.text[dest_word.span.start : dest_word.span.end]
            quoted = len(raw) > 1 and raw[-1] in "\"'" and raw[0] == raw[-1]
            at = dest_word.span.end - 1 if quoted else dest_word.span.end
            yield self.finding(
                ctx,
                dest_word.span,
                f"{step.name} with more than one source needs a destination ending in '/': "
                f"'{dest}' receives each source in turn and keeps only the last",
                fix=self.make_fix([Edit.insert(at, "/")], "end the destination with /"),
                covers=self.hadolint if step.name == "COPY" else (),
            )


# -- LW611 ---------------------------------------------------------------------------------------


@register
class CopyFromUnknownStage(Rule):
    id = "LW611"
    name = "copy-from-unknown-stage"
    title = "COPY --from names no stage of this Dockerfile"
    severity = Severity.WARNING
    rationale = (
        "`COPY --from=NAME` takes a stage, or else an image: a misspelt stage name (or one "
        "defined further down) makes BuildKit pull `docker.io/library/NAME:latest`, which "
        "fails or, worse, copies from an unrelated image. An image used on purpose should "
        "carry a tag or digest so the copy is reproducible. hadolint's DL3022 (LW001 reports "
        "stages referenced before their definition and a stage copying from itself)."
    )
    hadolint = ("DL3022",)
    bad = Example(
        "FROM python:3.11 AS builder\nRUN pip wheel --wheel-dir /wheels flask\n"
        "FROM python:3.11-slim\nCOPY --from=buidler /wheels /wheels\n"
    )
    good = Example(
        "FROM python:3.11 AS builder\nRUN pip wheel --wheel-dir /wheels flask\n"
        "FROM python:3.11-slim\nCOPY --from=builder /wheels /wheels\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        names = [st.name for st in ctx.model.stages if st.name]
        for step in ctx.model.steps():
            if step.name != "COPY":
                continue
            flag = step.instruction.flag("from")
            if flag is None or not flag.value:
                continue
            ref = flag.value
            if (
                ref.lower() in names
                or ref.lstrip("-").isdigit()  # indexes: checked by LW001
                or _has_variable(ref)  # refused by BuildKit: LW001
                or ":" in ref
                or "@" in ref
            ):
                continue
            if "/" in ref or "." in ref:
                message = (
                    f"`--from={ref}` copies from an image without a tag or digest: BuildKit "
                    f"pulls '{ref}:latest', which changes under you; pin a tag or digest"
                )
            else:
                guess = _closest(ref.lower(), names)
                hint = (
                    f"did you mean the stage {guess!r}?"
                    if guess
                    else "if an image is meant, give it a tag or digest"
                )
                message = (
                    f"`--from={ref}` is not a stage defined before this one: BuildKit will pull "
                    f"the image '{ref}:latest' ({hint})"
                )
            yield self.finding(ctx, flag.span, message)


# -- LW612 ---------------------------------------------------------------------------------------


def _references(value: str, escape: str) -> set[str]:
    """Variables a value refers to, as BuildKit's expansion sees them."""
    try:
        return Lexer(escape).process_word(value, {}).unmatched
    except LexError:
        return set()


@register
class EnvSelfReference(Rule):
    id = "LW612"
    name = "env-self-reference"
    title = "An ENV value refers to a variable set in the same ENV"
    severity = Severity.ERROR
    rationale = (
        "Docker expands every value of an ENV instruction before setting any of them, so in "
        "`ENV A=1 B=$A` B gets A's previous value (empty here), not 1 (checked against the "
        "real engine). Set the variable in an earlier ENV. The fix splits the instruction "
        "where a value needs an earlier pair; it changes the value of B to what the line "
        "appears to say, so it is unsafe. hadolint's DL3044."
    )
    hadolint = ("DL3044",)
    bad = Example("FROM python:3.11-slim\nENV APP_HOME=/app APP_DATA=$APP_HOME/data\n")
    good = Example("FROM python:3.11-slim\nENV APP_HOME=/app\nENV APP_DATA=$APP_HOME/data\n")
    fixed = "FROM python:3.11-slim\nENV APP_HOME=/app\nENV APP_DATA=$APP_HOME/data\n"
    fix_safety = "unsafe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.instructions:
            if ins.name != "ENV" or len(ins.pairs) < 2:
                continue
            group: set[str] = set()
            splits: list[int] = []
            culprits: list[tuple[str, str]] = []
            for i, kv in enumerate(ins.pairs):
                used = _references(kv.value, ctx.dockerfile.escape) & group
                if used and i > 0:
                    splits.append(i)
                    culprits.append((kv.key, sorted(used)[0]))
                    group = set()
                group.add(kv.key)
            if not splits:
                continue
            keyword = ins.keyword
            edits = [
                Edit(ins.pairs[i - 1].span.end, ins.pairs[i].span.start, f"\n{keyword} ")
                for i in splits
            ]
            key, used_name = culprits[0]
            yield self.finding(
                ctx,
                ins.pairs[splits[0]].span,
                f"{key} refers to ${used_name}, which this same ENV sets: Docker expands it "
                f"to {used_name}'s previous value; set {used_name} in an earlier ENV",
                fix=self.make_fix(edits, "split the ENV instruction"),
            )


# -- LW613 ---------------------------------------------------------------------------------------


@register
class CopyRelativeDestination(Rule):
    id = "LW613"
    name = "copy-relative-destination"
    title = "COPY to a relative destination without a WORKDIR"
    severity = Severity.WARNING
    rationale = (
        "A relative destination lands in the base image's working directory, which the "
        "Dockerfile does not show (and which changes with the base image): set WORKDIR "
        "first, or copy to an absolute path. hadolint's DL3045 (which does not look at ADD; "
        "ADD findings here cover no hadolint code)."
    )
    hadolint = ("DL3045",)
    bad = Example("FROM python:3.11-slim\nCOPY requirements.txt .\n")
    good = Example("FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            workdir_set = False
            for step in _chain_steps(ctx.model, stage):
                if step.name == "WORKDIR":
                    workdir_set = True
                    continue
                if step.name not in ("COPY", "ADD") or workdir_set:
                    continue
                if step.stage_index != stage.index:
                    continue  # reported with its own stage
                parts = _copy_parts(step)
                if parts is None:
                    continue
                _, dest_word, dest = parts
                raw = _strip_quotes(dest_word.value)
                if raw.startswith(("/", "$")) or _is_windows_absolute(raw):
                    continue
                if dest.startswith("/") or _is_windows_absolute(dest):
                    continue
                yield self.finding(
                    ctx,
                    dest_word.span,
                    f"{step.name} to the relative destination '{raw}' without WORKDIR set: it "
                    "lands in the base image's working directory",
                    covers=self.hadolint if step.name == "COPY" else (),
                )


# -- LW614 ---------------------------------------------------------------------------------------


@register
class WgetProgress(Rule):
    id = "LW614"
    name = "wget-progress"
    title = "wget without a progress option floods the build log"
    severity = Severity.INFO
    rationale = (
        "wget's default progress bar writes a line per few kilobytes when not on a terminal, "
        "burying the build log (and BuildKit's log limit) in progress dots. Use "
        "`--progress=dot:giga`, `-q` or `-nv`. The fix adds `--progress=dot:giga`, which "
        "BusyBox wget (Alpine) does not know: unsafe. hadolint's DL3047."
    )
    hadolint = ("DL3047",)
    bad = Example("FROM debian:bookworm-slim\nRUN wget https://example.com/app.tar.gz\n")
    good = Example(
        "FROM debian:bookworm-slim\nRUN wget --progress=dot:giga https://example.com/app.tar.gz\n"
    )
    fixed = (
        "FROM debian:bookworm-slim\nRUN wget --progress=dot:giga https://example.com/app.tar.gz\n"
    )
    fix_safety = "unsafe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _, step, run in _run_steps(ctx, onbuild=True):
            noisy = [c for c in run.script.facts.wget_without_progress if c.depth == 0]
            if not noisy:
                continue
            fix = None
            if run.exact:
                span = run.word_span(noisy[0].words[0])
                fix = self.make_fix(
                    [Edit.insert(span.end, " --progress=dot:giga")], "add --progress=dot:giga"
                )
            yield self.finding(
                ctx,
                run.command_span(noisy[0]) if run.exact else step.instruction,
                "wget without --progress, -q or -nv fills the build log with progress output; "
                "use `wget --progress=dot:giga`",
                fix=fix,
            )


# -- LW615 ---------------------------------------------------------------------------------------

_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_/")
_RESERVED_LABELS = ("com.docker.", "io.docker.", "org.dockerproject.")


def _label_key_problem(key: str) -> str | None:
    if not key:
        return "is empty"
    if any(key.startswith(p) for p in _RESERVED_LABELS):
        return "uses a namespace reserved by Docker"
    if not ("a" <= key[0] <= "z"):
        return "must start with a lower-case letter"
    if not (key[-1].isascii() and (key[-1].islower() or key[-1].isdigit())):
        return "must end with a lower-case letter or digit"
    bad = sorted(set(key) - _LABEL_CHARS)
    if bad:
        return f"contains {''.join(bad)!r} (allowed: a-z, 0-9, '.', '-', '_', '/')"
    if ".." in key or "--" in key:
        return "has consecutive separators"
    return None


@register
class InvalidLabelKey(Rule):
    id = "LW615"
    name = "invalid-label-key"
    title = "Label keys should follow Docker's key format"
    severity = Severity.STYLE
    rationale = (
        "Docker's guidelines for label keys: reverse-DNS namespaces in lower case, letters, "
        "digits, `.`, `-`; no `com.docker.*`, `io.docker.*` or `org.dockerproject.*` (reserved). "
        "Tools that filter images by label (`docker image ls --filter label=...`, registries, "
        "SBOM scanners) expect that form. hadolint's DL3048."
    )
    hadolint = ("DL3048",)
    bad = Example('FROM python:3.11-slim\nLABEL Maintainer="team@example.com"\n')
    good = Example(
        'FROM python:3.11-slim\nLABEL org.opencontainers.image.authors="team@example.com"\n'
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.instructions:
            if ins.name != "LABEL":
                continue
            for kv in ins.pairs:
                key = _strip_quotes(kv.key)
                problem = _label_key_problem(key)
                if problem is not None:
                    yield self.finding(ctx, kv.span, f"Label key {key!r} {problem}")


# -- LW616 ---------------------------------------------------------------------------------------


@register
class CurlAndWget(Rule):
    id = "LW616"
    name = "curl-and-wget"
    title = "A stage uses both curl and wget"
    severity = Severity.INFO
    rationale = (
        "Each downloader is a package (and its TLS libraries) in the image; one is enough for "
        "a stage. Pick one. hadolint's DL4001."
    )
    hadolint = ("DL4001",)
    bad = Example(
        "FROM debian:bookworm-slim\nRUN wget -q https://example.com/a.tar.gz\n"
        "RUN curl -fsSLO https://example.com/b.tar.gz\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\nRUN curl -fsSLO https://example.com/a.tar.gz\n"
        "RUN curl -fsSLO https://example.com/b.tar.gz\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            # ONBUILD triggers run in another build: they are counted apart, as hadolint does.
            used: dict[bool, set[str]] = {False: set(), True: set()}
            for _, step, run in _stage_runs(ctx, stage, onbuild=True):
                seen = used[step.name == "ONBUILD"]
                here = {c.name for c in _top(run) if c.name in ("curl", "wget")}
                seen |= here
                if here and len(seen) == 2:
                    yield self.finding(
                        ctx, step.instruction, "Either use wget or curl but not both in one stage"
                    )


# -- LW617 ---------------------------------------------------------------------------------------


@register
class ReplaceBinSh(Rule):
    id = "LW617"
    name = "replace-bin-sh"
    title = "Use SHELL instead of replacing /bin/sh"
    severity = Severity.WARNING
    rationale = (
        "`ln -sf /bin/bash /bin/sh` changes the shell of every program in the image that "
        "runs `/bin/sh` (package scripts, the app's subprocesses), not only the Dockerfile's "
        'RUN lines. `SHELL ["/bin/bash", "-c"]` changes only the build. hadolint\'s DL4005.'
    )
    hadolint = ("DL4005",)
    bad = Example("FROM debian:bookworm-slim\nRUN ln -sf /bin/bash /bin/sh\n")
    good = Example('FROM debian:bookworm-slim\nSHELL ["/bin/bash", "-c"]\n')

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _, step, run in _run_steps(ctx, onbuild=True):
            for cmd in _top(run):
                if cmd.name == "ln" and "/bin/sh" in cmd.args:
                    yield self.finding(
                        ctx,
                        run.command_span(cmd) if run.exact else step.instruction,
                        "Use SHELL to change the shell of RUN instructions instead of replacing "
                        "/bin/sh for the whole image",
                    )
                    break


# -- LW618 ---------------------------------------------------------------------------------------

# Shells that take `-o pipefail`. Not `sh`: on Debian it is dash, which refuses the option
# (checked in a real container), so `SHELL ["/bin/sh", "-o", "pipefail", "-c"]` breaks there.
_PIPEFAIL_SHELLS = frozenset({"bash", "zsh", "ash", "ksh", "mksh", "busybox"})
_NON_POSIX = ("pwsh", "powershell", "cmd")


def _shell_has_pipefail(shell: Sequence[str]) -> bool:
    if not shell or shell[0].replace("\\", "/").rsplit("/", 1)[-1] not in _PIPEFAIL_SHELLS:
        return False
    opts = list(shell[1:])
    for i, opt in enumerate(opts):
        if opt == "-opipefail":
            return True
        # `-o pipefail`, and bundles such as `-eo pipefail` whose last letter takes the value
        bundle = opt.startswith("-") and not opt.startswith("--") and opt.endswith("o")
        if bundle and i + 1 < len(opts) and opts[i + 1] == "pipefail":
            return True
    return False


@register
class PipeWithoutPipefail(Rule):
    id = "LW618"
    name = "pipe-without-pipefail"
    title = "A pipe in RUN hides the failure of its left side"
    severity = Severity.WARNING
    rationale = (
        "A pipeline's status is its last command's: `curl -fsSL $URL | tar xz` succeeds when "
        "the download fails, and the build goes on with a broken layer. Set "
        '`SHELL ["/bin/bash", "-o", "pipefail", "-c"]` (or `set -o pipefail` in a '
        "bash/ash script) before such RUNs. Debian's /bin/sh (dash) has no pipefail at all. "
        "hadolint's DL4006; a SHELL set in a stage carries over to stages built FROM it, as "
        "in BuildKit (hadolint forgets it at every FROM)."
    )
    hadolint = ("DL4006",)
    bad = Example(
        "FROM debian:bookworm-slim\nRUN wget -qO- https://example.com/app.tar.gz | tar xz -C /opt\n"
    )
    good = Example(
        'FROM debian:bookworm-slim\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
        "RUN wget -qO- https://example.com/app.tar.gz | tar xz -C /opt\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _, step, run in _run_steps(ctx, onbuild=False):
            shell = step.shell or DEFAULT_SHELL
            name = shell[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
            if any(name.startswith(p) for p in _NON_POSIX) or _shell_has_pipefail(shell):
                continue
            for cmd in _top(run):
                if cmd.pipe_to is None:
                    continue
                # `set -o pipefail` inside the script protects it in shells that have it.
                if cmd.pipefail and cmd.shell in _PIPEFAIL_SHELLS:
                    continue
                yield self.finding(
                    ctx,
                    run.command_span(cmd) if run.exact else step.instruction,
                    "Set the SHELL option -o pipefail before RUN with a pipe in it: without it "
                    'a failure left of `|` is ignored (SHELL ["/bin/bash", "-o", '
                    '"pipefail", "-c"]; on Alpine use /bin/ash)',
                )
                break


# -- LW619 ---------------------------------------------------------------------------------------

# BuildKit never reports these: they configure the SBOM scanner, not the build.
_NON_ENV_ARGS = frozenset({"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"})


@register
class UndefinedVariable(Rule):
    id = "LW619"
    name = "undefined-variable"
    title = "A variable is used but never defined"
    severity = Severity.WARNING
    rationale = (
        "BuildKit expands `$NAME` in COPY, ADD, ENV, WORKDIR, EXPOSE, LABEL, USER, VOLUME and "
        "ARG defaults from the ARGs and ENVs in scope; an undefined name becomes an empty "
        "string, so `COPY $src .` copies the whole context. Declare it with ARG or ENV. "
        "Docker's UndefinedVar. Docker also knows the base image's ENV, which a linter cannot "
        "see without pulling it: on an image base, only names with a lower-case letter (image "
        "ENV is upper case by convention) or close misspellings of a name this Dockerfile "
        "defines are reported; on `scratch` and stages built from it, every name."
    )
    buildkit = ("UndefinedVar",)
    bad = Example("FROM python:3.11-slim\nARG APP_DIR=/app\nCOPY . $app_dir\n")
    good = Example("FROM python:3.11-slim\nARG APP_DIR=/app\nCOPY . $APP_DIR\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        model = ctx.model
        for stage in model.stages:
            image_base = not _chain(model, stage)[0].is_scratch
            for step in stage.steps:
                if not step.unmatched:
                    continue
                known = set(step.env) | set(step.args)
                for name in sorted(step.unmatched - known - {"PATH"} - _NON_ENV_ARGS):
                    guess = _closest(name, known)
                    if image_base and name == name.upper():
                        # Upper case may come from the base image's ENV (GOPATH on golang):
                        # only a one-letter slip from a name defined here is reported.
                        guess = next((k for k in sorted(known) if _one_edit(name, k)), None)
                        if guess is None:
                            continue
                    hint = f" (did you mean ${guess}?)" if guess else ""
                    yield self.finding(
                        ctx,
                        step.instruction,
                        f"Usage of undefined variable '${name}'{hint}: it expands to an empty "
                        "string",
                    )


def _one_edit(a: str, b: str) -> bool:
    """Whether two different names are one insertion, deletion, substitution or swap of
    neighbours apart."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


# -- LW620 ---------------------------------------------------------------------------------------

_ARCHIVE_SUFFIXES = (
    ".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz",
    ".tlz", ".tpz", ".txz", ".xz",
)  # fmt: skip
_DECOMPRESSORS = frozenset(
    {"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat"}
)


def _basename(path: str) -> str:
    return re.split(r"[/\\]", _strip_quotes(path))[-1]


def _extracts(cmd: Command) -> bool:
    if cmd.name in _DECOMPRESSORS:
        return True
    if cmd.name != "tar":
        return False
    return any(
        a in ("--extract", "--get")
        or (a.startswith("-") and not a.startswith("--") and "x" in a)
        or (i == 0 and not a.startswith("-") and "x" in a)  # `tar xzf`: old-style bundle
        for i, a in enumerate(cmd.args)
    )


@register
class CopyThenExtract(Rule):
    id = "LW620"
    name = "copy-then-extract"
    title = "An archive is copied into a layer and then extracted"
    severity = Severity.INFO
    rationale = (
        "`COPY app.tar.gz /tmp/` followed by `RUN tar -xzf /tmp/app.tar.gz` keeps the archive "
        "in the COPY layer for good: deleting it later saves nothing, so the image carries the "
        "data twice. `ADD app.tar.gz /opt/` extracts a local tar archive in one layer, and "
        "`RUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz tar -xzf "
        "/tmp/app.tar.gz` keeps it out of every layer. hadolint's DL3010."
    )
    hadolint = ("DL3010",)
    bad = Example(
        "FROM debian:bookworm-slim\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n"
    )
    good = Example("FROM debian:bookworm-slim\nADD app.tar.gz /opt/\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            archives: dict[str, Instruction] = {}
            reported: set[int] = set()
            for step in stage.steps:
                ins = step.instruction
                if ins.name == "COPY" and ins.flag("from") is None:
                    parts = _copy_parts(step)
                    if parts is None:
                        continue
                    sources, dest_word, _ = parts
                    if _basename(dest_word.value).endswith(_ARCHIVE_SUFFIXES):
                        archives[_basename(dest_word.value)] = ins
                    else:
                        for src in sources:
                            if heredoc_marker(src.value) is None and _basename(src.value).endswith(
                                _ARCHIVE_SUFFIXES
                            ):
                                archives[_basename(src.value)] = ins
                elif ins.name == "RUN" and archives:
                    run = ctx.run(step)
                    if run is None:
                        continue
                    for cmd in _top(run):
                        if not _extracts(cmd):
                            continue
                        for arg in cmd.args:
                            copied = archives.get(_basename(arg))
                            if copied is not None and copied.index not in reported:
                                reported.add(copied.index)
                                yield self.finding(
                                    ctx,
                                    copied,
                                    f"'{_basename(arg)}' is copied into a layer and extracted "
                                    f"on line {ins.start_line}: the archive stays in the image; "
                                    "use ADD (which extracts local tar archives) or a bind "
                                    "mount",
                                )
