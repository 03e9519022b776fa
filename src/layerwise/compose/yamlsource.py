"""Compose YAML read as Docker Compose reads it, with a source position for every value.

Compose decodes its files with Go's yaml.v3 into plain maps, lists and scalars. This module
gives the same values, resolved by yaml.v3's rules (so `010` is the integer 8 and `yes` is a
string, exactly as Compose sees them), but as `YMap`/`YList` containers that remember where each
key and item was written, so that errors and findings can point at file:line:col.

ruamel.yaml does the parsing (its node tree keeps positions, anchors and tags); the scalar
resolution, merge keys (`<<`) and Compose's `!reset` / `!override` tags are handled here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from layerwise.compose.errors import ComposeFileError
from layerwise.errors import Location

Path = tuple[str, ...]


class YMap(dict[str, Any]):
    """A YAML mapping with the position of the mapping and of each of its keys."""

    __slots__ = ("key_locs", "loc")

    def __init__(self, *args: Any, loc: Location | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loc = loc
        self.key_locs: dict[str, Location] = {}

    def where(self, key: str) -> Location | None:
        """Where `key` was written, else where this mapping was."""
        return self.key_locs.get(key, self.loc)


class YList(list[Any]):
    """A YAML sequence with the position of the sequence and of each item."""

    __slots__ = ("item_locs", "loc")

    def __init__(self, *args: Any, loc: Location | None = None) -> None:
        super().__init__(*args)
        self.loc = loc
        self.item_locs: list[Location | None] = []

    def where(self, index: int) -> Location | None:
        if 0 <= index < len(self.item_locs) and self.item_locs[index] is not None:
            return self.item_locs[index]
        return self.loc


def where(container: Any, key: str | int) -> Location | None:
    """The position of `container[key]` if the container knows it."""
    if isinstance(container, YMap) and isinstance(key, str):
        return container.where(key)
    if isinstance(container, YList) and isinstance(key, int):
        return container.where(key)
    return getattr(container, "loc", None)


def clone(value: Any) -> Any:
    """A deep copy that keeps positions (compose-go's deepClone)."""
    if isinstance(value, dict):
        out = YMap(loc=getattr(value, "loc", None))
        if isinstance(value, YMap):
            out.key_locs = dict(value.key_locs)
        for k, v in value.items():
            out[k] = clone(v)
        return out
    if isinstance(value, list):
        lst = YList((clone(v) for v in value), loc=getattr(value, "loc", None))
        if isinstance(value, YList):
            lst.item_locs = list(value.item_locs)
        return lst
    return value


@dataclass
class Document:
    """One YAML document of a compose file: its value and the paths tagged `!reset` or
    `!override` (Compose removes what earlier files set at those paths before merging)."""

    value: Any
    reset_paths: list[Path] = field(default_factory=list)


# yaml.v3 resolves these plain scalars specially; everything else that is not a number is a string.
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_INF = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}
_NEG_INF = {"-.inf", "-.Inf", "-.INF"}
_NAN = {".nan", ".NaN", ".NAN"}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(
    r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$",
)
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def _go_parse_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, 64), falling back to ParseUint, as yaml.v3 does."""
    if not _GO_INT.match(text):
        return None
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    lower = body.lower()
    if lower.startswith("0x"):
        value = int(body[2:], 16)
    elif lower.startswith("0o"):
        value = int(body[2:], 8)
    elif lower.startswith("0b"):
        value = int(body[2:], 2)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body[1:], 8)
    else:
        value = int(body)
    value *= sign
    if _INT64_MIN <= value <= _INT64_MAX:
        return value
    if 0 <= value <= _UINT64_MAX and not text.startswith(("-", "+")):
        return value
    return None


def resolve_plain(text: str) -> Any:
    """The value yaml.v3 gives an untagged plain scalar when decoding into `interface{}`."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    head = text[0]
    if head == ".":
        if text in _INF:
            return math.inf
        if text in _NAN:
            return math.nan
        if _YAML_FLOAT.match(text):
            return float(text)
        return text
    if head in "+-" and text in _INF | _NEG_INF:
        return -math.inf if text in _NEG_INF else math.inf
    if head.isdigit() or head in "+-":
        plain = text.replace("_", "")
        number = _go_parse_int(plain)
        if number is not None:
            return number
        if _YAML_FLOAT.match(plain):
            return float(plain)
        # YAML 1.2 binary and octal forms that Go's ParseInt does not take with a sign
        for prefix, base in (("-0b", 2), ("-0o", 8)):
            if plain.startswith(prefix):
                try:
                    return -int(plain[3:], base)
                except ValueError:
                    return text
    return text


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Builder:
    def __init__(self, path: str, text: str, resolver: Any) -> None:
        self.path = path
        self.text = text
        self.resolver = resolver
        self.reset_paths: list[Path] = []
        self.active: set[int] = set()

    def loc(self, node: Node) -> Location:
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def fail(self, node: Node, message: str) -> ComposeFileError:
        return ComposeFileError(message, self.loc(node))

    def build(self, node: Node, path: Path) -> tuple[bool, Any]:
        """(keep, value): keep is False for a node tagged `!reset`."""
        tag = str(node.tag) if node.tag is not None else ""
        if tag == "!reset":
            self.reset_paths.append(path)
            return False, None
        if tag == "!override":
            self.reset_paths.append(path)
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to a node that contains it (a cycle)")
        if isinstance(node, ScalarNode):
            return True, self.scalar(node, tag)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return True, self.sequence(node, path)
            if isinstance(node, MappingNode):
                return True, self.mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise self.fail(node, f"unsupported YAML node {type(node).__name__}")

    def scalar(self, node: ScalarNode, tag: str) -> Any:
        value: str = node.value
        if node.style is not None:  # quoted, literal or folded: always a string
            return value
        if tag == _STR_TAG:
            # An explicit `!!str` keeps the text; an implicit one is what ruamel resolved.
            implicit = str(self.resolver.resolve(ScalarNode, value, (True, False)))
            if implicit != _STR_TAG:
                return value
        return resolve_plain(value)

    def sequence(self, node: SequenceNode, path: Path) -> YList:
        out = YList(loc=self.loc(node))
        for index, item in enumerate(node.value):
            keep, value = self.build(item, (*path, str(index)))
            if keep:
                out.append(value)
                out.item_locs.append(self.loc(item))
        return out

    def mapping(self, node: MappingNode, path: Path) -> YMap:
        out = YMap(loc=self.loc(node))
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and (
                str(key_node.tag) == _MERGE_TAG
                or (key_node.value == "<<" and key_node.style is None)
            ):
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a mapping key must be a string, not a collection")
            key = self.scalar(key_node, str(key_node.tag))
            if not isinstance(key, str):
                where_ = ".".join(path) or "top level"
                raise self.fail(
                    key_node, f"non-string key {key_node.value!r} in {where_}: quote it"
                )
            if key in out.key_locs:
                first = out.key_locs[key]
                raise self.fail(
                    key_node, f"mapping key {key!r} already defined at line {first.line}"
                )
            keep, value = self.build(value_node, (*path, key))
            out.key_locs[key] = self.loc(key_node)
            if keep:
                out[key] = value
            else:
                # `!reset` drops the key from this file but remembers it was written here
                out.key_locs.pop(key, None)
        # Merge keys: explicit keys win, then the first merged mapping, then the next ones.
        for merge in merges:
            sources = merge.value if isinstance(merge, SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise self.fail(source, "a merge key (<<) must refer to a mapping")
                keep, merged = self.build(source, path)
                if not keep:
                    continue
                for key, value in merged.items():
                    if key not in out:
                        out[key] = value
                        out.key_locs[key] = merged.key_locs.get(key, merged.loc)
        return out


def _error_location(path: str, exc: YAMLError) -> Location | None:
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return Location(path, mark.line + 1, mark.column + 1)
    return None


def _error_message(exc: YAMLError) -> str:
    if isinstance(exc, MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        return "invalid YAML: " + (", ".join(parts) if parts else "syntax error")
    return f"invalid YAML: {exc}"


def parse_documents(text: str, path: str) -> list[Document]:
    """The documents of a compose file, as Compose decodes them, with positions.

    Raises ComposeFileError (file:line:col) for text that is not valid YAML.
    """
    yaml = YAML(typ="rt")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        nodes = list(yaml.compose_all(text))
    except YAMLError as exc:
        raise ComposeFileError(_error_message(exc), _error_location(path, exc)) from None
    documents = []
    for node in nodes:
        if node is None:
            continue
        builder = _Builder(path, text, yaml.resolver)
        keep, value = builder.build(node, ())
        documents.append(Document(value if keep else None, builder.reset_paths))
    return documents
