"""What Python code uses: a static scan with `ast`.

Besides `import` statements (anywhere: functions, `try/except ImportError`, `if TYPE_CHECKING`)
the scan finds modules named by strings that a library imports by itself:

* `importlib.import_module("x")`, `__import__("x")`, `import_string("a.b.C")` and other
  loader-like calls (a callee whose name says import, plugin, backend, driver, load...);
* dotted paths anywhere (`"uvicorn.workers.UvicornWorker"`, `"pkg.mod:attr"`): Django's
  `INSTALLED_APPS`, `MIDDLEWARE`, database `ENGINE`, Celery's `include=[...]`, logging
  handler classes, entry-point strings...;
* plain names in plugin lists (`PLUGINS = ["x"]`, `INSTALLED_APPS = ["rest_framework"]`);
* drivers that a URL or a Django backend makes a library load (`postgresql://` -> psycopg2,
  `django.db.backends.postgresql` -> psycopg2 or psycopg).

Reading only what the image contains is the caller's business (`layerwise.deps.analysis`
passes the files the context engine says reach the final stage).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from layerwise.deps.names import implied_modules, is_identifier, module_path

# Where a reference comes from.
IMPORT = "import"
DYNAMIC = "import_module"  # a loader call with a literal name
STRING = "string"  # a dotted path in a string
SETTING = "setting"  # a name in a plugin/app/middleware list
IMPLIED = "implied"  # a driver a URL or a backend makes a library load
COMMAND = "command"  # CMD/ENTRYPOINT/RUN (see layerwise.deps.commands)
ENTRY_POINT = "entry_point"
ENV = "env"

_LOADER_WORDS = ("import", "plugin", "backend", "driver", "load_module", "find_spec", "resolve")
_LIST_WORDS = (
    "PLUGIN", "BACKEND", "EXTENSION", "INSTALLED_APPS", "MIDDLEWARE", "APPS", "ENGINE",
    "HANDLER", "DRIVER", "MODULES", "IMPORTS", "INCLUDE", "RENDERER", "PARSER", "CLASSES",
    "PROCESSORS", "FINDERS", "LOADERS", "STORAGE", "SERIALIZER",
)  # fmt: skip
_TEST_DIRS = frozenset({"tests", "test", "testing"})
_DEV_FILES = frozenset(
    {"conftest.py", "setup.py", "noxfile.py", "tasks.py", "fabfile.py", "dodo.py", "conf.py"}
)


@dataclass(frozen=True)
class Reference:
    """One use of a module: `module` as named (dotted), where, and how."""

    module: str
    path: str
    line: int
    kind: str = IMPORT
    optional: bool = False  # inside try/except ImportError: the code copes without it
    typing: bool = False  # inside `if TYPE_CHECKING`: never imported at run time

    @property
    def top(self) -> str:
        return self.module.split(".", 1)[0]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class FileScan:
    path: str
    references: list[Reference] = field(default_factory=list)
    error: str | None = None  # a syntax error: the file is reported, not guessed
    gpu: bool = False  # mentions CUDA (torch.cuda, device="cuda", .cuda())


def file_role(path: str) -> str:
    """ "test" for test code (tests/, test_*.py, *_test.py, conftest.py), "dev" for project
    tooling (setup.py, noxfile.py, docs/conf.py), "app" for everything else."""
    p = PurePosixPath(path)
    name = p.name
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return "test"
    if any(part in _TEST_DIRS for part in p.parts[:-1]):
        return "test"
    if name in _DEV_FILES and (name != "conf.py" or "docs" in p.parts):
        return "dev"
    return "app"


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: str, out: FileScan) -> None:
        self.path = path
        self.out = out
        self.optional = 0
        self.typing = 0
        self.package = ""  # for relative imports: ignored, they are first-party

    def add(self, module: str, line: int, kind: str) -> None:
        if not module:
            return
        self.out.references.append(
            Reference(module, self.path, line, kind, self.optional > 0, self.typing > 0)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.add(alias.name, node.lineno, IMPORT)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.add(node.module, node.lineno, IMPORT)

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(h.type) for h in node.handlers)
        if guarded:
            self.optional += 1
        for stmt in node.body:
            self.visit(stmt)
        if guarded:
            self.optional -= 1
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        is_typing = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if is_typing:
            self.typing += 1
            for stmt in node.body:
                self.visit(stmt)
            self.typing -= 1
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node.func)
        lowered = name.lower()
        if name and any(word in lowered for word in _LOADER_WORDS):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for text, line in _strings(arg):
                    if is_identifier(text) or module_path(text):
                        self.add(module_path(text) or text, line, DYNAMIC)
        if name == "cuda" or (isinstance(node.func, ast.Attribute) and node.func.attr == "cuda"):
            self.out.gpu = True
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._setting(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._setting(node.target, node.value)
        self.generic_visit(node)

    def _setting(self, target: ast.expr, value: ast.expr) -> None:
        name = _callee(target).upper()
        if name and any(word in name for word in _LIST_WORDS):
            for text, line in _strings(value):
                if is_identifier(text):
                    self.add(text, line, SETTING)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg and any(w in node.arg.upper() for w in _LIST_WORDS):
            for text, line in _strings(node.value):
                if is_identifier(text):
                    self.add(text, line, SETTING)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if not isinstance(value, str) or not value or len(value) > 300:
            return
        dotted = module_path(value)
        if dotted:
            self.add(dotted, node.lineno, STRING)
        for module in implied_modules(value):
            self.add(module, node.lineno, IMPLIED)
        if value == "cuda" or value.startswith("cuda:"):
            self.out.gpu = True

    def visit_Expr(self, node: ast.Expr) -> None:
        # A docstring or a bare string is prose, not a reference.
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        self.generic_visit(node)


def _catches_import_error(handler: ast.expr | None) -> bool:
    if handler is None:
        return True
    names = handler.elts if isinstance(handler, ast.Tuple) else [handler]
    return any(
        _callee(n) in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")
        for n in names
    )


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _strings(node: ast.expr) -> Iterable[tuple[str, int]]:
    """String constants in a literal (a string, or a list/tuple/set/dict of them, nested)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value, node.lineno
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for elt in node.elts:
            yield from _strings(elt)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            if value is not None:
                yield from _strings(value)
    elif isinstance(node, ast.BinOp):  # INSTALLED_APPS = [...] + [...]
        yield from _strings(node.left)
        yield from _strings(node.right)


