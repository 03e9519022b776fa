"""Telling a secret from an ordinary value without showing it: by the variable's name
(`*_TOKEN`, `*PASSWORD*`, `API_KEY`, ...) and by the shape of well-known credentials."""

from __future__ import annotations

import re

_SECRET_NAME = re.compile(
    r"(^|_)(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH)"
    r"(_|$)",
    re.IGNORECASE,
)
_SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a URL with a password", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
)


def secret_kind(name: str, value: str) -> str | None:
    """What kind of secret `value` (named `name`) looks like, or None. Empty values are not
    secrets; a credential-shaped value is one whatever its name."""
    for kind, pattern in _SECRET_VALUES:
        if pattern.search(value):
            return kind
    if _SECRET_NAME.search(name) and value:
        return "a secret (by its name)"
    return None
