"""LW1xx layer order and cache rules: what they report, what they leave alone, their fixes, and
the manifest-first helpers the structural fix builds on."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.context.project import BuildContext
from layerwise.rules.base import LintContext
from layerwise.rules.layers import hadolint_command_count, is_volatile_arg
from layerwise.rules.manifests import (
    copies_source,
    dependency_installs,
    is_manifest,
    is_whole_context,
    manifest_first,
)
from layerwise.shell import analyze_run
from rules.ruletest import context, findings, fix, lines


def _ctx(text: str, build_context: BuildContext | None = None) -> LintContext:
    return LintContext(parse_dockerfile(text, "Dockerfile"), build_context=build_context)


# -- LW101 install after the source is copied ----------------------------------------------------


@pytest.mark.parametrize(
    "install",
    [
        "pip install -r requirements.txt",
        "pip3 install --no-cache-dir -r requirements.txt",
        "python -m pip install .",
        "pip install -e .",
        "poetry install --no-interaction",
        "uv sync --frozen",
        "uv pip install -r requirements.txt",
        "pipenv install --deploy --system",
        "npm ci",
        "yarn install --frozen-lockfile",
        "pnpm install",
        "conda env create -f environment.yml",
        "bundle install",
        "go mod download",
        "pip install gunicorn",
        "pip wheel --wheel-dir /wheels -r requirements.txt",
    ],
)
def test_lw101_reports_installs_after_copying_the_source(install: str) -> None:
    text = f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\n"
    assert lines(text, "LW101") == [4]


@pytest.mark.parametrize(
    "text",
    [
        # manifest first: the right order
        "FROM p\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        "COPY . .\n",
        # dependencies installed before the source, the project after it
        "FROM p\nWORKDIR /app\nCOPY requirements.txt pyproject.toml ./\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nRUN pip install --no-deps .\n",
        "FROM p\nWORKDIR /app\nCOPY requirements.txt pyproject.toml ./\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nRUN pip install .\n",
        "FROM p\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
        "RUN uv sync --frozen --no-install-project\nCOPY . .\nRUN uv sync --frozen\n",
        "FROM p\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n"
        "COPY . .\nRUN poetry install --only-root\n",
        # copies from another stage are not the build context
        "FROM p AS b\nRUN true\nFROM p\nCOPY --from=b /src /app\nRUN pip install -r /app/r.txt\n",
        # a COPY of manifests only
        "FROM p\nCOPY requirements.txt requirements-base.txt ./\n"
        "RUN pip install -r requirements.txt\n",
        # wheels built elsewhere, installed after the source
        "FROM p\nCOPY --from=b /wheels /wheels\nCOPY . .\nRUN pip install /wheels/*.whl\n",
        # npm packages from local paths of the source itself
        "FROM node\nCOPY . .\nRUN npm install ./packages/lib\n",
        # global tools are not the application's dependencies
        "FROM node\nCOPY . .\nRUN npm install -g pm2\n",
    ],
)
def test_lw101_leaves_alone(text: str) -> None:
    assert lines(text, "LW101") == []


def test_lw101_sees_the_copy_in_a_base_stage() -> None:
    text = (
        "FROM python:3.11-slim AS src\nWORKDIR /app\nCOPY app/ ./app/\n"
        "FROM src\nRUN pip install -r requirements.txt\n"
    )
    [f] = findings(text, "LW101")
    assert f.line == 5 and "(line 3)" in f.message


def test_lw101_message_names_the_files_to_copy_first() -> None:
    text = (
        "FROM p\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt -c constraints.txt\n"
    )
    assert "copy requirements.txt, constraints.txt first" in findings(text, "LW101")[0].message
    inline = "FROM p\nCOPY . .\nRUN pip install gunicorn\n"
    assert "needs nothing from the source" in findings(inline, "LW101")[0].message


def test_manifest_first_helper() -> None:
    text = (
        "FROM python:3.11-slim\n"
        "COPY . /srv/app\n"
        "WORKDIR /srv/app\n"
        "RUN pip install -r requirements/prod.txt && cd sub && pip install -e .\n"
    )
    [mf] = manifest_first(_ctx(text))
    assert (mf.copy.line, mf.run.line) == (2, 4)
    assert mf.installs_project and mf.managers == ("pip",)
    assert [i.kind for i in mf.installs] == ["manifest", "project"]
    assert mf.installs[1].cwd == "/srv/app/sub"
    assert mf.installs[1].local_paths == ("/srv/app/sub",)
    paths = {m.path: m.context_path for m in mf.manifests}
    assert paths == {
        "/srv/app/requirements/prod.txt": "requirements/prod.txt",
        "/srv/app/sub/pyproject.toml": "sub/pyproject.toml",
        "/srv/app/sub/setup.py": "sub/setup.py",
        "/srv/app/sub/setup.cfg": "sub/setup.cfg",
    }
    required = {m.path for m in mf.manifests if m.required}
    assert required == {"/srv/app/requirements/prod.txt"}
    assert all(m.exists is None and m.copied_by is mf.copy for m in mf.manifests)


def test_manifest_first_maps_directory_sources() -> None:
    text = "FROM p\nCOPY backend/ /app/\nWORKDIR /app\nRUN npm ci\n"
    [mf] = manifest_first(_ctx(text))
    paths = {m.path: m.context_path for m in mf.manifests}
    assert paths["/app/package.json"] == "backend/package.json"
    assert paths["/app/package-lock.json"] == "backend/package-lock.json"
    lock = next(m for m in mf.manifests if m.path == "/app/package-lock.json")
    assert lock.required  # npm ci fails without it


def test_manifest_first_knows_generated_requirements() -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install poetry==1.8.3\n"
        "RUN poetry export --format requirements.txt --output requirements.txt\n"
        "RUN pip install -r requirements.txt\n"
    )
    found = manifest_first(_ctx(text))
    assert [(mf.run.line, mf.installs[0].kind) for mf in found] == [(4, "inline"), (6, "manifest")]
    mf = found[1]
    assert [g.line for g in mf.generators] == [5]
    by_path = {m.path: m for m in mf.manifests}
    assert by_path["/app/requirements.txt"].produced_by is mf.generators[0]
    assert by_path["/app/pyproject.toml"].context_path == "pyproject.toml"
    assert "/app/poetry.lock" in by_path
    assert "copy pyproject.toml" in findings(text, "LW101")[1].message


def test_manifest_first_reads_the_build_context(tmp_path: Path) -> None:
    text = "FROM p\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt .\n"
    files = {
        "requirements/prod.txt": "-r base.txt\n-c ../constraints.txt\nx\n",
        "requirements/base.txt": "flask\n",
        "constraints.txt": "flask==3.0.3\n",
        "pyproject.toml": "[project]\nname='x'\n",
        "app.py": "",
    }
    [mf] = manifest_first(_ctx(text, context(tmp_path, text, files)))
    got = {m.context_path: (m.path, m.exists) for m in mf.manifests}
    assert got == {
        "requirements/prod.txt": ("/app/requirements/prod.txt", True),
        "requirements/base.txt": ("/app/requirements/base.txt", True),
        "constraints.txt": ("/app/constraints.txt", True),
        "pyproject.toml": ("/app/pyproject.toml", True),
    }  # setup.py and setup.cfg do not exist: left out


def test_copies_source_with_and_without_a_context(tmp_path: Path) -> None:
    text = "FROM p\nCOPY requirements.txt pyproject.toml ./\nCOPY src/ ./src/\nCOPY lib ./lib\n"
    ctx = _ctx(text)
    assert [copies_source(ctx, s) for s in ctx.model.steps()] == [False, True, False]
    files = {"requirements.txt": "", "pyproject.toml": "", "src/a.py": "", "lib/b.py": ""}
    ctx = _ctx(text, context(tmp_path, text, files))
    assert [copies_source(ctx, s) for s in ctx.model.steps()] == [False, True, True]


def test_files_a_requirements_file_includes_are_manifests(tmp_path: Path) -> None:
    # `-r base.txt` makes base.txt a manifest whatever its name: copying it with the
    # requirements file is the manifest-first split (what LW101's fix writes), not source.
    text = (
        "FROM p\nWORKDIR /app\nCOPY requirements.txt base.txt ./\n"
        "RUN pip install -r requirements.txt\nCOPY . .\n"
    )
    files = {"requirements.txt": "-r base.txt\nflask\n", "base.txt": "gunicorn\n", "app.py": ""}
    bc = context(tmp_path / "a", text, files)
    ctx = _ctx(text, bc)
    assert [copies_source(ctx, s) for s in ctx.model.steps()] == [False, False, False, True]
    assert lines(text, "LW101", build_context=bc) == []
    # not included by anything: base.txt is then an ordinary file of the source
    files["requirements.txt"] = "flask\n"
    assert lines(text, "LW101", build_context=context(tmp_path / "b", text, files)) == [4]


def test_lw101_with_a_context_knows_what_a_directory_copy_brings(tmp_path: Path) -> None:
    text = "FROM p\nWORKDIR /app\nCOPY deps /app/deps\nRUN pip install -r deps/requirements.txt\n"
    assert lines(text, "LW101") == []  # `deps` could be a file: not assumed to be source
    only = context(tmp_path / "a", text, {"deps/requirements.txt": "x\n"})
    assert lines(text, "LW101", build_context=only) == []
    more = context(tmp_path / "b", text, {"deps/requirements.txt": "x\n", "deps/vendored.py": ""})
    assert lines(text, "LW101", build_context=more) == [4]


@pytest.mark.parametrize(
    ("source", "whole"),
    [(".", True), ("./", True), ("*", True), ("./*", True), ("/", True), ("app", False),
     ("./app/", False), ("*.py", False)],
)  # fmt: skip
def test_is_whole_context(source: str, whole: bool) -> None:
    assert is_whole_context(source) is whole


@pytest.mark.parametrize(
    ("path", "manifest"),
    [("requirements.txt", True), ("requirements/dev.txt", True), ("reqs/constraints-3.11.txt",
     True), ("pyproject.toml", True), ("app/package.json", True), ("Pipfile.lock", True),
     ("app.py", False), ("README.md", False), ("src/requirements.py", False)],
)  # fmt: skip
def test_is_manifest(path: str, manifest: bool) -> None:
    assert is_manifest(path) is manifest


def test_dependency_installs_kinds() -> None:
    text = (
        "FROM p\nWORKDIR /w\n"
        "RUN pip install -r r.txt && pip install ./lib && pip install x && pip install --no-deps . "
        "&& uv sync --no-install-project && poetry install --only-root && npm install -g y\n"
    )
    ctx = _ctx(text)
    step = list(ctx.model.steps())[1]
    kinds = [(i.manager, i.kind) for i in dependency_installs(ctx, step)]
    assert kinds == [("pip", "manifest"), ("pip", "project"), ("pip", "inline"), ("uv", "manifest")]


# -- LW102 broad COPY ---------------------------------------------------------------------------


def test_lw102_with_a_real_context(tmp_path: Path) -> None:
    files = {
        "app.py": "",
        "tests/test_app.py": "",
        "docs/index.md": "",
        ".github/workflows/ci.yml": "",
        "compose.yaml": "",
        "notebooks/explore.ipynb": "",
        "requirements.txt": "",
    }
    text = "FROM p\nWORKDIR /app\nCOPY . .\n"
    [f] = findings(text, "LW102", build_context=context(tmp_path / "a", text, files))
    assert f.line == 3
    for kind in ("tests: tests/", "docs: docs/", "CI configuration: .github/",
                 "container files: Dockerfile, compose.yaml (2 files)", "notebooks"):  # fmt: skip
        assert kind in f.message, kind
    # excluded by .dockerignore: not copied, not reported
    ignore = "tests\ndocs\n.github\n*.yaml\nnotebooks\nDockerfile\n.dockerignore\n"
    ignored = {**files, ".dockerignore": ignore}
    assert lines(text, "LW102", build_context=context(tmp_path / "b", text, ignored)) == []
    # tests that a RUN runs are needed
    run = text + "RUN python -m pytest\n"
    msg = findings(run, "LW102", build_context=context(tmp_path / "c", run, files))[0].message
    assert "tests:" not in msg and "docs:" in msg
    # named paths are wanted; a directory source is still broad
    named = "FROM p\nCOPY app.py docs/index.md ./\nCOPY tests/ ./tests/\n"
    [f] = findings(named, "LW102", build_context=context(tmp_path / "d", named, files))
    assert f.line == 3
    assert lines("FROM p\nCOPY . .\n", "LW102") == []  # no context: not checked


# -- LW103 package caches ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM p\nRUN pip install x\n", [2]),
        ("FROM p\nRUN pip install --no-cache-dir x\n", []),
        ("FROM p\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n", []),
        ("FROM p AS a\nENV PIP_NO_CACHE_DIR=true\nFROM a\nRUN pip install x\n", []),
        ("FROM p\nRUN PIP_NO_CACHE_DIR=yes pip install x\n", []),
        ("FROM p\nRUN export PIP_NO_CACHE_DIR=on && pip install x\n", []),
        ("FROM p\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n", []),
        ("FROM p\nRUN pipx install x\n", []),
        ("FROM p\nRUN pip download x\n", []),
        ("FROM p\nRUN /venv/bin/pip install x\n", [2]),
        ("FROM p\nRUN sh -c 'pip install x'\n", [2]),
    ],
)
def test_lw103_pip(text: str, expected: list[int]) -> None:
    assert [f.line for f in findings(text, "LW103") if "DL3042" in f.covers] == expected


def test_lw103_misleading_and_redundant_pip_settings_are_style() -> None:
    falsy = findings("FROM p\nENV PIP_NO_CACHE_DIR=0\nRUN pip install x\n", "LW103")
    assert [(str(f.severity), f.covers) for f in falsy] == [("style", ("DL3042",))]
    assert "any value" in falsy[0].message
    purged = findings("FROM p\nRUN pip install x && pip cache purge\n", "LW103")
    assert [str(f.severity) for f in purged] == ["style"]


def test_lw103_pip_fixes() -> None:
    assert fix("FROM p\nRUN pip install -U pip && python -m pip install -r r.txt\n", "LW103") == (
        "FROM p\nRUN pip install --no-cache-dir -U pip && python -m pip install --no-cache-dir "
        "-r r.txt\n"
    )
    buildkit = "# syntax=docker/dockerfile:1\nFROM p\nRUN pip install -r r.txt\n"
    assert fix(buildkit, "LW103") == (
        "# syntax=docker/dockerfile:1\nFROM p\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r r.txt\n"
    )
    other_mount = "FROM p\nRUN --mount=type=secret,id=tok pip install -r r.txt\n"
    assert fix(other_mount, "LW103") == (
        "FROM p\nRUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=tok "
        "pip install -r r.txt\n"
    )
    # a non-root user's cache is elsewhere (and not writable in a root-owned mount)
    user = "# syntax=docker/dockerfile:1\nFROM p\nUSER app\nRUN pip install --user x\n"
    assert fix(user, "LW103").endswith("RUN pip install --no-cache-dir --user x\n")
    onbuild = "FROM p\nONBUILD RUN pip install x\n"
    assert fix(onbuild, "LW103") == "FROM p\nONBUILD RUN pip install --no-cache-dir x\n"


def test_lw103_other_managers() -> None:
    text = (
        "FROM p\n"
        "RUN uv pip install --system x\n"
        "RUN npm ci\n"
        "RUN npm ci && npm cache clean --force\n"
        "RUN --mount=type=cache,target=/root/.npm npm ci\n"
        "RUN conda install -y numpy\n"
        "RUN UV_NO_CACHE=1 uv sync\n"
    )
    found = findings(text, "LW103")
    assert [(f.line, f.covers) for f in found] == [(2, ()), (3, ()), (6, ())]
    assert fix("FROM p\nRUN npm ci\n", "LW103") == "FROM p\nRUN npm ci && npm cache clean --force\n"
    assert (
        fix("FROM p\nRUN uv sync --frozen\n", "LW103")
        == "FROM p\nRUN uv sync --no-cache --frozen\n"
    )


def test_lw103_yarn_only_in_the_image_stages_as_hadolint() -> None:
    assert [f.covers for f in findings("FROM n\nRUN yarn install\n", "LW103")] == [("DL3060",)]
    assert lines("FROM n AS b\nRUN yarn install\nFROM n\nCOPY --from=b /a /a\n", "LW103") == []
    assert lines("FROM n\nRUN yarn install && yarn cache clean\n", "LW103") == []
    assert lines("FROM n\nRUN yarn cache clean && yarn install\n", "LW103") == [2]
    assert (
        fix("FROM n\nRUN yarn install\n", "LW103")
        == "FROM n\nRUN yarn install && yarn cache clean\n"
    )


# -- LW104 apt-get update in its own RUN ----------------------------------------------------------


def test_lw104_reports_and_fixes_a_separate_update() -> None:
    text = (
        "FROM debian:bookworm-slim\nRUN apt-get update -qq\nRUN apt-get install -y \\\n    curl\n"
    )
    [f] = findings(text, "LW104")
    assert f.line == 3 and "(line 2)" in f.message
    assert fix(text, "LW104") == (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update -qq && \\\n"
        "    apt-get install -y \\\n"
        "    curl\n"
    )


def test_lw104_two_installs_share_one_update() -> None:
    text = (
        "FROM d\nRUN apt-get update\nRUN apt-get install -y a\nRUN echo hi\n"
        "RUN apt-get install -y b\n"
    )
    assert lines(text, "LW104") == [3, 5]
    assert fix(text, "LW104") == (
        "FROM d\nRUN apt-get update && apt-get install -y a\nRUN echo hi\n"
        "RUN apt-get update && apt-get install -y b\n"
    )


def test_lw104_lists_removed_by_an_earlier_run() -> None:
    text = (
        "FROM d\nRUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists/*\n"
        "RUN apt-get install -y b\n"
    )
    assert lines(text, "LW104") == [3]
    assert fix(text, "LW104").endswith("RUN apt-get update && apt-get install -y b\n")


@pytest.mark.parametrize(
    "text",
    [
        "FROM d\nRUN apt-get update && apt-get install -y a\n",
        "FROM d\nRUN apt-get install -y a\n",  # the base image's lists, if any
        # the install in the child stage runs its own update
        "FROM d AS base\nRUN apt-get update\nFROM base\n"
        "RUN apt-get update && apt-get install -y a\n",
    ],
)
def test_lw104_leaves_alone(text: str) -> None:
    assert [f.line for f in findings(text, "LW104") if "earlier RUN" in f.message] == []


def test_lw104_update_without_any_install_after_it() -> None:
    text = "FROM d\nRUN apt-get update\nRUN echo done\n"
    [f] = findings(text, "LW104")
    assert f.line == 2
    assert fix(text, "LW104") == "FROM d\nRUN echo done\n"
    base = "FROM d AS base\nRUN apt-get update\nFROM base\nRUN apt-get install -y a\n"
    [f] = findings(base, "LW104")
    assert f.line == 4  # the child's install; the base's RUN goes once nothing relies on it
    assert fix(base, "LW104") == (
        "FROM d AS base\nFROM base\nRUN apt-get update && apt-get install -y a\n"
    )


# -- LW105 volatile before expensive -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "volatile"),
    [("BUILD_DATE", True), ("GIT_COMMIT", True), ("VCS_REF", True), ("SOURCE_COMMIT", True),
     ("BUILD_NUMBER", True), ("CI_COMMIT_SHA", True), ("GITHUB_SHA", True), ("CACHEBUST", False),
     ("TINI_SHA256", False), ("PYTHON_VERSION", False), ("APP_HOME", False), ("SHARD", False)],
)  # fmt: skip
def test_is_volatile_arg(name: str, volatile: bool) -> None:
    assert is_volatile_arg(name) is volatile


def test_lw105() -> None:
    early = "FROM d\nARG BUILD_DATE\nLABEL built=$BUILD_DATE\nRUN apt-get install -y x\n"
    [f] = findings(early, "LW105")
    assert f.line == 2 and "line 4" in f.message
    late = "FROM d\nRUN apt-get install -y x\nARG BUILD_DATE\nLABEL built=$BUILD_DATE\n"
    assert lines(late, "LW105") == []
    cheap = "FROM d\nARG GIT_COMMIT\nRUN echo $GIT_COMMIT > /version\n"
    assert lines(cheap, "LW105") == []
    url = "FROM d\nADD https://e.org/tool.tgz /opt/\nRUN apt-get install -y x\n"
    assert lines(url, "LW105") == [2]
    used = "FROM d\nADD https://e.org/get-pip.py /tmp/get-pip.py\nRUN python /tmp/get-pip.py\n"
    assert lines(used, "LW105") == []
    tree = "FROM d\nCOPY . /app\nRUN apt-get update && apt-get install -y x\n"
    assert lines(tree, "LW105") == [2]
    deps = "FROM d\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
    assert lines(deps, "LW105") == []  # LW101's


# -- LW106 / LW107 consecutive RUNs --------------------------------------------------------------


def test_consecutive_runs() -> None:
    text = (
        "FROM d\n"
        "RUN apt-get install -y a\n"
        "RUN apt-get install -y b\n"
        "RUN pip install x\n"
        "# comment\n"
        "RUN pip install y && pip install z\n"
        "RUN mkdir /x\n"
        "RUN touch /x/y\n"
        "RUN --mount=type=secret,id=t cat /run/secrets/t\n"
        "WORKDIR /\n"
        "RUN a\n"
    )
    lw106 = findings(text, "LW106")
    assert [(f.line, f.covers) for f in lw106] == [(3, ("DL3059",)), (6, ())]
    lw107 = findings(text, "LW107")
    assert [(f.line, f.covers) for f in lw107] == [(4, ("DL3059",)), (8, ("DL3059",))]


def test_merge_fix_layouts() -> None:
    assert fix("FROM d\nRUN pip install a\nRUN pip install b\n", "LW106") == (
        "FROM d\nRUN pip install a && \\\n    pip install b\n"
    )
    lead = (
        "FROM d\nRUN apt-get update \\\n  && apt-get install -y a\n"
        "RUN apt-get update \\\n  && apt-get install -y b\n"
    )
    assert fix(lead, "LW106") == (
        "FROM d\nRUN apt-get update \\\n  && apt-get install -y a \\\n"
        "  && apt-get update \\\n  && apt-get install -y b\n"
    )
    crlf = "FROM d\r\nRUN pip install a\r\n\r\nRUN pip install b\r\n"
    assert fix(crlf, "LW106") == "FROM d\r\nRUN pip install a && \\\r\n    pip install b\r\n"


@pytest.mark.parametrize(
    "text",
    [
        "FROM d\nRUN cd /src\nRUN make\n",  # the second RUN would start in /src
        "FROM d\nRUN export A=1\nRUN env\n",
        "FROM d\nRUN pip install a\n# why\nRUN pip install b\n",  # a comment between
        "FROM d\nRUN pip install a || true\nRUN pip install b\n",
        "FROM d\nRUN pip install a\nRUN pip install b || true\n",  # would hide a's failure
        "FROM d\nRUN --network=none pip install a\nRUN pip install b\n",
    ],
)
def test_merge_fix_withheld(text: str) -> None:
    for rule in ("LW106", "LW107"):
        assert all(f.fix is None for f in findings(text, rule))


@pytest.mark.parametrize(
    ("script", "count"),
    [("a", 1), ("a > x", 1), ("a | b", 2), ("a && b", 2), ("echo $(date)", 2),
     ("sh -c 'a && b'", 1), ("$X/bin/a", 0), ("echo y | $X/b", 1), ("x=1", 0),
     ("for x in 1 2; do a; done", 1), ("sudo a", 1)],
)  # fmt: skip
def test_hadolint_command_count(script: str, count: int) -> None:
    df = parse_dockerfile(f"FROM d\nRUN {script}\n", "Dockerfile")
    run = analyze_run(df.instructions[1])
    assert run is not None
    assert hadolint_command_count(run) == count
