"""What `layerwise init` knows about a Python project: the facts detection finds, as data.

Every fact carries where it came from (`source`: a file and line, or why a default was taken),
so the report can say why the generated files look the way they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Manager = Literal["pip", "poetry", "uv", "pipenv", "pdm", "pep621", "setuptools", "none"]
EntryKind = Literal["wsgi", "asgi", "django", "celery", "console-script", "module", "script"]


@dataclass(frozen=True)
class Dependencies:
    """How the project declares its dependencies and which files a change to them touches."""

    manager: Manager
    # Files copied before the install, in install order (POSIX paths relative to the project).
    manifests: tuple[str, ...]
    source: str
    # pip: the requirements file(s) installed (the top of each -r/-c chain).
    requirements: tuple[str, ...] = ()
    # Normalized distribution names the project declares (all chains, all groups it installs).
    names: frozenset[str] = frozenset()
    # Distributions pip must build from source (`--no-binary`); ":all:" for every one.
    no_binary: frozenset[str] = frozenset()
    lock_version: str | None = None


@dataclass(frozen=True)
class Entry:
    """How the application starts."""

    kind: EntryKind
    framework: str | None  # flask, fastapi, starlette, django, celery, ... (None: plain Python)
    target: str  # "app:app", "mysite.wsgi:application", "tasks", "greeter.server:main", ...
    source: str  # "file:line" where it was found
    script: str | None = None  # console script name
    asgi: bool = False  # a Django project served through its ASGI module

    @property
    def module(self) -> str:
        return self.target.split(":", 1)[0]


@dataclass(frozen=True)
class NativeBuild:
    """A dependency that compiles C code at install time, and the Debian packages around it."""

    name: str  # the distribution
    build_packages: tuple[str, ...]  # compilers and -dev packages (builder stage only)
    runtime_packages: tuple[str, ...]  # the shared libraries it links against (runtime stage)
    reason: str


@dataclass(frozen=True)
class Broker:
    """The message broker a Celery app talks to, as the code configures it."""

    scheme: str  # redis, amqp, ...
    env: str | None  # the variable the code reads the URL from, if any
    default: str | None
    backend_env: str | None = None  # the variable it reads its result backend URL from
    backend_scheme: str | None = None


@dataclass(frozen=True)
class Project:
    root: Path
    name: str  # a Docker/Compose friendly name (lower case, [a-z0-9-])
    python: str  # "3.11"
    python_source: str
    dependencies: Dependencies
    entry: Entry
    port: int | None  # None: not a network service (a worker)
    port_source: str
    health_path: str | None
    health_source: str | None
    native: tuple[NativeBuild, ...] = ()
    runtime_packages: tuple[str, ...] = ()  # libraries needed at run time without a build
    import_root: str = ""  # "" (the project root) or "src" for a src layout
    port_env: str | None = None  # the variable the app itself reads its port from
    settings_module: str | None = None  # Django
    broker: Broker | None = None
    writable_dirs: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # things the user should know

    def to_json(self) -> dict[str, Any]:
        deps = self.dependencies
        return {
            "root": str(self.root),
            "name": self.name,
            "python": {"version": self.python, "source": self.python_source},
            "dependencies": {
                "manager": deps.manager,
                "manifests": list(deps.manifests),
                "requirements": list(deps.requirements),
                "source": deps.source,
                "names": sorted(deps.names),
            },
            "entry": {
                "kind": self.entry.kind,
                "framework": self.entry.framework,
                "target": self.entry.target,
                "script": self.entry.script,
                "source": self.entry.source,
            },
            "port": self.port,
            "port_source": self.port_source,
            "health_path": self.health_path,
            "health_source": self.health_source,
            "native": [
                {
                    "name": n.name,
                    "build_packages": list(n.build_packages),
                    "runtime_packages": list(n.runtime_packages),
                    "reason": n.reason,
                }
                for n in self.native
            ],
            "runtime_packages": list(self.runtime_packages),
            "import_root": self.import_root,
            "broker": None
            if self.broker is None
            else {
                "scheme": self.broker.scheme,
                "env": self.broker.env,
                "backend_scheme": self.broker.backend_scheme,
                "backend_env": self.broker.backend_env,
            },
            "writable_dirs": list(self.writable_dirs),
            "notes": list(self.notes),
        }
