"""`layerwise deps --fix`: the requirement split and the group moves, idempotent, and never
moving what the code uses."""

from __future__ import annotations

import tomllib
from pathlib import Path

from deps_support import (
    FLASK_ENV,
    PANDAS_ENV,
    SERVICE,
    analyze,
    dist,
    environment,
    findings,
    unused_deps_project,
    write,
)

from layerwise.deps.fix import apply_fix, plan_fix

ENV = environment(*FLASK_ENV, *PANDAS_ENV)


def fix(root: Path, env: object = ENV, **kw: str) -> list[str]:
    plan = plan_fix(analyze(root, env, **kw))  # type: ignore[arg-type]
    apply_fix(plan)
    return [c.rel for c in plan.changes]


def test_requirements_split(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            "RUN pip install -r requirements.txt\nCMD gunicorn service:app\n",
            "requirements.txt": "Flask==3.0.3\ngunicorn==22.0.0\n"
            '# "we might need these for the reports later"\npandas==2.2.2\nnumpy==1.26.4\n'
            "# development tools\npytest==8.3.3\nblack==24.8.0 \\\n    --hash=sha256:00\n",
            "service.py": SERVICE,
        },
    )
    dockerfile = (root / "Dockerfile").read_text()
    assert fix(root) == ["requirements.txt", "requirements-dev.txt"]
    assert (root / "requirements.txt").read_text() == "Flask==3.0.3\ngunicorn==22.0.0\n"
    dev = (root / "requirements-dev.txt").read_text()
    assert dev.endswith(
        "-r requirements.txt\n\n# from requirements.txt\n"
        '# "we might need these for the reports later"\npandas==2.2.2\nnumpy==1.26.4\n'
        "# development tools\npytest==8.3.3\nblack==24.8.0 \\\n    --hash=sha256:00\n"
    )
    assert (root / "Dockerfile").read_text() == dockerfile  # it installs requirements.txt still
    again = analyze(root, ENV)
    assert findings(again) == set()
    assert plan_fix(again).empty  # idempotent


def test_nothing_used_is_moved_and_comments_of_kept_lines_stay(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/req.txt\n"
            'CMD ["python", "/app/service.py"]\n',
            "req.txt": "# web\nFlask\npandas\n# reports\nnumpy\n",
            "service.py": SERVICE + "import numpy\n",
        },
    )
    fix(root)
    assert (root / "req.txt").read_text() == "# web\nFlask\n# reports\nnumpy\n"
    assert "pandas" in (root / "req-dev.txt").read_text()


def test_chain_edits_the_declaring_file_and_appends_to_an_existing_dev_file(
    tmp_path: Path,
) -> None:
    root = unused_deps_project(tmp_path)
    write(
        root,
        {
            "requirements.txt": "-r base.txt\ngunicorn==22.0.0\n",
            "base.txt": "Flask==3.0.3\npytest==8.3.3\n",
            "requirements-dev.txt": "-r requirements.txt\nruff\n",
        },
    )
    fix(root)
    assert (root / "base.txt").read_text() == "Flask==3.0.3\n"
    assert (root / "requirements.txt").read_text() == "-r base.txt\ngunicorn==22.0.0\n"
    assert (root / "requirements-dev.txt").read_text() == (
        "-r requirements.txt\nruff\n\n# from base.txt\npytest==8.3.3\n"
    )


def test_without_an_image_only_development_tools_move(tmp_path: Path) -> None:
    root = unused_deps_project(tmp_path)
    plan = plan_fix(analyze(root))
    assert {n for n, _, _ in plan.moved} == {"pytest", "black"}
    assert ("pandas", "no image or venv: its import names are only guessed") in plan.kept


def test_pep621_moves_to_an_optional_dev_group(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\nRUN pip install .\n"
            'CMD ["gunicorn", "svc.app:app"]\n',
            "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\n'
            "# runtime\n"
            'dependencies = [\n    "Flask==3.0.3",\n    "gunicorn",\n    "pytest>=8",\n]\n',
            "svc/__init__.py": "",
            "svc/app.py": SERVICE,
        },
    )
    assert fix(root) == ["pyproject.toml"]
    text = (root / "pyproject.toml").read_text()
    assert "# runtime\n" in text  # comments are kept (tomlkit round trip)
    data = tomllib.loads(text)
    assert data["project"]["dependencies"] == ["Flask==3.0.3", "gunicorn"]
    assert data["project"]["optional-dependencies"]["dev"] == ["pytest>=8"]
    assert plan_fix(analyze(root, ENV)).empty


