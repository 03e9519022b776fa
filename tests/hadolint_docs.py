"""Reading docs/hadolint.md: the tables the peer-comparison tests hold the rules to."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "hadolint.md"
AGREEMENT_START = "<!-- agreement:start -->"
AGREEMENT_END = "<!-- agreement:end -->"


def section(title: str) -> str:
    text = DOCS.read_text()
    marker = f"\n## {title}\n"
    if marker not in text:
        raise AssertionError(f"{DOCS.name} has no section {title!r}")
    return text.split(marker, 1)[1].split("\n## ", 1)[0]


def first_column(title: str) -> set[str]:
    """The first cell of every table row in a section (header and rule lines left out)."""
    keys = set(re.findall(r"^\|\s*([A-Za-z]\w*)\s*\|", section(title), re.M))
    return keys - {"code", "check"}


def not_covered() -> set[str]:
    return first_column("Not covered") | first_column("Docker build checks not covered")


def pending() -> set[str]:
    return first_column("Pending")


def below_target() -> set[str]:
    return first_column("Below the 95 % target")


def agreement_table() -> str:
    text = DOCS.read_text()
    return text.split(AGREEMENT_START, 1)[1].split(AGREEMENT_END, 1)[0].strip()
