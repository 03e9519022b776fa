"""Finding how a Python application starts, from its syntax trees: web application objects
(Flask, FastAPI, Starlette, ...), Django projects, Celery apps, console scripts, `__main__`
modules and scripts; the port it listens on; a health route; the broker a Celery app uses;
directories it writes to.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerwise.generate.project import Broker, Entry
from layerwise.generate.source import Module, constant_str, env_read, main_blocks

# Application classes -> (framework, "wsgi" | "asgi").
APP_CLASSES: dict[str, tuple[str, str]] = {
    "flask.Flask": ("flask", "wsgi"),
    "flask.app.Flask": ("flask", "wsgi"),
    "fastapi.FastAPI": ("fastapi", "asgi"),
    "fastapi.applications.FastAPI": ("fastapi", "asgi"),
    "starlette.applications.Starlette": ("starlette", "asgi"),
    "quart.Quart": ("quart", "asgi"),
    "litestar.Litestar": ("litestar", "asgi"),
    "falcon.App": ("falcon", "wsgi"),
    "falcon.API": ("falcon", "wsgi"),
    "falcon.asgi.App": ("falcon", "asgi"),
    "bottle.Bottle": ("bottle", "wsgi"),
}
CELERY_CLASSES = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
# Calls in a `__main__` block that start a production-grade server.
PRODUCTION_RUNNERS = frozenset(
    {
        "waitress.serve",
        "uvicorn.run",
        "hypercorn.run",
        "cheroot.wsgi.Server",
        "bjoern.run",
        "aiohttp.web.run_app",
    }
)
_HEALTH_NAMES = (
    "health",
    "healthz",
    "healthcheck",
    "health-check",
    "health_check",
    "_health",
    "livez",
    "readyz",
    "ping",
    "status",
)
# `@app.get("/health")`: only as decorators (a call `client.get("/health")` is no route).
_ROUTE_DECORATORS = frozenset({"get", "route", "api_route", "head"})
_ROUTE_METHODS = frozenset({"add_route", "add_url_rule", "add_api_route"})
_ROUTE_CALLS = frozenset({"Route", "path", "re_path", "url"})
_PREFERRED_MODULES = ("app", "main", "wsgi", "asgi", "server", "application", "api", "web")


@dataclass(frozen=True)
class AppObject:
    module: Module
    name: str  # variable name, or "create_app()" for a factory
    framework: str
    protocol: str  # wsgi | asgi
    node: ast.AST
    factory: bool = False

    @property
    def target(self) -> str:
        return f"{self.module.name}:{self.name}"


def _call_class(module: Module, node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        return module.qualify(node.func)
    return None


def find_app_objects(modules: Iterable[Module]) -> list[AppObject]:
    """Module-level `x = Framework(...)` objects and factories that return one."""
    found: list[AppObject] = []
    for module in modules:
        for node in module.tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                value = node.value
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                cls = _call_class(module, value) if value is not None else None
                if cls in APP_CLASSES:
                    for target in targets:
                        if isinstance(target, ast.Name):
                            framework, protocol = APP_CLASSES[cls]
                            found.append(AppObject(module, target.id, framework, protocol, node))
            elif isinstance(node, ast.FunctionDef) and not node.args.args:
                made = _factory_framework(module, node)
                if made is not None:
                    framework, protocol = made
                    found.append(
                        AppObject(module, f"{node.name}()", framework, protocol, node, factory=True)
                    )
    return found


def _factory_framework(module: Module, func: ast.FunctionDef) -> tuple[str, str] | None:
    """A function without parameters that returns a framework object it creates."""
    created: dict[str, tuple[str, str]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            cls = _call_class(module, node.value)
            if cls in APP_CLASSES:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        created[target.id] = APP_CLASSES[cls]
        elif isinstance(node, ast.Return) and node.value is not None:
            cls = _call_class(module, node.value)
            if cls in APP_CLASSES:
                return APP_CLASSES[cls]
            if isinstance(node.value, ast.Name) and node.value.id in created:
                return created[node.value.id]
    return None


def _module_rank(module: Module) -> tuple[int, int, str]:
    leaf = module.name.rsplit(".", 1)[-1]
    preferred = _PREFERRED_MODULES.index(leaf) if leaf in _PREFERRED_MODULES else 99
    return (module.name.count("."), preferred, module.name)


def best_app(apps: list[AppObject]) -> AppObject | None:
    """Objects before factories, shallow modules first, `app`/`main`/... before other names,
    and within a module the variable called `app`/`application` first."""
    if not apps:
        return None

    def rank(app: AppObject) -> tuple[Any, ...]:
        return (
            app.factory,
            *_module_rank(app.module),
            app.name not in ("app", "application", "api"),
            app.name,
        )

    return min(apps, key=rank)


def find_celery(modules: Iterable[Module]) -> tuple[Module, str, ast.Call] | None:
    found = []
    for module in modules:
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and _call_class(module, node.value) in CELERY_CLASSES:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assert isinstance(node.value, ast.Call)
                        found.append((module, target.id, node.value))
    if not found:
        return None
    return min(found, key=lambda f: _module_rank(f[0]))


def celery_target(module: Module, name: str) -> str:
    # `celery -A pkg.mod` finds `app`/`celery` attributes itself; other names need `mod:name`.
    return module.name if name in ("app", "celery") else f"{module.name}:{name}"


def _url_setting(
    modules: list[Module], module: Module, call: ast.Call, keys: tuple[str, ...]
) -> tuple[str | None, str | None, str | None] | None:
    """(scheme, env var, default URL) of a Celery URL setting: a keyword of `Celery(...)`,
    `app.conf.<key> = ...`, `app.conf.update(<key>=...)`, or `<key> = ...` in a config module."""
    candidates: list[tuple[Module, ast.AST]] = []
    for kw in call.keywords:
        if kw.arg in keys:
            candidates.append((module, kw.value))
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in keys:
                    candidates.append((module, node.value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
        ):
            for kw in node.keywords:
                if kw.arg in keys:
                    candidates.append((module, kw.value))
    for other in modules:
        if other.name.rsplit(".", 1)[-1] in ("celeryconfig", "celery_config"):
            for node in other.tree.body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id in keys:
                            candidates.append((other, node.value))
    for where, value in candidates:
        url = constant_str(value)
        env = None
        if url is None:
            read = env_read(where, value)
            if read is None:
                continue
            env = read.name
            url = str(read.default) if read.default is not None else None
        scheme = url.split("://", 1)[0].split("+", 1)[0] if url and "://" in url else None
        if scheme is None and env is None:
            continue
        return scheme, env, url
    return None


def celery_broker(modules: list[Module], module: Module, call: ast.Call) -> Broker | None:
    """The broker (and result backend) a Celery app is configured with."""
    broker = _url_setting(modules, module, call, ("broker", "broker_url", "BROKER_URL"))
    if broker is None:
        return None
    backend = _url_setting(
        modules, module, call, ("backend", "result_backend", "CELERY_RESULT_BACKEND")
    )
    scheme, env, url = broker
    return Broker(
        scheme or "unknown",
        env,
        url,
        backend_env=backend[1] if backend else None,
        backend_scheme=backend[0] if backend else None,
    )


# --- Django --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DjangoProject:
    settings: str  # module name
    settings_source: str
    wsgi: str | None  # "mysite.wsgi:application"
    asgi: str | None
    urlconf: str | None
    writable: tuple[str, ...]


def _settings_from_manage(manage: Module) -> tuple[str, str] | None:
    for node in ast.walk(manage.tree):
        if isinstance(node, ast.Call) and len(node.args) >= 2:
            func = manage.qualify(node.func)
            if func in ("os.environ.setdefault", "os.environ.__setitem__") and (
                constant_str(node.args[0]) == "DJANGO_SETTINGS_MODULE"
            ):
                value = constant_str(node.args[1])
                if value:
                    return value, manage.line(node)
    return None


def _dotted_to_target(value: str) -> str:
    module, _, attr = value.rpartition(".")
    return f"{module}:{attr}" if module else value


def _base_dir_path(node: ast.AST) -> str | None:
    """`BASE_DIR / "data" / "db.sqlite3"`, `os.path.join(BASE_DIR, "media")` -> relative path."""
    parts: list[str] = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        part = constant_str(node.right)
        if part is None:
            return None
        parts.insert(0, part)
        node = node.left
    if isinstance(node, ast.Name) and node.id == "BASE_DIR" and parts:
        return "/".join(parts)
    if (
        isinstance(node, ast.Call)
        and len(node.args) >= 2
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "BASE_DIR"
    ):
        rest = [constant_str(a) for a in node.args[1:]]
        if all(rest):
            return "/".join(r for r in rest if r)
    return None


def _sqlite_dirs(settings: Module) -> set[str]:
    """Directories of SQLite databases under BASE_DIR (`"NAME": BASE_DIR / "db.sqlite3"` is
    "."): SQLite writes its journal beside the file, so the directory must be writable."""
    out: set[str] = set()
    for node in ast.walk(settings.tree):
        if not isinstance(node, ast.Dict):
            continue
        fields = {constant_str(k): v for k, v in zip(node.keys, node.values, strict=True) if k}
        engine = constant_str(fields.get("ENGINE"))
        name = fields.get("NAME")
        if engine and engine.endswith("sqlite3") and name is not None:
            path = _base_dir_path(name)
            if path and not path.startswith(("/", "..")):
                out.add(posixpath.dirname(posixpath.normpath(path)) or ".")
    return out


def find_django(modules: list[Module], by_name: Mapping[str, Module]) -> DjangoProject | None:
    manage = by_name.get("manage")
    if manage is None:
        return None
    found = _settings_from_manage(manage)
    if found is None:
        return None
    settings_name, source = found
    values: dict[str, ast.AST] = {}
    settings = by_name.get(settings_name)
    if settings is None:
        # a settings package (settings/__init__.py importing from base/production)
        settings = by_name.get(settings_name + ".production") or by_name.get(
            settings_name + ".base"
        )
    if settings is not None:
        for node in settings.tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        values[target.id] = node.value
    wsgi_value = constant_str(values.get("WSGI_APPLICATION"))
    asgi_value = constant_str(values.get("ASGI_APPLICATION"))
    package = settings_name.rsplit(".", 1)[0]
    wsgi = _dotted_to_target(wsgi_value) if wsgi_value else None
    if wsgi is None and f"{package}.wsgi" in by_name:
        wsgi = f"{package}.wsgi:application"
    asgi = _dotted_to_target(asgi_value) if asgi_value else None
    if asgi is None and f"{package}.asgi" in by_name:
        asgi = f"{package}.asgi:application"
    dirs = {
        d
        for key in ("MEDIA_ROOT", "STATIC_ROOT")
        if key in values and (d := _base_dir_path(values[key]))
    }
    if settings is not None:
        dirs.update(_sqlite_dirs(settings))
    writable = tuple(sorted(dirs))
    return DjangoProject(
        settings_name,
        source,
        wsgi,
        asgi,
        constant_str(values.get("ROOT_URLCONF")),
        writable,
    )


# --- console scripts, __main__, scripts ---------------------------------------------------------


def console_scripts(pyproject: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(name, "module:function") from `[project.scripts]` and `[tool.poetry.scripts]`."""
    out: list[tuple[str, str]] = []
    data = pyproject or {}
    project = data.get("project")
    tables = [project.get("scripts") if isinstance(project, dict) else None]
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    tables.append(poetry.get("scripts") if isinstance(poetry, dict) else None)
    for table in tables:
        if isinstance(table, dict):
            for name, value in table.items():
                target = value if isinstance(value, str) else None
                if isinstance(value, dict):
                    target = value.get("reference") or value.get("callable")
                if isinstance(target, str) and ":" in target:
                    out.append((str(name), target.split("[", 1)[0].strip()))
    return out


