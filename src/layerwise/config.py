"""Configuration: `[tool.layerwise]` in pyproject.toml or a `.layerwise.toml` file.

    [tool.layerwise]
    select = ["LW1", "LW201"]          # rule ids or prefixes; default: all
    ignore = ["LW503"]                 # rule ids or prefixes
    trusted-registries = ["docker.io", "ghcr.io"]
    [tool.layerwise.severity]
    LW101 = "error"
    [tool.layerwise.per-file-ignores]
    "docker/dev.Dockerfile" = ["LW4"]

The nearest `.layerwise.toml` or pyproject.toml with a `[tool.layerwise]` table, searching from
the linted file's directory upwards, applies. Unknown keys are errors that name the key.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from layerwise.errors import InputError

if TYPE_CHECKING:
    from layerwise.rules.base import Severity

KEYS = {"select", "ignore", "severity", "trusted-registries", "per-file-ignores", "extend-ignore"}


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    trusted_registries: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    source: Path | None = None  # the file it was read from
    root: Path | None = None  # per-file-ignores patterns are relative to this

    def enabled(self, rule_id: str, path: str | None = None) -> bool:
        if self.select and not any(rule_id.startswith(p) for p in self.select):
            return False
        if any(rule_id.startswith(p) for p in self.ignore):
            return False
        return not (path is not None and any(rule_id.startswith(p) for p in self.ignored_for(path)))

    def ignored_for(self, path: str) -> list[str]:
        if not self.per_file_ignores:
            return []  # the common case; resolving the path costs more than all the rules
        out: list[str] = []
        candidate = Path(path)
        rel = candidate
        if self.root is not None:
            try:
                rel = candidate.resolve().relative_to(self.root.resolve())
            except ValueError:
                rel = candidate
        posix = PurePosixPath(rel.as_posix())
        for pattern, ids in self.per_file_ignores.items():
            if fnmatch.fnmatch(str(posix), pattern) or fnmatch.fnmatch(posix.name, pattern):
                out.extend(ids)
        return out

    def severity_for(self, rule_id: str, default: Severity) -> Severity:
        from layerwise.rules.base import Severity

        text = self.severity.get(rule_id)
        return Severity.parse(text) if text else default


def load_config(path: Path) -> Config:
    """Read a config file (pyproject.toml or .layerwise.toml)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    table: Any = data
    prefix = ""
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("layerwise", {})
        prefix = "tool.layerwise."
    if not isinstance(table, dict):
        raise InputError(f"{path}: [{prefix.rstrip('.')}] must be a table")
    return _from_table(table, path, prefix)


def _from_table(table: dict[str, Any], path: Path, prefix: str) -> Config:
    from layerwise.rules.base import Severity

    for key in table:
        if key not in KEYS:
            allowed = ", ".join(sorted(KEYS))
            raise InputError(f"{path}: unknown key {prefix}{key!r} (known keys: {allowed})")

    def str_list(key: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{path}: {prefix}{key} must be a list of strings")
        return [v.strip().upper() if key != "trusted-registries" else v.strip() for v in value]

    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise InputError(f"{path}: {prefix}severity must be a table of rule id = severity")
    for rule_id, value in severity.items():
        if not isinstance(value, str):
            raise InputError(f"{path}: {prefix}severity.{rule_id} must be a string")
        try:
            Severity.parse(value)
        except ValueError as exc:
            raise InputError(f"{path}: {prefix}severity.{rule_id}: {exc}") from None
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in pfi.values()
    ):
        raise InputError(f"{path}: {prefix}per-file-ignores must map patterns to lists of rule ids")
    return Config(
        select=str_list("select"),
        ignore=str_list("ignore") + str_list("extend-ignore"),
        severity={k.upper(): v for k, v in severity.items()},
        trusted_registries=str_list("trusted-registries"),
        per_file_ignores={k: [x.upper() for x in v] for k, v in pfi.items()},
        source=path,
        root=path.parent,
    )


def config_from_table(table: dict[str, Any]) -> Config:
    """A configuration from a `[tool.layerwise]`-shaped table (validated the same way)."""
    return _from_table(table, Path("<config>"), "")


def find_config(start: Path) -> Config:
    """The configuration that applies to files under `start` (a file or directory)."""
    directory = start if start.is_dir() else start.parent
    directory = directory.resolve()
    for folder in (directory, *directory.parents):
        dedicated = folder / ".layerwise.toml"
        if dedicated.is_file():
            return load_config(dedicated)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if "layerwise" in data.get("tool", {}):
                return load_config(pyproject)
    return Config()
