"""Project detection for `layerwise init`: one function from a directory to a `Project`.

    from layerwise.generate import detect_project
    project = detect_project("examples/flask-pip")
    project.dependencies.manager, project.entry.target, project.port, project.health_path

Precedence for the entry point: a Django project (manage.py -> settings -> WSGI/ASGI module),
a module-level web application object (Flask, FastAPI, Starlette, ...), a `__main__` module
that starts a production server itself, an application factory, a Celery app, a console
script, a package `__main__`, a top-level script.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from layerwise.errors import InputError
from layerwise.generate import entry as find
from layerwise.generate.manifests import detect_dependencies, detect_python, read_toml
from layerwise.generate.native import native_builds
from layerwise.generate.project import Entry, EntryKind, Project
from layerwise.generate.source import Module, iter_python_files, load_modules

DEFAULT_PORT = 8000
_ASGI_SERVERS_FOR_DJANGO = frozenset({"channels", "daphne", "uvicorn"})


def docker_name(text: str) -> str:
    """A name Docker and Compose accept: lower case letters, digits, '-'."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return name or "app"


def _project_name(root: Path, pyproject: dict[str, Any] | None) -> str:
    data = pyproject or {}
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return docker_name(project["name"])
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("name"), str):
        return docker_name(poetry["name"])
    return docker_name(root.name)


def _choose_entry(
    root: Path,
    modules: list[Module],
    pyproject: dict[str, Any] | None,
    names: frozenset[str],
    notes: list[str],
) -> tuple[Entry, Module | None, find.DjangoProject | None]:
    by_name = {m.name: m for m in modules}
    django = find.find_django(modules, by_name)
    if django is not None:
        asgi = (
            bool(django.asgi)
            and bool(names & _ASGI_SERVERS_FOR_DJANGO)
            and ("gunicorn" not in names)
        )
        target = django.asgi if asgi else django.wsgi
        if target is None:
            target = django.asgi
            asgi = True
        if target is None:
            raise InputError(
                f"Django project ({django.settings_source}) without a WSGI or ASGI module: "
                "add WSGI_APPLICATION to the settings"
            )
        module = by_name.get(target.split(":", 1)[0])
        return (
            Entry("django", "django", target, django.settings_source, asgi=asgi),
            module,
            django,
        )
    apps = find.find_app_objects(modules)
    objects = [a for a in apps if not a.factory]
    if objects:
        app = find.best_app(objects)
        assert app is not None
        kind: EntryKind = "asgi" if app.protocol == "asgi" else "wsgi"
        return Entry(kind, app.framework, app.target, app.module.line(app.node)), app.module, None
    for main in find.main_modules(modules) + find.scripts(modules):
        if find.runs_production_server(main):
            return _runnable(main), main, None
    factories = [a for a in apps if a.factory]
    if factories:
        app = find.best_app(factories)
        assert app is not None
        factory_kind: EntryKind = "asgi" if app.protocol == "asgi" else "wsgi"
        entry = Entry(factory_kind, app.framework, app.target, app.module.line(app.node))
        return entry, app.module, None
    celery = find.find_celery(modules)
    if celery is not None:
        module, variable, call = celery
        target = find.celery_target(module, variable)
        return Entry("celery", "celery", target, module.line(call)), module, None
    for script, target in find.console_scripts(pyproject):
        module = by_name.get(target.split(":", 1)[0])
        return (
            Entry("console-script", None, target, "pyproject.toml", script=script),
            module,
            None,
        )
    mains = find.main_modules(modules) + find.scripts(modules)
    if mains:
        if len(mains) > 1:
            notes.append(
                f"several runnable modules ({', '.join(m.path for m in mains[:4])}); "
                f"chose {mains[0].path}"
            )
        return _runnable(mains[0]), mains[0], None
    raise InputError(
        f"{root}: found no way to start the application (no Flask/FastAPI/Starlette/Django/"
        "Celery app, console script, __main__ module or script with "
        '`if __name__ == "__main__":`)'
    )


