"""Byte sizes for people (decimal units, as `docker images` prints them) and from people."""

from __future__ import annotations

import re

_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12,
    "ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
    "ti": 1 << 40, "tib": 1 << 40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def human_size(n: float, signed: bool = False) -> str:
    sign = ""
    if n < 0:
        sign, n = "−", -n
    elif signed:
        sign = "+"
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            if unit == "B":
                return f"{sign}{int(n)} B"
            return f"{sign}{n:.1f} {unit}" if n < 100 else f"{sign}{n:.0f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """ "540MB", "1.5 GiB", "1000" -> bytes. Raises ValueError with a readable message."""
    match = _SIZE.match(text)
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (try 500MB, 1.5GiB or a number of bytes)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def parse_fraction(text: str) -> float:
    """ "0.9", "90%" -> 0.9. Raises ValueError for anything outside 0..1."""
    value = text.strip()
    try:
        number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise ValueError(f"not a ratio: {text!r} (try 0.9 or 90%)") from None
    if not 0 <= number <= 1:
        raise ValueError(
            f"{text!r} is outside 0..1 (write a ratio like 0.1 or a percentage like 10%)"
        )
    return number
