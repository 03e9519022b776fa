"""`layerwise deps` as a user runs it: formats, exit codes, one-line errors, --fix/--diff,
--service and --venv."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from deps_support import SERVICE, write

from conftest import REPO, run_cli

EXAMPLE = REPO / "examples" / "unused-deps"


def test_json_keys_and_exit_status() -> None:
    result = run_cli("deps", str(EXAMPLE), "--format", "json")
    assert result.code == 1, result.err
    payload = json.loads(result.out)
    dep = payload["dependencies"][0]
    for key in ("name", "version", "declared_in", "direct", "used", "pulled_in_by",
                "installed_bytes"):  # fmt: skip
        assert key in dep
    assert {f["code"] for f in payload["findings"]} == {"LW801", "LW802", "LW804"}
    for finding in payload["findings"]:
        assert {"code", "name", "message", "bytes"} <= set(finding)
    names = {d["name"]: d for d in payload["dependencies"]}
    assert names["pandas"]["used"] is False and names["pandas"]["declared_in"] == [
        "requirements.txt:4"
    ]
    assert names["Flask"]["used"] is True
    assert payload["manifests"][0]["manifest"] == "requirements.txt"
    assert payload["manifests"][0]["in_final"] is True


def test_fail_on_selects_codes() -> None:
    assert run_cli("deps", str(EXAMPLE), "--fail-on", "none").code == 0
    assert run_cli("deps", str(EXAMPLE), "--fail-on", "LW805").code == 0
    assert run_cli("deps", str(EXAMPLE), "--fail-on", "LW801").code == 1
    bad = run_cli("deps", str(EXAMPLE), "--fail-on", "LW999")
    assert bad.code == 2 and bad.err.strip().count("\n") == 0 and "LW999" in bad.err


def test_markdown_and_text() -> None:
    md = run_cli("deps", str(EXAMPLE), "--format", "markdown", "--fail-on", "none")
    assert md.out.startswith("## Dependencies of `unused-deps`")
    assert "| pandas |" in md.out and "**LW801** `pandas`" in md.out
    text = run_cli("deps", str(EXAMPLE), "--fail-on", "none").out
    assert "installs requirements.txt (Dockerfile:6" in text
    assert "note: no image: installed sizes are unknown" in text


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("deps", str(tmp_path / "nope"))
    assert missing.code == 2 and missing.err.count("\n") == 1
    write(tmp_path, {"Dockerfile": "FROM python:3.11-slim\nCOPY --bogus=1 a b\n"})
    refused = run_cli("deps", str(tmp_path))
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert "Dockerfile:2" in refused.err and "Traceback" not in refused.err
    write(tmp_path, {"Dockerfile": "FROM python:3.11-slim\nCOPY . .\nRUN pip install .\n",
                     "pyproject.toml": "[project\n"})  # fmt: skip
    toml = run_cli("deps", str(tmp_path))
    assert toml.code == 2 and "pyproject.toml:1" in toml.err and toml.err.count("\n") == 1
    image = run_cli("deps", str(EXAMPLE), "--image", str(tmp_path / "missing.tar"))
    assert image.code == 2 and image.err.count("\n") == 1


def test_diff_writes_nothing_and_fix_writes(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    shutil.copytree(EXAMPLE, project)
    before = (project / "requirements.txt").read_text()
    diff = run_cli("deps", str(project), "--diff")
    assert "+++ b/requirements-dev.txt" in diff.out and "-black==24.8.0" in diff.out
    assert (project / "requirements.txt").read_text() == before
    assert not (project / "requirements-dev.txt").exists()
    fixed = run_cli("deps", str(project), "--fix")
    # Without an image only the development tools move; pandas and numpy stay, reported.
    assert "moved pytest: requirements.txt:7 -> requirements-dev.txt" in fixed.err
    assert "kept pandas: no image or venv" in fixed.err
    assert fixed.code == 1  # LW801 remains
    assert "black" not in (project / "requirements.txt").read_text()
    assert "black==24.8.0" in (project / "requirements-dev.txt").read_text()


def test_service_from_compose(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": "services:\n  api:\n    build:\n      context: ./api\n"
            "      target: runtime\n  db:\n    image: postgres\n",
            "api/Dockerfile": "FROM python:3.11-slim AS runtime\nCOPY . /app\n"
            "RUN pip install -r /app/requirements.txt\n"
            'CMD ["gunicorn", "--chdir", "/app", "service:app"]\n',
            "api/requirements.txt": "flask\ngunicorn\nrequests\n",
            "api/service.py": SERVICE,
        },
    )
    result = run_cli("deps", str(tmp_path), "--service", "api", "--format", "json")
    payload = json.loads(result.out)
    assert [(f["code"], f["name"]) for f in payload["findings"]] == [("LW801", "requests")]
    unknown = run_cli("deps", str(tmp_path), "--service", "web")
    assert unknown.code == 2 and "services: api" in unknown.err


def test_venv_metadata(tmp_path: Path) -> None:
    """A local virtual environment stands in for an image: names and sizes from its RECORDs."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    # A distribution whose import name differs from its name (as Pillow -> PIL).
    info = site / "Shiny_Widgets-1.0.dist-info"
    info.mkdir()
    (site / "shinyw").mkdir()
    (site / "shinyw" / "__init__.py").write_text("X = 1\n" * 100)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Shiny-Widgets\nVersion: 1.0\n")
    (info / "RECORD").write_text(
        "shinyw/__init__.py,,\nShiny_Widgets-1.0.dist-info/METADATA,,\n"
        "Shiny_Widgets-1.0.dist-info/RECORD,,\n"
    )
    project = write(
        tmp_path / "svc",
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n"
            "RUN pip install -r /app/requirements.txt\nCMD python /app/app.py\n",
            "requirements.txt": "shiny-widgets==1.0\n",
            "app.py": "import shinyw\n",
        },
    )
    static = json.loads(run_cli("deps", str(project), "--format", "json").out)
    # guessed wrong without metadata: unused, and an import nothing declared provides
    assert [(f["code"], f["name"]) for f in static["findings"]] == [
        ("LW801", "shiny-widgets"),
        ("LW803", "shinyw"),
    ]
    measured = run_cli("deps", str(project), "--venv", str(venv), "--format", "json")
    payload = json.loads(measured.out)
    assert payload["findings"] == [], measured.err
    dep = payload["dependencies"][0]
    assert dep["used"] is True and dep["installed_bytes"] > 600


def test_fix_in_json_reports_the_plan_and_what_remains(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    shutil.copytree(EXAMPLE, project)
    result = run_cli("deps", str(project), "--fix", "--format", "json")
    payload = json.loads(result.out)
    assert payload["fix"]["written"] is True
    assert payload["fix"]["changed"] == ["requirements.txt", "requirements-dev.txt"]
    assert {m["name"] for m in payload["fix"]["moved"]} == {"pytest", "black"}
    # after the fix: pandas and numpy remain (no image: only tools move), nothing else
    assert {(f["code"], f["name"]) for f in payload["findings"]} == {
        ("LW801", "pandas"),
        ("LW801", "numpy"),
    }
