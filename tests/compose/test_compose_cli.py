"""`layerwise services`: JSON keys, text output, options and errors, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO, run_cli

FIXTURES = REPO / "tests" / "fixtures" / "compose"
KEYS = {
    "name",
    "context",
    "dockerfile",
    "dockerfile_inline",
    "target",
    "args",
    "network",
    "image",
    "cache_from",
    "secrets",
}


def test_json_output() -> None:
    directory = FIXTURES / "override-default"
    result = run_cli("services", str(directory), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) == {"project", "working_dir", "files", "services"}
    assert data["files"] == [
        str(directory / "compose.yaml"),
        str(directory / "compose.override.yaml"),
    ]
    [web] = data["services"]
    assert set(web) == KEYS
    assert web == {
        "name": "web",
        "context": str(directory),
        "dockerfile": str(directory / "Dockerfile"),
        "dockerfile_inline": None,
        "target": "dev",
        "args": {"EXTRA": "added", "KEEP": "kept", "MODE": "development"},
        "network": None,
        "image": "example/web",
        "cache_from": [],
        "secrets": [],
    }


def test_files_profiles_and_service_selection() -> None:
    directory = FIXTURES / "profiles-flag"
    result = run_cli("services", str(directory), "--format", "json", "--profile", "debug")
    assert [s["name"] for s in json.loads(result.out)["services"]] == ["debug", "web"]
    result = run_cli("services", str(directory), "--format", "json", "--service", "web")
    assert [s["name"] for s in json.loads(result.out)["services"]] == ["web"]
    directory = FIXTURES / "multi-file"
    result = run_cli("services", str(directory), "-f", "base.yml", "-f", "prod.yml")
    assert result.code == 0
    assert "web: " in result.out and "target production" in result.out


def test_text_output() -> None:
    result = run_cli("services", str(FIXTURES / "dockerfile-inline"))
    assert result.code == 0
    assert "tool:" in result.out and "(inline Dockerfile)" in result.out


def test_errors_are_one_line() -> None:
    for args in (
        ["services", str(FIXTURES / "build-string"), "--service", "db"],
        ["services", str(FIXTURES / "build-string"), "--service", "nope"],
        ["services", str(FIXTURES / "build-string"), "-f", "missing.yaml"],
        ["services", str(FIXTURES / "nowhere")],
    ):
        result = run_cli(*args)
        assert result.code == 2, args
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
        assert result.err.startswith("error:") or ": error:" in result.err


def test_secret_args_are_redacted(tmp_path: Path) -> None:
    token = "ghp_" + "x" * 36
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build:\n      context: .\n"
        "      args: [GH_TOKEN, DB_PASSWORD=hunter2, PLAIN=ok]\n"
    )
    result = run_cli("services", str(tmp_path), "--format", "json", env={"GH_TOKEN": token})
    assert token not in result.out and "hunter2" not in result.out
    args = json.loads(result.out)["services"][0]["args"]
    assert args == {
        "DB_PASSWORD": "<redacted: a secret (by its name)>",
        "GH_TOKEN": "<redacted: a GitHub token>",
        "PLAIN": "ok",
    }
    shown = run_cli(
        "services", str(tmp_path), "--format", "json", "--show-secrets", env={"GH_TOKEN": token}
    )
    assert token in shown.out