def runs_production_server(module: Module) -> bool:
    for block in main_blocks(module):
        for node in ast.walk(block):
            if isinstance(node, ast.Call) and module.qualify(node.func) in PRODUCTION_RUNNERS:
                return True
    return False


def main_modules(modules: list[Module]) -> list[Module]:
    """Package `__main__` modules, shallowest first."""
    return sorted((m for m in modules if m.is_package_main), key=_module_rank)


def scripts(modules: list[Module]) -> list[Module]:
    """Top-level files with an `if __name__ == "__main__":` block, preferred names first."""
    found = [m for m in modules if "/" not in m.path and main_blocks(m) and m.name != "manage"]
    return sorted(found, key=_module_rank)


# --- routes ----------------------------------------------------------------------------------


def _health_rank(path: str) -> int | None:
    segments = [s for s in re.split(r"/+", path.strip("/")) if s]
    if not segments:
        return None
    leaf = segments[-1].lower()
    if leaf not in _HEALTH_NAMES:
        return None
    return _HEALTH_NAMES.index(leaf) * 10 + len(segments)


def _clean_route(value: str, regex: bool) -> str:
    if regex:
        value = value.lstrip("^").rstrip("$")
        value = re.sub(r"/\?$", "/", value)  # `health/?` serves `health/`
    return value if value.startswith("/") else "/" + value


