"""`layerwise init` on the command line: writes, refuses to overwrite, --force, --dry-run,
--format json, and one-line errors for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import run_cli
from examples_support import EXAMPLES_DIR

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "init"
GENERATED = ["Dockerfile", ".dockerignore", "compose.yaml", "compose.dev.yaml"]


def _project(tmp_path: Path, source: Path) -> Path:
    root = tmp_path / source.name
    shutil.copytree(source, root)
    (root / "Dockerfile").unlink(missing_ok=True)
    return root


def test_init_writes_the_four_files(tmp_path: Path) -> None:
    root = _project(tmp_path, EXAMPLES_DIR / "flask-pip")
    before = sorted(p.name for p in root.iterdir())
    result = run_cli("init", str(root))
    assert result.code == 0, result.err
    assert "flask app app:app (app.py:10)" in result.out
    assert "docker compose -f compose.yaml -f compose.dev.yaml watch" in result.out
    after = sorted(p.name for p in root.iterdir())
    assert sorted(set(after) - set(before)) == sorted(GENERATED)
    assert (root / "Dockerfile").read_text().startswith("# syntax=docker/dockerfile:1\n")


def test_existing_files_are_kept_without_force(tmp_path: Path) -> None:
    root = _project(tmp_path, EXAMPLES_DIR / "flask-pip")
    (root / "Dockerfile").write_text("FROM scratch\n")
    result = run_cli("init", str(root))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "pass --force" in result.err
    assert "Traceback" not in result.err
    assert (root / "Dockerfile").read_text() == "FROM scratch\n"
    assert not (root / "compose.yaml").exists()
    forced = run_cli("init", str(root), "--force")
    assert forced.code == 0, forced.err
    assert "overwrote" in forced.out
    assert (root / "Dockerfile").read_text() != "FROM scratch\n"


def test_dry_run_prints_and_writes_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path, FIXTURES / "celery-worker")
    before = sorted(p.name for p in root.iterdir())
    result = run_cli("init", str(root), "--dry-run")
    assert result.code == 0, result.err
    for name in GENERATED:
        assert f"==> {name} <==" in result.out
    assert 'CMD ["celery", "-A", "tasks", "worker", "--loglevel=INFO"]' in result.out
    assert sorted(p.name for p in root.iterdir()) == before


def test_json_output(tmp_path: Path) -> None:
    root = _project(tmp_path, FIXTURES / "poetry-fastapi")
    result = run_cli("init", str(root), "--dry-run", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) == {"directory", "dry_run", "written", "project", "runtime", "files"}
    assert data["dry_run"] is True and data["written"] is False
    assert [f["path"] for f in data["files"]] == GENERATED
    assert all(f["content"] and f["bytes"] == len(f["content"].encode()) for f in data["files"])
    project = data["project"]
    assert project["dependencies"]["manager"] == "poetry"
    assert project["entry"] == {
        "kind": "asgi",
        "framework": "fastapi",
        "target": "notes_api.main:app",
        "script": None,
        "source": "src/notes_api/main.py:24",
    }
    assert project["health_path"] == "/api/healthz"
    assert data["runtime"]["command"] == ["uvicorn", "notes_api.main:app"]
    assert data["runtime"]["port_env"] == "UVICORN_PORT"
    written = run_cli("init", str(root), "--format", "json")
    assert written.code == 0, written.err
    data = json.loads(written.out)
    assert data["written"] is True and all(f["content"] is None for f in data["files"])


def test_no_python_project(tmp_path: Path) -> None:
    result = run_cli("init", str(FIXTURES / "no-python"))
    assert result.code == 2
    assert "no Python project here" in result.err and "Traceback" not in result.err


def test_bad_manifest_names_file_and_line() -> None:
    result = run_cli("init", "--dry-run", str(FIXTURES / "req-missing"))
    assert result.code == 2
    assert result.err.strip().startswith("requirements.txt:2:1: error: missing.txt")


def test_missing_directory(tmp_path: Path) -> None:
    result = run_cli("init", str(tmp_path / "nope"))
    assert result.code == 2 and "not a directory" in result.err


def test_options(tmp_path: Path) -> None:
    root = _project(tmp_path, EXAMPLES_DIR / "fastapi-uvicorn")
    result = run_cli("init", str(root), "--python", "3.12", "--port", "9000", "--dry-run")
    assert result.code == 0, result.err
    assert "ARG PYTHON_VERSION=3.12" in result.out
    assert "UVICORN_PORT=9000" in result.out and "EXPOSE 9000" in result.out
    assert '"9000:9000"' in result.out
    bad = run_cli("init", str(root), "--port", "0")
    assert bad.code == 2
