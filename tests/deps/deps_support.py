"""Helpers for the dependency tests: a project written to a temporary directory, and an
installed environment made of fake distributions (what an image would report)."""

from __future__ import annotations

from pathlib import Path

from layerwise.context.project import BuildContext
from layerwise.deps.analysis import DepsReport, analyze_context
from layerwise.deps.installed import Environment, InstalledDist

SITE = "/usr/local/lib/python3.11/site-packages"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def dist(
    name: str,
    size: int = 1000,
    *,
    modules: tuple[str, ...] | None = None,
    requires: tuple[str, ...] = (),
    scripts: dict[str, str] | None = None,
    version: str = "1.0",
) -> InstalledDist:
    mods = modules if modules is not None else (name.lower().replace("-", "_"),)
    return InstalledDist(
        name, version, SITE, size, 3, frozenset(mods), requires, dict(scripts or {})
    )


def environment(*dists: InstalledDist) -> Environment:
    return Environment("image", "test:latest", {d.key: d for d in dists})


def analyze(root: Path, env: Environment | None = None, **kw: str) -> DepsReport:
    return analyze_context(BuildContext.load(root, **kw), env)  # type: ignore[arg-type]


def findings(report: DepsReport) -> set[tuple[str, str]]:
    return {(f.code, f.name) for f in report.findings}


FLASK_ENV = (
    dist("Flask", 700, modules=("flask",),
         requires=("Werkzeug>=3", "Jinja2>=3.1", "click>=8", "itsdangerous")),
    dist("Werkzeug", 1800), dist("Jinja2", 1200, requires=("MarkupSafe>=2",)),
    dist("MarkupSafe", 90), dist("click", 1000), dist("itsdangerous", 100),
    dist("gunicorn", 700, requires=("packaging",), scripts={"gunicorn": "gunicorn.app:run"}),
    dist("packaging", 1000),
)  # fmt: skip
PANDAS_ENV = (
    dist("pandas", 75_000, requires=("numpy>=1.23", "python-dateutil>=2.8", "pytz", "tzdata")),
    dist("numpy", 78_000, requires=()),
    dist("python-dateutil", 700, modules=("dateutil",)),
    dist("pytz", 1100), dist("tzdata", 600),
    dist("pytest", 2800, modules=("pytest", "_pytest", "py"),
         requires=("iniconfig", "packaging", "pluggy>=1.5", "colorama; sys_platform == 'win32'"),
         scripts={"pytest": "pytest:console_main", "py.test": "pytest:console_main"}),
    dist("iniconfig", 40), dist("pluggy", 200), dist("colorama", 500),
    dist("black", 6100, requires=("click>=8", "mypy-extensions", "packaging", "pathspec")),
    dist("mypy_extensions", 25), dist("pathspec", 300),
)  # fmt: skip

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD gunicorn --bind 0.0.0.0:8000 service:app
"""
SERVICE = "from flask import Flask\n\napp = Flask(__name__)\n"


def unused_deps_project(root: Path) -> Path:
    return write(
        root,
        {
            "Dockerfile": DOCKERFILE,
            "requirements.txt": "Flask==3.0.3\ngunicorn==22.0.0\npandas==2.2.2\nnumpy==1.26.4\n"
            "pytest==8.3.3\nblack==24.8.0\n",
            "service.py": SERVICE,
            "tests/test_service.py": "import pytest\nfrom service import app\n",
        },
    )
