"""Project detection for `layerwise init`: every detection path on a fixture project
(tests/fixtures/init/) or an example app, with the facts it must find and where from."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from examples_support import EXAMPLES_DIR
from layerwise.errors import InputError
from layerwise.generate import detect_project
from layerwise.generate.manifests import _poetry_to_pep440, detect_python
from layerwise.generate.requirements import read_chain

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "init"
LOCAL = f"{sys.version_info.major}.{sys.version_info.minor}"


def _where(name: str) -> Path:
    return FIXTURES / name if (FIXTURES / name).is_dir() else EXAMPLES_DIR / name


# name -> facts (only the keys given are checked)
EXPECTED: dict[str, dict[str, Any]] = {
    # requirements chains, -c, --no-binary, aliased Flask import, `application` name
    "req-chain": {
        "manager": "pip",
        "manifests": (
            "requirements.txt",
            "requirements/base.txt",
            "requirements/common.txt",
            "constraints.txt",
        ),
        "kind": "wsgi",
        "framework": "flask",
        "target": "wsgi:application",
        "health": "/healthz",
        "native": ("lxml",),
        "port": 8000,
    },
    "flask-pip": {
        "manager": "pip",
        "manifests": ("requirements.txt", "base.txt"),
        "target": "app:app",
        "health": "/health",
    },
    "fastapi-uvicorn": {"kind": "asgi", "framework": "fastapi", "target": "app.main:app"},
    "numpy-pandas": {"target": "report:app", "native": ()},
    "unused-deps": {"target": "service:app"},
    # Django: manage.py -> settings -> WSGI_APPLICATION; psycopg2 compiles
    "django-psycopg2": {
        "kind": "django",
        "target": "mysite.wsgi:application",
        "health": "/health/",
        "native": ("psycopg2",),
        "writable": (".",),  # SQLite at BASE_DIR / "db.sqlite3": /app itself
    },
    # settings in a config package, an include() prefix, MEDIA_ROOT to write to
    "django-postgres": {
        "kind": "django",
        "target": "config.wsgi:application",
        "health": "/api/healthz/",
        "native": ("psycopg2",),
        "writable": ("data", "media"),  # SQLite in data/ when POSTGRES_HOST is unset
    },
    # ASGI_APPLICATION with uvicorn installed; re_path with an optional slash
    "django-asgi": {"kind": "django", "target": "proj.asgi:application", "health": "/health/"},
    # uv: .python-version, an application factory, no server in the dependencies
    "uv-flask-factory": {
        "manager": "uv",
        "manifests": ("pyproject.toml", "uv.lock"),
        "python": "3.11",
        "python_from": ".python-version",
        "target": "linkshort:create_app()",
        "health": "/health",
    },
    "uv-app": {
        "manager": "uv",
        "kind": "asgi",
        "framework": "starlette",
        "target": "uv_app.app:app",
    },
    # Poetry: lock, src layout (`from = "src"`), FastAPI router prefix
    "poetry-fastapi": {
        "manager": "poetry",
        "manifests": ("pyproject.toml", "poetry.lock"),
        "target": "notes_api.main:app",
        "health": "/api/healthz",
        "import_root": "src",
        "python_from": "[tool.poetry] python",
    },
    # Poetry app whose __main__ starts waitress: run as it is meant to be run
    "poetry-app": {
        "kind": "module",
        "target": "poetry_app",
        "port_env": "PORT",
        "health": "/health",
    },
    # a Poetry console script; the port from os.getenv("APP_PORT", "9000"); a health check by
    # comparison of the request path; lock-version 2.1
    "poetry-scripts": {
        "kind": "console-script",
        "script": "bookstore-serve",
        "target": "bookstore.cli:main",
        "port": 9000,
        "port_env": "APP_PORT",
        "health": "/livez",
        "lock_version": "2.1",
    },
    # PEP 621 `pip install .`, console script, click envvar port, src layout
    "pip-package": {
        "manager": "pep621",
        "kind": "console-script",
        "script": "greeter-server",
        "port": 8000,
        "port_env": "PORT",
        "import_root": "src",
        "python_from": "requires-python",
    },
    # Pipenv: Pipfile python_version, Starlette, a wheel that needs a runtime library
    "pipenv-starlette": {
        "manager": "pipenv",
        "python": "3.12",
        "python_from": "Pipfile",
        "framework": "starlette",
        "health": "/ping",
        "runtime_packages": ("libodbc2",),
    },
    # PDM: requires-python the running Python does not satisfy, Quart, mysqlclient
    "pdm-quart": {
        "manager": "pdm",
        "python": "3.12",
        "framework": "quart",
        "target": "board.app:app",
        "native": ("mysqlclient",),
    },
    # setup.py only: runtime.txt, a package __main__ serving with waitress on a literal port
    "setup-py": {
        "manager": "setuptools",
        "python": "3.10",
        "python_from": "runtime.txt",
        "kind": "module",
        "target": "svc",
        "port": 8080,
        "port_env": None,
        "native": ("psycopg2",),
    },
    # Celery: broker and backend from the environment
    "celery-worker": {
        "kind": "celery",
        "target": "tasks",
        "port": None,
        "broker": ("redis", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"),
    },
    # Celery app named `celery` in a package, configured from celeryconfig.py
    "celery-config": {
        "kind": "celery",
        "target": "worker.celery_app",
        "broker": ("amqp", None, None),
    },
    # requirements/prod.txt when there is no requirements.txt; -r relative to that file
    "req-subdir": {
        "manager": "pip",
        "manifests": ("requirements/prod.txt", "requirements/base.txt"),
        "framework": "starlette",
        "target": "main:app",
        "health": "/health",
    },
    # a Falcon WSGI object not called `app`; add_route health
    "falcon-wsgi": {
        "kind": "wsgi",
        "framework": "falcon",
        "target": "service:api",
        "health": "/status",
    },
    "fastapi-factory": {"kind": "asgi", "target": "api.factory:create_app()", "health": "/readyz"},
    # a plain script reading PORT without a default; no manifest at all
    "plain-script": {"manager": "none", "kind": "script", "target": "main.py", "port_env": "PORT"},
    # a script with no port: a background process; a log directory it writes to
    "worker-script": {"kind": "script", "port": None, "writable": ("logs",)},
}


def _facts(name: str) -> dict[str, Any]:
    p = detect_project(_where(name))
    return {
        "manager": p.dependencies.manager,
        "manifests": p.dependencies.manifests,
        "lock_version": p.dependencies.lock_version,
        "python": p.python,
        "python_from": p.python_source,
        "kind": p.entry.kind,
        "framework": p.entry.framework,
        "target": p.entry.target,
        "script": p.entry.script,
        "port": p.port,
        "port_env": p.port_env,
        "health": p.health_path,
        "native": tuple(n.name for n in p.native),
        "runtime_packages": p.runtime_packages,
        "writable": p.writable_dirs,
        "import_root": p.import_root,
        "broker": None
        if p.broker is None
        else (p.broker.scheme, p.broker.env, p.broker.backend_env),
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detection(name: str) -> None:
    facts = _facts(name)
    for key, expected in EXPECTED[name].items():
        if key == "python_from":
            assert expected in facts[key], (key, facts[key])
        else:
            assert facts[key] == expected, (key, facts[key])


def test_every_fixture_has_an_expectation() -> None:
    fixtures = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    errors = {"req-missing", "req-local", "no-python", "poetry-no-lock"}
    assert fixtures - errors <= set(EXPECTED)


def test_native_build_packages_and_runtime_libraries() -> None:
    project = detect_project(FIXTURES / "req-chain")
    (lxml,) = project.native
    assert lxml.build_packages == ("gcc", "libc6-dev", "libxml2-dev", "libxslt1-dev")
    assert lxml.runtime_packages == ("libxml2", "libxslt1.1")
    assert "--no-binary" in lxml.reason
    (psycopg2,) = detect_project(EXAMPLES_DIR / "django-psycopg2").native
    assert psycopg2.runtime_packages == ("libpq5",)
    (mysql,) = detect_project(FIXTURES / "pdm-quart").native
    assert "default-libmysqlclient-dev" in mysql.build_packages
    assert mysql.runtime_packages == ("libmariadb3",)


def test_declared_names_follow_the_chain_but_not_constraints() -> None:
    chain = read_chain(FIXTURES / "req-chain", "requirements.txt")
    assert {"flask", "requests", "gunicorn", "lxml"} <= chain.names
    assert "urllib3" not in chain.names  # only a constraint
    assert chain.no_binary == {"lxml"}


def test_lock_files_give_the_transitive_main_dependencies() -> None:
    names = detect_project(EXAMPLES_DIR / "uv-app").dependencies.names
    assert {"starlette", "uvicorn", "anyio", "h11"} <= names
    assert "pytest" not in names  # a dev dependency
    names = detect_project(FIXTURES / "poetry-fastapi").dependencies.names
    assert {"fastapi", "starlette", "pydantic", "uvicorn"} <= names
    assert "pytest" not in names


@pytest.mark.parametrize(
    ("name", "message", "where"),
    [
        ("req-missing", "missing.txt: no such requirements file", "requirements.txt:2:1"),
        ("req-local", "installs a local path", "requirements.txt:2:1"),
        ("poetry-no-lock", "run `poetry lock` first", "pyproject.toml:1:1"),
        ("no-python", "no Python project here", None),
    ],
)
def test_bad_projects_are_clear_errors(name: str, message: str, where: str | None) -> None:
    with pytest.raises(InputError) as info:
        detect_project(FIXTURES / name)
    assert message in str(info.value)
    if where is not None:
        assert str(info.value.location).endswith(where)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        detect_project(tmp_path / "missing")


def test_requirements_outside_the_project_are_refused(tmp_path: Path) -> None:
    (tmp_path / "shared.txt").write_text("flask\n")
    project = tmp_path / "p"
    project.mkdir()
    (project / "requirements.txt").write_text("-r ../shared.txt\n")
    with pytest.raises(InputError, match="outside the project"):
        detect_project(project)


def test_invalid_pyproject_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = \n')
    with pytest.raises(InputError) as info:
        detect_project(tmp_path)
    assert info.value.location is not None and info.value.location.line == 3


def test_no_entry_point_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n")
    (tmp_path / "lib.py").write_text("def helper():\n    return 1\n")
    with pytest.raises(InputError, match="no way to start the application"):
        detect_project(tmp_path)


def test_overrides(tmp_path: Path) -> None:
    project = detect_project(EXAMPLES_DIR / "flask-pip", python="3.12", port=5000)
    assert (project.python, project.python_source) == ("3.12", "--python")
    assert (project.port, project.port_source) == (5000, "--port")
    with pytest.raises(InputError, match="--python"):
        detect_project(EXAMPLES_DIR / "flask-pip", python="three")


@pytest.mark.parametrize(
    ("constraint", "inside", "outside"),
    [
        ("^3.11", ["3.11", "3.13"], ["3.10", "4.0"]),
        ("~3.11", ["3.11"], ["3.12"]),
        (">=3.9,<3.12", ["3.9", "3.11"], ["3.12"]),
        (">=3.9 <3.12", ["3.10"], ["3.12"]),
        ("3.10.*", ["3.10"], ["3.11"]),
        ("^3.9 || ^4.0", ["3.9", "4.1"], ["3.8"]),
    ],
)
def test_poetry_python_constraints(constraint: str, inside: list[str], outside: list[str]) -> None:
    specs = _poetry_to_pep440(constraint)
    for version in inside:
        assert any(s.contains(version + ".0") for s in specs), version
    for version in outside:
        assert not any(s.contains(version + ".0") for s in specs), version


def test_python_version_sources(tmp_path: Path) -> None:
    assert detect_python(tmp_path, None)[0] in ("3.9", "3.10", "3.11", "3.12", "3.13")
    (tmp_path / "runtime.txt").write_text("python-3.9.18\n")
    assert detect_python(tmp_path, None) == ("3.9", "runtime.txt: python-3.9.18")
    (tmp_path / ".python-version").write_text("# pinned\n3.12.4\n")
    assert detect_python(tmp_path, None) == ("3.12", ".python-version: 3.12.4")
    version, source = detect_python(
        tmp_path / "nowhere", {"project": {"requires-python": ">=3.13"}}
    )
    assert version == "3.13" and "oldest maintained" in source
    if LOCAL in ("3.11", "3.12"):
        version, source = detect_python(
            tmp_path / "nowhere", {"project": {"requires-python": ">=3.10"}}
        )
        assert version == LOCAL and "running layerwise" in source
    with pytest.raises(InputError, match="no maintained Python"):
        detect_python(tmp_path / "nowhere", {"project": {"requires-python": "<3.0"}})


def test_a_file_that_does_not_parse_is_skipped_and_named(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES_DIR / "flask-pip", tmp_path / "p")
    (tmp_path / "p" / "legacy.py").write_text("def oops(:\n    pass\n")
    project = detect_project(tmp_path / "p")
    assert project.entry.target == "app:app"
    assert project.notes == ("could not parse legacy.py (skipped)",)
