"""The rule registry. Each family module registers its rules when imported.

Families (ids by the hundred): LW0xx correctness and Docker's own build checks, LW1xx layer
order and cache, LW2xx image size and multi-stage, LW3xx build context, LW4xx security, LW5xx
reproducibility and pinning, LW6xx runtime and operability, LW7xx Compose and the dev/prod
workflow, LW8xx dependencies.
"""

from __future__ import annotations

from layerwise.rules import (  # noqa: F401  (importing a family registers its rules)
    buildcontext,  # LW3xx
    correctness,  # LW0xx
    pinning,  # LW5xx
    runtime,  # LW6xx
    security,  # LW4xx
    shellcheck,  # LW621, ShellCheck
)
from layerwise.rules.base import Example, Finding, Fix, LintContext, Rule, Severity, registry
from layerwise.rules.engine import LintResult, lint

__all__ = [
    "Example",
    "Finding",
    "Fix",
    "LintContext",
    "LintResult",
    "Rule",
    "Severity",
    "all_rules",
    "get_rule",
    "lint",
]


def all_rules() -> list[type[Rule]]:
    return [registry()[k] for k in sorted(registry())]


def get_rule(rule_id: str) -> type[Rule] | None:
    return registry().get(rule_id.upper())
