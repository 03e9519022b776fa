"""Differential test against deptry, the well-kept declared-versus-imported checker: on
projects where both look at the same thing (one requirements file or a PEP 621 project, the
code all shipped), layerwise's unused dependencies are deptry's DEP002 and its imports that no
declaration provides are deptry's DEP001 and DEP003.

deptry maps packages to modules with the metadata of the environment it runs in, layerwise
(without an image) with its name table; the fixtures use packages of this test environment,
so both know the same names."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deps_support import analyze, write

from layerwise.deps.names import canonical

DEPTRY = shutil.which("deptry", path=str(Path(sys.executable).parent))

PROJECTS = {
    "requirements": {
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt\nCMD python app/main.py\n",
        "requirements.txt": "click>=8\nrich\npackaging\njsonschema\nzstandard\n",
        "app/__init__.py": "",
        "app/main.py": "import click\nfrom rich.console import Console\nimport attr\n"
        "from app import util\n",
        "app/util.py": "from packaging.version import Version\nimport os, json\n"
        "import hypothesis\n",
    },
    "pep621": {
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\nRUN pip install .\n"
        'CMD ["python", "-m", "svc"]\n',
        "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\n'
        'dependencies = ["click", "tomlkit", "ruamel.yaml", "docker"]\n',
        "svc/__init__.py": "",
        "svc/__main__.py": "import click\nimport ruamel.yaml\nimport requests\n",
    },
}


def deptry_view(root: Path) -> tuple[set[str], set[str]]:
    assert DEPTRY is not None
    out = root / ".deptry.json"
    args = [DEPTRY, ".", "--no-ansi", "--json-output", str(out)]
    if (root / "requirements.txt").exists():
        args += ["-rf", "requirements.txt"]
    subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
    issues = json.loads(out.read_text())
    out.unlink()
    unused = {canonical(i["module"]) for i in issues if i["error"]["code"] == "DEP002"}
    undeclared = {i["module"] for i in issues if i["error"]["code"] in ("DEP001", "DEP003")}
    return unused, undeclared


@pytest.mark.skipif(DEPTRY is None, reason="deptry is not installed (pip install -e '.[test]')")
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_agrees_with_deptry(tmp_path: Path, name: str) -> None:
    root = write(tmp_path, PROJECTS[name])
    report = analyze(root)
    ours_unused = {canonical(f.name) for f in report.findings if f.code in ("LW801", "LW802")}
    ours_undeclared = {f.name for f in report.findings if f.code == "LW803"}
    theirs_unused, theirs_undeclared = deptry_view(root)
    assert ours_unused == theirs_unused
    assert ours_undeclared == theirs_undeclared
    assert ours_unused  # the fixtures do have findings: the comparison means something
