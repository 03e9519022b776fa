"""Render a layerwise tree in BuildKit's AST dump format (`(keyword ["flags"] "arg" ...)`), so
BuildKit's own parser fixtures (`testfiles/*/result`) can check our parser."""

from __future__ import annotations

import unicodedata

from layerwise.dockerfile.syntax import Dockerfile, Instruction

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def go_quote(s: str) -> str:
    """Go's strconv.Quote."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # an invalid UTF-8 byte kept by surrogateescape
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch == " " or (ch.isprintable() and unicodedata.category(ch)[0] != "Z"):
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def dump_instruction(ins: Instruction) -> str:
    parts = [ins.keyword.lower()]
    if ins.flags:
        parts.append("[" + " ".join(go_quote(f.text) for f in ins.flags) + "]")
    if ins.trigger is not None:
        parts.append("(" + dump_instruction(ins.trigger) + ")")
    else:
        parts.extend(go_quote(a) for a in ins.arguments)
    return " ".join(parts)


def dump(df: Dockerfile) -> str:
    return "".join(f"({dump_instruction(ins)})\n" for ins in df.instructions)
