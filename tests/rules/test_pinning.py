"""LW5xx reproducibility and pinning: the hits and the traps of each rule, the requirements-file
reader, the container-path to context-path mapping, and the fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.config import Config
from layerwise.context.project import BuildContext
from layerwise.fixes import fix_dockerfile
from layerwise.rules import Finding, LintContext, get_rule, lint
from layerwise.rules.pinning import (
    TrustedRegistry,
    context_source,
    npm_pinned,
    python_pinned,
    read_requirements,
    rpm_pinned,
)


def findings(text: str, rule: str, *, context: object | None = None) -> list[Finding]:
    cls = get_rule(rule)
    assert cls is not None
    df = parse_dockerfile(text, "Dockerfile")
    return lint(df, rules=[cls()], build_context=context).findings


def hits(text: str, rule: str) -> int:
    return len(findings(text, rule))


def project(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> BuildContext:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return BuildContext.load(tmp_path, tmp_path / "Dockerfile")


# -- LW501 / LW502 base images ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "covers"),
    [
        ("FROM debian\n", ["DL3006"]),
        ("FROM debian AS build\nRUN x\n", ["DL3006"]),
        ("FROM debian:latest\n", ["DL3007"]),
        ("FROM ghcr.io/org/app:latest AS x\n", ["DL3007"]),
        ("FROM localhost:5000/app\n", ["DL3006"]),
        # an ARG default that leaves the base untagged is still untagged
        ("ARG BASE=debian\nFROM $BASE\n", ["DL3006"]),
        ("ARG TAG=latest\nFROM python:${TAG}\n", ["DL3007"]),
        # fine
        ("FROM debian:bookworm-slim\n", []),
        ("FROM scratch\n", []),
        ("FROM debian@sha256:" + "a" * 64 + "\n", []),
        ("FROM debian:latest@sha256:" + "a" * 64 + "\n", []),
        ("FROM python:3.11 AS build\nRUN x\nFROM build\nRUN y\n", []),
        ("FROM python:3.11 AS Build\nRUN x\nFROM build\nRUN y\n", []),
        # a variable without a default cannot be judged
        ("FROM ${BASE}\n", []),
        ("ARG TAG\nFROM python:${TAG}\n", []),
        # a stage name reached through an ARG is a stage, not an image
        ("ARG V=1\nFROM alpine:3 AS x-1\nRUN a\nFROM x-${V}\nRUN b\n", []),
    ],
)
def test_base_image_tag(text: str, covers: list[str]) -> None:
    got = findings(text, "LW501")
    assert [c for f in got for c in f.covers] == covers


def test_base_image_tag_points_at_the_image_word() -> None:
    (f,) = findings("FROM  debian AS build\n", "LW501")
    assert (f.line, f.column, f.end_column) == (1, 7, 13)


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("FROM python:3.11-slim\n", 1),
        ("FROM python:3.11-slim@sha256:" + "b" * 64 + "\n", 0),
        ("FROM python\n", 0),  # LW501 first
        ("FROM python:latest\n", 0),
        ("FROM scratch\n", 0),
        ("FROM python:3.11 AS a\nRUN x\nFROM a\n", 1),
    ],
)
def test_base_image_digest(text: str, n: int) -> None:
    assert hits(text, "LW502") == n


# -- package pins ----------------------------------------------------------------------------------

APT_CASES = [
    ("RUN apt-get install -y curl", 1),
    ("RUN apt-get -y install curl=7.88.1-10", 0),
    ("RUN apt-get install -y curl=7.88.*", 0),
    ("RUN apt-get install -y curl/bookworm-backports", 0),
    ("RUN apt-get install -y ./local.deb", 0),
    ("RUN apt-get install -y -t bookworm-backports curl=1", 0),
    ("RUN apt-get install -y --no-install-recommends curl=1 git", 1),
    ("RUN apt-get update && apt-get upgrade -y", 0),
    ("RUN apt-get install -y", 0),
    ("RUN sudo apt-get install -y curl", 1),  # hadolint stops at sudo; layerwise looks through
    ("RUN sh -c 'apt-get install -y curl'", 1),
    ("RUN echo apt-get install curl", 0),
    ("RUN apt-cache show curl", 0),
    # variables: known values are judged, unknown ones are assumed to be versions where a
    # version is written, and reported as written otherwise (as hadolint does)
    ('ENV PKGS="curl git"\nRUN apt-get install -y $PKGS', 1),
    ('ENV PKGS="curl=1 git=2"\nRUN apt-get install -y $PKGS', 0),
    ("ARG CURL_VERSION\nRUN apt-get install -y curl=$CURL_VERSION", 0),
    ("RUN apt-get install -y $BUILD_DEPS", 1),
    ("RUN apt-get install -y $(cat packages.txt)", 0),
]


@pytest.mark.parametrize(("run", "n"), APT_CASES)
def test_apt_pin(run: str, n: int) -> None:
    assert hits(f"FROM debian:bookworm-slim\n{run}\n", "LW503") == n


def test_apt_pin_message_lists_the_packages_and_covers() -> None:
    (f,) = findings(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update \\\n  && apt-get install -y curl=1 git vim\n",
        "LW503",
    )
    assert "git, vim" in f.message and "curl" not in f.message.split(":")[1]
    assert f.covers == ("DL3008",)
    assert f.line == 3  # the command, not the start of the RUN
    (g,) = findings("FROM debian:bookworm-slim\nRUN apt install -y curl\n", "LW503")
    assert g.covers == ()  # hadolint does not check `apt install`


PIP_CASES = [
    ("RUN pip install flask", 1),
    ("RUN pip3 install --no-cache-dir flask==3.0.3", 0),
    ("RUN python -m pip install 'flask>=2'", 0),
    ("RUN pip install -U pip", 1),
    ("RUN /opt/venv/bin/pip install flask", 1),
    ("RUN pip install -r requirements.txt", 0),
    ("RUN pip install -r requirements.txt gunicorn", 0),  # left to LW511, as hadolint does
    ("RUN pip install -c constraints.txt flask", 0),
    ("RUN pip install .", 0),
    ("RUN pip install -e .", 0),
    ("RUN pip install '.[server]'", 0),
    ("RUN pip install ./dist/app-1.0-py3-none-any.whl", 0),
    ("RUN pip install https://example.com/app-1.0.tar.gz", 0),
    ("RUN pip install git+https://github.com/org/repo.git", 1),
    ("RUN pip install git+https://github.com/org/repo.git@v1.2", 0),
    ("RUN pip install git+ssh://git@github.com/org/repo.git", 1),  # that @ is not a ref
    ("RUN pip install 'app @ https://example.com/app.whl'", 0),
    ("RUN pip install flask[async]", 1),
    ("RUN pip install --index-url https://example.com/simple flask==1", 0),
    ("RUN pip install --upgrade --no-cache-dir setuptools wheel", 1),
    ("RUN pipx install black", 1),
    ("RUN uv pip install --system flask", 1),
    ("RUN uv pip install --system flask==3.0.3", 0),
    ("RUN uv sync --locked", 0),
    ("RUN pip download flask", 0),
    ("ARG V\nRUN pip install flask==$V", 0),
]


@pytest.mark.parametrize(("run", "n"), PIP_CASES)
def test_pip_pin(run: str, n: int) -> None:
    assert hits(f"FROM python:3.11-slim\n{run}\n", "LW504") == n


def test_pip_pin_covers_only_what_hadolint_checks() -> None:
    (f,) = findings("FROM python:3.11-slim\nRUN pip install flask\n", "LW504")
    assert f.covers == ("DL3013",)
    (g,) = findings("FROM python:3.11-slim\nRUN uv pip install --system flask\n", "LW504")
    assert g.covers == ()


@pytest.mark.parametrize(
    ("raw", "pinned"),
    [
        ("flask", False),
        ("flask==1", True),
        ("flask~=1.2", True),
        ("flask!=1", True),
        ("Flask[async]", False),
        ("git+https://h/o/r", False),
        ("git+https://h/o/r@main", True),
        ("git+https://h/o/r.git@v1#egg=r", True),
        ("git+ssh://git@h/o/r", False),
        ("hg+https://h/r@abc", True),
        ("./pkg", True),
        ("pkg.whl", True),
        ("https://h/pkg.tar.gz", True),
    ],
)
def test_python_pinned(raw: str, pinned: bool) -> None:
    assert python_pinned(raw) is pinned


NPM_CASES = [
    ("RUN npm install -g typescript", 1),
    ("RUN npm install -g typescript@5.4.5", 0),
    ("RUN npm install -g @angular/cli", 1),
    ("RUN npm install -g @angular/cli@17.3.0", 0),
    ("RUN npm install -g npm@latest", 1),  # a moving tag (hadolint accepts it)
    ("RUN npm install", 0),
    ("RUN npm ci", 0),
    ("RUN npm install --loglevel warn --registry https://r.example.com lodash@4", 0),
    ("RUN npm install git+https://github.com/npm/npm.git", 1),
    ("RUN npm install git+https://github.com/npm/npm.git#v1.0.0", 0),
    ("RUN npm install user/repo", 1),
    ("RUN npm install user/repo#abc123", 0),
    ("RUN npm install ./folder", 0),
    ("RUN npm install pkg-1.2.3.tgz", 0),
    ("RUN yarn add lodash", 1),
    ("RUN yarn add lodash@4.17.21", 0),
    ("RUN yarn install --frozen-lockfile", 0),
    ("RUN pnpm add -g pnpm", 1),
]


@pytest.mark.parametrize(("run", "n"), NPM_CASES)
def test_npm_pin(run: str, n: int) -> None:
    assert hits(f"FROM node:20-slim\n{run}\n", "LW505") == n


@pytest.mark.parametrize(
    ("raw", "pinned"),
    [("a", False), ("a@1.2.3", True), ("@s/a", False), ("@s/a@^1", True), ("a@next", False)],
)
def test_npm_pinned(raw: str, pinned: bool) -> None:
    assert npm_pinned(raw) is pinned


APK_CASES = [
    ("RUN apk add --no-cache curl", 1),
    ("RUN apk add --no-cache curl=8.5.0-r0", 0),
    ("RUN apk add --no-cache curl~8.5", 0),
    ("RUN apk add --no-cache 'curl>8'", 0),
    ("RUN apk add --no-cache curl@edge", 1),
    ("RUN apk add --no-cache --virtual .build-deps gcc=13.2.1-r0", 0),
    ("RUN apk add --no-cache -t .deps gcc=13.2.1-r0", 0),
    ("RUN apk add --no-cache --repository https://example.com/alpine curl=8", 0),
    ("RUN apk add --allow-untrusted /tmp/pkg.apk", 0),
    ("RUN apk del .build-deps", 0),
    ("RUN apk update && apk upgrade", 0),
]


@pytest.mark.parametrize(("run", "n"), APK_CASES)
def test_apk_pin(run: str, n: int) -> None:
    assert hits(f"FROM alpine:3.19\n{run}\n", "LW506") == n


GEM_CASES = [
    ("RUN gem install bundler", 1),
    ("RUN gem install bundler:2.5.10", 0),
    ("RUN gem install bundler -v 2.5.10", 0),
    ("RUN gem install bundler --version=2.5.10", 0),
    ("RUN gem install --no-document bundler", 1),
    ("RUN gem install bundler:2.0.1 -- --use-system-libraries=true", 0),
    ("RUN gem install bundler:2.0.1 --use-system-libraries true", 0),
    ("RUN gem i rails", 1),
    ("RUN bundle install", 0),
    ("RUN gem update --system", 0),
]


@pytest.mark.parametrize(("run", "n"), GEM_CASES)
def test_gem_pin(run: str, n: int) -> None:
    assert hits(f"FROM ruby:3.3-slim\n{run}\n", "LW507") == n


RPM_CASES = [
    ("RUN yum install -y httpd", 1, ("DL3033",)),
    ("RUN yum install -y httpd-2.4.24", 0, ()),
    ("RUN yum install -y httpd-2.4.24-1.el9.x86_64", 0, ()),
    ("RUN yum install -y python3-devel", 1, ("DL3033",)),
    ("RUN yum install -y /tmp/pkg.rpm", 0, ()),
    ("RUN yum module install -y nodejs:14", 0, ()),
    ("RUN yum module install -y nodejs", 1, ("DL3033",)),
    ("RUN dnf install -y httpd", 1, ("DL3041",)),
    ("RUN microdnf install -y httpd-2.4.57", 0, ()),
    ("RUN microdnf install -y httpd", 1, ("DL3041",)),
    ("RUN tdnf install -y httpd", 1, ()),
    ("RUN dnf groupinstall -y 'Development Tools'", 0, ()),
    ("RUN dnf install -y @development", 0, ()),
    ("RUN dnf clean all", 0, ()),
    ("ENV V=2.4.57\nRUN dnf install -y httpd-${V}", 0, ()),
    ("ARG V\nRUN dnf install -y httpd-${V}", 0, ()),
]


@pytest.mark.parametrize(("run", "n", "covers"), RPM_CASES)
def test_rpm_pin(run: str, n: int, covers: tuple[str, ...]) -> None:
    got = findings(f"FROM rockylinux:9\n{run}\n", "LW508")
    assert len(got) == n
    if got:
        assert got[0].covers == covers


@pytest.mark.parametrize(
    ("raw", "pinned"),
    [
        ("httpd", False),
        ("httpd-2", True),
        ("java-1.8.0-openjdk", True),  # hadolint's reading: a name with digits looks pinned
        ("gcc-c++", False),
        ("libstdc++-devel", False),
        ("httpd >= 2.4", True),
        ("x.rpm", True),
    ],
)
def test_rpm_pinned(raw: str, pinned: bool) -> None:
    assert rpm_pinned(raw) is pinned


ZYPPER_CASES = [
    ("RUN zypper install -y httpd", 1),
    ("RUN zypper in -y httpd=2.4.58", 0),
    ("RUN zypper install -y 'httpd>=2.4'", 0),
    ("RUN zypper install -y httpd-2.4.58", 1),  # zypper writes versions with =
    ("RUN zypper install -y /tmp/x.rpm", 0),
    ("RUN zypper refresh", 0),
]


@pytest.mark.parametrize(("run", "n"), ZYPPER_CASES)
def test_zypper_pin(run: str, n: int) -> None:
    assert hits(f"FROM opensuse/leap:15.5\n{run}\n", "LW509") == n


GO_CASES = [
    ("RUN go install golang.org/x/tools/gopls@latest", 1),
    ("RUN go install golang.org/x/tools/gopls@v0.15.3", 0),
    ("RUN go install golang.org/x/tools/gopls", 1),
    ("RUN go install ./cmd/app", 0),
    ("RUN go install .", 0),
    ("RUN go get github.com/pilu/fresh", 1),
    ("RUN go get github.com/pilu/fresh@none", 1),
    ("RUN go run github.com/org/tool@v1.2.3 generate", 0),
    ("RUN go run github.com/org/tool generate", 1),
    ("RUN go run main.go", 0),  # a local file (hadolint reports it)
    ("RUN go run .", 0),
    ("RUN go build -o /app ./cmd/app", 0),
    ("RUN go mod download", 0),
]


@pytest.mark.parametrize(("run", "n"), GO_CASES)
def test_go_pin(run: str, n: int) -> None:
    assert hits(f"FROM golang:1.22\n{run}\n", "LW510") == n


def test_pins_inside_onbuild_and_functions() -> None:
    assert hits("FROM debian:12\nONBUILD RUN apt-get install -y curl\n", "LW503") == 1
    # a function body only runs when called
    assert hits("FROM debian:12\nRUN f() { apt-get install -y curl; }\n", "LW503") == 0


def test_pins_in_every_stage() -> None:
    text = (
        "FROM python:3.11 AS build\nRUN pip install flask\n"
        "FROM python:3.11-slim\nRUN pip install gunicorn\n"
    )
    assert [f.line for f in findings(text, "LW504")] == [2, 4]


# -- LW511 requirements files ----------------------------------------------------------------------


def reader(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return files.get


def test_read_requirements_pins_and_loose() -> None:
    files = {
        "requirements.txt": (
            "# app\nflask==3.0.3\nrequests>=2.31  # http\nDjango~=5.0\nnumpy==1.*\n"
            "gunicorn\nuvicorn[standard]==0.30.0\nclick==8.1.7 ; python_version >= '3.8'\n"
            "-e .\n-e git+https://github.com/o/r.git#egg=r\n./libs/local\n"
            "--index-url https://example.com/simple\n"
            "pkg @ https://example.com/pkg-1.0.whl\n"
            "lib @ git+https://github.com/o/lib.git@v1\n"
            "long-one==1.0 \\\n    --hash=sha256:abc\n"
        )
    }
    parsed = read_requirements(reader(files), "requirements.txt")
    names = {r.name: r for r in parsed.requirements}
    assert names["flask"].pinned and not names["flask"].loose
    assert names["requests"].loose and not names["requests"].pinned
    assert names["django"].loose  # names are normalised
    assert names["numpy"].loose  # a wildcard is not one version
    assert not names["gunicorn"].pinned and not names["gunicorn"].loose
    assert names["uvicorn"].pinned and names["click"].pinned
    assert names["pkg"].pinned and names["lib"].pinned
    assert "git+https://github.com/o/r.git#egg=r" in names  # editable VCS without a ref
    assert names["long-one"].pinned and names["long-one"].line == 15
    assert parsed.hashes
    assert {r.name for r in parsed.unpinned()} == {
        "requests",
        "django",
        "numpy",
        "gunicorn",
        "git+https://github.com/o/r.git#egg=r",
    }


def test_read_requirements_follows_nested_files_and_constraints() -> None:
    files = {
        "requirements/prod.txt": "-r base.txt\n-c ../constraints.txt\ngunicorn\n",
        "requirements/base.txt": "flask\nrequests==2.32.3\n--requirement=more.txt\n",
        "requirements/more.txt": "-r base.txt\nclick>=8\n",  # a cycle is followed once
        "constraints.txt": "flask==3.0.3\ngunicorn>=20\n",
    }
    parsed = read_requirements(reader(files), "requirements/prod.txt")
    assert [r.name for r in parsed.requirements] == ["flask", "requests", "click", "gunicorn"]
    assert [r.file for r in parsed.requirements] == [
        "requirements/base.txt",
        "requirements/base.txt",
        "requirements/more.txt",
        "requirements/prod.txt",
    ]
    # flask is pinned by the constraints file, gunicorn only loosely
    assert {r.name for r in parsed.unpinned()} == {"click", "gunicorn"}
    assert parsed.missing == []


def test_read_requirements_missing_nested_file() -> None:
    parsed = read_requirements(reader({"r.txt": "-r other.txt\nflask==1\n"}), "r.txt")
    assert parsed.missing == ["other.txt"]
    assert parsed.unpinned() == []


def _ctx(text: str) -> LintContext:
    return LintContext(parse_dockerfile(text, "Dockerfile"))


@pytest.mark.parametrize(
    ("dockerfile", "path", "expected"),
    [
        ("WORKDIR /app\nCOPY requirements.txt .\n", "requirements.txt", "requirements.txt"),
        ("WORKDIR /app\nCOPY requirements.txt ./\n", "/app/requirements.txt", "requirements.txt"),
        ("COPY reqs/prod.txt /tmp/req.txt\n", "/tmp/req.txt", "reqs/prod.txt"),
        ("COPY reqs/prod.txt /tmp/\n", "/tmp/prod.txt", "reqs/prod.txt"),
        ("WORKDIR /app\nCOPY . .\n", "requirements/prod.txt", "requirements/prod.txt"),
        ("COPY . /src\nWORKDIR /src\n", "requirements.txt", "requirements.txt"),
        ("WORKDIR /app\nCOPY requirements* ./\n", "requirements-dev.txt", "requirements-dev.txt"),
        ("WORKDIR /app\nCOPY requirements/ ./requirements/\n", "requirements/a.txt", None),
        # copied from another stage or image: not a context file
        ("FROM python:3.11 AS b\nFROM python:3.11\nCOPY --from=b /r.txt /r.txt\n", "/r.txt", None),
        # a later copy from elsewhere hides an earlier context copy
        (
            "FROM python:3.11 AS b\nFROM python:3.11\nCOPY r.txt /r.txt\nCOPY --from=b /r.txt /\n",
            "/r.txt",
            None,
        ),
        ("WORKDIR /app\n", "requirements.txt", None),
    ],
)
def test_context_source(dockerfile: str, path: str, expected: str | None) -> None:
    text = dockerfile if dockerfile.startswith("FROM") else "FROM python:3.11\n" + dockerfile
    ctx = _ctx(text + "RUN pip install -r x\n")
    stage = ctx.model.stages[-1]
    step = stage.steps[-1]
    assert context_source(ctx, stage, step, path) == expected


def test_context_source_directory_copies_need_the_context() -> None:
    ctx = _ctx("FROM python:3.11\nWORKDIR /app\nCOPY requirements/ ./requirements/\nRUN true\n")
    stage = ctx.model.stages[0]
    step = stage.steps[-1]
    is_dir = {"requirements"}.__contains__
    assert context_source(ctx, stage, step, "requirements/a.txt", is_dir) == "requirements/a.txt"


def test_context_source_bind_mount_and_base_stage() -> None:
    text = (
        "FROM python:3.11 AS deps\nWORKDIR /app\nCOPY req/base.txt requirements.txt\n"
        "FROM deps\nRUN --mount=type=bind,source=req/dev.txt,target=/tmp/dev.txt pip install "
        "-r requirements.txt -r /tmp/dev.txt\n"
    )
    ctx = _ctx(text)
    stage = ctx.model.stages[1]
    step = stage.steps[-1]
    assert context_source(ctx, stage, step, "requirements.txt") == "req/base.txt"
    assert context_source(ctx, stage, step, "/tmp/dev.txt") == "req/dev.txt"


def test_requirements_rule_with_a_context(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements/ requirements/\n"
        "RUN pip install --no-cache-dir -r requirements/prod.txt\n"
        "COPY . .\n"
        "RUN pip install --no-cache-dir -r requirements/dev.txt -c constraints.txt\n"
    )
    bc = project(
        tmp_path,
        dockerfile,
        {
            "requirements/prod.txt": "-r base.txt\ngunicorn==22.0.0\n",
            "requirements/base.txt": "flask>=2\nrequests\n",
            "requirements/dev.txt": "pytest\n",
            "constraints.txt": "pytest==8.2.0\n",
        },
    )
    got = findings(dockerfile, "LW511", context=bc)
    assert len(got) == 1
    f = got[0]
    assert f.line == 4
    assert "requirements/prod.txt: 2 of 3 requirements" in f.message
    assert "unpinned: requests" in f.message and "loosely pinned: flask>=2" in f.message


def test_requirements_rule_skips_without_context_and_missing_files(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.11-slim\nCOPY r.txt .\nRUN pip install -r r.txt\n"
    assert findings(dockerfile, "LW511") == []  # no context: the rule does not run
    bc = project(tmp_path, dockerfile, {})
    assert findings(dockerfile, "LW511", context=bc) == []  # the context rules report it


def test_requirements_rule_hash_mode(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.11-slim\nCOPY r.txt .\nRUN pip install --require-hashes -r r.txt\n"
    bc = project(tmp_path, dockerfile, {"r.txt": "flask\n"})
    assert findings(dockerfile, "LW511", context=bc) == []


def test_requirements_outside_the_context_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("flask\n")
    ctx_dir = tmp_path / "app"
    ctx_dir.mkdir()
    dockerfile = "FROM python:3.11-slim\nCOPY . .\nRUN pip install -r ../secret.txt\n"
    bc = project(ctx_dir, dockerfile, {})
    assert findings(dockerfile, "LW511", context=bc) == []


# -- LW512 lock files ------------------------------------------------------------------------------

LOCK_CASES = [
    ("COPY pyproject.toml ./\nRUN poetry install --no-root", 1),
    ("COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root", 0),
    ("COPY pyproject.toml poetry.lock* ./\nRUN poetry install --no-root", 0),
    ("COPY . .\nRUN poetry install", 0),  # a broad copy: the context decides
    ("COPY pyproject.toml ./\nCOPY src/ src/\nRUN poetry install", 0),  # a directory copy
    ("RUN poetry install", 0),  # nothing copied: nothing to say
    ("COPY pyproject.toml ./\nRUN poetry add requests", 0),
    ("COPY pyproject.toml uv.lock ./\nRUN uv sync", 1),
    ("COPY pyproject.toml uv.lock ./\nRUN uv sync --locked", 0),
    ("COPY pyproject.toml uv.lock ./\nRUN uv sync --frozen --no-dev", 0),
    ("COPY pyproject.toml ./\nRUN uv sync --locked", 1),
    (
        "RUN --mount=type=bind,source=uv.lock,target=uv.lock "
        "--mount=type=bind,source=pyproject.toml,target=pyproject.toml uv sync --locked",
        0,
    ),
    ("COPY Pipfile Pipfile.lock ./\nRUN pipenv install --system", 1),
    ("COPY Pipfile Pipfile.lock ./\nRUN pipenv install --system --deploy", 0),
    ("COPY Pipfile Pipfile.lock ./\nRUN pipenv sync --system", 0),
    ("COPY Pipfile ./\nRUN pipenv install --deploy", 1),
    ("RUN pipenv install requests", 0),
    ("FROM python:3.11 AS x\nCOPY pyproject.toml poetry.lock ./\nFROM x\nRUN poetry install", 0),
]


@pytest.mark.parametrize(("body", "n"), LOCK_CASES)
def test_lock_file_unused(body: str, n: int) -> None:
    text = body if body.startswith("FROM") else "FROM python:3.11-slim\nWORKDIR /app\n" + body
    assert hits(text + "\n", "LW512") == n


# -- LW513 inline pip lists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "n"),
    [
        ("RUN pip install flask gunicorn", 1),
        ("RUN pip install flask==3 gunicorn==22", 1),
        ("RUN pip install gunicorn", 0),  # one tool
        ("RUN pip install --upgrade pip setuptools wheel", 0),
        ("RUN pip install poetry==1.8.3 && poetry install", 0),
        ("RUN pip install -r requirements.txt", 0),
        ("RUN pip install . gunicorn", 0),
        ("RUN pip install $PACKAGES extra", 0),
    ],
)
def test_pip_inline_packages(run: str, n: int) -> None:
    assert hits(f"FROM python:3.11-slim\n{run}\n", "LW513") == n


# -- LW514 -y --------------------------------------------------------------------------------------

YES_CASES = [
    ("RUN apt-get install curl", 1, "DL3014"),
    ("RUN apt-get install -q curl", 1, "DL3014"),
    ("RUN apt-get install -qq curl", 0, None),
    ("RUN apt-get install -q -q curl", 0, None),
    ("RUN apt-get install -q=2 curl", 0, None),
    ("RUN apt-get -y install curl", 0, None),
    ("RUN apt-get install --assume-yes curl", 0, None),
    ("RUN apt-get -o APT::Get::Assume-Yes=true install curl", 0, None),
    ("RUN apt-get update", 0, None),
    ("RUN apt install curl", 1, None),
    ("RUN yum install httpd", 1, "DL3030"),
    ("RUN yum install -y httpd", 0, None),
    ("RUN yum groupinstall 'Development Tools'", 1, "DL3030"),
    ("RUN dnf install httpd", 1, "DL3038"),
    ("RUN microdnf install httpd", 1, "DL3038"),
    ("RUN dnf --assumeyes install httpd", 0, None),
    ("RUN zypper install httpd", 1, "DL3034"),
    ("RUN zypper -n install httpd", 0, None),
    ("RUN zypper --non-interactive install httpd", 0, None),
    ("RUN zypper remove httpd", 1, "DL3034"),
    ("RUN apk add curl", 0, None),
]


@pytest.mark.parametrize(("run", "n", "code"), YES_CASES)
def test_assume_yes(run: str, n: int, code: str | None) -> None:
    got = findings(f"FROM debian:12\n{run}\n", "LW514")
    assert len(got) == n
    if got:
        assert got[0].covers == ((code,) if code else ())


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("RUN apt-get install curl", "RUN apt-get install -y curl"),
        ("RUN apt-get update && apt-get install \\\n    curl", None),
        ("RUN yum install httpd-2 && yum clean all", "RUN yum install -y httpd-2 && yum clean all"),
        ("RUN zypper install httpd=1", "RUN zypper install -y httpd=1"),
        ("ONBUILD RUN dnf install httpd-2", "ONBUILD RUN dnf install -y httpd-2"),
    ],
)
def test_assume_yes_fix(before: str, after: str | None) -> None:
    text = f"FROM debian:12\n{before}\n"
    result = fix_dockerfile(parse_dockerfile(text, "Dockerfile"), select=["LW514"])
    expected = after if after is not None else before.replace("install", "install -y")
    assert result.text == f"FROM debian:12\n{expected}\n"
    again = fix_dockerfile(parse_dockerfile(result.text, "Dockerfile"), select=["LW514"])
    assert again.text == result.text and not again.applied


def test_assume_yes_no_fix_for_exec_form() -> None:
    (f,) = findings('FROM debian:12\nRUN ["apt-get", "install", "curl"]\n', "LW514")
    assert f.fix is None


# -- LW515 apt, LW516 zypper dist-upgrade ------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "fixed"),
    [
        ("RUN apt install -y curl", "RUN apt-get install -y curl"),
        # apt's upgrade also installs new packages: reported, not rewritten
        ("RUN apt update && apt -y upgrade", "RUN apt-get update && apt -y upgrade"),
        ("RUN apt list --installed", "RUN apt list --installed"),
        ("RUN /usr/bin/apt remove -y vim", "RUN /usr/bin/apt remove -y vim"),
    ],
)
def test_apt_get_not_apt(run: str, fixed: str) -> None:
    text = f"FROM debian:12\n{run}\n"
    got = findings(text, "LW515")
    assert got and all(f.covers == ("DL3027",) for f in got)
    result = fix_dockerfile(parse_dockerfile(text, "Dockerfile"), select=["LW515"])
    assert result.text == f"FROM debian:12\n{fixed}\n"


def test_apt_get_not_apt_traps() -> None:
    assert hits("FROM debian:12\nRUN apt-get install -y apt\n", "LW515") == 0
    assert hits("FROM debian:12\nRUN apt-cache policy curl\n", "LW515") == 0


@pytest.mark.parametrize(
    ("run", "n"),
    [
        ("RUN zypper dist-upgrade", 1),
        ("RUN zypper -n dup", 1),
        ("RUN zypper update", 0),
        ("RUN zypper patch", 0),
    ],
)
def test_zypper_dist_upgrade(run: str, n: int) -> None:
    assert hits(f"FROM opensuse/leap:15\n{run}\n", "LW516") == n


# -- LW517 trusted registries (not registered: needs a config in the examples) -------------------


def registry_findings(text: str, trusted: list[str]) -> list[Finding]:
    df = parse_dockerfile(text, "Dockerfile")
    config = Config(trusted_registries=trusted)
    return lint(df, config=config, rules=[TrustedRegistry()]).findings


@pytest.mark.parametrize(
    ("text", "trusted", "n"),
    [
        ("FROM python:3.11\n", ["docker.io"], 0),
        ("FROM python:3.11\n", ["hub.docker.com"], 0),
        ("FROM python:3.11\n", ["ghcr.io"], 1),
        ("FROM ghcr.io/o/a:1\n", ["docker.io"], 1),
        ("FROM ghcr.io/o/a:1\n", ["*.io"], 0),
        ("FROM eu.gcr.io/o/a:1\n", ["*.gcr.io"], 0),
        ("FROM registry.example.com:5000/a:1\n", ["registry.example.com*"], 0),
        ("FROM registry.example.com:5000/a:1\n", ["*"], 0),
        ("FROM scratch\n", ["ghcr.io"], 0),
        ("FROM python:3.11 AS b\nFROM b\n", ["ghcr.io"], 1),  # only the image, not the stage
        ("FROM ghcr.io/o/a:1\nCOPY --from=quay.io/o/b:1 /x /x\n", ["ghcr.io"], 1),
        ("FROM ghcr.io/o/a:1\nRUN --mount=from=quay.io/o/b:1,target=/b ls /b\n", ["ghcr.io"], 1),
        ("FROM ghcr.io/o/a:1\n", [], 0),  # not configured: not checked
    ],
)
def test_trusted_registry(text: str, trusted: list[str], n: int) -> None:
    assert len(registry_findings(text, trusted)) == n


def test_trusted_registry_points_at_the_reference() -> None:
    text = "FROM ghcr.io/o/a:1\nCOPY --from=quay.io/o/b:1 /x /x\n"
    got = registry_findings(text, ["ghcr.io"])
    assert [(f.line, f.column) for f in got] == [(2, 6)]
    assert got[0].covers == ("DL3026",)
    # its own examples behave as documented once a list is configured
    assert len(registry_findings(TrustedRegistry.bad.dockerfile, ["docker.io"])) == 1
    assert registry_findings(TrustedRegistry.good.dockerfile, ["docker.io"]) == []
