"""RUN instructions: the script BuildKit runs, with offsets back into the Dockerfile."""

from __future__ import annotations

import pytest

from layerwise import parse_dockerfile
from layerwise.dockerfile.syntax import Instruction
from layerwise.shell import analyze_run


def run_of(text: str, line: int | None = None) -> Instruction:
    df = parse_dockerfile(text, "Dockerfile")
    runs = [i for i in df.walk() if i.name in ("RUN", "ONBUILD")]
    if line is None:
        return runs[0]
    return next(i for i in runs if i.start_line == line)


def test_shell_form_with_continuations_and_comments_maps_back() -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update \\\n"
        "    # a comment inside the continuation\n"
        "    && apt-get install -y --no-install-recommends \\\n"
        "\n"
        "       libpq5 \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
    ins = run_of(text)
    result = analyze_run(ins)
    assert result is not None and result.exact
    assert result.script.text == ins.command
    names = [c.argv for c in result.script.commands]
    assert names == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "libpq5"],
        ["rm", "-rf", "/var/lib/apt/lists/*"],
    ]
    install = result.script.commands[1]
    span = result.command_span(install)
    assert text[span.start : span.end].startswith("apt-get install -y --no-install-recommends")
    assert text[span.start : span.end].endswith("libpq5")
    (pkg,) = result.script.package_ops[1].packages
    assert pkg.word is not None
    wspan = result.word_span(pkg.word)
    assert text[wspan.start : wspan.end] == "libpq5"
    rm = result.command_span(result.script.commands[2])
    assert text[rm.start : rm.end] == "rm -rf /var/lib/apt/lists/*"


def test_backtick_escape_directive() -> None:
    text = "# escape=`\nFROM debian:bookworm-slim\nRUN pip install a `\n    b\n"
    result = analyze_run(run_of(text))
    assert result is not None
    (cmd,) = result.script.commands
    assert cmd.argv == ["pip", "install", "a", "b"]
    span = result.word_span(cmd.words[3])
    assert text[span.start : span.end] == "b"


def test_crlf_line_endings() -> None:
    text = "FROM x\r\nRUN apt-get update && \\\r\n    apt-get install -y gcc\r\n"
    result = analyze_run(run_of(text))
    assert result is not None
    assert [c.argv[:2] for c in result.script.commands] == [
        ["apt-get", "update"],
        ["apt-get", "install"],
    ]
    gcc = result.script.commands[1].words[-1]
    span = result.word_span(gcc)
    assert text[span.start : span.end] == "gcc"


def test_heredoc_alone_runs_its_body() -> None:
    text = "FROM x\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n"
    result = analyze_run(run_of(text))
    assert result is not None
    assert [c.argv[:2] for c in result.script.commands] == [
        ["apt-get", "update"],
        ["apt-get", "install"],
    ]
    span = result.command_span(result.script.commands[1])
    assert text[span.start : span.end] == "apt-get install -y curl"


def test_heredoc_with_chomp() -> None:
    text = "FROM x\nRUN <<-EOF\n\tpip install flask\n\tEOF\n"
    result = analyze_run(run_of(text))
    assert result is not None
    (cmd,) = result.script.commands
    assert cmd.argv == ["pip", "install", "flask"]
    span = result.command_span(cmd)
    assert text[span.start : span.end] == "pip install flask"


def test_heredoc_with_shebang_is_an_interpreter_script() -> None:
    text = "FROM x\nRUN <<EOF\n#!/usr/bin/env python3\nprint('hi')\nEOF\n"
    result = analyze_run(run_of(text))
    assert result is not None
    assert result.script.commands == []
    assert result.script.interpreter == "/usr/bin/env python3"
    text = "FROM x\nRUN <<EOF\n#!/bin/bash\nset -o pipefail\ncurl x | sh\nEOF\n"
    result = analyze_run(run_of(text))
    assert result is not None
    assert [c.name for c in result.script.commands] == ["set", "curl", "sh"]
    assert not result.script.needs_bash