# Only files that assign plugin/app/backend lists (settings modules) need every expression
# visited; everywhere else the statements give the imports and the source text gives the
# strings, which is several times faster than visiting every node of every file.
_SETTINGS_HINT = re.compile(
    # settings are UPPER_CASE names (Django's convention), whatever the case of the rest
    r"(?-i:^[ \t]*[A-Z_]*(?:" + "|".join(_LIST_WORDS) + r")[A-Z_]*[ \t]*(?::[^=\n]*)?[+]?=)|"
    r"\b\w*(?:plugin|backend|extension|middleware|apps|engine|include|modules)\w*\s*=\s*[\[(]",
    re.MULTILINE | re.IGNORECASE,
)
_QUOTED = re.compile(r"""(['"])([A-Za-z_][\w.:+/@-]*)\1""")
# A call whose name holds one of these words (`import_module(...)`, `load_plugin(...)`): the
# search starts at the word, not at every word boundary, which is many times faster.
_LOADER_CALL = re.compile(
    r"(?:import|plugin|backend|driver|load_module|find_spec|resolve)\w*\s*\(([^()]*)\)",
    re.IGNORECASE,
)
_GPU = re.compile(r"""\.cuda\s*\(|['"]cuda(?::\d+)?['"]|\bcuda\.is_available\b""")


def scan_source(source: str | bytes, path: str) -> FileScan:
    """References in one Python source."""
    out = FileScan(path)
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", None) or 0
        why = getattr(exc, "msg", None) or type(exc).__name__
        out.error = f"{path}:{line}: cannot parse ({why})"
        return out
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    if _SETTINGS_HINT.search(text):
        try:
            _Visitor(path, out).visit(tree)
            return out
        except RecursionError:  # absurdly deep expressions: the cheaper path still works
            out.references.clear()
    _statements(tree.body, path, out.references, 0, 0)
    _text_references(text, path, out)
    return out