def test_uv_project_gets_a_dependency_group_and_no_dev_in_the_dockerfile(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            "RUN uv sync --frozen\n"
            'CMD ["/app/.venv/bin/python", "-m", "uv_app"]\n',
            "pyproject.toml": '[project]\nname = "uv-app"\nversion = "1"\n'
            'dependencies = ["flask", "black"]\n',
            "uv.lock": "version = 1\n",
            "uv_app/__init__.py": "",
            "uv_app/__main__.py": "import flask\n",
        },
    )
    plan = plan_fix(analyze(root, ENV))
    apply_fix(plan)
    data = tomllib.loads((root / "pyproject.toml").read_text())
    assert data["project"]["dependencies"] == ["flask"]
    assert data["dependency-groups"]["dev"] == ["black"]
    assert "RUN uv sync --no-dev --frozen\n" in (root / "Dockerfile").read_text()
    assert "run `uv lock`: uv.lock records the groups" in plan.notes
    assert findings(analyze(root, ENV)) == set()


def test_poetry_moves_to_the_dev_group_and_install_leaves_it_out(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            "RUN pip install poetry && poetry install --no-root\n"
            'CMD ["python", "-m", "poetry_app"]\n',
            "pyproject.toml": '[tool.poetry]\nname = "poetry-app"\nversion = "1"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nflask = "^3.0"\nblack = "*"\n',
            "poetry_app/__init__.py": "",
            "poetry_app/__main__.py": "import flask\n",
        },
    )
    fix(root)
    data = tomllib.loads((root / "pyproject.toml").read_text())
    assert data["tool"]["poetry"]["dependencies"] == {"python": "^3.11", "flask": "^3.0"}
    assert data["tool"]["poetry"]["group"]["dev"]["dependencies"] == {"black": "*"}
    assert "poetry install --without dev --no-root" in (root / "Dockerfile").read_text()
    assert findings(analyze(root, ENV)) == set()


def test_pipfile_moves_to_dev_packages(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            "RUN pipenv install --system --deploy\nCMD python app.py\n",
            "Pipfile": '[packages]\nflask = "*"\npytest = "==8.3.3"\n\n[dev-packages]\n',
            "app.py": "import flask\n",
        },
    )
    fix(root)
    data = tomllib.loads((root / "Pipfile").read_text())
    assert data["packages"] == {"flask": "*"}
    assert data["dev-packages"] == {"pytest": "==8.3.3"}
    assert findings(analyze(root, ENV)) == set()


def test_a_tool_used_while_building_is_not_moved(tmp_path: Path) -> None:
    root = unused_deps_project(tmp_path)
    text = (root / "Dockerfile").read_text()
    (root / "Dockerfile").write_text(text.replace("CMD", "RUN pytest -q\nCMD"))
    plan = plan_fix(analyze(root, ENV))
    assert "pytest" not in {n for n, _, _ in plan.moved}
    assert any(n == "pytest" and w.startswith("used while building") for n, w in plan.kept)


def test_writes_stay_inside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    write(
        tmp_path,
        {
            "shared/reqs.txt": "pytest\n",
            "svc/Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n"
            "RUN pip install -r /app/requirements.txt\n",
            "svc/requirements.txt": "-r ../shared/reqs.txt\nflask\n",
            "svc/app.py": "import flask\n",
        },
    )
    report = analyze(project, environment(dist("flask", 10), dist("pytest", 10)))
    # The include points outside the context: BuildKit cannot read it either; nothing is
    # written there.
    plan = plan_fix(report)
    assert all(c.path.resolve().is_relative_to(project.resolve()) for c in plan.changes)


def test_final_stage_installing_the_dev_file_installs_the_included_one(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements/ requirements/\n"
            "RUN pip install --no-cache-dir -r requirements/dev.txt\nCOPY . .\n"
            "CMD gunicorn service:app\n",
            "requirements/base.txt": "Flask==3.0.3\ngunicorn==22.0.0\n",
            "requirements/dev.txt": "-r base.txt\npytest==8.3.3\nblack==24.8.0\n",
            "service.py": SERVICE,
        },
    )
    assert fix(root) == ["Dockerfile"]
    assert (
        "RUN pip install --no-cache-dir -r requirements/base.txt\n"
        in (root / "Dockerfile").read_text()
    )
    assert (
        root / "requirements/dev.txt"
    ).read_text() == "-r base.txt\npytest==8.3.3\nblack==24.8.0\n"
    assert findings(analyze(root, ENV)) == set()
