"""What the commands of a Dockerfile use: programs by name (console scripts such as
`gunicorn`, `celery`), `python -m module`, `python -c "import x"`, and dotted paths in their
arguments (`gunicorn -k uvicorn.workers.UvicornWorker app:app`, `celery -A proj worker`).

CMD, ENTRYPOINT and HEALTHCHECK run in the container (run-time use); RUN runs while building
(build-time use). Package-manager commands are left to `layerwise.deps.installs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from layerwise.deps.imports import COMMAND, ENV, Reference, scan_source
from layerwise.deps.names import implied_modules, is_identifier, module_path

_PYTHON = ("python", "python3", "pypy", "pypy3")
_APP_OPTIONS = frozenset({"-A", "--app", "--worker-class", "-k", "--factory", "--settings"})
_PY_VALUE_OPTIONS = frozenset({"-W", "-X", "--check-hash-based-pycs", "-Q"})


@dataclass(frozen=True)
class ProgramUse:
    """A program a command runs (its basename) and where."""

    program: str
    path: str
    line: int
    runtime: bool  # CMD/ENTRYPOINT/HEALTHCHECK (True) or RUN (False)


def _is_python(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.startswith(_PYTHON) and base.rstrip("0123456789.") in _PYTHON


def argv_uses(
    argv: Sequence[str], path: str, line: int, runtime: bool
) -> tuple[list[ProgramUse], list[Reference]]:
    """Programs and modules one command line uses."""
    programs: list[ProgramUse] = []
    refs: list[Reference] = []
    if not argv:
        return programs, refs
    name = argv[0].rsplit("/", 1)[-1]
    rest = list(argv[1:])
    if _is_python(name):
        i = 0
        while i < len(rest):
            arg = rest[i]
            if arg == "-m" and i + 1 < len(rest):
                refs.append(Reference(rest[i + 1], path, line, COMMAND))
                rest = rest[i + 2 :]
                break
            if arg.startswith("-m") and len(arg) > 2:
                refs.append(Reference(arg[2:], path, line, COMMAND))
                rest = rest[i + 1 :]
                break
            if arg == "-c" and i + 1 < len(rest):
                code = scan_source(rest[i + 1], path)
                refs.extend(
                    Reference(r.module, path, line, COMMAND, r.optional, r.typing)
                    for r in code.references
                )
                rest = rest[i + 2 :]
                break
            if arg in _PY_VALUE_OPTIONS:
                i += 2
                continue
            if not arg.startswith("-"):
                rest = rest[i + 1 :]  # a script: scanned as a file of the image
                break
            i += 1
        else:
            rest = []
    else:
        programs.append(ProgramUse(name, path, line, runtime))
    previous = ""
    for arg in rest:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        option = arg.split("=", 1)[0] if arg.startswith("-") else previous
        dotted = module_path(value)
        if dotted:
            refs.append(Reference(dotted, path, line, COMMAND))
        elif option in _APP_OPTIONS and is_identifier(value):
            refs.append(Reference(value, path, line, COMMAND))
        refs.extend(Reference(m, path, line, COMMAND) for m in implied_modules(value))
        previous = arg if arg.startswith("-") and "=" not in arg else ""
    return programs, refs


def env_references(env: dict[str, str], path: str, line: int) -> Iterator[Reference]:
    """Modules an environment variable names (`DJANGO_SETTINGS_MODULE=site.settings`, a
    database URL's driver, `CELERY_BROKER_URL=redis://...`)."""
    for value in env.values():
        dotted = module_path(value)
        if dotted:
            yield Reference(dotted, path, line, ENV)
        for module in implied_modules(value):
            yield Reference(module, path, line, ENV)
