"""Variable substitution in compose files, as Compose v2 does it.

`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
`${VAR:?error}`, `${VAR?error}` and `$$` for a literal `$`. Defaults and error messages are
themselves interpolated (`${A:-${B}}`). Only values are interpolated, never keys, and a few
fields are then converted to numbers or booleans (`ports.*.target`, `healthcheck.retries`, ...).

The edge cases follow compose-go's template package: a braced expression with an operator
extends to the brace that balances its opening one; `${` that does not start a valid
expression is an error ("invalid interpolation format"); a `$` followed by anything else is
kept as it is; an unset variable in `${VAR}` or `$VAR` becomes the empty string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.yamlsource import Path, YList, YMap, where
from layerwise.errors import Location

Lookup = Callable[[str], str | None]

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_OPERATORS = (":?", ":-", ":+", "?", "-", "+")


class InvalidTemplate(Exception):
    """`${` that does not start a valid substitution."""


class MissingRequired(Exception):
    """`${VAR?message}` or `${VAR:?message}` with the variable unset (or empty)."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(variable, reason)
        self.variable = variable
        self.reason = reason

    def __str__(self) -> str:
        if self.reason:
            return f"required variable {self.variable} is missing a value: {self.reason}"
        return f"required variable {self.variable} is missing a value"


def _first_closing_brace(s: str) -> int:
    # compose-go's getFirstBraceClosingIndex, including its habit of skipping the character
    # after each `{`.
    depth = 0
    i = 0
    while i < len(s):
        if s[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        if s[i] == "{":
            depth += 1
            i += 1
        i += 1
    return -1


def substitute(template: str, lookup: Lookup) -> str:
    """Interpolate one string. Raises InvalidTemplate or MissingRequired."""
    out: list[str] = []
    i = 0
    n = len(template)
    while i < n:
        dollar = template.find("$", i)
        if dollar < 0 or dollar == n - 1:
            out.append(template[i:])
            break
        out.append(template[i:dollar])
        nxt = template[dollar + 1]
        if nxt == "$":
            out.append("$")
            i = dollar + 2
            continue
        named = _NAME.match(template, dollar + 1)
        if named:
            out.append(lookup(named.group()) or "")
            i = named.end()
            continue
        if nxt != "{":
            out.append("$")
            i = dollar + 1
            continue
        name = _NAME.match(template, dollar + 2)
        if name is None:
            raise InvalidTemplate(template)
        after = name.end()
        if after < n and template[after] == "}":
            out.append(lookup(name.group()) or "")
            i = after + 1
            continue
        op_len = 0
        if template.startswith(":", after) and after + 1 < n and template[after + 1] in "-+?":
            op_len = 2
        elif after < n and template[after] in "-+?":
            op_len = 1
        if op_len == 0:
            raise InvalidTemplate(template)
        line_end = template.find("\n", after + op_len)
        if line_end < 0:
            line_end = n
        last = template.rfind("}", after + op_len, line_end)
        if last < 0:
            raise InvalidTemplate(template)
        match = template[dollar : last + 1]
        closing = _first_closing_brace(match)
        if closing > -1:
            match = match[: closing + 1]
        operator = template[after : after + op_len]
        body = match[2:-1]
        variable, rest = body.split(operator, 1)
        out.append(_apply(operator, variable, rest, lookup))
        i = dollar + len(match)
    return "".join(out)


def _apply(operator: str, variable: str, argument: str, lookup: Lookup) -> str:
    argument = substitute(argument, lookup)
    value = lookup(variable)
    if operator in (":-", "-"):
        if value is None or (operator == ":-" and value == ""):
            return argument
        return value
    if operator in (":+", "+"):
        if value is not None and (operator == "+" or value != ""):
            return argument
        return value or ""
    # ":?" / "?"
    if value is None or (operator == ":?" and value == ""):
        raise MissingRequired(variable, argument)
    return value


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "y", "yes", "on"):
        return True
    if lowered in ("false", "n", "no", "off"):
        return False
    raise ValueError(f"invalid boolean: {text}")


def _to_int(text: str) -> int:
    return int(text, 10)


