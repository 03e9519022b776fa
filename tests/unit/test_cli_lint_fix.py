"""`layerwise lint`, `fix`, `rules`, `rule`: formats, exit codes, suppressions, config, docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, run_cli

BAD = 'from python:3.11-slim as Build\nMAINTAINER me\nENV A 1\nCMD ["a"]\n'


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(BAD)
    return path


def test_lint_text_and_exit_codes(bad_file: Path) -> None:
    res = run_cli("lint", str(bad_file))
    assert res.code == 1
    assert f"{bad_file}:1:1: LW006 [style]" in res.out
    assert f"{bad_file}:2:1: LW008 [warning] MAINTAINER is deprecated [*]" in res.out
    assert "Found" in res.out
    assert run_cli("lint", str(bad_file), "--fail-on", "error").code == 0
    assert run_cli("lint", str(bad_file), "--fail-on", "never").code == 0


def test_lint_json_shape(bad_file: Path) -> None:
    res = run_cli("lint", str(bad_file), "--format", "json")
    data = json.loads(res.out)
    first = data[0]
    assert set(first) >= {
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "rule",
        "severity",
        "message",
        "covers",
        "fixable",
    }
    maintainer = next(f for f in data if f["rule"] == "LW008")
    assert maintainer["covers"] == ["DL4000", "MaintainerDeprecated"]
    assert maintainer["fixable"] is True


def test_select_and_ignore(bad_file: Path) -> None:
    only = json.loads(run_cli("lint", str(bad_file), "--format", "json", "--select", "LW008").out)
    assert {f["rule"] for f in only} == {"LW008"}
    rest = json.loads(run_cli("lint", str(bad_file), "--format", "json", "--ignore", "LW0").out)
    assert rest and not [f for f in rest if f["rule"].startswith("LW0")]
    rest = run_cli("lint", str(bad_file), "--format", "json", "--select", "LW0", "--ignore", "LW0")
    rest = json.loads(rest.out)
    assert rest == []


def test_suppression_comments(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(
        "FROM python:3.11-slim\n# layerwise: ignore=LW008\nMAINTAINER a\n"
        "# hadolint ignore=DL4000\nMAINTAINER b\nMAINTAINER c\n"
    )
    data = json.loads(run_cli("lint", str(path), "--format", "json").out)
    assert [(f["rule"], f["line"]) for f in data if f["rule"] == "LW008"] == [("LW008", 6)]
    only = ("--format", "json", "--select", "LW008")
    path.write_text("# layerwise: ignore-file=LW008\nFROM python:3.11-slim\nMAINTAINER a\n")
    assert json.loads(run_cli("lint", str(path), *only).out) == []
    path.write_text("# check=skip=MaintainerDeprecated\nFROM python:3.11-slim\nMAINTAINER a\n")
    assert json.loads(run_cli("lint", str(path), *only).out) == []
    path.write_text("FROM python:3.11-slim\nMAINTAINER a\n")
    assert len(json.loads(run_cli("lint", str(path), *only).out)) == 1  # the test can fail


def test_config_file(tmp_path: Path, bad_file: Path) -> None:
    (tmp_path / ".layerwise.toml").write_text('ignore = ["LW006"]\n[severity]\nLW008 = "error"\n')
    data = json.loads(run_cli("lint", str(bad_file), "--format", "json").out)
    assert "LW006" not in {f["rule"] for f in data}
    assert next(f for f in data if f["rule"] == "LW008")["severity"] == "error"
    (tmp_path / ".layerwise.toml").write_text('selct = ["LW1"]\n')
    res = run_cli("lint", str(bad_file))
    assert res.code == 2 and "unknown key 'selct'" in res.err and "Traceback" not in res.err


def test_pyproject_config(tmp_path: Path, bad_file: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.layerwise]\nselect = ["LW007"]\n')
    data = json.loads(run_cli("lint", str(bad_file), "--format", "json").out)
    assert {f["rule"] for f in data} == {"LW007"}


def test_lint_directory_discovers_dockerfiles(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "api.Dockerfile").write_text("FROM python:3.11-slim\nMAINTAINER a\n")
    (tmp_path / "Dockerfile.prod").write_text("FROM python:3.11-slim\nMAINTAINER a\n")
    (tmp_path / "Dockerfile.prod.dockerignore").write_text("*\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "Dockerfile").write_text("FROM x\nMAINTAINER a\n")
    data = json.loads(run_cli("lint", str(tmp_path), "--format", "json").out)
    assert sorted({Path(f["path"]).name for f in data}) == ["Dockerfile.prod", "api.Dockerfile"]


def test_lint_syntax_error_is_reported_and_others_still_linted(tmp_path: Path) -> None:
    (tmp_path / "a.Dockerfile").write_text('FROM x\nCMD ["a", 1]\n')
    (tmp_path / "b.Dockerfile").write_text("FROM x\nMAINTAINER a\n")
    res = run_cli("lint", str(tmp_path))
    assert res.code == 2
    assert "a.Dockerfile:2:5: error:" in res.err
    assert "LW008" in res.out


def test_github_format(bad_file: Path) -> None:
    out = run_cli("lint", str(bad_file), "--format", "github").out
    assert "::warning file=" in out and ",line=2,col=1," in out and "title=LW008" in out


def test_fix_diff_write_backup(bad_file: Path) -> None:
    res = run_cli("fix", str(bad_file), "--diff")
    assert res.code == 1 and "+FROM python:3.11-slim AS build" in res.out
    assert bad_file.read_text() == BAD  # --diff alone writes nothing
    res = run_cli("fix", str(bad_file), "--write", "--backup")
    assert res.code == 0, res.err
    assert bad_file.read_text().startswith("FROM python:3.11-slim AS build\n")
    assert Path(f"{bad_file}.orig").read_text() == BAD
    assert run_cli("fix", str(bad_file), "--diff").out == ""  # idempotent


def test_fix_keeps_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes("\ufeffFROM python:3.11-slim\r\nENV A 1\r\n".encode())
    assert run_cli("fix", str(path), "--write", "--select", "LW007").code == 0
    assert path.read_bytes() == "\ufeffFROM python:3.11-slim\r\nENV A=1\r\n".encode()


def test_rules_and_rule() -> None:
    res = run_cli("rules")
    assert res.code == 0 and "LW008  maintainer-deprecated" in res.out
    doc = run_cli("rule", "lw008")
    assert doc.code == 0 and "Covers: hadolint DL4000" in doc.out and "Fixed:" in doc.out
    assert run_cli("rule", "LW999").code == 2


def test_docs_rules_md_is_current() -> None:
    expected = run_cli("rules", "--format", "markdown").out
    current = (REPO / "docs" / "rules.md").read_text()
    assert current == expected, (
        "docs/rules.md is stale: run `layerwise rules --format markdown > docs/rules.md`"
    )


def test_pre_commit_hook_file_matches_dockerfiles() -> None:
    import re

    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    lint_hook = next(h for h in hooks if h["id"] == "layerwise")
    assert lint_hook["entry"].startswith("layerwise lint")
    files, exclude = re.compile(lint_hook["files"]), re.compile(lint_hook["exclude"])

    def matched(p: str) -> bool:
        return bool(files.search(p)) and not exclude.search(p)

    for name in ("Dockerfile", "svc/Dockerfile.prod", "api.Dockerfile", "Containerfile"):
        assert matched(name), name
    for name in ("Dockerfile.dockerignore", "README.md", "src/dockerfile_utils.py"):
        assert not matched(name), name
