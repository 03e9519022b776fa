"""LW6xx (runtime and operability): the hits and the traps of every rule, and their fixes."""

from __future__ import annotations

import json

import pytest

from layerwise import parse_dockerfile
from layerwise.fixes import fix_dockerfile
from layerwise.rules import Finding, get_rule, lint


def run(
    rule_id: str, text: str, path: str = "Dockerfile", target: str | None = None
) -> list[Finding]:
    rule = get_rule(rule_id)
    assert rule is not None
    df = parse_dockerfile(text, path)
    model = df.model(target=target) if target else None
    return [f for f in lint(df, rules=[rule()], model=model).findings if f.rule == rule_id]


def lines(rule_id: str, text: str, **kw: str) -> list[int]:
    return [f.line for f in run(rule_id, text, **kw)]


def fixed(rule_id: str, text: str, *, unsafe: bool = True) -> str:
    df = parse_dockerfile(text, "Dockerfile")
    result = fix_dockerfile(df, unsafe=unsafe, select=[rule_id])
    again = fix_dockerfile(
        parse_dockerfile(result.text, "Dockerfile"), unsafe=unsafe, select=[rule_id]
    )
    assert again.text == result.text, "the fix is not idempotent"
    return result.text


PY = "FROM python:3.11-slim\n"


# -- LW601 missing-healthcheck --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PY + 'EXPOSE 8000\nCMD ["app"]\n', [2]),
        (PY + "EXPOSE 8000\nHEALTHCHECK NONE\n", []),  # a deliberate choice
        (PY + 'CMD ["worker"]\n', []),  # serves nothing
        # EXPOSE inherited from a base stage counts, and so does its HEALTHCHECK
        ('FROM python:3.11-slim AS base\nEXPOSE 80\nFROM base\nCMD ["app"]\n', [2]),
        ("FROM python:3.11-slim AS base\nEXPOSE 80\nHEALTHCHECK CMD true\nFROM base\n", []),
        # only the final stage (the image) matters
        ('FROM python:3.11 AS build\nEXPOSE 80\nFROM python:3.11-slim\nCMD ["app"]\n', []),
    ],
)
def test_missing_healthcheck(text: str, expected: list[int]) -> None:
    assert lines("LW601", text) == expected


def test_missing_healthcheck_follows_the_target() -> None:
    text = "FROM python:3.11-slim AS web\nEXPOSE 80\nFROM python:3.11-slim AS worker\nRUN true\n"
    assert lines("LW601", text) == []
    assert lines("LW601", text, target="web") == [2]


# -- LW602 shell-form-command ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PY + "CMD python app.py\n", [2]),
        (PY + "ENTRYPOINT ./run.sh\n", [2]),
        (PY + 'CMD ["python", "app.py"]\n', []),
        (PY + "CMD\n", []),
        # an explicit SHELL chose the shell (Docker's own check stays quiet), also inherited
        (PY + 'SHELL ["/bin/bash", "-c"]\nCMD echo hi\n', []),
        ('FROM python:3.11-slim AS b\nSHELL ["/bin/bash", "-c"]\nFROM b\nCMD echo hi\n', []),
        # a SHELL after the CMD does not count
        (PY + 'CMD echo hi\nSHELL ["/bin/bash", "-c"]\n', [2]),
        # every stage, as Docker and hadolint check them
        ('FROM python:3.11 AS t\nCMD pytest\nFROM python:3.11-slim\nCMD ["app"]\n', [2]),
        # HEALTHCHECK runs without a shell as PID 1: not reported
        (PY + "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\n", []),
    ],
)
def test_shell_form_command(text: str, expected: list[int]) -> None:
    assert lines("LW602", text) == expected


