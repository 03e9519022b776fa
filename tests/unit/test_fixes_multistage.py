"""The multi-stage split, the non-root user and the on-request HEALTHCHECK."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixes_support import applied, context, make_context
from layerwise.errors import InputError
from layerwise.fixes.healthcheck import healthcheck_fix, split_healthcheck
from layerwise.fixes.multistage import slim_base, split_multistage
from layerwise.fixes.nonroot import effective_user, runs_as_root, split_nonroot

DJANGO = """\
# Django served by gunicorn
FROM python:3.11

RUN apt-get update && apt-get install -y gcc libpq-dev curl

WORKDIR /app
COPY . .

RUN pip install --no-cache-dir -r requirements.txt

ENV PORT=8000
EXPOSE 8000
CMD gunicorn mysite.wsgi --bind 0.0.0.0:$PORT
"""

DJANGO_FIXED = """\
# syntax=docker/dockerfile:1
# Django served by gunicorn
FROM python:3.11 AS builder

RUN apt-get update && apt-get install -y gcc libpq-dev curl
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

WORKDIR /app
COPY requirements.txt ./

RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

FROM python:3.11-slim

RUN apt-get update \\
    && apt-get install -y --no-install-recommends libpq5 curl \\
    && apt-get clean \\
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

COPY . .