def _runnable(module: Module) -> Entry:
    if module.is_package_main:
        package = module.name.rsplit(".", 1)[0] if module.name.endswith("__main__") else module.name
        return Entry("module", None, package, module.path)
    return Entry("script", None, module.path, module.path)


def detect_project(
    directory: str | Path, *, python: str | None = None, port: int | None = None
) -> Project:
    """Everything `layerwise init` needs to know about the Python project in `directory`.

    `python` ("3.12") and `port` override what detection finds. Raises `InputError` for a
    directory that is not there or holds no Python project, for unreadable manifests (with
    file:line), and when no entry point can be found."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"{directory}: not a directory")
    root = root.resolve()
    pyproject = read_toml(root, "pyproject.toml") if (root / "pyproject.toml").is_file() else None
    dependencies = detect_dependencies(root, pyproject)
    has_code = next(iter_python_files(root), None) is not None
    if dependencies.manager == "none" and not has_code:
        raise InputError(
            f"{directory}: no Python project here (no requirements.txt, pyproject.toml, Pipfile, "
            "setup.py or .py file); run `layerwise init` in the project's directory"
        )
    notes: list[str] = []
    if python is not None:
        if not re.fullmatch(r"3\.\d+", python):
            raise InputError(f"--python {python!r}: expected a version like 3.12")
        version, version_source = python, "--python"
    else:
        version, version_source = detect_python(root, pyproject)

    root_dir = find.import_root(root, pyproject)
    modules, broken = load_modules(root, root_dir)
    if broken:
        notes.append(f"could not parse {', '.join(broken[:5])} (skipped)")
    names = dependencies.names
    entry, entry_module, django = _choose_entry(root, modules, pyproject, names, notes)

    # The port: for servers layerwise chooses, the one the code asks for (app.run(port=...)),
    # else 8000; for code that opens its own socket, what it reads.
    port_env: str | None = None
    scope = [entry_module] if entry_module is not None else []
    hint = find.find_port(scope) or find.find_port(modules)
    found_port: int | None
    if entry.kind == "celery":
        found_port, port_source = None, "a Celery worker listens on no port"
    elif entry.kind in ("wsgi", "asgi", "django"):
        if hint is not None and hint.port is not None and hint.env is None:
            found_port, port_source = hint.port, hint.source
        else:
            found_port, port_source = DEFAULT_PORT, "default for the server layerwise runs"
    elif hint is not None:
        found_port = hint.port or DEFAULT_PORT
        port_env = hint.env
        port_source = hint.source + ("" if hint.port else f" (no default: {DEFAULT_PORT})")
    else:
        found_port, port_source = None, "the code opens no port layerwise can see"
    if port is not None:
        found_port, port_source = port, "--port"

    health_path = health_source = None
    if found_port is not None:
        health = find.find_health_route(modules)
        if health is not None:
            health_path, health_source = health

    native, wheel_libs = native_builds(names, dependencies.no_binary)
    writable = set(find.find_written_dirs(modules))
    settings_module = None
    if django is not None:
        writable.update(django.writable)
        settings_module = django.settings
    broker = None
    if entry.kind == "celery" and entry_module is not None:
        celery = find.find_celery([entry_module])
        if celery is not None:
            broker = find.celery_broker(modules, celery[0], celery[2])
    if entry.kind == "celery" and broker is None:
        notes.append("the Celery app's broker URL was not found: set it in compose.yaml")
    if dependencies.manager == "setuptools":
        notes.append(
            "dependencies are computed by setup.py: they are installed together with the "
            "source, so a code change reinstalls them (declare them in pyproject.toml "
            "[project] dependencies to get a cached dependency layer)"
        )
    return Project(
        root=root,
        name=_project_name(root, pyproject),
        python=version,
        python_source=version_source,
        dependencies=dependencies,
        entry=entry,
        port=found_port,
        port_source=port_source,
        health_path=health_path,
        health_source=health_source,
        native=native,
        runtime_packages=wheel_libs,
        import_root=root_dir,
        port_env=port_env,
        settings_module=settings_module,
        broker=broker,
        writable_dirs=tuple(sorted(writable)),
        notes=tuple(notes),
    )