def _statements(
    body: list[ast.stmt], path: str, refs: list[Reference], optional: int, typing: int
) -> None:
    """Imports in a statement list and every statement list nested in it."""
    for node in body:
        kind = type(node)
        if kind is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                refs.append(Reference(alias.name, path, node.lineno, IMPORT, optional > 0,
                                      typing > 0))  # fmt: skip
        elif kind is ast.ImportFrom:
            if node.level == 0 and node.module:  # type: ignore[attr-defined]
                refs.append(Reference(node.module, path, node.lineno, IMPORT,  # type: ignore[attr-defined]
                                      optional > 0, typing > 0))  # fmt: skip
        elif kind is ast.Try or kind is ast.TryStar:
            t: ast.Try = node  # type: ignore[assignment]
            guarded = any(_catches_import_error(h.type) for h in t.handlers)
            _statements(t.body, path, refs, optional + guarded, typing)
            for h in t.handlers:
                _statements(h.body, path, refs, optional, typing)
            _statements(t.orelse, path, refs, optional, typing)
            _statements(t.finalbody, path, refs, optional, typing)
        elif kind is ast.If:
            i: ast.If = node  # type: ignore[assignment]
            test = i.test
            is_typing = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            _statements(i.body, path, refs, optional, typing + is_typing)
            _statements(i.orelse, path, refs, optional, typing)
        else:
            for field in ("body", "orelse", "finalbody"):
                sub = getattr(node, field, None)
                if sub:
                    _statements(sub, path, refs, optional, typing)
            if kind is ast.Match:
                for case in node.cases:  # type: ignore[attr-defined]
                    _statements(case.body, path, refs, optional, typing)


def _text_references(text: str, path: str, out: FileScan) -> None:
    """Modules named by string literals: dotted paths, URLs' drivers, loader-call names."""

    # Few strings of a file name modules: counting newlines for each is cheaper than a table.
    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    refs = out.references
    for m in _QUOTED.finditer(text):
        value = m.group(2)
        dotted = module_path(value)
        if dotted:
            refs.append(Reference(dotted, path, line_of(m.start()), STRING))
        for module in implied_modules(value):
            refs.append(Reference(module, path, line_of(m.start()), IMPLIED))
    for m in _LOADER_CALL.finditer(text):
        for q in _QUOTED.finditer(m.group(1)):
            value = q.group(2)
            if is_identifier(value) or module_path(value):
                line = line_of(m.start())
                refs.append(Reference(module_path(value) or value, path, line, DYNAMIC))
    if "cuda" in text and _GPU.search(text):
        out.gpu = True


def _scan_chunk(root: str, paths: list[str]) -> list[FileScan]:
    out = []
    base = Path(root)
    for rel in paths:
        try:
            data = (base / rel).read_bytes()
        except OSError as exc:
            out.append(FileScan(rel, error=f"{rel}: cannot read ({exc.strerror or exc})"))
            continue
        out.append(scan_source(data, rel))
    return out


PARALLEL_FROM = 400  # files; below this, starting worker processes costs more than it saves


def scan_files(root: Path, paths: Iterable[str], workers: int | None = None) -> list[FileScan]:
    """Scan files (paths relative to `root`), in file order; unreadable files are reported in
    `error`. Large projects are parsed in worker processes, one per core (`ast.parse` holds
    the interpreter lock, so threads would not help)."""
    files = list(paths)
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 2 or len(files) < PARALLEL_FROM or not _can_fork():
        return _scan_chunk(str(root), files)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(files) // (count * 4))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        results = pool.map(_scan_chunk, [str(root)] * len(chunks), chunks)
        return [scan for chunk in results for scan in chunk]


def _can_fork() -> bool:
    """Forking is safe (and cheap) on POSIX when this process runs no other threads."""
    import multiprocessing
    import threading

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def first_party(paths: Iterable[str]) -> set[str]:
    """Top-level names the project itself provides: every module file's stem and every
    directory that holds Python files, at any depth (a module is importable as a top-level
    name from wherever the code puts itself on sys.path; counting all keeps a local module
    from ever being mistaken for a dependency)."""
    names: set[str] = set()
    for rel in paths:
        p = PurePosixPath(rel)
        if p.suffix in (".py", ".pyi") or p.suffix.startswith(".so"):
            names.add(p.name.split(".", 1)[0])
            names.update(part for part in p.parts[:-1] if part.isidentifier())
    return names
