"""LW2xx image size rules: what they report, what they leave alone, and what their fixes write."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.rules.base import LintContext
from layerwise.rules.size import (
    build_tool_installs,
    dev_dependency_reason,
    is_build_package,
    runtime_packages_for,
    slim_tag,
)
from layerwise.shell import analyze
from rules.ruletest import context, findings, fix, lines

# -- LW201 build tools in the final image ----------------------------------------------------------


def test_lw201_reports_build_tools_of_the_final_stage_and_its_bases() -> None:
    text = (
        "FROM python:3.11-slim AS base\n"
        "RUN apt-get update && apt-get install -y gcc libpq-dev && rm -rf /var/lib/apt/lists/*\n"
        "FROM base\n"
        "RUN apk add --no-cache build-base\n"
    )
    assert lines(text, "LW201") == [2, 4]
    msg = findings(text, "LW201")[0].message
    assert "gcc, libpq-dev" in msg and "libpq5" in msg


@pytest.mark.parametrize(
    "text",
    [
        # build tools only in a builder stage
        "FROM python:3.11 AS build\nRUN apt-get install -y gcc\n"
        "FROM python:3.11-slim\nCOPY --from=build /opt/venv /opt/venv\n",
        # removed again in the same RUN (never in a layer)
        "FROM debian:bookworm-slim\nRUN apt-get install -y gcc && make && apt-get purge -y gcc\n",
        # apk virtual package deleted in the same RUN
        "FROM alpine:3.19\nRUN apk add --no-cache --virtual .deps gcc musl-dev && pip wheel . "
        "&& apk del .deps\n",
        # runtime libraries are fine
        "FROM debian:bookworm-slim\nRUN apt-get install -y libpq5 libjpeg62-turbo\n",
        # git that no RUN uses may be for the application
        "FROM debian:bookworm-slim\nRUN apt-get install -y git\n",
        # a dev/test target is meant to have tools
        "FROM python:3.11 AS dev\nRUN apt-get install -y gcc\n",
    ],
)
def test_lw201_leaves_alone(text: str) -> None:
    assert lines(text, "LW201") == []


def test_lw201_git_counts_when_a_run_uses_it() -> None:
    text = (
        "FROM python:3.11-slim\nRUN apt-get install -y git\n"
        "RUN pip install git+https://github.com/org/pkg.git\n"
    )
    assert "git" in findings(text, "LW201")[0].message


def test_lw201_removed_in_a_later_layer_is_left_to_lw204() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get install -y gcc\nRUN apt-get purge -y gcc\n"
    assert lines(text, "LW201") == []
    assert lines(text, "LW204") == [3]


def test_build_tool_installs_helper_gives_what_the_multistage_rewrite_needs() -> None:
    df = parse_dockerfile(
        "FROM python:3.11\n"
        "RUN apt-get update && apt-get install -y gcc libpq-dev libjpeg-dev curl\n"
        "RUN pip install -r requirements.txt\n",
        "Dockerfile",
    )
    ctx = LintContext(df)
    [inst] = build_tool_installs(ctx)
    assert inst.step.line == 2 and inst.op.manager == "apt-get"
    assert [p.name for p in inst.packages] == ["gcc", "libpq-dev", "libjpeg-dev"]
    assert inst.runtime == {"libpq-dev": ("libpq5",), "libjpeg-dev": ("libjpeg62-turbo",)}
    assert runtime_packages_for([inst]) == ("libpq5", "libjpeg62-turbo")


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("gcc", True), ("g++", True), ("build-essential", True), ("libpq-dev", True),
        ("python3-dev", True), ("gcc-c++", True), ("openssl-devel", True), ("build-base", True),
        ("musl-dev", True), ("make", True), ("libpq5", False), ("curl", False),
        ("ca-certificates", False), ("python3", False),
    ],
)  # fmt: skip
def test_is_build_package(name: str, build: bool) -> None:
    assert is_build_package(name) is build


# -- LW202 --no-install-recommends ---------------------------------------------------------------


def test_lw202_hits_and_covers() -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get install -y python3\n"
        "RUN apt install -y python3\n"
        "RUN sudo apt-get -y install python3\n"
        "RUN apt-get install --no-install-recommends -y python3\n"
        "RUN apt-get -o APT::Install-Recommends=false install python3\n"
        "RUN apt-get update\n"
    )
    found = findings(text, "LW202")
    assert [f.line for f in found] == [2, 3, 4]
    assert [f.covers for f in found] == [("DL3015",), (), ("DL3015",)]


def test_lw202_respects_recommends_disabled_in_apt_config() -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/01norecommends\n"
        "RUN apt-get update && apt-get install -y python3\n"
    )
    assert lines(text, "LW202") == []


def test_lw202_fix_names_ca_certificates_for_https_clients() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl wget\n"
    assert fix(text, "LW202") == (
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install --no-install-recommends "
        "-y curl wget ca-certificates\n"
    )
    # not when it is already installed, here or before
    text = (
        "FROM debian:bookworm-slim\nRUN apt-get install -y ca-certificates\n"
        "RUN apt-get install -y curl\n"
    )
    assert fix(text, "LW202").endswith("RUN apt-get install --no-install-recommends -y curl\n")


def test_lw202_fix_in_continued_lines_keeps_them() -> None:
    text = (
        "FROM debian:bookworm-slim\r\n"
        "RUN apt-get update \\\r\n"
        "    && apt-get install -y \\\r\n"
        "       python3 \\\r\n"
        "    && rm -rf /var/lib/apt/lists/*\r\n"
    )
    assert fix(text, "LW202") == text.replace("install -y", "install --no-install-recommends -y")


# -- LW203 apt lists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y x\n", [2]),
        ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y x && "
         "rm -rf /var/lib/apt/lists/*\n", []),
        ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y x && "
         "rm -rf /var/lib/apt/lists\n", []),
        ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y x && "
         "rm -rf /var/lib/apt/lists*\n", []),
        ("FROM debian:trixie-slim\nRUN apt-get update && apt-get install -y x && "
         "apt-get dist-clean\n", []),
        # removal before the (last) update removes nothing
        ("FROM debian:bookworm-slim\nRUN rm -rf /var/lib/apt/lists/* && apt-get update && "
         "apt-get install -y x\n", [2]),
        # hadolint accepts any `rm -rf`; the lists are still there
        ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y x && "
         "rm -rf /tmp/*\n", [2]),
        ("FROM debian:bookworm-slim\nRUN --mount=type=cache,target=/var/lib/apt/lists "
         "apt-get update && apt-get install -y x\n", []),
        # a builder stage's lists never reach the image
        ("FROM debian:bookworm-slim AS build\nRUN apt-get update && apt-get install -y gcc\n"
         "FROM debian:bookworm-slim\nCOPY --from=build /x /x\n", []),
        ("FROM debian:bookworm-slim\nRUN sudo apt-get update && sudo apt-get install -y x\n", [2]),
    ],
)  # fmt: skip
def test_lw203_cases(text: str, expected: list[int]) -> None:
    assert lines(text, "LW203") == expected


def test_lw203_reports_kept_debs_when_docker_clean_is_removed() -> None:
    text = (
        "FROM debian:bookworm-slim\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\n"
        "RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y x\n"
    )
    [f] = findings(text, "LW203")
    assert ".deb" in f.message and f.fix is None
    both = "--mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt "
    mounted_both = text.replace("--mount=type=cache,target=/var/lib/apt ", both)
    assert lines(mounted_both, "LW203") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM d\nRUN apt-get update && apt-get install -y x\n",
         "FROM d\nRUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*\n"),
        ("FROM d\nRUN apt-get update && \\\n    apt-get install -y x\n",
         "FROM d\nRUN apt-get update && \\\n    apt-get install -y x && \\\n"
         "    rm -rf /var/lib/apt/lists/*\n"),
        ("FROM d\nRUN apt-get update \\\n  && apt-get install -y x\n",
         "FROM d\nRUN apt-get update \\\n  && apt-get install -y x \\\n"
         "  && rm -rf /var/lib/apt/lists/*\n"),
        ("FROM d\r\nRUN apt-get update && \\\r\n\tapt-get install -y x\r\n",
         "FROM d\r\nRUN apt-get update && \\\r\n\tapt-get install -y x && \\\r\n"
         "\trm -rf /var/lib/apt/lists/*\r\n"),
        ("# escape=`\nFROM d\nRUN apt-get update && `\n    apt-get install -y x\n",
         "# escape=`\nFROM d\nRUN apt-get update && `\n    apt-get install -y x && `\n"
         "    rm -rf /var/lib/apt/lists/*\n"),
        ("FROM d\nONBUILD RUN apt-get update && apt-get install -y x\n",
         "FROM d\nONBUILD RUN apt-get update && apt-get install -y x && "
         "rm -rf /var/lib/apt/lists/*\n"),
    ],
)  # fmt: skip
def test_lw203_fix_keeps_the_layout(text: str, expected: str) -> None:
    assert fix(text, "LW203") == expected


def test_lw203_offers_no_fix_for_an_update_a_later_run_needs() -> None:
    # Removing the lists right after a lone update would make the next RUN's install fail
    # to find its packages: that RUN is LW104's to merge, not LW203's to clean.
    text = "FROM d\nRUN apt-get update\nRUN apt-get install -y x\n"
    [f] = findings(text, "LW203")
    assert f.fix is None


@pytest.mark.parametrize(
    "text",
    [
        "FROM d\nRUN apt-get update && apt-get install -y x # install x\n",
        "FROM d\nRUN if true; then apt-get update && apt-get install -y x; fi\n",
        "FROM d\nRUN <<EOF\napt-get update\napt-get install -y x\nEOF\n",
        'FROM d\nRUN ["sh", "-c", "apt-get update && apt-get install -y x"]\n',
    ],
)
def test_lw203_no_fix_where_appending_is_unsafe(text: str) -> None:
    [f] = findings(text, "LW203")
    assert f.fix is None


# -- LW204 deleted in a later layer --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM d\nRUN apt-get update && apt-get install -y x\nRUN rm -rf /var/lib/apt/lists/*\n",
         [3]),
        ("FROM d\nRUN curl -o /tmp/pkg.tgz https://e.org/p.tgz && tar xzf /tmp/pkg.tgz\n"
         "RUN rm /tmp/pkg.tgz\n", [3]),
        ("FROM d\nRUN git clone https://e.org/r.git /src\nRUN rm -rf /src/.git\n", [3]),
        ("FROM d\nCOPY big.tar /tmp/big.tar\nRUN tar xf /tmp/big.tar && rm /tmp/big.tar\n", [3]),
        ("FROM d\nRUN pip install flask\nRUN rm -rf /root/.cache/pip\n", [3]),
        ("FROM d\nRUN apt-get install -y gcc\nRUN apt-get purge -y gcc\n", [3]),
        # same RUN: fine
        ("FROM d\nRUN curl -o /tmp/p.tgz https://e.org/p.tgz && rm /tmp/p.tgz\n", []),
        # files of the base image: unknown, not reported
        ("FROM nginx\nRUN rm /etc/nginx/conf.d/default.conf\n", []),
        # a file inside a COPY's target directory may come from the base image
        ("FROM nginx\nCOPY site/ /usr/share/nginx/html/\n"
         "RUN rm /usr/share/nginx/html/index.html\n", []),
        # a builder stage: its layers are not in the image
        ("FROM d AS b\nRUN curl -o /tmp/p https://e.org/p\nRUN rm /tmp/p\nFROM d\n", []),
    ],
)  # fmt: skip
def test_lw204_cases(text: str, expected: list[int]) -> None:
    assert lines(text, "LW204") == expected


def test_lw204_deleting_copied_files_is_known_from_the_build_context(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests docs/big.pdf\n"
    assert lines(text, "LW204") == []  # without a context: unknown
    files = {"app.py": "", "tests/test_app.py": "", "docs/big.pdf": ""}
    assert lines(text, "LW204", build_context=context(tmp_path / "a", text, files)) == [4]
    only_app = context(tmp_path / "b", text, {"app.py": ""})
    assert lines(text, "LW204", build_context=only_app) == []


# -- LW205 full base image -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "tag", "slim"),
    [
        ("python", "3.11", "3.11-slim"),
        ("python", "3.11-bookworm", "3.11-slim-bookworm"),
        ("python", "latest", "slim"),
        ("python", "3.11-slim", None),
        ("python", "3.11-alpine", None),
        ("python", "3.11-windowsservercore", None),
        ("node", "20", "20-slim"),
        ("node", "20-bookworm", "20-bookworm-slim"),
        ("ruby", "3.3-bookworm", "3.3-slim-bookworm"),
        ("debian", "bookworm", "bookworm-slim"),
        ("debian", "latest", "stable-slim"),
    ],
)
def test_slim_tag(image: str, tag: str, slim: str | None) -> None:
    assert slim_tag(image, tag) == slim


def test_lw205() -> None:
    assert lines('FROM python:3.11\nCMD ["python"]\n', "LW205") == [1]
    assert lines('FROM python\nCMD ["python"]\n', "LW205") == [1]
    assert lines("FROM python:3.11-slim\n", "LW205") == []
    assert lines("FROM myorg/python:3.11\n", "LW205") == []  # not the official image
    assert lines("FROM golang:1.22\n", "LW205") == []  # no slim variant
    # only the image's own base counts, not a builder's
    assert lines("FROM python:3.11 AS b\nRUN true\nFROM python:3.11-slim\n", "LW205") == []
    assert lines("FROM python:3.11 AS base\nFROM base\nRUN true\n", "LW205") == [1]
    text = "FROM python:3.11@sha256:" + "a" * 64 + "\n"
    assert lines(text, "LW205") == []  # pinned by digest: the tag does not decide


def test_lw205_fix_is_unsafe_and_withheld_when_build_tools_are_installed() -> None:
    assert fix("FROM python:3.11-bookworm\n", "LW205") == "FROM python:3.11-bookworm\n"
    assert fix("FROM python:3.11-bookworm\n", "LW205", unsafe=True) == (
        "FROM python:3.11-slim-bookworm\n"
    )
    text = "FROM python:3.11\nRUN apt-get install -y gcc\n"
    [f] = findings(text, "LW205")
    assert f.fix is None


# -- LW206 dev dependencies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "reported"),
    [
        ("pip install -r requirements-dev.txt", True),
        ("pip install -r requirements/test.txt", True),
        ("pip install -r dev-requirements.txt", True),
        ("pip install -r requirements.txt", False),
        ("pip install -r requirements/production.txt", False),
        ("pip install pytest", True),
        ("pip install -e .[dev]", True),
        ("pip install '.[postgres]'", False),
        ("poetry install", True),
        ("poetry install --only main", False),
        ("poetry install --without dev", False),
        ("uv sync", True),
        ("uv sync --no-dev", False),
        ("pipenv install --dev", True),
        ("pipenv install --deploy", False),
        ("npm ci", True),
        ("npm ci --omit=dev", False),
        ("NODE_ENV=production npm ci", False),
        ("yarn install --production", False),
        ("npm install -g pm2", False),
    ],
)
def test_dev_dependency_reason(command: str, reported: bool) -> None:
    [op] = analyze(command).package_ops
    assert (dev_dependency_reason(op) is not None) is reported


def test_lw206_only_the_production_target() -> None:
    text = "FROM python:3.11-slim\nRUN pip install pytest\n"
    assert lines(text, "LW206") == [2]
    assert lines(text.replace("slim\n", "slim AS test\n"), "LW206") == []
    multi = "FROM python:3.11 AS ci\nRUN pip install pytest\nFROM python:3.11-slim\nRUN true\n"
    assert lines(multi, "LW206") == []
    env = "FROM node:20-slim\nENV NODE_ENV=production\nRUN npm ci\n"
    assert lines(env, "LW206") == []


# -- LW207 apk -----------------------------------------------------------------------------------


def test_lw207() -> None:
    text = (
        "FROM alpine:3.19\n"
        "RUN apk add curl\n"
        "RUN apk add --no-cache curl\n"
        "RUN apk add --update curl && rm -rf /var/cache/apk/*\n"
        "RUN --mount=type=cache,target=/var/cache/apk apk add curl\n"
        "RUN xargs apk add --no-network < deps.txt\n"
        "RUN rm -rf /var/cache/apk/* && apk add curl\n"
    )
    found = findings(text, "LW207")
    assert [f.line for f in found] == [2, 4, 7]
    assert [str(f.severity) for f in found] == ["info", "style", "info"]
    assert fix("FROM alpine\nRUN apk update && apk add -q curl git\n", "LW207") == (
        "FROM alpine\nRUN apk update && apk add --no-cache -q curl git\n"
    )


# -- LW208 rpm caches ----------------------------------------------------------------------------


def test_lw208_cases_and_covers() -> None:
    text = (
        "FROM fedora\n"
        "RUN yum install -y x\n"
        "RUN yum install -y x && yum clean all\n"
        "RUN yum clean all && yum install -y x\n"
        "RUN dnf install -y x && rm -rf /var/cache/dnf\n"
        "RUN microdnf install -y x && dnf clean all\n"
        "RUN zypper install -y x && zypper cc\n"
        "RUN zypper in -y x\n"
        "RUN --mount=type=cache,target=/var/cache/libdnf5 dnf install -y x\n"
        "RUN dnf -y up-min\n"
    )
    found = findings(text, "LW208")
    assert [f.line for f in found] == [2, 4, 6, 8, 10]
    assert [f.covers for f in found] == [
        ("DL3032",),
        ("DL3032",),
        ("DL3040",),
        ("DL3036",),
        ("DL3040",),
    ]


def test_lw208_fix_appends_the_clean() -> None:
    assert fix("FROM f\nRUN yum install -y x\n", "LW208") == (
        "FROM f\nRUN yum install -y x && yum clean all\n"
    )
    assert fix("FROM f\nRUN zypper in -y x \\\n  && echo done\n", "LW208") == (
        "FROM f\nRUN zypper in -y x \\\n  && echo done \\\n  && zypper clean --all\n"
    )