@pytest.mark.parametrize(
    ("command", "json_form"),
    [
        ("python app.py", '["python", "app.py"]'),
        (
            "gunicorn -b 0.0.0.0:8000 'app:create_app()'",
            '["gunicorn", "-b", "0.0.0.0:8000", "app:create_app()"]',
        ),
        ('echo "hello world"', '["echo", "hello world"]'),
        ("/usr/bin/tini -- app", '["/usr/bin/tini", "--", "app"]'),
        ("python -c 'print(1)'", '["python", "-c", "print(1)"]'),
    ],
)
def test_shell_form_command_safe_fix(command: str, json_form: str) -> None:
    text = PY + f"CMD {command}\n"
    (finding,) = run("LW602", text)
    assert finding.fix is not None and finding.fix.safety == "safe"
    assert fixed("LW602", text, unsafe=False) == PY + f"CMD {json_form}\n"


@pytest.mark.parametrize(
    "command",
    [
        "python manage.py migrate && gunicorn app:app",  # two commands
        "FLASK_APP=app flask run",  # an assignment
        "exec python app.py; echo done",
        "python app.py # the app",  # a comment
        "a | b",
        "python app.py &",
        "(cd /app && python app.py)",
        'gunicorn --bind "$(hostname):8000" app:app',  # a command substitution
        "gunicorn --bind `hostname`:8000 app:app",
        "if true; then app; fi",
    ],
)
def test_shell_form_command_no_fix_when_the_shell_does_more(command: str) -> None:
    text = PY + f"CMD {command}\n"
    (finding,) = run("LW602", text)
    assert finding.fix is None
    assert fixed("LW602", text) == text


@pytest.mark.parametrize(
    "command",
    [
        "gunicorn --bind 0.0.0.0:$PORT app:app",  # a variable
        "python app.py > /var/log/app.log",  # a redirection
        "java -jar *.jar",  # a glob
        'echo "$HOME"',
        "cat ~/.profile",
        "echo 'a;b' \"c|d\" \\; done",  # separators quoted or escaped are words
    ],
)
def test_shell_form_command_keeps_the_shell_for_expansions_and_execs(command: str) -> None:
    text = PY + f"CMD {command}\n"
    (finding,) = run("LW602", text)
    assert finding.fix is not None and finding.fix.safety == "safe"
    expected = json.dumps(["/bin/sh", "-c", f"exec {command}"])
    assert fixed("LW602", text, unsafe=False) == PY + f"CMD {expected}\n"


def test_shell_form_cmd_fix_is_unsafe_under_an_entrypoint() -> None:
    # The exec-form ENTRYPOINT gets CMD's words as arguments instead of `/bin/sh -c ...`.
    text = PY + 'ENTRYPOINT ["/entrypoint.sh"]\nCMD python app.py\n'
    (finding,) = run("LW602", text)
    assert finding.fix is not None and finding.fix.safety == "unsafe"
    assert fixed("LW602", text, unsafe=False) == text
    assert fixed("LW602", text).endswith('CMD ["python", "app.py"]\n')


@pytest.mark.parametrize(
    ("base", "safety"),
    [
        ("python:3.11-slim", "safe"),
        ("debian:bookworm-slim", "safe"),
        ("scratch", "safe"),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm", "unsafe"),
        ("node:20", "unsafe"),  # docker-entrypoint.sh reads CMD's words
        ("postgres:16", "unsafe"),
    ],
)
def test_shell_form_cmd_fix_depends_on_the_base_entrypoint(base: str, safety: str) -> None:
    (finding,) = run("LW602", f"FROM {base}\nCMD app --serve\n")
    assert finding.fix is not None and finding.fix.safety == safety


def test_shell_form_entrypoint_fix_is_unsafe_with_a_cmd() -> None:
    # A shell-form ENTRYPOINT ignores CMD; in exec form CMD's words become its arguments.
    text = PY + 'ENTRYPOINT python app.py\nCMD ["--debug"]\n'
    (finding,) = run("LW602", text)
    assert finding.fix is not None and finding.fix.safety == "unsafe"
    derived = 'FROM python:3.11-slim AS base\nENTRYPOINT python app.py\nFROM base\nCMD ["x"]\n'
    (finding,) = run("LW602", derived)
    assert finding.fix is not None and finding.fix.safety == "unsafe"
    alone = PY + "ENTRYPOINT python app.py\n"
    (finding,) = run("LW602", alone)
    assert finding.fix is not None and finding.fix.safety == "safe"


