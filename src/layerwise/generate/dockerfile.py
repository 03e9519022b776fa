"""The generated Dockerfile: two stages, in the shape layerwise's own rules call optimal.

builder: the full Python image only when something compiles (its compilers and headers, plus
the `-dev` packages named for the build), else the slim one; a virtualenv in /opt/venv; the
dependency manifests copied alone and installed with a cache mount, so a source change never
reinstalls them; packaging tools (uv, Poetry, ...) in their own virtualenv that never ships.

runtime: the slim image, the runtime libraries only, a system user created before anything is
copied, the virtualenv, then the source as the very last step that does any work, so a code
change rebuilds one COPY. Exec-form CMD with a production server, a HEALTHCHECK with Python's
own urllib, PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import json
import posixpath
import textwrap
from collections import defaultdict

from layerwise.generate.project import Project
from layerwise.generate.runtime import Runtime

UID = 10001
TOOL_PINS = {
    "uv": "uv==0.8.24",
    "poetry": "poetry==1.8.5",
    "poetry2": "poetry==2.1.4 poetry-plugin-export==1.9.0",
    "pipenv": "pipenv==2024.4.1",
    "tomli": "tomli==2.2.1",
}
PIP_CACHE = "--mount=type=cache,target=/root/.cache/pip"
UV_CACHE = "--mount=type=cache,target=/root/.cache/uv"
APT_CACHE = (
    "--mount=type=cache,target=/var/cache/apt,sharing=locked",
    "--mount=type=cache,target=/var/lib/apt/lists,sharing=locked",
)
_PIN_NOTE = (
    "# Debian package versions are not pinned on purpose: the archive drops a version at its\n"
    "# next security update, and a pinned build then fails.\n"
    "# hadolint ignore=DL3008\n"
)


def _comment(text: str) -> str:
    """A comment wrapped at 100 columns."""
    return "".join(f"# {line}\n" for line in textwrap.wrap(text, 98))


def _run(lines: list[str], mounts: tuple[str, ...] = ()) -> str:
    """A RUN with one mount or command per line, joined with `&&`."""
    head = "RUN " + " \\\n    ".join(mounts) if mounts else "RUN"
    body = " \\\n    && ".join(lines)
    if mounts:
        return f"{head} \\\n    {body}\n"
    return f"{head} {body}\n"


def _copy_manifests(files: tuple[str, ...]) -> list[str]:
    """COPY lines that put each manifest at the same relative path under /app, one per
    destination directory (COPY with several sources needs a destination ending in /)."""
    by_dir: dict[str, list[str]] = defaultdict(list)
    for f in files:
        by_dir[posixpath.dirname(f)].append(f)
    out = []
    for directory, group in by_dir.items():
        dest = "./" if not directory else directory.rstrip("/") + "/"
        out.append(f"COPY {' '.join(group)} {dest}\n")
    return out


def _json(args: tuple[str, ...]) -> str:
    return json.dumps(list(args))


def _wrapper(project: Project) -> list[str]:
    """A console script for the project's entry point, written into the virtualenv: the
    command exists as after `pip install .`, but the code is run from /app, so a change to it
    rebuilds only the final COPY."""
    entry = project.entry
    if entry.kind != "console-script" or entry.script is None:
        return []
    module, _, func = entry.target.partition(":")
    lines = ["#!/opt/venv/bin/python", "import sys", f"from {module} import {func}"]
    lines.append(f"sys.exit({func}())")
    quoted = " ".join("'" + line.replace("'", "'\\''") + "'" for line in lines)
    path = f"/opt/venv/bin/{entry.script}"
    return [f"printf '%s\\n' {quoted} > {path}", f"chmod 0755 {path}"]


def _toml_reader(tool: str | None) -> tuple[str, str]:
    """The interpreter and module that read TOML in the build: tomllib (3.11+), else tomli
    from /opt/tools."""
    return ("/opt/tools/bin/python", "tomli") if tool else ("python", "tomllib")


def _builder(project: Project, runtime: Runtime) -> str:
    deps = project.dependencies
    manager = deps.manager
    build_packages: list[str] = []
    for native in project.native:
        build_packages += [p for p in native.build_packages if p not in build_packages]
    full = bool(build_packages)
    out = []
    base = "python:${PYTHON_VERSION}" + ("" if full else "-slim")
    out.append(f"FROM {base} AS builder\n")
    if full:
        why = "; ".join(n.reason for n in project.native)
        out.append(
            _comment(
                f"Compilers and headers for the packages that build C code ({why}). They stay "
                "in this stage: the runtime image gets the shared libraries only."
            )
        )
        out.append(_PIN_NOTE)
        out.append(
            _run(
                [
                    "apt-get update",
                    "apt-get install -y --no-install-recommends " + " ".join(build_packages),
                ],
                APT_CACHE,
            )
        )
    # The venv gets no pip of its own (pip and setuptools would ship ~20 MB in the image): the
    # base image's pip installs into it, pointed there by PIP_PYTHON.
    env = [
        "PIP_DISABLE_PIP_VERSION_CHECK=1",
        "PIP_PYTHON=/opt/venv/bin/python",
        "VIRTUAL_ENV=/opt/venv",
        'PATH="/opt/venv/bin:$PATH"',
    ]
    tool: str | None = None
    if manager == "uv":
        tool = TOOL_PINS["uv"]
        env += [
            "UV_PROJECT_ENVIRONMENT=/opt/venv",
            "UV_LINK_MODE=copy",
            "UV_PYTHON_DOWNLOADS=never",
        ]
    elif manager == "poetry":
        modern = (deps.lock_version or "2.0") not in ("1.1", "2.0")
        tool = TOOL_PINS["poetry2" if modern else "poetry"]
        env += ["POETRY_WARNINGS_EXPORT=false"]
    elif manager == "pipenv":
        tool = TOOL_PINS["pipenv"]
        env += ["PIPENV_VERBOSITY=-1"]
    elif manager in ("pdm", "pep621") and project.python in ("3.9", "3.10"):
        tool = TOOL_PINS["tomli"]
    out.append("ENV " + " \\\n    ".join(env) + "\n")
    # Activation scripts are for shells; the image puts the venv on PATH instead.
    setup = ["python -m venv --without-pip /opt/venv", "rm /opt/venv/bin/[Aa]ctivate*"]
    if runtime.server_packages:
        setup.append("pip install " + " ".join(runtime.server_packages))
    if tool is not None:
        setup += [
            "python -m venv /opt/tools",
            f"env -u PIP_PYTHON /opt/tools/bin/pip install {tool}",
        ]
    setup += _wrapper(project)
    if runtime.server_packages:
        out.append(
            _comment(
                f"The production server ({', '.join(runtime.server_packages)}) is not among the "
                "project's dependencies."
            )
        )
    if tool is not None:
        out.append("# Packaging tools live in /opt/tools: only /opt/venv reaches the image.\n")
    mounts = (PIP_CACHE,) if runtime.server_packages or tool else ()
    out.append(_run(setup, mounts))
    out.append("WORKDIR /app\n")
    if manager == "setuptools":
        out.append(
            "# setup.py computes the dependencies: they install together with the source (a\n"
            "# [project] table in pyproject.toml would give them a cached layer of their own).\n"
        )
        out.append("COPY . .\n")
        out.append("# layerwise: ignore=LW101\n")
        out.append(_run(["pip install ."], (PIP_CACHE,)))
        return "".join(out)
    if manager == "none":
        return "".join(out)
    out.append("# The dependency manifests alone: a source change never reinstalls them.\n")
    out += _copy_manifests(deps.manifests)
    if manager == "pip":
        install = [f"pip install -r {r}" for r in deps.requirements]
        out.append(_run(install, (PIP_CACHE,)))
    elif manager == "uv":
        out.append(
            _run(
                ["/opt/tools/bin/uv sync --frozen --no-dev --no-install-project --inexact"],
                (UV_CACHE,),
            )
        )
    elif manager == "poetry":
        out.append(
            _run(
                [
                    "/opt/tools/bin/poetry export --only main --output /tmp/requirements.txt",
                    "pip install --no-deps -r /tmp/requirements.txt",
                ],
                (PIP_CACHE,),
            )
        )
    elif manager == "pipenv":
        out.append(
            _run(
                [
                    "/opt/tools/bin/pipenv requirements --hash > /tmp/requirements.txt",
                    "pip install --no-deps -r /tmp/requirements.txt",
                ],
                (PIP_CACHE,),
            )
        )
    elif manager == "pdm":
        python, module = _toml_reader(tool)
        # pdm.lock pins every package of the default group with its hashes and markers: read
        # as requirements by the Python in the image (installing PDM itself would pull a
        # moving set of its own dependencies into the build).
        export = (
            f"{python} -c \"import {module}; lock = {module}.load(open('pdm.lock', 'rb')); "
            "print(chr(10).join(p['name'] + '==' + p['version'] "
            "+ (' ; ' + p['marker'] if p.get('marker') else '') "
            "+ ''.join(' --hash=' + f['hash'] for f in p.get('files', [])) "
            "for p in lock.get('package', []) if 'default' in p.get('groups', ['default'])))\""
            " > /tmp/requirements.txt"
        )
        out.append(_run([export, "pip install --no-deps -r /tmp/requirements.txt"], (PIP_CACHE,)))
    elif manager == "pep621":
        python, module = _toml_reader(tool)
        read = (
            f'{python} -c "import {module}; print(chr(10).join({module}.load('
            "open('pyproject.toml', 'rb'))['project'].get('dependencies', [])))\""
            " > /tmp/requirements.txt"
        )
        out.append(
            "# Only the dependencies of pyproject.toml: the project itself runs from /app.\n"
        )
        out.append(_run([read, "pip install -r /tmp/requirements.txt"], (PIP_CACHE,)))
    return "".join(out)


def _runtime_stage(project: Project, runtime: Runtime) -> str:
    out = ["FROM python:${PYTHON_VERSION}-slim\n"]
    env = ["PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", 'PATH="/opt/venv/bin:$PATH"']
    if project.import_root:
        env.append(f"PYTHONPATH=/app/{project.import_root}")
    env += [f"{k}={v}" for k, v in runtime.env]
    out.append("ENV " + " \\\n    ".join(env) + "\n")
    libraries: list[str] = []
    for native in project.native:
        libraries += [p for p in native.runtime_packages if p not in libraries]
    libraries += [p for p in project.runtime_packages if p not in libraries]
    steps: list[str] = []
    if libraries:
        # apt's lists and caches live in cache mounts: none of it lands in the image, whether
        # or not the base image cleans up after apt itself.
        steps += [
            "apt-get update",
            "apt-get install -y --no-install-recommends " + " ".join(libraries),
        ]
    steps += [
        f"groupadd --system --gid {UID} app",
        f"useradd --system --no-log-init --uid {UID} --gid app --no-create-home "
        "--home-dir /nonexistent --shell /usr/sbin/nologin app",
    ]
    subdirs = [d for d in project.writable_dirs if d != "."]
    if "." in project.writable_dirs:
        # The app creates files in /app itself (a SQLite database): group-writable with the
        # sticky bit, so it can add files but not replace or delete the root-owned code.
        steps.append("install -d -o root -g app -m 1775 /app")
    if subdirs:
        dirs = " ".join(f"/app/{d}" for d in subdirs)
        steps.append(f"install -d -o app -g app {dirs}")
    comment = "A system user to run as"
    if libraries:
        comment = (
            f"Shared libraries the compiled packages load ({', '.join(libraries)}), "
            "and a system user to run as"
        )
    if project.writable_dirs:
        comment += "; the directories the app writes to belong to it"
    out.append(_comment(comment + "."))
    if libraries:
        out.append(_PIN_NOTE)
    out.append(_run(steps, APT_CACHE if libraries else ()))
    out.append("WORKDIR /app\n")
    out.append("COPY --from=builder /opt/venv /opt/venv\n")
    out.append("# The source last: a code change rebuilds this layer only.\n")
    out.append("COPY . .\n")
    out.append(f"USER {UID}\n")
    if project.port is not None:
        out.append(f"EXPOSE {project.port}\n")
    if runtime.healthcheck is not None:
        out.append(_comment(f"Healthy when {runtime.health_note}."))
        start = "30s" if runtime.service == "worker" else "20s"
        out.append(
            f"HEALTHCHECK --interval=30s --timeout=5s --start-period={start} --start-interval=2s "
            f"--retries=3 \\\n    CMD {_json(runtime.healthcheck)}\n"
        )
    out.append(f"CMD {_json(runtime.command)}\n")
    return "".join(out)


def render_dockerfile(project: Project, runtime: Runtime) -> str:
    entry = project.entry
    what = entry.framework or entry.kind
    header = (
        "# syntax=docker/dockerfile:1\n"
        + _comment(
            f"Generated by `layerwise init` for {project.name}: {what} ({entry.target}), "
            f"{project.dependencies.manager} ({project.dependencies.source}), "
            f"served by {runtime.server}."
        )
        + _comment(f"Python {project.python}: {project.python_source}.")
        + "# Build and run: docker compose up --build --detach --wait\n"
        + _comment(
            "The base images are named by tag, not digest: `layerwise init` does not look "
            "digests up. For reproducible builds pin them (`docker buildx imagetools inspect "
            f"python:{project.python}-slim` prints the digest) and let Dependabot or Renovate "
            "update them; then drop the next line."
        )
        + "# layerwise: ignore-file=LW502\n"
        "\n"
        f"ARG PYTHON_VERSION={project.python}\n"
        "\n"
    )
    return header + _builder(project, runtime) + "\n" + _runtime_stage(project, runtime)
