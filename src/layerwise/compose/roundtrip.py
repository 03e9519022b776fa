"""Editing compose files without losing what people wrote: comments, key order, quoting and
indentation survive (ruamel.yaml's round-trip mode), and the file is replaced atomically.

    doc = ComposeDocument.read("compose.yaml")
    doc.delete(("services", "web", "volumes", 0))
    doc.set(("services", "web", "restart"), "unless-stopped")
    doc.write()                      # temp file + rename in the same directory

Every edit is checked by reading the result back as Compose would (`parse_documents`), so an
edit can never leave a file that is not valid YAML.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.yamlsource import parse_documents

Key = str | int


def _yaml(mapping: int, sequence: int, offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines (commands, healthchecks)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file is written, so that edits
    are indented like the rest of it. Defaults: 2, 4, 2 (`key:` then `  - item`)."""
    mapping: int | None = None
    offset: int | None = None
    parent: tuple[int, bool] | None = None  # indentation of the last line, ends with ':'
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped == "---":
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        dash = stripped.startswith("- ") or stripped == "-"
        if parent is not None and parent[1] and indent >= parent[0]:
            if dash:
                if offset is None:
                    offset = indent - parent[0]
            elif mapping is None and indent > parent[0]:
                mapping = indent - parent[0]
        if mapping is not None and offset is not None:
            break
        content = stripped.split(" #", 1)[0].rstrip()
        parent = (indent, content.endswith(":"))
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, offset + 2, offset


class ComposeDocument:
    """One compose file (its first YAML document) open for round-trip editing."""

    def __init__(self, text: str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.original = text
        label = str(path) if path is not None else "<compose>"
        parse_documents(text, label)  # a clear file:line error for invalid YAML
        mapping, sequence, offset = guess_indent(text)
        self._yaml = _yaml(mapping, sequence, offset)
        try:
            self.data: Any = self._yaml.load(text)
        except YAMLError as exc:  # parse_documents accepted it; ruamel's constructor did not
            raise ComposeFileError(f"cannot edit {label}: {exc}") from None
        if self.data is None:
            self.data = CommentedMap()
        if not isinstance(self.data, CommentedMap):
            raise ComposeFileError(f"{label}: top-level object must be a mapping")

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ComposeDocument:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ComposeFileError(f"cannot read {path}: {exc}") from None
        return cls(text, path)

    # -- reading ---------------------------------------------------------------------------

    def get(self, path: Sequence[Key], default: Any = None) -> Any:
        node = self.data
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return default
        return node

    # -- editing ---------------------------------------------------------------------------

    def set(self, path: Sequence[Key], value: Any) -> None:
        """Set a value, creating the mappings on the way; an existing key keeps its place, a
        new one goes after the last key of its mapping."""
        if not path:
            raise ValueError("empty path")
        parent = self.data
        for key in path[:-1]:
            if isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
                parent = parent[key]
                continue
            child = parent.get(key) if isinstance(parent, dict) else None
            if child is None:
                if not isinstance(parent, dict):
                    raise KeyError(f"cannot create {key!r} inside a {type(parent).__name__}")
                child = CommentedMap()
                parent[key] = child
            parent = child
        parent[path[-1]] = _to_yaml(value)

    def delete(self, path: Sequence[Key]) -> bool:
        """Remove a key or a list item; False when it was not there. An emptied mapping or list
        is removed too, so no `volumes: []` is left behind."""
        if not path:
            return False
        parent = self.get(path[:-1])
        key = path[-1]
        present = (isinstance(parent, dict) and key in parent) or (
            isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent)
        )
        if not present:
            return False
        del parent[key]
        if len(path) > 1 and isinstance(parent, dict | list) and not parent:
            self.delete(path[:-1])
        return True

    def append(self, path: Sequence[Key], value: Any) -> None:
        """Append to a list, creating it when absent."""
        current = self.get(path)
        if current is None:
            self.set(path, CommentedSeq())
            current = self.get(path)
        if not isinstance(current, list):
            raise KeyError(f"{'.'.join(map(str, path))} is not a list")
        current.append(_to_yaml(value))

    def insert(self, path: Sequence[Key], value: Any) -> None:
        """Insert into a list at the index that ends `path`, creating the list when absent."""
        if not path or not isinstance(path[-1], int):
            raise ValueError("insert needs a path that ends with a list index")
        current = self.get(path[:-1])
        if current is None:
            self.set(path[:-1], CommentedSeq())
            current = self.get(path[:-1])
        if not isinstance(current, list):
            raise KeyError(f"{'.'.join(map(str, path[:-1]))} is not a list")
        current.insert(path[-1], _to_yaml(value))

    # -- writing ---------------------------------------------------------------------------

    def to_text(self) -> str:
        stream = io.StringIO()
        self._yaml.dump(self.data, stream)
        text = stream.getvalue()
        parse_documents(text, str(self.path or "<compose>"))  # never write broken YAML
        return text

    def write(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically (temp file + rename in the same directory), keeping the mode."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path to write to")
        write_atomic(target, self.to_text())
        return target


def _to_yaml(value: Any) -> Any:
    if isinstance(value, CommentedMap | CommentedSeq):
        return value
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _to_yaml(v)
        return out
    if isinstance(value, list | tuple):
        seq = CommentedSeq()
        seq.extend(_to_yaml(v) for v in value)
        return seq
    return value


def write_atomic(target: Path, text: str) -> None:
    """Replace `target` with `text` so that readers see the old file or the new, never half."""
    directory = target.parent
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            Path(temp).chmod(mode)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
