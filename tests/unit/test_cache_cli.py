"""`layerwise cache DIR --changed ...`: text, JSON, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

DOCKERFILE = """\
FROM python:3.11-slim AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
FROM base AS test
COPY tests/ tests/
FROM base AS runtime
ARG VERSION=1
COPY app/ app/
RUN echo $VERSION > VERSION
"""


def _project(tmp_path: Path) -> Path:
    for name, text in {
        "Dockerfile": DOCKERFILE,
        "requirements.txt": "flask\n",
        "app/main.py": "x\n",
        "tests/test_main.py": "t\n",
        ".dockerignore": "docs\n",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_changed_json_has_the_documented_keys(tmp_path: Path) -> None:
    root = _project(tmp_path)
    res = run_cli("cache", str(root), "--changed", "app/main.py", "--format", "json")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert [(s["index"], s["name"]) for s in data["stages"]] == [(0, "base"), (2, "runtime")]
    steps = [st for stage in data["stages"] for st in stage["steps"]]
    assert {"line", "keyword", "rebuilt", "reason"} <= set(steps[0])
    assert [(s["line"], s["rebuilt"]) for s in steps] == [
        (1, False), (2, False), (3, False), (4, False), (9, True), (10, True),
    ]  # fmt: skip
    assert steps[4]["reason"] == "app/main.py changes"
    assert data["summary"] == {"steps": 6, "rebuilt": 2, "uncertain": 0}


def test_changed_paths_may_follow_the_directory(tmp_path: Path) -> None:
    root = _project(tmp_path)
    res = run_cli("cache", str(root), "--changed", "requirements.txt", "app/main.py")
    assert res.code == 0, res.err
    assert "4 of 6 steps rebuilt" in res.out
    assert "requirements.txt changes" in res.out
    res = run_cli("cache", str(root), "--changed", "tests/test_main.py")
    assert "0 of 6 steps rebuilt" in res.out  # the test stage is not built for the target
    res = run_cli("cache", str(root), "--changed", "tests/test_main.py", "--target", "test")
    assert "1 of 5 steps rebuilt" in res.out


def test_changed_build_arg_and_base(tmp_path: Path) -> None:
    root = _project(tmp_path)
    res = run_cli("cache", str(root), "--changed-build-arg", "VERSION=2", "--format", "json")
    steps = [st for stage in json.loads(res.out)["stages"] for st in stage["steps"]]
    assert [s["line"] for s in steps if s["rebuilt"]] == [10]
    assert steps[-1]["reason"] == "build arg VERSION changed"
    res = run_cli("cache", str(root), "--changed-base", "python:3.11-slim")
    assert "6 of 6 steps rebuilt" in res.out and "base image changed" in res.out


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    root = _project(tmp_path)
    cases = [
        ("cache", str(root)),  # nothing to predict
        ("cache", str(tmp_path / "missing"), "--changed", "x"),
        ("cache", str(root), "--changed", "x", "--target", "nope"),
        ("cache", str(root), "-f", str(tmp_path / "nope"), "--changed", "x"),
        ("cache", str(root), "extra-path"),
        ("cache", str(root), "--history", "3", "--changed", "x"),
        ("cache", str(root), "--compare", "Dockerfile", "--changed", "x"),
    ]
    for args in cases:
        res = run_cli(*args)
        assert res.code == 2, (args, res.out, res.err)
        assert len(res.err.strip().splitlines()) == 1, (args, res.err)
        assert "Traceback" not in res.err
    (root / "Dockerfile").write_text("FROM python:3.11-slim\nRUN --mount=type=bogus echo\n")
    res = run_cli("cache", str(root), "--changed", "app/main.py")
    assert res.code == 0 and "BuildKit refuses" in res.err  # a warning; the model answers
