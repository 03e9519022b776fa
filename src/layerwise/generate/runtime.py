"""How the generated image runs the application: the production server and its command, the
environment it reads (one port variable per server, read natively: no shell in CMD), the
healthcheck, the development command with reload, and the packages layerwise must add.

Servers read their settings from the environment, so compose files and `docker run -e` can
change them without a rebuild: gunicorn binds `0.0.0.0:$PORT` and starts `$WEB_CONCURRENCY`
workers; uvicorn reads `UVICORN_PORT`/`UVICORN_HOST` and `$WEB_CONCURRENCY`; `flask run`
reads `FLASK_RUN_PORT`/`FLASK_RUN_HOST`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from layerwise.generate.project import Project

# Versions layerwise installs when the project does not declare the server itself.
GUNICORN = "gunicorn==23.0.0"
UVICORN = "uvicorn==0.30.6"
WORKERS = "2"


@dataclass(frozen=True)
class Runtime:
    service: str  # compose service name: web | worker
    command: tuple[str, ...]  # exec-form CMD
    env: tuple[tuple[str, str], ...]  # runtime ENV (besides the Python ones)
    port_env: str | None  # the variable the server reads its port from
    server_packages: tuple[str, ...]  # pinned packages added to the virtualenv
    healthcheck: tuple[str, ...] | None  # exec-form HEALTHCHECK CMD
    health_note: str
    dev_command: tuple[str, ...] | None  # None: the production command
    dev_env: tuple[tuple[str, str], ...]
    dev_action: Literal["sync", "sync+restart"]  # what a source change does in watch mode
    server: str  # human description


def _urllib_probe(project: Project, port_env: str | None) -> tuple[str, ...]:
    assert project.port is not None
    path = project.health_path or "/"
    if port_env:
        url = f"'http://127.0.0.1:%s{path}' % os.environ.get('{port_env}', '{project.port}')"
        prefix = "import os, urllib.request; "
    else:
        url = f"'http://127.0.0.1:{project.port}{path}'"
        prefix = "import urllib.request; "
    return ("python", "-c", f"{prefix}urllib.request.urlopen({url}, timeout=4)")


def _any_answer_probe(project: Project, port_env: str | None) -> tuple[str, ...]:
    # No health route: any HTTP answer below 500 means the server is up (urllib raises on 404).
    assert project.port is not None
    port = f"int(os.environ.get('{port_env}', '{project.port}'))" if port_env else str(project.port)
    code = (
        "import http.client, os; "
        f"c = http.client.HTTPConnection('127.0.0.1', {port}, timeout=4); "
        "c.request('GET', '/'); raise SystemExit(c.getresponse().status >= 500)"
    )
    return ("python", "-c", code)


def _probe(project: Project, port_env: str | None) -> tuple[tuple[str, ...], str]:
    if project.health_path:
        note = f"GET {project.health_path} (declared at {project.health_source}) answers 2xx"
        return _urllib_probe(project, port_env), note
    return _any_answer_probe(project, port_env), "no health route found: GET / answers below 500"


def plan_runtime(project: Project) -> Runtime:
    entry = project.entry
    names = project.dependencies.names
    port = str(project.port) if project.port is not None else None

    if entry.kind == "celery":
        command: tuple[str, ...] = ("celery", "-A", entry.target, "worker", "--loglevel=INFO")
        probe: tuple[str, ...] = (
            "sh",
            "-c",
            f'celery -A {entry.target} inspect ping --destination "celery@$HOSTNAME" --timeout 5',
        )
        return Runtime(
            "worker",
            command,
            (),
            None,
            (),
            probe,
            "the worker answers `celery inspect ping` through the broker",
            None,
            (),
            "sync+restart",
            "celery worker",
        )

    if entry.kind in ("wsgi", "django") and not (entry.kind == "django" and entry.asgi):
        assert port is not None
        added = () if "gunicorn" in names else (GUNICORN,)
        env: tuple[tuple[str, str], ...] = (("PORT", port), ("WEB_CONCURRENCY", WORKERS))
        command = ("gunicorn", entry.target)
        dev_command: tuple[str, ...] | None
        dev_env: tuple[tuple[str, str], ...] = ()
        if entry.framework == "flask":
            dev_command = ("flask", "--app", entry.target, "run", "--debug")
            dev_env = (("FLASK_RUN_HOST", "0.0.0.0"), ("FLASK_RUN_PORT", port))
        elif entry.kind == "django":
            # runserver takes the address as an argument: the shell expands the container's PORT
            dev_command = ("sh", "-c", 'exec python manage.py runserver "0.0.0.0:$$PORT"')
        else:
            dev_command = ("gunicorn", "--reload", entry.target)
        if entry.kind == "django" and project.settings_module:
            env = (*env, ("DJANGO_SETTINGS_MODULE", project.settings_module))
        probe, note = _probe(project, "PORT")
        return Runtime(
            "web",
            command,
            env,
            "PORT",
            added,
            probe,
            note,
            dev_command,
            dev_env,
            "sync",
            "gunicorn" + ("" if "gunicorn" in names else " (added: not in the dependencies)"),
        )

    if entry.kind in ("asgi", "django"):
        assert port is not None
        added = () if "uvicorn" in names else (UVICORN,)
        target = entry.target
        factory = target.endswith("()")
        app_arg = target[:-2] if factory else target
        base: tuple[str, ...] = ("uvicorn", *(("--factory",) if factory else ()), app_arg)
        env = (
            ("UVICORN_HOST", "0.0.0.0"),
            ("UVICORN_PORT", port),
            ("WEB_CONCURRENCY", WORKERS),
        )
        if entry.kind == "django" and project.settings_module:
            env = (*env, ("DJANGO_SETTINGS_MODULE", project.settings_module))
        probe, note = _probe(project, "UVICORN_PORT")
        return Runtime(
            "web",
            base,
            env,
            "UVICORN_PORT",
            added,
            probe,
            note,
            (*base, "--reload"),
            (("WEB_CONCURRENCY", "1"),),
            "sync",
            "uvicorn" + ("" if "uvicorn" in names else " (added: not in the dependencies)"),
        )

    # The application opens its own socket (or none): run it as it is meant to be run.
    if entry.kind == "console-script":
        assert entry.script is not None
        command = (entry.script,)
    elif entry.kind == "module":
        command = ("python", "-m", entry.target)
    else:
        command = ("python", entry.target)
    env = ((project.port_env, port),) if project.port_env and port else ()
    if project.port is None:
        return Runtime(
            "app",
            command,
            env,
            None,
            (),
            None,
            "no port: no HTTP healthcheck",
            None,
            (),
            "sync+restart",
            "the application itself",
        )
    probe, note = _probe(project, project.port_env)
    return Runtime(
        "web",
        command,
        env,
        project.port_env,
        (),
        probe,
        note,
        None,
        (),
        "sync+restart",
        "the application's own server",
    )
