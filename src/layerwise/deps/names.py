"""Names: distributions, the modules they provide, the tools that only development needs.

The tables here are the fallback when no installed metadata is at hand (no image, no venv):
with an image, the modules a distribution provides come from its RECORD and `top_level.txt`,
and its console scripts from `entry_points.txt`.
"""

from __future__ import annotations

import re
import sys

from packaging.utils import canonicalize_name


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name (`Flask_SQLAlchemy` -> `flask-sqlalchemy`)."""
    return str(canonicalize_name(name))


STDLIB: frozenset[str] = frozenset(sys.stdlib_module_names) | {"__future__", "__main__"}

# Distributions whose import name is not their normalised name (the common cases; with an image
# or a venv the installed RECORD decides).
DIST_MODULES: dict[str, tuple[str, ...]] = {
    "attrs": ("attr", "attrs"),
    "beautifulsoup4": ("bs4",),
    "dnspython": ("dns",),
    "djangorestframework": ("rest_framework",),
    "django-cors-headers": ("corsheaders",),
    "django-environ": ("environ",),
    "django-redis": ("django_redis",),
    "django-storages": ("storages",),
    "django-filter": ("django_filters",),
    "djangorestframework-simplejwt": ("rest_framework_simplejwt",),
    "faiss-cpu": ("faiss",),
    "faiss-gpu": ("faiss",),
    "google-api-python-client": ("googleapiclient",),
    "grpcio": ("grpc",),
    "mysqlclient": ("MySQLdb",),
    "mysql-connector-python": ("mysql",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "opencv-contrib-python": ("cv2",),
    "opencv-contrib-python-headless": ("cv2",),
    "pillow": ("PIL",),
    "protobuf": ("google",),
    "psycopg2-binary": ("psycopg2",),
    "psycopg-binary": ("psycopg_binary",),
    "pyjwt": ("jwt",),
    "pymupdf": ("fitz", "pymupdf"),
    "pyopenssl": ("OpenSSL",),
    "python-dateutil": ("dateutil",),
    "python-dotenv": ("dotenv",),
    "python-jose": ("jose",),
    "python-multipart": ("multipart", "python_multipart"),
    "python-magic": ("magic",),
    "python-json-logger": ("pythonjsonlogger",),
    "python-slugify": ("slugify",),
    "pytz": ("pytz",),
    "pyyaml": ("yaml",),
    "pyzmq": ("zmq",),
    "ruamel-yaml": ("ruamel",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "sentry-sdk": ("sentry_sdk",),
    "setuptools": ("setuptools", "pkg_resources", "_distutils_hack"),
    "tensorflow-cpu": ("tensorflow",),
    "typing-extensions": ("typing_extensions",),
    "uvicorn": ("uvicorn",),
    "websocket-client": ("websocket",),
    "msgpack-python": ("msgpack",),
    "email-validator": ("email_validator",),
    "markdown": ("markdown",),
    "ipython": ("IPython",),
    "pyserial": ("serial",),
    "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",),
    "python-socketio": ("socketio",),
    "python-engineio": ("engineio",),
    "google-cloud-storage": ("google",),
    "google-cloud-pubsub": ("google",),
    "azure-storage-blob": ("azure",),
    "ultralytics": ("ultralytics",),
    "torch": ("torch",),
}

# Console scripts that a CMD commonly names, and the distribution providing each (fallback
# when no image tells; with an image, entry_points.txt of every distribution decides).
SCRIPT_DISTS: dict[str, str] = {
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
    "granian": "granian",
    "waitress-serve": "waitress",
    "celery": "celery",
    "flask": "flask",
    "django-admin": "django",
    "alembic": "alembic",
    "streamlit": "streamlit",
    "fastapi": "fastapi-cli",
    "rq": "rq",
    "dramatiq": "dramatiq",
    "huey_consumer": "huey",
    "huey_consumer.py": "huey",
    "uwsgi": "uwsgi",
    "supervisord": "supervisor",
    "pytest": "pytest",
    "py.test": "pytest",
    "black": "black",
    "ruff": "ruff",
    "mypy": "mypy",
    "flake8": "flake8",
    "pylint": "pylint",
    "isort": "isort",
    "coverage": "coverage",
    "ipython": "ipython",
    "jupyter": "jupyter-core",
    "jupyter-lab": "jupyterlab",
    "jupyter-notebook": "notebook",
    "locust": "locust",
    "tox": "tox",
    "nox": "nox",
    "pre-commit": "pre-commit",
}

# Development and test tools: nothing a running service needs.
DEV_TOOLS: frozenset[str] = frozenset(
    {
        "pytest", "pytest-cov", "pytest-xdist", "pytest-mock", "pytest-asyncio", "pytest-django",
        "pytest-env", "pytest-timeout", "pytest-randomly", "pytest-benchmark", "pytest-sugar",
        "coverage", "nose", "nose2", "tox", "nox", "hypothesis", "faker", "factory-boy",
        "freezegun", "responses", "requests-mock", "moto", "testcontainers", "model-bakery",
        "black", "ruff", "mypy", "flake8", "pylint", "isort", "autopep8", "yapf", "pyright",
        "pyflakes", "pycodestyle", "pydocstyle", "bandit", "vulture", "radon", "autoflake",
        "pyupgrade", "docformatter", "codespell", "pre-commit", "commitizen", "bump2version",
        "bumpversion", "pip-tools", "pipdeptree", "twine", "ipython", "ipdb", "pdbpp",
        "jupyter", "jupyterlab", "notebook", "ipykernel", "debugpy", "sphinx",
        "sphinx-rtd-theme", "mkdocs", "mkdocs-material", "django-debug-toolbar",
        "django-extensions", "werkzeug-debugger", "line-profiler", "memory-profiler", "py-spy",
        "snakeviz", "locust", "mypy-extensions-dev", "types-requests", "types-pyyaml",
        "deptry", "fawltydeps", "safety", "pip-audit",
    }
)  # fmt: skip
_DEV_PREFIXES = ("pytest-", "flake8-", "types-", "sphinx-", "mkdocs-", "pylint-", "mypy-")
_DEV_SUFFIXES = ("-stubs",)


def is_dev_tool(name: str) -> bool:
    """A development, test, lint, typing or notebook tool (`pytest`, `black`, `types-*`...)."""
    key = canonical(name)
    if key in DEV_TOOLS:
        return True
    if key == "mypy-extensions":  # a runtime dependency of black and others, not a tool
        return False
    return key.startswith(_DEV_PREFIXES) or key.endswith(_DEV_SUFFIXES)


def guess_modules(name: str) -> tuple[str, ...]:
    """The top-level modules a distribution probably provides, without its metadata."""
    key = canonical(name)
    known = DIST_MODULES.get(key)
    if known:
        return known
    guesses = [key.replace("-", "_")]
    for prefix in ("python-", "py-", "django-", "flask-"):
        if key.startswith(prefix) and len(key) > len(prefix):
            guesses.append(key[len(prefix) :].replace("-", "_"))
    if key.endswith("-binary"):
        guesses.append(key[: -len("-binary")].replace("-", "_"))
    return tuple(dict.fromkeys(guesses))


_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?::[A-Za-z_][\w.]*)?$")
_MOD_ATTR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][\w.]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def module_path(text: str) -> str | None:
    """The module a string names when it looks like a dotted import path (`pkg.mod`,
    `pkg.mod.Class`, `pkg.mod:attr`, `mod:attr`); None otherwise."""
    if len(text) > 200:
        return None
    if _DOTTED.match(text) or _MOD_ATTR.match(text):
        return text.split(":", 1)[0]
    return None


def is_identifier(text: str) -> bool:
    return bool(_IDENT.match(text))


# Database and broker URLs name the driver a library loads by itself (SQLAlchemy, Celery,
# Django's dj-database-url): scheme -> modules, any of which satisfies it.
URL_DRIVERS: dict[str, tuple[str, ...]] = {
    "postgresql": ("psycopg2", "psycopg"),
    "postgres": ("psycopg2", "psycopg"),
    "postgresql+psycopg2": ("psycopg2",),
    "postgresql+psycopg": ("psycopg",),
    "postgresql+asyncpg": ("asyncpg",),
    "postgresql+pg8000": ("pg8000",),
    "mysql": ("MySQLdb",),
    "mysql+mysqldb": ("MySQLdb",),
    "mysql+pymysql": ("pymysql",),
    "mysql+mysqlconnector": ("mysql",),
    "mysql+aiomysql": ("aiomysql",),
    "mysql+asyncmy": ("asyncmy",),
    "mariadb": ("MySQLdb", "mariadb"),
    "mssql+pyodbc": ("pyodbc",),
    "mssql+pymssql": ("pymssql",),
    "oracle": ("cx_Oracle", "oracledb"),
    "oracle+oracledb": ("oracledb",),
    "sqlite+aiosqlite": ("aiosqlite",),
    "redis": ("redis",),
    "rediss": ("redis",),
    "amqp": ("amqp", "kombu"),
    "pyamqp": ("amqp",),
    "mongodb": ("pymongo",),
    "mongodb+srv": ("pymongo",),
}
_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://")

# Dotted names that make a library load another one by itself (Django settings).
IMPLIED: dict[str, tuple[str, ...]] = {
    "django.db.backends.postgresql": ("psycopg2", "psycopg"),
    "django.db.backends.postgresql_psycopg2": ("psycopg2",),
    "django.contrib.gis.db.backends.postgis": ("psycopg2", "psycopg"),
    "django.db.backends.mysql": ("MySQLdb",),
    "django.db.backends.oracle": ("cx_Oracle", "oracledb"),
    "django.core.cache.backends.redis": ("redis",),
    "django.core.cache.backends.memcached.pymemcachecache": ("pymemcache",),
    "django.core.cache.backends.memcached.pylibmccache": ("pylibmc",),
    "django.core.cache.backends.memcached.memcachedcache": ("memcache",),
    "uvicorn.workers": ("uvicorn",),
}


def implied_modules(text: str) -> tuple[str, ...]:
    """Modules a string makes a library import by name: a database or broker URL's driver,
    a Django backend's client library."""
    match = _URL.match(text)
    if match:
        return URL_DRIVERS.get(match.group(1).lower(), ())
    lowered = text.lower()
    for prefix, modules in IMPLIED.items():
        if lowered == prefix or lowered.startswith(prefix + "."):
            return modules
    return ()
