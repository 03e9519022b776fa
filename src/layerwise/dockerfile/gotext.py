"""Go's notion of whitespace and trimming, which BuildKit's parser relies on.

Python's `str.isspace` and `str.strip` disagree with Go's `unicode.IsSpace` (Python counts
U+001C..U+001F as space, Go does not), and BuildKit splits words on yet another set
(`[\\t\\v\\f\\r ]`). Using the wrong one changes where an instruction's arguments start.
"""

from __future__ import annotations

import re

# Go's unicode.IsSpace: the Unicode White_Space property.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_SET = frozenset(GO_SPACE)

# BuildKit's reWhitespace: the separators between words of FROM, EXPOSE, COPY, ... arguments.
WORD_SEPARATOR = re.compile(r"[\t\v\f\r ]+")

# Go regexp `\s` (ASCII only), used by the directive regexp.
GO_REGEXP_SPACE = "\t\n\f\r "


def is_space(ch: str) -> bool:
    return ch in _GO_SPACE_SET


def trim_space(s: str) -> str:
    return s.strip(GO_SPACE)


def trim_left_space(s: str) -> str:
    return s.lstrip(GO_SPACE)


def trim_newline(s: str) -> str:
    """bytes.TrimRight(s, "\\r\\n"): every trailing CR and LF, in any order."""
    return s.rstrip("\r\n")
