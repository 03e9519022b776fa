"""The example apps are what the other features' tests expect: naive in the documented ways,
with pinned dependencies, and described by tests/examples_support.py. No Docker needed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from examples_support import EXAMPLES, EXAMPLES_DIR, copy_example, git, harmless_edit
from layerwise import read_dockerfile

NAMES = sorted(EXAMPLES)


def test_every_example_directory_is_described() -> None:
    on_disk = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir())
    assert on_disk == NAMES
    assert len(NAMES) >= 8
    index = (EXAMPLES_DIR / "README.md").read_text()
    for name in NAMES:
        assert f"`{name}`" in index


@pytest.mark.parametrize("name", NAMES)
def test_example_is_naive_in_the_documented_ways(name: str) -> None:
    app = EXAMPLES[name]
    assert (app.path / "README.md").read_text().startswith(f"# {name}\n")
    assert not (app.path / ".dockerignore").exists()
    df = read_dockerfile(app.path / "Dockerfile")
    assert df.directive("syntax") is None
    names = [ins.name for ins in df.instructions]
    assert names.count("FROM") == 1  # single stage: build tools, if any, stay in the image
    assert df.instructions[0].arguments[0] == app.base
    assert "USER" not in names  # root at run time
    assert "HEALTHCHECK" not in names
    (cmd,) = [ins for ins in df.instructions if ins.name == "CMD"]
    assert cmd.form == "shell"
    assert "$PORT" in (cmd.command or "") or name in ("poetry-app", "uv-app", "pip-package")
    # The whole tree is copied before the dependencies are installed.
    copy_all = next(
        i for i, ins in enumerate(df.instructions) if ins.name == "COPY" and ins.arguments[0] == "."
    )
    installs = [
        i
        for i, ins in enumerate(df.instructions)
        if ins.name == "RUN" and re.search(r"\b(pip|uv|poetry)\b", ins.command or "")
    ]
    assert installs and all(i > copy_all for i in installs)
    for ins in df.instructions:
        if ins.name == "RUN":
            assert not ins.flags  # no cache mounts
            assert "--no-cache-dir" not in (ins.command or "")
    assert any(
        (app.path / junk).exists()
        for junk in ("logs", "docs", "tests", "notebooks", ".vscode", ".idea")
    )
    for manifest in app.manifests:
        assert (app.path / manifest).is_file()
    assert (app.path / app.source_file).is_file()


def requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_requirements_are_pinned(name: str) -> None:
    for path in EXAMPLES[name].path.glob("*.txt"):
        for line in requirement_lines(path):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), (path, line)


def test_flask_pip_nests_its_requirements() -> None:
    text = (EXAMPLES["flask-pip"].path / "requirements.txt").read_text()
    assert "-r base.txt" in text.splitlines()


def test_django_builds_psycopg2_from_source_with_build_tools() -> None:
    app = EXAMPLES["django-psycopg2"]
    assert "psycopg2==2.9.9" in requirement_lines(app.path / "requirements.txt")
    run = [i for i in read_dockerfile(app.path / "Dockerfile").instructions if i.name == "RUN"]
    assert "gcc libpq-dev" in (run[0].command or "")


def test_unused_deps_declares_what_it_never_imports() -> None:
    app = EXAMPLES["unused-deps"]
    declared = {
        line.split("==")[0].lower() for line in requirement_lines(app.path / "requirements.txt")
    }
    assert {"pandas", "numpy", "pytest", "black", "flask", "gunicorn"} <= declared
    imported = set()
    for path in app.path.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert "flask" in imported
    assert not imported & {"pandas", "numpy", "pytest", "black"}


def test_lock_files_match_their_projects() -> None:
    poetry_lock = (EXAMPLES["poetry-app"].path / "poetry.lock").read_text()
    assert re.search(r'^content-hash = "[0-9a-f]{64}"$', poetry_lock, re.M)
    assert 'name = "falcon"\nversion = "3.1.3"' in poetry_lock
    assert "[package.source]" not in poetry_lock  # resolved from PyPI, as on any machine
    uv_lock = (EXAMPLES["uv-app"].path / "uv.lock").read_text()
    assert 'name = "starlette"\nversion = "0.38.6"' in uv_lock
    assert 'name = "uvicorn"\nversion = "0.30.6"' in uv_lock


def test_copy_with_git_is_a_repository_with_one_reproducible_commit(tmp_path: Path) -> None:
    first = copy_example("flask-pip", tmp_path / "a", with_git=True)
    second = copy_example("flask-pip", tmp_path / "b", with_git=True)
    assert (first / ".git").is_dir()
    head = git(first, "rev-parse", "HEAD").strip()
    assert head == git(second, "rev-parse", "HEAD").strip()
    files = git(first, "ls-files").split()
    assert "app.py" in files and "logs/dev.log" in files
    assert git(first, "status", "--porcelain") == ""


def test_harmless_edit_appends_a_unique_comment(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("Flask==3.0.3")
    first = harmless_edit(path)
    second = harmless_edit(path)
    assert first != second
    assert path.read_text() == f"Flask==3.0.3\n{first}\n{second}\n"
    assert requirement_lines(path) == ["Flask==3.0.3"]
