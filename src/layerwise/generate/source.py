"""Reading a project's Python source with `ast`: which modules exist, what each imports, the
application objects it creates, its routes, the environment variables and ports it reads.

Nothing is executed and nothing is matched with regular expressions over the text: names are
resolved through the module's imports (`from flask import Flask as F; app = F(__name__)` is a
Flask app), and constants are read from the syntax tree.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Directories that never hold the application's own code.
SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "site-packages",
        "venv",
        "env",
        "virtualenv",
        "tests",
        "test",
        "testing",
        "docs",
        "doc",
        "build",
        "dist",
        "migrations",
        "notebooks",
        "examples",
    }
)
MAX_FILES = 3000


@dataclass(frozen=True)
class EnvRead:
    """`os.environ.get("PORT", "8000")` and friends: the variable and its default, if constant."""

    name: str
    default: str | int | None


@dataclass
class Module:
    path: str  # relative POSIX path of the file
    name: str  # dotted module name from the import root
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name

    @property
    def is_package_main(self) -> bool:
        return self.path.endswith("/__main__.py")

    def qualify(self, node: ast.expr) -> str | None:
        """The fully qualified name an expression refers to, through the imports."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        base = self.imports.get(node.id, node.id)
        return ".".join([base, *reversed(parts)])

    def line(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 1)}"


def _collect_imports(module: Module) -> None:
    package = module.name.rsplit(".", 1)[0] if "." in module.name else ""
    if module.path.endswith("__init__.py"):
        package = module.name
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    module.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    module.imports[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".") if package else []
                parent = parent[: len(parent) - (node.level - 1)] if node.level > 1 else parent
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                module.imports[alias.asname or alias.name] = f"{base}.{alias.name}".lstrip(".")


def module_name(rel: str, import_root: str) -> str | None:
    """`app/main.py` -> `app.main`; `src/greeter/__init__.py` -> `greeter` (import root src)."""
    if import_root:
        if not rel.startswith(import_root + "/"):
            return None
        rel = rel[len(import_root) + 1 :]
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _is_test_file(name: str) -> bool:
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("tests.py", "conftest.py", "setup.py", "noxfile.py")
    )


def iter_python_files(root: Path) -> Iterator[str]:
    """Relative POSIX paths of the project's .py files, skipping hidden, virtualenv, test and
    documentation directories (sorted, bounded)."""
    count = 0
    for current, dirs, files in os.walk(root):
        rel_dir = Path(current).relative_to(root).as_posix()
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIP_DIRS
            and not (Path(current, d) / "pyvenv.cfg").exists()
        )
        for name in sorted(files):
            if name.endswith(".py") and not _is_test_file(name):
                count += 1
                if count > MAX_FILES:
                    return
                yield name if rel_dir == "." else f"{rel_dir}/{name}"


def load_modules(root: Path, import_root: str) -> tuple[list[Module], list[str]]:
    """Parse every source file; returns the modules and the files that could not be parsed."""
    modules: list[Module] = []
    broken: list[str] = []
    for rel in iter_python_files(root):
        name = module_name(rel, import_root) if rel.startswith(import_root + "/") else None
        if name is None:
            name = module_name(rel, "") or rel[:-3].replace("/", ".")
        try:
            text = (root / rel).read_text(encoding="utf-8")
            tree = ast.parse(text, filename=rel)
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            broken.append(rel)
            continue
        module = Module(rel, name, tree)
        _collect_imports(module)
        modules.append(module)
    return modules, broken


def constant_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def env_read(module: Module, node: ast.AST | None) -> EnvRead | None:
    """`os.environ.get(N, d)`, `os.getenv(N, d)`, `os.environ[N]`, `environ.get(...)`, and the
    same wrapped in `int(...)`/`str(...)`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("int", "str", "float")
        and len(node.args) == 1
    ):
        return env_read(module, node.args[0])
    if isinstance(node, ast.Subscript):
        if module.qualify(node.value) == "os.environ":
            name = constant_str(node.slice)
            return EnvRead(name, None) if name else None
        return None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = module.qualify(node.func)
    if func not in ("os.environ.get", "os.getenv", "os.environ.setdefault"):
        return None
    name = constant_str(node.args[0])
    if name is None:
        return None
    default: str | int | None = None
    if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
        value = node.args[1].value
        if isinstance(value, str | int) and not isinstance(value, bool):
            default = value
    return EnvRead(name, default)


def main_blocks(module: Module) -> list[ast.If]:
    """The module's `if __name__ == "__main__":` blocks."""
    out = []
    for node in module.tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
            and len(node.test.comparators) == 1
            and constant_str(node.test.comparators[0]) == "__main__"
        ):
            out.append(node)
    return out