def test_shell_form_fix_over_continuation_lines() -> None:
    text = PY + "CMD gunicorn \\\n    --bind 0.0.0.0:8000 \\\n    app:app\n"
    assert fixed("LW602", text) == PY + 'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'


# -- LW603 python-runtime-env ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PY + 'CMD ["python", "app.py"]\n', [1]),
        (PY + "ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1\n", []),
        (PY + "ENV PYTHONUNBUFFERED=1\nENV PYTHONDONTWRITEBYTECODE=1\n", []),
        # an ARG is gone at run time
        (PY + "ARG PYTHONUNBUFFERED=1\nARG PYTHONDONTWRITEBYTECODE=1\n", [1]),
        # an empty value does not count (Python tests for a non-empty string)
        (PY + 'ENV PYTHONUNBUFFERED="" PYTHONDONTWRITEBYTECODE=1\n', [1]),
        # the interpreter options do the same
        (PY + 'ENV PYTHONUNBUFFERED=1\nCMD ["python", "-B", "app.py"]\n', []),
        (PY + 'CMD ["python3", "-uB", "app.py"]\n', []),
        # not a Python image and nothing Python runs
        ('FROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]\n', []),
        # a Python app on another base
        ('FROM debian:bookworm-slim\nCMD ["gunicorn", "app:app"]\n', [1]),
        # the bare interpreter of a runtime image is a REPL, not an app
        ('FROM debian:bookworm-slim\nCMD ["python3"]\n', []),
        # set in the stage the final one is built from
        (
            "FROM python:3.11-slim AS base\nENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1\n"
            'FROM base\nCMD ["python", "app.py"]\n',
            [],
        ),
        # only the final stage matters
        ("FROM python:3.11 AS build\nRUN pip wheel -w /w flask\nFROM nginx:1.27\n", []),
    ],
)
def test_python_runtime_env(text: str, expected: list[int]) -> None:
    assert lines("LW603", text) == expected


def test_python_runtime_env_names_only_what_is_missing() -> None:
    text = PY + "ENV PYTHONUNBUFFERED=1\nCOPY . /app\n"
    (finding,) = run("LW603", text)
    assert (
        "PYTHONDONTWRITEBYTECODE" in finding.message and "PYTHONUNBUFFERED" not in finding.message
    )
    assert fixed("LW603", text) == text + "ENV PYTHONDONTWRITEBYTECODE=1\n"