def test_heredoc_fed_to_a_command_goes_through_the_shell() -> None:
    text = "FROM x\nRUN python3 <<EOF > /out && pip install y\nprint(1)\nEOF\n"
    result = analyze_run(run_of(text))
    assert result is not None
    assert result.script.text == "python3 <<EOF > /out && pip install y\nprint(1)\nEOF"
    py, pip = result.script.commands
    assert py.stdin == "print(1)\n"
    assert pip.argv == ["pip", "install", "y"]
    span = result.command_span(pip)
    assert text[span.start : span.end] == "pip install y"
    assert result.script.parse_error is None


def test_heredoc_fed_to_bash() -> None:
    text = "FROM x\nRUN bash <<'EOT'\nset -eu\napt-get install -y git\nEOT\n"
    result = analyze_run(run_of(text))
    assert result is not None
    names = [c.argv for c in result.script.commands]
    assert names == [["set", "-eu"], ["apt-get", "install", "-y", "git"]]
    span = result.command_span(result.script.commands[1])
    assert text[span.start : span.end] == "apt-get install -y git"


def test_exec_form() -> None:
    text = 'FROM x\nRUN ["pip", "install", "--no-cache-dir", "flask"]\n'
    result = analyze_run(run_of(text))
    assert result is not None and not result.exact
    (op,) = result.script.package_ops
    assert op.manager == "pip" and "--no-cache-dir" in op.flags


def test_exec_form_with_a_shell() -> None:
    text = 'FROM x\nRUN ["/bin/bash", "-c", "apt-get update && apt-get install -y \\"gcc\\""]\n'
    result = analyze_run(run_of(text))
    assert result is not None
    assert [c.argv for c in result.script.commands] == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "gcc"],
    ]
    assert result.script.shell == ("/bin/bash", "-c")
    span = result.command_span(result.script.commands[0])
    assert text[span.start : span.end] == "apt-get update"


def test_shell_and_env_are_passed_through() -> None:
    text = "FROM x\nRUN [[ -f x ]] && pip install y\n"
    ins = run_of(text)
    plain = analyze_run(ins)
    bash = analyze_run(ins, shell=("/bin/bash", "-c"), env={"PIP_NO_CACHE_DIR": "1"})
    assert plain is not None and bash is not None
    assert plain.script.needs_bash and not bash.script.needs_bash
    assert bash.script.package_ops[0].cache_disabled
    pwsh = analyze_run(ins, shell=("powershell", "-Command"))
    assert pwsh is not None and pwsh.script.commands == []


def test_onbuild_run_and_other_instructions() -> None:
    text = "FROM x\nONBUILD RUN pip install -r requirements.txt\nCOPY . .\n"
    df = parse_dockerfile(text)
    onbuild, copy = df.instructions[1], df.instructions[2]
    result = analyze_run(onbuild)
    assert result is not None and result.exact
    assert result.script.package_ops[0].requirements == ["requirements.txt"]
    span = result.command_span(result.script.commands[0])
    assert text[span.start : span.end] == "pip install -r requirements.txt"
    assert analyze_run(copy) is None
    assert analyze_run(df.instructions[0]) is None


@pytest.mark.parametrize(
    "run",
    [
        "RUN echo 'a \\\n b'",
        "RUN echo a\\\\\n",
        "RUN  \t  pip install x  ",
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r r.txt",
        "RUN echo héllo && pip install wörld",
    ],
)
def test_offsets_always_map_to_the_same_characters(run: str) -> None:
    text = f"FROM x\n{run}\n"
    result = analyze_run(run_of(text))
    assert result is not None and result.exact
    for cmd in result.script.commands:
        for w in cmd.words:
            span = result.word_span(w)
            assert text[span.start : span.end].replace("\\\n", "") == w.text.replace("\\\n", "")


def test_analyze_step_uses_the_models_shell_and_env() -> None:
    from layerwise.shell import analyze_step

    text = (
        "FROM python:3.11-slim\n"
        "ENV PIP_NO_CACHE_DIR=1\n"
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
        "RUN curl -fsSL x | tar x && [[ -d /x ]] && pip install flask\n"
    )
    model = parse_dockerfile(text).model()
    step = next(s for s in model.steps() if s.name == "RUN")
    result = analyze_step(step)
    assert result is not None
    script = result.script
    assert script.shell == ("/bin/bash", "-o", "pipefail", "-c")
    assert not script.needs_bash and not script.facts.unprotected_pipes
    assert script.package_ops[0].cache_disabled
