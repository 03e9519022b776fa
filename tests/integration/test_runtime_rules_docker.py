"""What the LW6xx rules claim about Docker, checked against the real engine.

Claims are batched: one multi-stage build (and one container run) answers the questions about
files and shells; tiny `FROM scratch` builds answer the ones about image metadata. Every image is
removed at the end.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DockerEngine
from layerwise import parse_dockerfile
from layerwise.build import build
from layerwise.fixes import fix_dockerfile
from layerwise.rules import lint

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def images(docker: DockerEngine) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        docker.run("image", "rm", "-f", *made, check=False)


def _tag(images: list[str], name: str) -> str:
    tag = f"layerwise-test-lw6-{name}:{uuid.uuid4().hex[:8]}"
    images.append(tag)
    return tag


def _build(
    docker: DockerEngine,
    context: Path,
    text: str,
    tag: str,
    *,
    target: str | None = None,
    check: bool = True,
) -> tuple[int, str]:
    (context / "Dockerfile").write_text(text)
    args = ["buildx", "build", "--load", "--network", "host", "--progress", "plain", "-t", tag]
    if target:
        args += ["--target", target]
    proc = docker.run(*args, str(context), check=False)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.returncode, proc.stderr


def _config(docker: DockerEngine, tag: str) -> dict[str, object]:
    out = docker.run("image", "inspect", tag, "--format", "{{json .Config}}").stdout
    config: dict[str, object] = json.loads(out)
    return config


def _fix(text: str, *rules: str) -> str:
    result = fix_dockerfile(parse_dockerfile(text, "Dockerfile"), unsafe=True, select=list(rules))
    assert result.applied, f"no fix applied for {rules}"
    return result.text


def _rules(text: str) -> set[str]:
    return {f.rule for f in lint(parse_dockerfile(text, "Dockerfile")).findings}


FILES_AND_SHELLS = """\
FROM debian:bookworm-slim AS facts
COPY a.txt b.txt /dest
WORKDIR /app
COPY a.txt b.txt /app
WORKDIR /w
COPY a.txt b.txt .
ADD pkg.tar.gz /opt/pkg/
RUN if (set -o pipefail) 2>/dev/null; then echo yes; else echo no; fi > /facts-set-pipefail
RUN if sh -o pipefail -c true 2>/dev/null; then echo yes; else echo no; fi > /facts-sh-o-pipefail
FROM facts AS go-like
WORKDIR /go
FROM go-like AS relative
WORKDIR app
RUN pwd > /facts-workdir
"""

REPORT = (
    'printf "dest-type=%s\\n" "$(stat -c %F /dest)"; printf "dest=%s\\n" "$(cat /dest)"; '
    'printf "app=%s\\n" "$(ls /app | tr "\\n" " ")"; printf "w=%s\\n" "$(ls /w | tr "\\n" " ")"; '
    'printf "opt=%s\\n" "$(ls /opt/pkg | tr "\\n" " ")"; '
    'printf "set-pipefail=%s\\n" "$(cat /facts-set-pipefail)"; '
    'printf "sh-o-pipefail=%s\\n" "$(cat /facts-sh-o-pipefail)"; '
    'printf "workdir=%s\\n" "$(cat /facts-workdir)"'
)


def test_files_and_shells(docker: DockerEngine, images: list[str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    with tarfile.open(tmp_path / "pkg.tar.gz", "w:gz") as tar:
        data = b"packed\n"
        info = tarfile.TarInfo("inside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    # What the rules say about this file before the build proves them right.
    found = {f.rule: f for f in lint(parse_dockerfile(FILES_AND_SHELLS, "Dockerfile")).findings}
    assert "LW610" in found and found["LW610"].line == 2  # only the first COPY: /dest
    tag = _tag(images, "facts")
    _build(docker, tmp_path, FILES_AND_SHELLS, tag)
    out = docker.run("run", "--rm", "--network", "host", tag, "sh", "-c", REPORT).stdout
    facts = dict(line.split("=", 1) for line in out.splitlines())
    # LW610: several sources into a path that is not a directory keep only the last one ...
    assert facts["dest-type"] == "regular file" and facts["dest"] == "b"
    # ... while `.` and an existing WORKDIR receive all of them (not reported).
    assert facts["app"].split() == ["a.txt", "b.txt"] and facts["w"].split() == ["a.txt", "b.txt"]
    # LW620's advice: ADD extracts a local tar archive.
    assert facts["opt"].split() == ["inside.txt"]
    # LW618: Debian's /bin/sh (dash) has no pipefail, neither `set -o` nor `sh -o`.
    assert facts["set-pipefail"] == "no" and facts["sh-o-pipefail"] == "no"
    # LW606: a relative WORKDIR continues from the base's working directory.
    assert facts["workdir"] == "/go/app"


def test_image_metadata_and_metadata_fixes(
    docker: DockerEngine, images: list[str], tmp_path: Path
) -> None:
    text = "FROM scratch\nENV A=1 B=$A\nEXPOSE 8080:80 53/UDP\n"
    assert {"LW612", "LW608", "LW609"} <= _rules(text)
    before = _tag(images, "meta-before")
    _build(docker, tmp_path, text, before)
    config = _config(docker, before)
    # LW612: B gets A's value from before the instruction (unset): empty.
    assert "B=" in config["Env"]  # type: ignore[operator]
    # LW608/LW609: only the container port is kept, its protocol lowercased.
    assert set(config["ExposedPorts"]) == {"80/tcp", "53/udp"}  # type: ignore[arg-type]
    fixed = _fix(text, "LW612", "LW608", "LW609")
    assert fixed == "FROM scratch\nENV A=1\nENV B=$A\nEXPOSE 80 53/udp\n"
    after = _tag(images, "meta-after")
    _build(docker, tmp_path, fixed, after)
    fixed_config = _config(docker, after)
    assert "B=1" in fixed_config["Env"]  # type: ignore[operator]
    # The EXPOSE fixes are safe: the image declares exactly the same ports.
    assert fixed_config["ExposedPorts"] == config["ExposedPorts"]


@pytest.mark.parametrize(
    ("expose", "refused"),
    [("80000", True), ("80/xtp", True), ("8000-70000", True), ("0 65535 8000-8010 80/SCTP", False)],
)
def test_invalid_expose_fails_the_build(
    docker: DockerEngine, images: list[str], tmp_path: Path, expose: str, refused: bool
) -> None:
    text = f"FROM scratch\nEXPOSE {expose}\n"
    assert ("LW607" in _rules(text)) is refused
    code, log = _build(docker, tmp_path, text, _tag(images, "expose"), check=False)
    assert (code != 0) is refused, log[-2000:]


COMMANDS = """\
FROM debian:bookworm-slim AS base
CMD ["echo", "base-cmd"]
FROM base AS shell
CMD cat /proc/1/cmdline
FROM base AS shellvar
ENV FILE=/proc/1/cmdline
CMD cat $FILE
FROM base AS entry
ENTRYPOINT ["echo", "entry"]
"""


def test_shell_form_command_and_its_fix(
    docker: DockerEngine, images: list[str], tmp_path: Path
) -> None:
    def pid1(target: str, text: str) -> str:
        tag = _tag(images, target)
        _build(docker, tmp_path, text, tag, target=target)
        out = docker.run("run", "--rm", "--network", "host", tag).stdout
        return out.replace("\0", " ").strip()

    # LW602: in shell form the shell is PID 1 (dash does not exec the command) ...
    assert pid1("shell", COMMANDS) == "/bin/sh -c cat /proc/1/cmdline"
    fixed = _fix(COMMANDS, "LW602")
    assert 'CMD ["cat", "/proc/1/cmdline"]' in fixed
    # ... in exec form the application is.
    assert pid1("shell", fixed) == "cat /proc/1/cmdline"
    # A command whose variable the shell must expand keeps the shell, which then execs it:
    # the application is PID 1 and still sees the expanded word.
    assert pid1("shellvar", COMMANDS) == "/bin/sh -c cat $FILE"
    assert 'CMD ["/bin/sh", "-c", "exec cat $FILE"]' in fixed
    assert pid1("shellvar", fixed) == "cat /proc/1/cmdline"
    # Why an ENTRYPOINT fix is safe without a CMD in its stage: setting ENTRYPOINT clears the
    # CMD inherited from the base stage.
    assert pid1("entry", COMMANDS) == "entry"


def test_python_env_fix_invalidates_no_layer(
    docker: DockerEngine, images: list[str], tmp_path: Path
) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\n"
        "RUN python -c 'import app' && ls > /listing\n"
        'CMD ["python", "app.py"]\n'
    )
    (tmp_path / "app.py").write_text("print('hello')\n")
    (tmp_path / "Dockerfile").write_text(text)
    tag = _tag(images, "pyenv")
    build(tmp_path, tag=tag, network="host", docker=docker.binary)
    fixed = _fix(text, "LW603")
    (tmp_path / "Dockerfile").write_text(fixed)
    result = build(tmp_path, tag=tag, network="host", docker=docker.binary)
    layers = [s for s in result.steps if s.keyword in ("WORKDIR", "COPY", "RUN")]
    assert len(layers) == 3 and all(s.cached for s in layers), result.steps
    env = _config(docker, tag)["Env"]
    assert "PYTHONUNBUFFERED=1" in env and "PYTHONDONTWRITEBYTECODE=1" in env  # type: ignore[operator]


def test_documented_copy_ignored_file_pattern_does_not_exclude(
    docker: DockerEngine, images: list[str], tmp_path: Path
) -> None:
    """Docker's CopyIgnoredFile page pairs `*/tmp/*` with `COPY ./tmp/helloworld.txt`; the
    pattern needs a directory before `tmp`, so the file is sent and the copy works. The build
    check harness uses `tmp/*` instead (tests/rules/test_build_checks.py)."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "helloworld.txt").write_text("hello\n")
    (tmp_path / ".dockerignore").write_text("*/tmp/*\n")
    text = "FROM scratch\nCOPY ./tmp/helloworld.txt /helloworld.txt\n"
    _build(docker, tmp_path, text, _tag(images, "ignored"))
    (tmp_path / ".dockerignore").write_text("tmp/*\n")
    code, log = _build(docker, tmp_path, text, _tag(images, "ignored2"), check=False)
    assert code != 0, log[-1000:]