def _prefixes(module: Module) -> dict[str, str]:
    """Router/blueprint variables made with a prefix in this module: name -> prefix."""
    out: dict[str, str] = {}
    for node in module.tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            for kw in node.value.keywords:
                if kw.arg in ("url_prefix", "prefix") and (prefix := constant_str(kw.value)):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            out[target.id] = prefix.rstrip("/")
    return out


def _django_includes(modules: list[Module]) -> dict[str, str]:
    """urls module -> the prefix it is included under (`path("api/", include("x.urls"))`)."""
    out: dict[str, str] = {}
    for module in modules:
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("path", "re_path")
                and len(node.args) >= 2
            ):
                prefix = constant_str(node.args[0])
                inner = node.args[1]
                if (
                    prefix is not None
                    and isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id == "include"
                    and inner.args
                    and (included := constant_str(inner.args[0]))
                ):
                    out[included] = _clean_route(prefix, node.func.id == "re_path").rstrip("/")
    return out


def find_health_route(modules: list[Module]) -> tuple[str, str] | None:
    """The health route the code serves, and where it is declared (file:line)."""
    includes = _django_includes(modules)
    best: tuple[int, str, str] | None = None

    def offer(path: str, module: Module, node: ast.AST) -> None:
        nonlocal best
        rank = _health_rank(path)
        if rank is not None and (best is None or (rank, path) < best[:2]):
            best = (rank, path, module.line(node))

    for module in modules:
        prefixes = _prefixes(module)
        include_prefix = includes.get(module.name, "")
        decorators = {
            id(d)
            for node in ast.walk(module.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            for d in node.decorator_list
        }
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and node.args:
                first = constant_str(node.args[0])
                if first is None:
                    continue
                func = node.func
                is_route = isinstance(func, ast.Attribute) and (
                    func.attr in _ROUTE_METHODS
                    or (func.attr in _ROUTE_DECORATORS and id(node) in decorators)
                )
                if is_route and isinstance(func, ast.Attribute):
                    if first.startswith("/"):
                        owner = func.value.id if isinstance(func.value, ast.Name) else ""
                        offer(prefixes.get(owner, "") + first, module, node)
                elif isinstance(func, ast.Name) and func.id in _ROUTE_CALLS:
                    regex = func.id in ("re_path", "url")
                    if func.id in ("path", "re_path", "url"):
                        offer(include_prefix + _clean_route(first, regex), module, node)
                    elif first.startswith("/"):
                        offer(first, module, node)
            elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
                right = node.comparators[0]
                values = []
                if isinstance(node.ops[0], ast.Eq):
                    values = [constant_str(right)]
                elif isinstance(node.ops[0], ast.In) and isinstance(right, ast.Tuple | ast.List):
                    values = [constant_str(e) for e in right.elts]
                for value in values:
                    if value and value.startswith("/"):
                        offer(value, module, node)
    if best is None:
        return None
    return best[1], best[2]


# --- ports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortHint:
    port: int | None
    env: str | None
    source: str


def _int(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 65536 else None


def find_port(modules: list[Module]) -> PortHint | None:
    """The port the code itself listens on: a `PORT`-like variable it reads (with its default),
    a `port=` argument of a run/serve call, or a click option with `envvar="PORT"`."""
    env_hint: PortHint | None = None
    literal_hint: PortHint | None = None
    for module in modules:
        for node in ast.walk(module.tree):
            read = env_read(module, node)
            if read is not None and read.name.upper().endswith("PORT") and env_hint is None:
                env_hint = PortHint(_int(read.default), read.name, module.line(node))
            if isinstance(node, ast.Call):
                envvar = next(
                    (constant_str(k.value) for k in node.keywords if k.arg == "envvar"), None
                )
                if envvar and envvar.upper().endswith("PORT") and env_hint is None:
                    default = next((k.value for k in node.keywords if k.arg == "default"), None)
                    port = _int(default.value) if isinstance(default, ast.Constant) else None
                    env_hint = PortHint(port, envvar, module.line(node))
                for kw in node.keywords:
                    if kw.arg == "port" and isinstance(kw.value, ast.Constant):
                        port = _int(kw.value.value)
                        if port and literal_hint is None:
                            literal_hint = PortHint(port, None, module.line(node))
    return env_hint or literal_hint


# --- directories the app writes ------------------------------------------------------------------


def find_written_dirs(modules: list[Module]) -> list[str]:
    """Relative directories the code opens files in for writing (`open("logs/x.log", "a")`,
    `logging.FileHandler("logs/app.log")`): they must exist and belong to the runtime user."""
    out: set[str] = set()
    for module in modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = module.qualify(node.func)
            path = constant_str(node.args[0])
            if path is None or path.startswith("/") or "/" not in path:
                continue
            writes = False
            if func in ("logging.FileHandler", "logging.handlers.RotatingFileHandler"):
                writes = True
            elif func == "open":
                mode = constant_str(node.args[1]) if len(node.args) > 1 else None
                mode = mode or next(
                    (constant_str(k.value) for k in node.keywords if k.arg == "mode"), None
                )
                writes = bool(mode) and any(c in (mode or "") for c in "wax")
            if writes:
                directory = posixpath.normpath(posixpath.dirname(path))
                if directory and not directory.startswith(".."):
                    out.add(directory)
    return sorted(out)


def entry_for_console_script(name: str, target: str, source: str) -> Entry:
    return Entry("console-script", None, target, source, script=name)


def import_root(root: Path, pyproject: Mapping[str, Any] | None) -> str:
    """ "src" for a src layout (declared, or a package under src/ and none at the top)."""
    data = pyproject or {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    setuptools = tool.get("setuptools") if isinstance(tool.get("setuptools"), dict) else {}
    assert isinstance(setuptools, dict)
    package_dir = setuptools.get("package-dir")
    if isinstance(package_dir, dict) and package_dir.get("") == "src":
        return "src"
    packages = setuptools.get("packages")
    if isinstance(packages, dict):
        find = packages.get("find")
        where = find.get("where") if isinstance(find, dict) else None
        if where == ["src"] or where == "src":
            return "src"
    src = root / "src"
    if src.is_dir() and any((p / "__init__.py").is_file() for p in src.iterdir() if p.is_dir()):
        top_packages = [
            p
            for p in root.iterdir()
            if p.is_dir() and p.name != "src" and (p / "__init__.py").is_file()
        ]
        if not top_packages:
            return "src"
    return ""
