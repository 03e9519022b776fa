"""Declared versus used on fixture projects: every manifest kind, every detection path, the
traps that must not be reported as unused, and the bytes attributed to each finding (with an
environment of fake distributions standing in for an image)."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_support import (
    DOCKERFILE,
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


def test_example_shape_with_sizes(tmp_path: Path) -> None:
    root = unused_deps_project(tmp_path)
    report = analyze(root, environment(*FLASK_ENV, *PANDAS_ENV))
    assert findings(report) == {
        ("LW801", "pandas"),
        ("LW801", "numpy"),
        ("LW802", "pytest"),
        ("LW802", "black"),
        ("LW804", "requirements.txt"),
    }
    by = {f.name: f for f in report.findings if f.code in ("LW801", "LW802")}
    # Each removed distribution is counted once; shared ones stay with what is kept.
    assert by["numpy"].bytes == 78_000
    assert by["pandas"].bytes == 75_000 + 700 + 1100 + 600
    assert by["pytest"].bytes == 2800 + 40 + 200  # packaging stays (gunicorn); colorama: win32
    assert by["black"].bytes == 6100 + 25 + 300  # click stays (Flask)
    assert report.removable_bytes == sum(f.bytes or 0 for f in by.values())
    assert "only tests use it: tests/test_service.py:1" in by["pytest"].message
    flask = report.dependency("flask")
    assert flask is not None and flask.used and flask.installed_bytes == 700
    werkzeug = report.dependency("werkzeug")
    assert werkzeug is not None and not werkzeug.direct and werkzeug.pulled_in_by == ["Flask"]
    gunicorn = report.dependency("gunicorn")
    assert gunicorn is not None and gunicorn.used
    assert gunicorn.usage[0].where == "Dockerfile:5" and gunicorn.usage[0].how == "command"


def test_without_an_image_names_match_by_guess(tmp_path: Path) -> None:
    report = analyze(unused_deps_project(tmp_path))
    assert {(c, n) for c, n in findings(report)} >= {("LW801", "pandas"), ("LW802", "black")}
    assert all(f.bytes is None for f in report.findings)
    assert report.removable_bytes is None
    assert any("no image" in n for n in report.notes)


def test_a_declared_dependency_that_a_used_one_requires_is_used(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "Flask\ngunicorn\nWerkzeug==3.0.6\nMarkupSafe\n",
            "service.py": SERVICE,
        },
    )
    report = analyze(root, environment(*FLASK_ENV))
    assert findings(report) == set()
    werkzeug = report.dependency("werkzeug")
    assert werkzeug is not None and werkzeug.used and werkzeug.required_by == ["flask"]
    markupsafe = report.dependency("markupsafe")
    assert markupsafe is not None and markupsafe.used and markupsafe.required_by == ["flask"]


# -- traps: used, although never imported by name -------------------------------------------

DJANGO_SETTINGS = """\
INSTALLED_APPS = ["django.contrib.admin", "rest_framework", "health"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}
CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}
"""


def test_trap_django_settings_strings(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE.replace("service:app", "mysite.wsgi"),
            "requirements.txt": "Django\ngunicorn\npsycopg2-binary\ndjangorestframework\n"
            "django-redis\n",
            "mysite/settings.py": DJANGO_SETTINGS,
            "mysite/wsgi.py": "from django.core.wsgi import get_wsgi_application\n",
            "health/views.py": "from django.http import JsonResponse\n",
        },
    )
    env = environment(
        dist("Django", 9000, modules=("django",)),
        dist("psycopg2-binary", 3000, modules=("psycopg2",)),
        dist("djangorestframework", 2000, modules=("rest_framework",)),
        dist("django-redis", 100, modules=("django_redis",), requires=("redis",)),
        dist("redis", 800),
        *FLASK_ENV,
    )
    for e in (env, None):  # with installed metadata and with the name table alone
        report = analyze(root, e)
        assert findings(report) == set(), report.findings
        assert report.dependency("psycopg2-binary").used  # type: ignore[union-attr]


def test_trap_entry_point(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\nRUN pip install .\n"
            'CMD ["serve"]\n',
            "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\n'
            'dependencies = ["waitress", "svc-plugins"]\n'
            '[project.scripts]\nserve = "waitress.runner:run"\n'
            '[project.entry-points."svc.plugins"]\nextra = "svc_plugins.extra:Plugin"\n',
            "svc/__init__.py": "",
        },
    )
    env = environment(
        dist("waitress", 500, scripts={"waitress-serve": "waitress.runner:run"}),
        dist("svc-plugins", 100, modules=("svc_plugins",)),
    )
    report = analyze(root, env)
    assert findings(report) == set()
    assert [u.how for u in report.dependency("waitress").usage] == ["entry_point"]  # type: ignore[union-attr]


def test_trap_python_dash_m_in_cmd(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\nWORKDIR /app\n"
            "RUN pip install -r requirements.txt\n"
            'CMD ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0"]\n',
            "requirements.txt": "fastapi\nuvicorn[standard]\n",
            "app/__init__.py": "",
            "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    env = environment(
        dist("fastapi", 900),
        dist("uvicorn", 400, requires=("httptools; extra == 'standard'", "click")),
        dist("httptools", 300),
        dist("click", 1000),
    )
    report = analyze(root, env)
    assert findings(report) == set()
    uvicorn = report.dependency("uvicorn")
    assert uvicorn is not None and uvicorn.usage[0].where == "Dockerfile:5"
    # the extra's requirements are attributed to uvicorn
    assert report.dependency("httptools").pulled_in_by == ["uvicorn"]  # type: ignore[union-attr]


def test_trap_plugin_loaded_by_name(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "Flask\ngunicorn\nflask-caching\nsentry-sdk\n",
            "service.py": SERVICE
            + "import importlib\n"
            + "PLUGINS = ['flask_caching']\n"
            + "for name in PLUGINS:\n    importlib.import_module(name)\n"
            + "integration = importlib.import_module('sentry_sdk.integrations.flask')\n",
        },
    )
    env = environment(
        *FLASK_ENV, dist("Flask-Caching", 100, modules=("flask_caching",)),
        dist("sentry-sdk", 2000, modules=("sentry_sdk",)),
    )  # fmt: skip
    report = analyze(root, env)
    assert findings(report) == set()
    hows = {u.how for d in ("flask-caching", "sentry-sdk") for u in report.dependency(d).usage}  # type: ignore[union-attr]
    assert {"setting", "import_module"} <= hows


def test_build_time_use_is_use_but_a_dev_tool_still_reported(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE.replace(
                "RUN pip install -r requirements.txt\n",
                "RUN pip install -r requirements.txt\nRUN python -m pytest -q && nltk-fetch\n",
            ),
            "requirements.txt": "Flask\ngunicorn\npytest\n",
            "service.py": SERVICE,
        },
    )
    report = analyze(root, environment(*FLASK_ENV, *PANDAS_ENV))
    f = next(f for f in report.findings if f.name == "pytest")
    assert f.code == "LW802" and "used at build time (Dockerfile:5)" in f.message
    assert report.dependency("pytest").used  # type: ignore[union-attr]


# -- which manifest reaches which stage -------------------------------------------------------


def test_multistage_builder_venv_reaches_final_and_test_stage_does_not(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": """\
FROM python:3.11-slim AS builder
RUN python -m venv /venv
COPY requirements/ /req/
RUN /venv/bin/pip install -r /req/prod.txt