def test_python_runtime_env_fix_goes_after_the_last_layer() -> None:
    # Every later instruction's cache key changes with an ENV: after the last filesystem step
    # it invalidates no layer.
    text = (
        "FROM python:3.11 AS build\nRUN pip wheel -w /w flask\n"
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY --from=build /w /w\nRUN pip install /w/*\n"
        'COPY . .\nUSER app\nEXPOSE 8000\nCMD ["python", "app.py"]\n'
    )
    out = fixed("LW603", text, unsafe=False)
    assert out == text.replace(
        "COPY . .\n", "COPY . .\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"
    )


def test_python_runtime_env_fix_keeps_heredocs_and_line_endings() -> None:
    text = (
        PY.replace("\n", "\r\n")
        + 'RUN <<EOF\r\npip install flask\r\nEOF\r\nCMD ["python", "a.py"]\r\n'
    )
    out = fixed("LW603", text)
    assert out == text.replace(
        "EOF\r\nCMD", "EOF\r\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\r\nCMD"
    )
    no_newline = PY + "COPY . /app"
    assert (
        fixed("LW603", no_newline)
        == no_newline + "\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1"
    )
    lower = "from python:3.11-slim\ncopy . /app\n"
    assert fixed("LW603", lower) == lower + "env PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"


# -- LW604 development-server ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "reported"),
    [
        ('CMD ["flask", "run", "--host=0.0.0.0"]', True),
        ('CMD ["python", "-m", "flask", "run"]', True),
        ('CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]', True),
        ("CMD python manage.py migrate && python manage.py runserver 0.0.0.0:8000", True),
        ('CMD ["./manage.py", "runserver"]', True),
        ('CMD ["django-admin", "runserver"]', True),
        ('CMD ["uvicorn", "main:app", "--reload"]', True),
        ('CMD ["gunicorn", "--reload", "app:app"]', True),
        ('CMD ["fastapi", "dev", "main.py"]', True),
        ('ENTRYPOINT ["flask"]\nCMD ["run"]', True),
        ('CMD ["gunicorn", "-w", "4", "app:app"]', False),
        ('CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]', False),
        ('CMD ["python", "manage.py", "migrate"]', False),
        ('CMD ["flask", "db", "upgrade"]', False),
        ('CMD ["fastapi", "run", "main.py"]', False),
        # only the command that wins counts
        ('CMD ["flask", "run"]\nCMD ["gunicorn", "app:app"]', False),
    ],
)
def test_development_server(start: str, reported: bool) -> None:
    assert bool(run("LW604", PY + start + "\n")) is reported


def test_development_server_flask_debug_env() -> None:
    text = PY + "ENV FLASK_DEBUG=1\nENV FLASK_ENV=development\nENV FLASK_APP=app\n"
    assert lines("LW604", text) == [2, 3]
    assert lines("LW604", PY + "ENV FLASK_DEBUG=0 FLASK_ENV=production\n") == []


@pytest.mark.parametrize("path", ["Dockerfile.dev", "dev.Dockerfile", "docker/Dockerfile-debug"])
def test_development_server_left_alone_in_development_files(path: str) -> None:
    assert run("LW604", PY + 'CMD ["flask", "run"]\n', path=path) == []


def test_development_server_left_alone_for_development_targets() -> None:
    text = (
        PY.replace("\n", " AS dev\n")
        + 'CMD ["flask", "run"]\nFROM python:3.11-slim AS prod\nCMD ["gunicorn", "app:app"]\n'
    )
    assert run("LW604", text) == []
    assert run("LW604", text, target="dev") == []
    assert run("LW604", PY + 'CMD ["flask", "run"]\n', path="deploy/Dockerfile") != []


# -- LW605 cd-in-run ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run_line", "reported"),
    [
        ("RUN cd /app && make", True),
        ("RUN make -C /app", False),
        ('RUN ["sh", "-c", "cd /app && make"]', True),
        ("RUN (cd /src && make install)", True),
        ("RUN X=$(cd /src && pwd)", True),
        ("RUN git clone https://x/y.git && \\\n    cd y && make", True),
        ("RUN echo cd /app", False),
        ("RUN sh -c 'cd /tmp && make'", False),  # inside a string handed to sh -c
    ],
)
def test_cd_in_run(run_line: str, reported: bool) -> None:
    assert bool(run("LW605", PY + run_line + "\n")) is reported


def test_cd_in_run_points_at_the_cd() -> None:
    (finding,) = run("LW605", PY + "RUN git clone https://x/y.git && \\\n    cd y && make\n")
    assert (finding.line, finding.column) == (3, 5)


# -- LW606 relative-workdir -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PY + "WORKDIR app\n", [2]),
        (PY + "WORKDIR /app\n", []),
        (PY + "WORKDIR /app\nWORKDIR src\n", []),  # anchored by the absolute one
        (PY + "WORKDIR app\nWORKDIR src\n", [2]),  # only the first is reported
        (PY + "ARG BASE=/srv\nWORKDIR $BASE/app\n", []),
        (PY + "WORKDIR $HOME/app\n", []),  # from the base image: unknown
        (PY + "ARG DIR=app\nWORKDIR $DIR\n", []),  # hadolint and Docker: a variable
        (PY + 'WORKDIR "C:\\\\app"\n', []),
        ("FROM python:3.11-slim AS base\nWORKDIR /app\nFROM base\nWORKDIR src\n", []),
        ("FROM python:3.11-slim AS a\nWORKDIR a\nFROM python:3.11-slim\nWORKDIR b\n", [2, 4]),
    ],
)
def test_relative_workdir(text: str, expected: list[int]) -> None:
    assert lines("LW606", text) == expected


def test_relative_workdir_fix_is_unsafe() -> None:
    text = PY + 'WORKDIR "app"\n'
    assert fixed("LW606", text, unsafe=False) == text
    assert fixed("LW606", text) == PY + 'WORKDIR "/app"\n'


# -- LW607, LW608, LW609 EXPOSE -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        ("80000", "out of range"),
        ("8000-70000/tcp", "out of range"),
        ("http", "invalid port"),
        ("80/xtp", "invalid protocol"),
        ("90-80", "invalid port range"),
        ("/tcp", "no port"),
        ("99999:80", "host port"),
    ],
)
def test_invalid_expose(ports: str, message: str) -> None:
    (finding,) = run("LW607", PY + f"EXPOSE {ports}\n")
    assert message in finding.message


@pytest.mark.parametrize(
    "ports", ["80", "0", "65535", "80/udp", "80/SCTP", "8000-8010", "${PORT}", "$P-80", "80 443"]
)
def test_valid_expose(ports: str) -> None:
    assert run("LW607", PY + f"EXPOSE {ports}\n") == []


def test_expose_uses_variables_from_the_dockerfile() -> None:
    assert lines("LW607", PY + "ARG PORT=99999\nEXPOSE $PORT\n") == [3]
    assert lines("LW607", PY + "ARG PORT=8000\nEXPOSE $PORT\n") == []


def test_expose_covers_dl3011_only_for_the_range() -> None:
    (out_of_range,) = run("LW607", PY + "EXPOSE 80000\n")
    (bad_proto,) = run("LW607", PY + "EXPOSE 80/xtp\n")
    assert out_of_range.covers == ("DL3011",) and bad_proto.covers == ()


@pytest.mark.parametrize(
    ("ports", "fixed_ports"),
    [("8080:80", "80"), ("127.0.0.1:8080:80/udp", "80/udp"), ("[::1]:80:80", "80")],
)
def test_expose_host_mapping(ports: str, fixed_ports: str) -> None:
    text = PY + f"EXPOSE 443 {ports}\n"
    assert lines("LW608", text) == [2]
    assert fixed("LW608", text, unsafe=False) == PY + f"EXPOSE 443 {fixed_ports}\n"


def test_expose_host_mapping_with_a_variable_is_reported_without_fix() -> None:
    (finding,) = run("LW608", PY + "ARG HOST=8080\nEXPOSE $HOST:80\n")
    assert finding.fix is None


def test_expose_proto_casing() -> None:
    assert lines("LW609", PY + "EXPOSE 80/tcp 53/udp\n") == []
    text = PY + "EXPOSE 80/TcP 53/UDP\n"
    assert lines("LW609", text) == [2, 2]
    assert fixed("LW609", text) == PY + "EXPOSE 80/tcp 53/udp\n"


# -- LW610 copy-many-to-file ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("copy", "reported"),
    [
        ("COPY a b /dest", True),
        ("COPY a b /dest/", False),
        ("COPY a /dest", False),
        ("COPY a b .", False),  # the working directory: a directory
        ("COPY a b ./", False),
        ('COPY ["a", "b", "/dest"]', True),
        ("ADD a.txt b.txt /dest", True),
        ("COPY --from=build /a /b /dest", True),
        ("WORKDIR /app\nCOPY a b /app", False),  # the WORKDIR exists
        ("ARG D=/x\nCOPY a b $D", True),
        ("COPY a b $UNKNOWN", False),
    ],
)
def test_copy_many_to_file(copy: str, reported: bool) -> None:
    text = "FROM python:3.11-slim AS build\nRUN true\n" + PY + copy + "\n"
    assert bool(run("LW610", text)) is reported


@pytest.mark.parametrize(
    ("copy", "after"),
    [
        ("COPY a b /dest", "COPY a b /dest/"),
        ('COPY a b "/dest"', 'COPY a b "/dest/"'),
        ('COPY ["a", "b", "/dest"]', 'COPY ["a", "b", "/dest/"]'),
    ],
)
def test_copy_many_to_file_fix(copy: str, after: str) -> None:
    assert fixed("LW610", PY + copy + "\n") == PY + after + "\n"
    assert fixed("LW610", PY + copy + "\n", unsafe=False) == PY + copy + "\n"


def test_copy_many_to_file_covers_dl3021_only_for_copy() -> None:
    (copy,) = run("LW610", PY + "COPY a b /d\n")
    (add,) = run("LW610", PY + "ADD a b /d\n")
    assert copy.covers == ("DL3021",) and add.covers == ()


# -- LW611 copy-from-unknown-stage ----------------------------------------------------------------

STAGES = "FROM python:3.11 AS builder\nRUN true\n"


@pytest.mark.parametrize(
    ("ref", "hint"),
    [
        ("buidler", "did you mean the stage 'builder'"),
        ("nginx", "if an image is meant"),
        ("org/tools", "pin a tag or digest"),
        ("ghcr.io/org/tools", "pin a tag or digest"),
    ],
)
def test_copy_from_unknown_stage(ref: str, hint: str) -> None:
    (finding,) = run("LW611", STAGES + PY + f"COPY --from={ref} /a /a\n")
    assert hint in finding.message


@pytest.mark.parametrize(
    "ref", ["builder", "BUILDER", "0", "nginx:1.27", "org/img@sha256:" + "a" * 64]
)
def test_copy_from_known(ref: str) -> None:
    assert run("LW611", STAGES + PY + f"COPY --from={ref} /a /a\n") == []


def test_copy_from_later_or_own_stage_is_lw001_with_hadolint_codes() -> None:
    later = "FROM scratch\nCOPY --from=build /a /a\nFROM python:3.11 AS build\nRUN true\n"
    own_name = "FROM python:3.11 AS foo\nCOPY --from=foo /a /a\n"
    own_index = "FROM python:3.11\nCOPY --from=0 /a /a\n"
    assert [f.covers for f in run("LW001", later)] == [("DL3022",)]
    assert [f.covers for f in run("LW001", own_name)] == [("DL3023",)]
    assert [f.covers for f in run("LW001", own_index)] == [("DL3022",)]
    assert run("LW611", later) == []


# -- LW612 env-self-reference ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "reported"),
    [
        ("ENV A=1 B=$A", True),
        ("ENV A=1 B=${A:-x}/y", True),
        ("ENV A=1\nENV B=$A", False),
        ("ENV B=$A A=1", False),  # reads the value set before: what it says
        ("ENV A=1 B='$A'", False),  # single quotes: no expansion
        ("ENV A=1 B=\\$A", False),
        ("ENV A=1 B=$AB", False),
        ("ENV PATH=/a:$PATH", False),
        ("ENV PATH=/a:$PATH PATH=/b:$PATH", True),
    ],
)
def test_env_self_reference(env: str, reported: bool) -> None:
    assert bool(run("LW612", PY + env + "\n")) is reported


def test_env_self_reference_fix_splits_where_needed() -> None:
    text = PY + "ENV A=1 \\\n    B=$A \\\n    C=$B D=x\n"
    assert fixed("LW612", text) == PY + "ENV A=1\nENV B=$A\nENV C=$B D=x\n"
    assert fixed("LW612", text, unsafe=False) == text
    lower = "from python:3.11-slim\nenv A=1 B=$A\n"
    assert fixed("LW612", lower) == "from python:3.11-slim\nenv A=1\nenv B=$A\n"


# -- LW613 copy-relative-destination --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PY + "COPY a.txt .\n", [2]),
        (PY + "COPY a.txt b/\n", [2]),
        (PY + "ADD a.txt .\n", [2]),
        (PY + "COPY a.txt /app/\n", []),
        (PY + "WORKDIR /app\nCOPY a.txt .\n", []),
        (PY + "COPY a.txt $DEST\n", []),
        (PY + "ARG D=/x\nCOPY a.txt ${D}\n", []),
        ("FROM python:3.11-slim AS b\nWORKDIR /app\nFROM b\nCOPY a.txt .\n", []),
        ("FROM python:3.11-slim AS b\nCOPY a .\nFROM b\nCOPY c .\n", [2, 4]),
        (PY + "ONBUILD COPY a.txt .\n", []),  # resolved in the child image
    ],
)
def test_copy_relative_destination(text: str, expected: list[int]) -> None:
    assert lines("LW613", text) == expected


# -- LW614 wget-progress --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "reported"),
    [
        ("wget https://x/a", True),
        ("wget -O /tmp/a https://x/a", True),
        ("wget -q https://x/a", False),
        ("wget -qO- https://x/a", False),
        ("wget -nv https://x/a", False),
        ("wget --progress=bar:force https://x/a", False),
        ("wget -o log https://x/a", False),
        ("curl -fsSLO https://x/a", False),
    ],
)
def test_wget_progress(command: str, reported: bool) -> None:
    assert bool(run("LW614", PY + f"RUN {command}\n")) is reported


def test_wget_progress_in_onbuild_and_fix() -> None:
    text = PY + "ONBUILD RUN wget https://x/a && tar xf a\n"
    assert lines("LW614", text) == [2]
    assert (
        fixed("LW614", text)
        == PY + "ONBUILD RUN wget --progress=dot:giga https://x/a && tar xf a\n"
    )
    assert fixed("LW614", text, unsafe=False) == text


# -- LW615 invalid-label-key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reported"),
    [
        ("org.opencontainers.image.source", False),
        ('"org.example.my-key"', False),
        ("maintainer", False),
        ("Maintainer", True),
        ("com.docker.extension", True),
        ("io.docker.x", True),
        ("org.dockerproject.x", True),
        ("my..key", True),
        ("my--key", True),
        ("key.", True),
        ("1key", True),
        ("my_key:x", True),
    ],
)
def test_invalid_label_key(key: str, reported: bool) -> None:
    assert bool(run("LW615", PY + f'LABEL {key}="v"\n')) is reported


# -- LW616 curl-and-wget --------------------------------------------------------------------------


def test_curl_and_wget() -> None:
    text = PY + "RUN wget -q x\nRUN echo\nRUN curl -O y\nRUN curl -O z\n"
    assert lines("LW616", text) == [4, 5]
    one_run = PY + "RUN wget -q x && curl -O y\n"
    assert lines("LW616", one_run) == [2]
    per_stage = PY + "RUN wget -q x\n" + PY + "RUN curl -O y\n"
    assert lines("LW616", per_stage) == []
    onbuild_apart = PY + "RUN wget -q x\nONBUILD RUN curl -O y\n"
    assert lines("LW616", onbuild_apart) == []


# -- LW617 replace-bin-sh -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "reported"),
    [
        ("ln -sf /bin/bash /bin/sh", True),
        ("ln -sfv /bin/bash /bin/sh && true", True),
        ("ln -s /bin/true /sbin/initctl", False),
        ("ln -s a b && something /bin/sh", False),
    ],
)
def test_replace_bin_sh(command: str, reported: bool) -> None:
    assert bool(run("LW617", PY + f"RUN {command}\n")) is reported
    assert bool(run("LW617", PY + f"ONBUILD RUN {command}\n")) is reported


# -- LW618 pipe-without-pipefail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        (PY + "RUN curl -fsSL x | tar xz\n", True),
        (PY + "RUN curl -fsSL x && tar xzf y\n", False),
        (PY + 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl x | tar xz\n', False),
        (PY + 'SHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN curl x | tar xz\n', False),
        (PY + 'SHELL ["/bin/bash", "-euxo", "pipefail", "-c"]\nRUN curl x | tar xz\n', False),
        (PY + 'SHELL ["/bin/ash", "-o", "pipefail", "-c"]\nRUN curl x | tar xz\n', False),
        # dash has no pipefail
        (PY + 'SHELL ["/bin/sh", "-o", "pipefail", "-c"]\nRUN curl x | tar xz\n', True),
        (PY + "RUN set -o pipefail && curl x | tar xz\n", True),
        (PY + 'SHELL ["/bin/bash", "-c"]\nRUN set -o pipefail && curl x | tar xz\n', False),
        (PY + 'SHELL ["/bin/bash", "-c"]\nRUN curl x | tar xz\n', True),
        (PY + "RUN V=$(curl -s x | jq -r .v) && echo $V\n", True),
        (PY + 'SHELL ["pwsh", "-c"]\nRUN Get-Thing | Select-Object x\n', False),
        # SHELL carries over to a stage built FROM this one, as in BuildKit
        (
            'FROM python:3.11-slim AS b\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
            "FROM b\nRUN curl x | tar xz\n",
            False,
        ),
        # ... but not to an unrelated stage
        (
            'FROM python:3.11-slim AS b\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
            "FROM python:3.11-slim\nRUN curl x | tar xz\n",
            True,
        ),
    ],
)
def test_pipe_without_pipefail(text: str, reported: bool) -> None:
    assert bool(run("LW618", text)) is reported


# -- LW619 undefined-variable ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM scratch\nCOPY $foo .\n", ["foo"]),
        ("FROM scratch\nARG foo\nCOPY $foo .\n", []),  # declared, even without a value
        ("FROM alpine AS base\nARG VERSION=$foo\n", ["foo"]),
        ("FROM python AS base\nARG VERSION=$PYTHON_VERSION\n", []),  # may be the image's ENV
        ("FROM scratch\nARG VERSION=$PYTHON_VERSION\n", ["PYTHON_VERSION"]),  # scratch has none
        (PY + "ARG APP_HOME=/app\nWORKDIR $APP_HOM\n", ["APP_HOM"]),  # a slip of one letter
        (PY + "ENV APP=/app\nCOPY . $APP/src\n", []),
        (PY + "COPY . $PATH\n", []),  # BuildKit always sets PATH
        (PY + "RUN echo $undefined\n", []),  # the shell expands RUN
        ("FROM scratch AS a\nARG X=1\nFROM a\nCOPY $X .\n", []),  # inherited from the stage
        ("FROM scratch\nCOPY ${BUILDKIT_SBOM_SCAN_STAGE} .\n", []),
    ],
)
def test_undefined_variable(text: str, expected: list[str]) -> None:
    found = run("LW619", text)
    assert [f.message.split("'")[1].lstrip("$") for f in found] == expected


def test_undefined_variable_suggests_a_name() -> None:
    (finding,) = run("LW619", PY + "ARG APP_HOME=/app\nWORKDIR $APP_HOM\n")
    assert "did you mean $APP_HOME?" in finding.message


# -- LW620 copy-then-extract ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PY + "COPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n", [2]),
        (PY + "COPY app.tar.gz /tmp/\nRUN tar xzf /tmp/app.tar.gz\n", [2]),
        (PY + "COPY app.tar.gz /tmp/\nRUN tar --extract -f /tmp/app.tar.gz\n", [2]),
        (PY + "COPY build/a.tar /opt/\nWORKDIR /opt\nRUN tar -xf a.tar\n", [2]),
        (PY + "COPY a /opt/pkg.tgz\nRUN cd /opt && tar -xf pkg.tgz\n", [2]),
        (PY + "COPY data.xz /d/\nRUN unxz /d/data.xz\n", [2]),
        (PY + "COPY app.tar.gz /tmp/\nRUN tar -tzf /tmp/app.tar.gz\n", []),  # only lists
        (PY + "COPY app.tar.gz /tmp/\n", []),
        (PY + "COPY --from=0 /a.tar /a.tar\nRUN tar -xf /a.tar\n", []),  # from a stage
        (PY + "COPY app.tar.gz /tmp/\n" + PY + "RUN tar -xzf /tmp/app.tar.gz\n", []),
        (PY + "ADD app.tar.gz /opt/\n", []),
    ],
)
def test_copy_then_extract(text: str, expected: list[int]) -> None:
    assert lines("LW620", text) == expected
