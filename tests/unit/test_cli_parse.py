"""`layerwise parse` and the CLI's error contract."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from layerwise import __version__


def test_version() -> None:
    res = run_cli("--version")
    assert res.code == 0 and __version__ in res.out


def test_parse_json_shape(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "ARG V=1\nFROM python:3.11 AS build\nRUN --mount=type=cache,target=/root/.cache/pip \\\n"
        '    pip install x\nFROM python:3.11-slim\nCOPY --from=build /a /a\nCMD ["run"]\n'
    )
    res = run_cli("parse", str(path), "--format", "json")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["path"] == str(path)
    assert data["stages"] == [
        {"index": 0, "name": "build", "base": "python:3.11"},
        {"index": 1, "name": None, "base": "python:3.11-slim"},
    ]
    assert data["instructions"][0] == {
        "keyword": "ARG",
        "start_line": 1,
        "end_line": 1,
        "flags": [],
        "exec_form": False,
        "stage": None,
    }
    run = data["instructions"][2]
    assert (run["keyword"], run["start_line"], run["end_line"], run["stage"]) == ("RUN", 3, 4, 0)
    assert run["flags"] == ["--mount=type=cache,target=/root/.cache/pip"]
    assert data["instructions"][-1]["exec_form"] is True


def test_parse_several_files_one_json_line_each(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).write_text("FROM scratch\n")
    res = run_cli("parse", str(tmp_path / "a"), str(tmp_path / "b"), "--format", "json")
    lines = res.out.splitlines()
    assert res.code == 0 and len(lines) == 2
    assert [json.loads(line)["path"] for line in lines] == [
        str(tmp_path / "a"),
        str(tmp_path / "b"),
    ]


def test_syntax_error_is_one_line_with_location(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text('FROM x\nRUN ["a", 1]\n')
    res = run_cli("parse", str(path))
    assert res.code == 2
    assert res.err.strip() == (
        f"{path}:2:5: error: when using JSON array syntax, arrays must be comprised of strings only"
    )
    assert "Traceback" not in res.err


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    res = run_cli("parse", str(tmp_path / "nope"))
    assert res.code == 2 and res.err.strip() == f"error: {tmp_path / 'nope'}: no such file"
    res = run_cli("parse", str(tmp_path))
    assert res.code == 2 and "is a directory" in res.err and "Traceback" not in res.err


def test_unknown_command_is_a_usage_error() -> None:
    res = run_cli("frobnicate")
    assert res.code == 2 and "No such command" in res.err
