"""The static scan: every way code names a module it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise.deps.commands import argv_uses, env_references
from layerwise.deps.imports import PARALLEL_FROM, file_role, first_party, scan_files, scan_source


def modules(source: str, kind: str | None = None) -> list[str]:
    scan = scan_source(source, "m.py")
    assert scan.error is None
    return [r.module for r in scan.references if kind is None or r.kind == kind]


def test_import_statements_anywhere() -> None:
    src = (
        "import os, numpy as np\n"
        "from pandas.io import sql\n"
        "from . import sibling\n"
        "from .pkg import thing\n"
        "def f():\n"
        "    import scipy.stats\n"
        "class C:\n"
        "    from yaml import safe_load\n"
    )
    assert modules(src) == ["os", "numpy", "pandas.io", "scipy.stats", "yaml"]


def test_optional_and_typing_imports_are_marked() -> None:
    src = (
        "from typing import TYPE_CHECKING\n"
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        "if TYPE_CHECKING:\n    import pandas\n"
        "if typing.TYPE_CHECKING:\n    import numpy\nelse:\n    import attrs\n"
    )
    scan = scan_source(src, "m.py")
    flags = {r.module: (r.optional, r.typing) for r in scan.references}
    assert flags["ujson"] == (True, False)
    assert flags["json"] == (False, False)  # the except branch is the fallback, not optional
    assert flags["pandas"] == (False, True)
    assert flags["numpy"] == (False, True)
    assert flags["attrs"] == (False, False)


@pytest.mark.parametrize(
    "src",
    [
        "import importlib\nm = importlib.import_module('redis')\n",
        "from importlib import import_module\nimport_module('redis.asyncio')\n",
        "mod = __import__('redis')\n",
        "from django.utils.module_loading import import_string\nimport_string('redis.Redis')\n",
        "load_plugin('redis')\n",
        "register_backend(name='x', module='redis')\n",
    ],
)
def test_modules_loaded_by_name(src: str) -> None:
    assert "redis" in {m.split(".")[0] for m in modules(src, "import_module")}


def test_django_settings_strings() -> None:
    src = """
INSTALLED_APPS = [
    "django.contrib.admin",
    "rest_framework",
    "corsheaders",
    "health",
]
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware", "whitenoise.middleware.WhiteNoiseMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}
CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://r:6379"}}
WSGI_APPLICATION = "mysite.wsgi.application"
"""
    scan = scan_source(src, "mysite/settings.py")
    tops = {r.top for r in scan.references}
    assert {"rest_framework", "corsheaders", "whitenoise", "django_redis", "mysite"} <= tops
    assert {"psycopg2", "psycopg"} <= tops  # the postgresql backend loads its driver
    assert "redis" in tops  # the redis:// URL


def test_urls_name_their_drivers() -> None:
    src = (
        "engine = create_engine('postgresql+asyncpg://u@h/db')\n"
        "app = Celery(broker='amqp://guest@rabbit//')\n"
        "db = 'mysql+pymysql://u@h/db'\n"
    )
    tops = set(modules(src, "implied"))
    assert tops == {"asyncpg", "amqp", "kombu", "pymysql"}


def test_prose_is_not_a_reference() -> None:
    src = '"""Uses numpy.linalg for the math."""\nx = "see numpy.linalg docs"\ny = "index.html"\n'
    assert "numpy" not in {m.split(".")[0] for m in modules(src)}


def test_gpu_use_is_noticed() -> None:
    assert scan_source("import torch\nx = torch.zeros(1).cuda()\n", "m.py").gpu
    assert scan_source("device = 'cuda:0'\n", "m.py").gpu
    assert not scan_source("import torch\nx = torch.zeros(1)\n", "m.py").gpu


def test_syntax_error_is_reported_not_guessed() -> None:
    scan = scan_source("import flask\ndef broken(:\n", "app.py")
    assert scan.references == [] and scan.error is not None and scan.error.startswith("app.py:2")


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("app/main.py", "app"),
        ("tests/test_main.py", "test"),
        ("src/pkg/tests/helpers.py", "test"),
        ("test_thing.py", "test"),
        ("thing_test.py", "test"),
        ("conftest.py", "test"),
        ("setup.py", "dev"),
        ("docs/conf.py", "dev"),
        ("app/conf.py", "app"),
        ("app/testing_utils.py", "app"),
    ],
)
def test_file_role(path: str, role: str) -> None:
    assert file_role(path) == role


def test_first_party_names() -> None:
    names = first_party(["service.py", "src/greeter/__init__.py", "src/greeter/server.py", "a.txt"])
    assert names == {"service", "src", "greeter", "__init__", "server"}


# -- commands ---------------------------------------------------------------------------------


def uses(*argv: str) -> tuple[list[str], list[str]]:
    programs, refs = argv_uses(list(argv), "Dockerfile", 9, runtime=True)
    return [p.program for p in programs], [r.module for r in refs]


def test_gunicorn_with_a_uvicorn_worker() -> None:
    programs, mods = uses("gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", ":80", "app:app")
    assert programs == ["gunicorn"]
    assert {m.split(".")[0] for m in mods} == {"uvicorn", "app"}


def test_python_dash_m_and_dash_c() -> None:
    assert uses("python", "-m", "uvicorn", "app.main:app", "--port", "80") == (
        [],
        ["uvicorn", "app.main"],
    )
    waitress = uses("/usr/local/bin/python3.11", "-u", "-mwaitress", "app:app")
    assert waitress[1] == ["waitress", "app"]
    assert uses("python", "-c", "import nltk; nltk.download('punkt')") == ([], ["nltk"])
    assert uses("python", "manage.py", "runserver") == ([], [])


def test_app_options_name_modules() -> None:
    assert uses("celery", "-A", "proj", "worker", "--loglevel=info") == (["celery"], ["proj"])
    assert uses("celery", "--app=proj.celery", "beat")[1] == ["proj.celery"]
    assert uses("django-admin", "migrate", "--settings=mysite.settings")[1] == ["mysite.settings"]


def test_env_values() -> None:
    refs = env_references(
        {"DJANGO_SETTINGS_MODULE": "mysite.settings", "DATABASE_URL": "postgres://db/app",
         "PORT": "8000"},
        "Dockerfile",
        3,
    )  # fmt: skip
    assert sorted(r.module for r in refs) == ["mysite.settings", "psycopg", "psycopg2"]


def test_parallel_scan_matches_sequential(tmp_path: Path) -> None:
    paths = []
    for i in range(PARALLEL_FROM + 10):
        rel = f"pkg{i % 7}/m{i}.py"
        path = tmp_path / rel
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"import os\nimport mod{i}\nX = 'lib{i}.sub:attr'\n")
        paths.append(rel)
    paths.append("missing.py")
    one = scan_files(tmp_path, paths, workers=1)
    two = scan_files(tmp_path, paths, workers=2)
    assert [(s.path, s.references, s.error) for s in one] == [
        (s.path, s.references, s.error) for s in two
    ]
    assert one[-1].error is not None and one[5].references[1].module == "mod5"


def test_hostile_sources_do_not_crash() -> None:
    assert scan_source(b"import os\x00\n", "nul.py").error is not None
    deep = "INSTALLED_APPS = " + " + ".join(["['a']"] * 20000) + "\nimport flask\n"
    scan = scan_source(deep, "settings.py")
    assert scan.error is not None or "flask" in [r.module for r in scan.references]
    nested = "x = " + "(" * 500 + "1" + ")" * 500 + "\n"
    assert scan_source(nested, "deep.py").error is not None