_CASTS: list[tuple[Path, Callable[[str], Any]]] = [
    (("services", "*", "configs", "[]", "mode"), _to_int),
    (("services", "*", "cpu_count"), _to_int),
    (("services", "*", "cpu_percent"), float),
    (("services", "*", "cpu_period"), _to_int),
    (("services", "*", "cpu_quota"), _to_int),
    (("services", "*", "cpu_rt_period"), _to_int),
    (("services", "*", "cpu_rt_runtime"), _to_int),
    (("services", "*", "cpus"), float),
    (("services", "*", "cpu_shares"), _to_int),
    (("services", "*", "init"), _to_bool),
    (("services", "*", "deploy", "replicas"), _to_int),
    (("services", "*", "healthcheck", "retries"), _to_int),
    (("services", "*", "healthcheck", "disable"), _to_bool),
    (("services", "*", "oom_kill_disable"), _to_bool),
    (("services", "*", "oom_score_adj"), _to_int),
    (("services", "*", "pids_limit"), _to_int),
    (("services", "*", "ports", "[]", "target"), _to_int),
    (("services", "*", "privileged"), _to_bool),
    (("services", "*", "read_only"), _to_bool),
    (("services", "*", "scale"), _to_int),
    (("services", "*", "secrets", "[]", "mode"), _to_int),
    (("services", "*", "stdin_open"), _to_bool),
    (("services", "*", "tty"), _to_bool),
    (("services", "*", "ulimits", "*"), _to_int),
    (("services", "*", "ulimits", "*", "hard"), _to_int),
    (("services", "*", "ulimits", "*", "soft"), _to_int),
    (("services", "*", "volumes", "[]", "read_only"), _to_bool),
    (("services", "*", "volumes", "[]", "volume", "nocopy"), _to_bool),
    (("networks", "*", "external"), _to_bool),
    (("networks", "*", "internal"), _to_bool),
    (("networks", "*", "attachable"), _to_bool),
    (("networks", "*", "enable_ipv6"), _to_bool),
    (("volumes", "*", "external"), _to_bool),
    (("secrets", "*", "external"), _to_bool),
    (("configs", "*", "external"), _to_bool),
]


def path_matches(path: Path, pattern: Path) -> bool:
    """compose-go's tree.Path.Matches: `*` matches any one element."""
    if len(path) != len(pattern):
        return False
    return all(p == "*" or p == e for e, p in zip(path, pattern, strict=True))


def _caster(path: Path) -> Callable[[str], Any] | None:
    for pattern, cast in _CASTS:
        if path_matches(path, pattern):
            return cast
    return None


def interpolate(value: Any, lookup: Lookup, path: Path = ()) -> Any:
    """Interpolate every string in a compose tree (keys excepted), keeping positions.

    Raises ComposeFileError at the position of the offending value.
    """
    return _interpolate(value, lookup, path, None)


def _dotted(path: Path) -> str:
    return ".".join(path)


def _interpolate(value: Any, lookup: Lookup, path: Path, loc: Location | None) -> Any:
    if isinstance(value, str):
        try:
            result = substitute(value, lookup)
        except InvalidTemplate:
            raise ComposeFileError(
                f"invalid interpolation format for {_dotted(path)}: {value!r} "
                "(write a literal $ as $$)",
                loc,
            ) from None
        except MissingRequired as exc:
            raise ComposeFileError(
                f"error while interpolating {_dotted(path)}: {exc}", loc
            ) from None
        cast = _caster(path)
        if cast is None:
            return result
        try:
            return cast(result)
        except ValueError as exc:
            raise ComposeFileError(
                f"{_dotted(path)}: cannot convert {result!r} to the expected type ({exc})", loc
            ) from None
    if isinstance(value, dict):
        out = YMap(loc=getattr(value, "loc", None))
        if isinstance(value, YMap):
            out.key_locs = dict(value.key_locs)
        for key, item in value.items():
            out[key] = _interpolate(item, lookup, (*path, key), where(value, key))
        return out
    if isinstance(value, list):
        lst = YList(loc=getattr(value, "loc", None))
        if isinstance(value, YList):
            lst.item_locs = list(value.item_locs)
        for index, item in enumerate(value):
            lst.append(_interpolate(item, lookup, (*path, "[]"), where(value, index)))
        return lst
    return value