FROM builder AS test
RUN /venv/bin/pip install -r /req/dev.txt

FROM python:3.11-slim
COPY --from=builder /venv /venv
COPY app.py /app/
CMD ["/venv/bin/python", "/app/app.py"]
""",
            "requirements/prod.txt": "requests\n",
            "requirements/dev.txt": "-r prod.txt\npytest\n",
            "app.py": "import requests\n",
        },
    )
    report = analyze(root)
    reach = {(m.manifest, m.stage, m.in_final) for m in report.manifests}
    assert ("requirements/prod.txt", "builder", True) in reach
    assert not any(m.manifest == "requirements/dev.txt" and m.in_final for m in report.manifests)
    assert findings(report) == set()
    test_target = analyze(root, target="test")
    assert ("LW802", "pytest") in findings(test_target)


def test_named_packages_and_pyproject_extras(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml .\n"
            "COPY src/ src/\nRUN pip install '.[reports]' gunicorn==22.0.0 ipython\n"
            'CMD ["gunicorn", "svc.app:app"]\n',
            "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = ["flask"]\n'
            '[project.optional-dependencies]\nreports = ["pandas"]\ndev = ["pytest"]\n',
            "src/svc/__init__.py": "",
            "src/svc/app.py": SERVICE,
        },
    )
    report = analyze(root)
    use = next(m for m in report.manifests if m.manifest == "pyproject.toml")
    assert use.groups == ["main", "reports"] and use.in_final
    assert findings(report) == {("LW801", "pandas"), ("LW802", "ipython")}
    ipython = report.dependency("ipython")
    assert ipython is not None and ipython.declared_in == ["Dockerfile:5"]


@pytest.mark.parametrize(
    ("command", "expect_pytest"),
    [
        ("poetry install --no-root", True),
        ("poetry install --no-root --without dev", False),
        ("poetry install --only main", False),
        ("poetry export -f requirements.txt -o req.txt && pip install -r req.txt", False),
        ("poetry export --with dev -o req.txt && pip install -r req.txt", True),
    ],
)
def test_poetry_groups_reach_the_image(tmp_path: Path, command: str, expect_pytest: bool) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN {command}\n"
            'CMD ["python", "-m", "poetry_app"]\n',
            "pyproject.toml": '[tool.poetry]\nname = "poetry-app"\nversion = "1"\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nflask = "*"\n'
            '[tool.poetry.group.dev.dependencies]\npytest = "*"\n',
            "poetry_app/__init__.py": "",
            "poetry_app/__main__.py": "import flask\n",
        },
    )
    report = analyze(root)
    assert (("LW802", "pytest") in findings(report)) == expect_pytest
    assert report.dependency("flask").used  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("command", "expect_pytest"),
    [
        ("uv sync --frozen", True),
        ("uv sync --frozen --no-dev", False),
        ("pipenv install --system --deploy", False),
        ("pipenv install --system --deploy --dev", True),
    ],
)
def test_uv_and_pipenv(tmp_path: Path, command: str, expect_pytest: bool) -> None:
    files = {
        "Dockerfile": f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN {command}\n"
        'CMD ["python", "app.py"]\n',
        "app.py": "import flask\n",
    }
    if command.startswith("uv"):
        files["pyproject.toml"] = (
            '[project]\nname = "uv-app"\nversion = "1"\ndependencies = ["flask"]\n'
            '[dependency-groups]\ndev = ["pytest"]\n'
        )
    else:
        files["Pipfile"] = '[packages]\nflask = "*"\n[dev-packages]\npytest = "*"\n'
    report = analyze(write(tmp_path, files))
    assert (("LW802", "pytest") in findings(report)) == expect_pytest
    assert report.dependency("flask").used  # type: ignore[union-attr]


def test_transitive_import(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "Flask\ngunicorn\n",
            "service.py": SERVICE + "from werkzeug.exceptions import NotFound\nimport yaml\n",
        },
    )
    report = analyze(root, environment(*FLASK_ENV))
    f = next(f for f in report.findings if f.code == "LW803")
    assert f.name == "Werkzeug" and "arrives because Flask requires it" in f.message
    assert (f.path, f.line) == ("service.py", 4)
    # without metadata: the undeclared imports are reported as such
    static = analyze(root)
    assert {n for c, n in findings(static) if c == "LW803"} == {"werkzeug", "yaml"}


def test_cuda_wheels(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n"
        "RUN pip install -r /app/requirements.txt\n"
        'CMD ["python", "/app/infer.py"]\n',
        "requirements.txt": "torch\n",
        "infer.py": "import torch\nprint(torch.ones(2).sum())\n",
    }
    env = environment(
        dist("torch", 900_000, requires=("nvidia-cublas-cu12; platform_system == 'Linux'",
                                         "triton; platform_machine == 'x86_64'")),
        dist("nvidia-cublas-cu12", 500_000, modules=("nvidia.cublas",)),
        dist("triton", 200_000),
    )  # fmt: skip
    report = analyze(write(tmp_path, files), env)
    f = next(f for f in report.findings if f.code == "LW805")
    assert f.bytes == 700_000 and "pulled in by torch" in f.message
    assert ("LW805", "torch") in findings(analyze(tmp_path))  # statically, too
    (tmp_path / "infer.py").write_text("import torch\nx = torch.ones(2).to('cuda')\n")
    assert not any(f.code == "LW805" for f in analyze(tmp_path, env).findings)


def test_vendored_site_packages_are_not_scanned(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "Flask\ngunicorn\nrequests\n",
            "service.py": SERVICE,
            ".venv/lib/python3.11/site-packages/requests/__init__.py": "import urllib3\n",
        },
    )
    report = analyze(root)
    assert ("LW801", "requests") in findings(report)
    assert report.scanned_files == 1


def test_trap_entrypoint_script(tmp_path: Path) -> None:
    """A shell script shipped in the image that starts the server uses it."""
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            "RUN pip install -r requirements.txt\n"
            'ENTRYPOINT ["/app/docker/entrypoint.sh"]\n',
            "requirements.txt": "Flask\ngunicorn\nalembic\n",
            "docker/entrypoint.sh": "#!/bin/sh\nset -e\nalembic upgrade head\n"
            'exec gunicorn --bind "0.0.0.0:${PORT:-8000}" service:app\n',
            "service.py": SERVICE,
        },
    )
    env = environment(*FLASK_ENV, dist("alembic", 900, scripts={"alembic": "alembic.config:main"}))
    report = analyze(root, env)
    assert findings(report) == set()
    assert report.dependency("gunicorn").usage[0].where == "docker/entrypoint.sh:4"  # type: ignore[union-attr]


def test_editable_project_in_a_requirements_file(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\n"
            'RUN pip install -r requirements.txt\nCMD ["svc-serve"]\n',
            "requirements.txt": "gunicorn==22.0.0\n-e .[reports]\n",
            "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = ["flask"]\n'
            '[project.optional-dependencies]\nreports = ["pandas"]\n'
            '[project.scripts]\nsvc-serve = "gunicorn.app.wsgiapp:run"\n',
            "svc/__init__.py": "",
            "svc/app.py": SERVICE,
        },
    )
    report = analyze(root)
    assert findings(report) == {("LW801", "pandas")}
    assert report.dependency("flask").declared_in == ["pyproject.toml:4 [main]"]  # type: ignore[union-attr]
    assert report.dependency("gunicorn").used  # through the entry point  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "cmd",
    [
        'CMD ["/bin/sh", "-c", "exec gunicorn --bind 0.0.0.0:$PORT app:app"]',
        "CMD gunicorn --bind 0.0.0.0:$PORT app:app",
        'CMD ["gunicorn", "app:app"]',
    ],
)
def test_program_run_through_a_shell_is_used(tmp_path: Path, cmd: str) -> None:
    # LW602's fix keeps the shell for `$PORT` and execs the server: gunicorn is still run.
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
            f"RUN pip install -r requirements.txt\n{cmd}\n",
            "requirements.txt": "gunicorn\n",
            "app.py": "app = None\n",
        },
    )
    report = analyze(root, environment(dist("gunicorn", 700, scripts={"gunicorn": "g:run"})))
    assert findings(report) == set(), report.findings
    assert report.dependency("gunicorn").used  # type: ignore[union-attr]


SETUP_PY = """from setuptools import find_packages, setup