ENV PORT=8000
EXPOSE 8000
CMD gunicorn mysite.wsgi --bind 0.0.0.0:$PORT
"""


def ms(text: str, tmp_path: Path | None = None, files: dict[str, str] | None = None) -> str:
    ctx_dir = make_context(tmp_path / "ctx", files) if tmp_path and files is not None else None
    result = split_multistage(context(text, ctx_dir))
    assert result.fix is not None, result.reason
    out = applied(text, result.fix)
    again = split_multistage(context(out, ctx_dir))
    assert again.fix is None, f"not idempotent:\n{applied(out, again.fix)}"
    return out


def ms_reason(text: str) -> str:
    result = split_multistage(context(text))
    assert result.fix is None, applied(text, result.fix)
    assert result.reason
    return result.reason


def test_django_split(tmp_path: Path) -> None:
    out = ms(DJANGO, tmp_path, {"requirements.txt": "Django\npsycopg2\n", "manage.py": ""})
    assert out == DJANGO_FIXED
    result = split_multistage(context(DJANGO))
    assert result.plan is not None
    assert result.plan.build_packages == ["gcc", "libpq-dev"]
    assert result.plan.runtime_packages == ["libpq5", "curl"]
    assert result.fix is not None and result.fix.safety == "unsafe"


def test_manifest_copy_already_first_and_named_stage() -> None:
    text = (
        "FROM python:3.12-bookworm AS app\nARG PIP_INDEX_URL\nENV PYTHONDONTWRITEBYTECODE=1\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends build-essential "
        "libxml2-dev && rm -rf /var/lib/apt/lists/*\n"
        "WORKDIR /srv\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        'COPY app/ ./app/\nUSER nobody\nCMD ["python", "-m", "app"]\n'
    )
    out = ms(text)
    assert out == (
        "# syntax=docker/dockerfile:1\n"
        "FROM python:3.12-bookworm AS builder\nARG PIP_INDEX_URL\nENV PYTHONDONTWRITEBYTECODE=1\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends build-essential "
        "libxml2-dev && rm -rf /var/lib/apt/lists/*\n"
        'RUN python -m venv /opt/venv\nENV PATH="/opt/venv/bin:$PATH"\n'
        "WORKDIR /srv\nCOPY requirements.txt .\n"
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
        "\n"
        "FROM python:3.12-slim-bookworm AS app\nARG PIP_INDEX_URL\nENV PYTHONDONTWRITEBYTECODE=1\n"
        "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends libxml2 \\\n"
        "    && apt-get clean \\\n    && rm -rf /var/lib/apt/lists/*\n"
        "WORKDIR /srv\nCOPY requirements.txt .\n"
        'COPY --from=builder /opt/venv /opt/venv\nENV PATH="/opt/venv/bin:$PATH"\n'
        'COPY app/ ./app/\nUSER nobody\nCMD ["python", "-m", "app"]\n'
    )


def test_unknown_dev_package_is_kept_with_a_note() -> None:
    text = (
        "FROM python:3.11\nRUN apt-get install -y gcc libfoo-dev\n"
        'RUN pip install -r requirements.txt\nCMD ["python"]\n'
    )
    result = split_multistage(context(text))
    assert result.plan is not None
    assert result.plan.runtime_packages == ["libfoo-dev"]
    assert "no runtime package known for libfoo-dev" in result.plan.notes[0]


def test_builder_name_avoids_existing_stages() -> None:
    text = (
        "FROM node:20 AS builder\nRUN npm ci\nFROM python:3.11\n"
        "RUN apt-get install -y gcc\nRUN pip install flask\n"
        "COPY --from=builder /dist /dist\n"
    )
    out = ms(text)
    assert "FROM python:3.11 AS python-builder" in out
    assert "COPY --from=python-builder /opt/venv /opt/venv" in out
    assert "FROM node:20 AS builder" in out


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("FROM python:3.11-slim\nRUN pip install -r r.txt\n", "installs no build tools"),
        ("FROM node:20\nRUN apt-get install -y gcc\nRUN npm ci\n", "not based on a Python image"),
        (
            "FROM python:3.11-alpine\nRUN apk add gcc\nRUN pip install x\n",
            "no slim variant",
        ),
        ("FROM python:3.11\nRUN apt-get install -y gcc\n", "no pip install"),
        (
            "FROM python:3.11\nRUN apt-get install -y gcc && pip install x\n",
            "in one RUN",
        ),
        ("FROM python:3.11\nRUN apt-get install -y gcc\nRUN pip install --user x\n", "--user"),
        (
            "FROM python:3.11\nRUN apt-get install -y gcc\nRUN pip install x\n"
            'CMD ["/usr/local/bin/python", "app.py"]\n',
            "system path",
        ),
        (
            "FROM python:3.11\nRUN apt-get install -y gcc\nUSER app\nRUN pip install x\n",
            "non-root",
        ),
        (
            "FROM python:3.11 AS a\nRUN apt-get install -y gcc\nRUN pip install x\n"
            "FROM debian:bookworm-slim\nCOPY --from=0 /x /x\n",
            "not based on a Python image",
        ),
        ("FROM python:3.11@sha256:" + "a" * 64 + "\nRUN apt-get install -y gcc\n", "slim"),
        ("FROM base\nRUN apt-get install -y gcc\n", "not based on a Python image"),
    ],
)
def test_multistage_refusals(text: str, why: str) -> None:
    assert why in ms_reason(text)


@pytest.mark.parametrize(
    ("image", "expanded", "slim"),
    [
        ("python:3.11", "python:3.11", "python:3.11-slim"),
        ("python:3.11-slim", "python:3.11-slim", "python:3.11-slim"),
        ("python:3.12-bookworm", "python:3.12-bookworm", "python:3.12-slim-bookworm"),
        ("python:bullseye", "python:bullseye", "python:slim-bullseye"),
        ("python", "python", "python:slim"),
        (
            "docker.io/library/python:3.10",
            "docker.io/library/python:3.10",
            "docker.io/library/python:3.10-slim",
        ),
        ("python:${PY}", "python:3.11", "python:${PY}-slim"),
        ("python:${PY}", "python:3.11-slim", "python:${PY}"),
        ("python:3.11-alpine", "python:3.11-alpine", None),
        ("python:3.11@sha256:abc", "python:3.11@sha256:abc", None),
        ("node:20", "node:20", None),
        (
            "localhost:5000/python:3.11",
            "localhost:5000/python:3.11",
            "localhost:5000/python:3.11-slim",
        ),
    ],
)
def test_slim_base(image: str, expanded: str, slim: str | None) -> None:
    assert slim_base(image, expanded) == slim


# -- non-root ----------------------------------------------------------------------------------


def nr(text: str, **kwargs: object) -> str:
    result = split_nonroot(context(text), **kwargs)  # type: ignore[arg-type]
    assert result.fix is not None, result.reason
    out = applied(text, result.fix)
    assert split_nonroot(context(out), **kwargs).fix is None  # type: ignore[arg-type]
    assert not runs_as_root(context(out))
    return out


def test_nonroot_creates_a_user_early_and_switches_late() -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nVOLUME /data\n"
        'RUN mkdir -p /srv/uploads /var/cache/x logs\nENV PORT=8000\nCMD ["python", "app.py"]\n'
    )
    assert nr(text) == (
        "FROM python:3.11-slim\nWORKDIR /app\n"
        "RUN groupadd --system --gid 10001 app \\\n"
        "    && useradd --system --uid 10001 --gid app --no-log-init --create-home app\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nVOLUME /data\n"
        "RUN mkdir -p /srv/uploads /var/cache/x logs\n"
        "RUN mkdir -p /data /srv/uploads /app/logs "
        "&& chown -R app:app /data /srv/uploads /app/logs\n"
        'USER 10001:10001\nENV PORT=8000\nCMD ["python", "app.py"]\n'
    )


def test_nonroot_reuses_a_user_the_file_creates_and_extra_writable_dirs() -> None:
    text = 'FROM python:3.11-slim\nRUN useradd -m worker\nCOPY . /app\nUSER root\nCMD ["x"]\n'
    out = nr(text, writable=["/app/state"])
    assert out == (
        "FROM python:3.11-slim\nRUN useradd -m worker\nCOPY . /app\nUSER root\n"
        'RUN mkdir -p /app/state && chown -R worker:worker /app/state\nUSER worker\nCMD ["x"]\n'
    )


def test_nonroot_without_layer_steps() -> None:
    out = nr('FROM python:3.11-slim\nCMD ["python"]\n')
    assert out == (
        "FROM python:3.11-slim\nRUN groupadd --system --gid 10001 app \\\n"
        "    && useradd --system --uid 10001 --gid app --no-log-init --create-home app\n"
        'USER 10001:10001\nCMD ["python"]\n'
    )


def test_effective_user_is_inherited() -> None:
    ctx = context("FROM python:3.11 AS base\nUSER app\nFROM base\nRUN x\n")
    assert effective_user(ctx) == "app"
    assert not runs_as_root(ctx)
    assert split_nonroot(ctx).fix is None
    ctx = context("FROM python:3.11 AS base\nUSER app\nFROM base\nUSER 0\n")
    assert runs_as_root(ctx)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("FROM scratch\nCOPY app /app\n", "no shell"),
        ("FROM gcr.io/distroless/python3\nCOPY . /app\n", "no shell"),
        ("FROM python:3.11-alpine\nRUN apk add x\n", "useradd"),
        ("FROM python:3.11-slim\nUSER app\n", "already runs as a non-root user"),
    ],
)
def test_nonroot_refusals(text: str, why: str) -> None:
    result = split_nonroot(context(text))
    assert result.fix is None and result.reason and why in result.reason


# -- healthcheck -------------------------------------------------------------------------------


def test_healthcheck_reads_the_port_from_the_environment() -> None:
    text = 'FROM python:3.11-slim\nENV PORT=8000\nEXPOSE 8000\nCMD ["python", "app.py"]\n'
    fix = healthcheck_fix(context(text), "/health")
    assert fix is not None
    assert applied(text, fix) == (
        "FROM python:3.11-slim\nENV PORT=8000\nEXPOSE 8000\n"
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\\n"
        '    CMD python3 -c "import urllib.request; urllib.request.urlopen('
        "'http://127.0.0.1:${PORT:-8000}/health', timeout=4)\" || exit 1\n"
        'CMD ["python", "app.py"]\n'
    )


def test_healthcheck_port_from_expose_or_given() -> None:
    text = "FROM python:3.11-slim\nEXPOSE 5000/tcp\n"
    fix = healthcheck_fix(context(text), "/status?full=1")
    assert fix is not None
    assert "http://127.0.0.1:5000/status?full=1" in applied(text, fix)
    fix = healthcheck_fix(context(text), "/", port="9000")
    assert fix is not None and "127.0.0.1:9000/'" in applied(text, fix)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('FROM python:3.11-slim\nCMD ["python"]\n', "port is unknown"),
        ("FROM python:3.11-slim\nEXPOSE 80\nHEALTHCHECK NONE\n", "already has a HEALTHCHECK"),
        ("FROM node:20\nEXPOSE 80\n", "not a Python image"),
    ],
)
def test_healthcheck_refusals(text: str, why: str) -> None:
    fix, reason = split_healthcheck(context(text), "/health")
    assert fix is None and reason and why in reason


@pytest.mark.parametrize("path", ["health", "/a b", "/x'y", "/$(id)", ""])
def test_healthcheck_path_is_validated(path: str) -> None:
    with pytest.raises(InputError, match="--healthcheck"):
        healthcheck_fix(context("FROM python:3.11\nEXPOSE 80\n"), path)