setup(
    name="svc",
    packages=find_packages(),
    install_requires=["waitress==3.0.0", "psycopg2==2.9.9"],
    extras_require={"dev": ["pytest"]},
)
"""


@pytest.mark.parametrize("pyproject", [None, '[build-system]\nrequires = ["setuptools"]\n'])
def test_setup_py_declarations_are_read_without_running_it(
    tmp_path: Path, pyproject: str | None
) -> None:
    files = {
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
        'CMD ["python", "-m", "svc"]\n',
        "setup.py": SETUP_PY,
        "svc/__init__.py": "",
        "svc/__main__.py": "from waitress import serve\n",
    }
    if pyproject is not None:  # a pyproject.toml for the build system only
        files["pyproject.toml"] = pyproject
    report = analyze(write(tmp_path, files))
    # waitress is used, psycopg2 is declared (line 6) and never imported, pytest is an extra
    # the install does not ask for
    assert findings(report) == {("LW801", "psycopg2")}
    assert report.dependency("waitress").used  # type: ignore[union-attr]
    assert report.dependency("pytest") is None


def test_unreadable_declarations_report_no_undeclared_imports(tmp_path: Path) -> None:
    # A computed install_requires cannot be known without running setup.py: the analysis
    # says so and does not claim the imports are undeclared.
    computed = SETUP_PY.replace(
        'install_requires=["waitress==3.0.0", "psycopg2==2.9.9"]',
        "install_requires=open('requirements.txt').read().split()",
    )
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
            'CMD ["python", "-m", "svc"]\n',
            "setup.py": computed,
            "requirements.txt": "waitress\n",
            "svc/__init__.py": "",
            "svc/__main__.py": "from waitress import serve\n",
        },
    )
    report = analyze(root)
    assert findings(report) == set()
    assert any("could not be read" in n for n in report.notes), report.notes
    assert any("computed" in p for p in report.parse_errors), report.parse_errors
