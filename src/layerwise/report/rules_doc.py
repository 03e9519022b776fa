"""Rule documentation, generated from the registry (`layerwise rules --format markdown`)."""

from __future__ import annotations

from collections.abc import Sequence

from layerwise.rules.base import Rule

FAMILIES = {
    "LW0": "Correctness and Docker's build checks",
    "LW1": "Layer order and cache",
    "LW2": "Image size and multi-stage builds",
    "LW3": "Build context",
    "LW4": "Security",
    "LW5": "Reproducibility and pinning",
    "LW6": "Runtime and operability",
    "LW7": "Compose and the dev/prod workflow",
    "LW8": "Dependencies",
}


def rule_markdown(rule: type[Rule], heading: str = "###") -> str:
    covers = [*(f"hadolint {c}" for c in rule.hadolint), *(f"Docker `{c}`" for c in rule.buildkit)]
    fix = {
        "safe": "safe (applied by `layerwise fix`)",
        "unsafe": "unsafe (applied with `layerwise fix --unsafe`)",
        None: "none",
    }[rule.fix_safety]
    parts = [
        f"{heading} {rule.id} `{rule.name}`: {rule.title}",
        "",
        f"Severity: {rule.severity}. Fix: {fix}."
        + (f" Covers: {', '.join(covers)}." if covers else ""),
        "",
        rule.rationale,
        "",
        "Bad:",
        "",
        "```dockerfile",
        rule.bad.dockerfile.rstrip("\n"),
        "```",
    ]
    if rule.bad.files:
        parts += ["", "with " + ", ".join(f"`{n}`" for n in sorted(rule.bad.files))]
    if rule.bad.config:
        settings = ", ".join(f"`{k} = {v!r}`" for k, v in sorted(rule.bad.config.items()))
        parts += ["", f"with the setting {settings} in `[tool.layerwise]`"]
    parts += ["", "Good:", "", "```dockerfile", rule.good.dockerfile.rstrip("\n"), "```"]
    if rule.fixed is not None:
        parts += ["", "Fixed:", "", "```dockerfile", rule.fixed.rstrip("\n"), "```"]
    return "\n".join(parts) + "\n"


def rules_markdown(rules: Sequence[type[Rule]]) -> str:
    out = [
        "# layerwise rules",
        "",
        "Generated from the rule registry by `layerwise rules --format markdown`; do not edit.",
        "",
        "| id | name | severity | fix | title |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rules:
        out.append(
            f"| [{r.id}](#{r.id.lower()}-{r.name}) | {r.name} | {r.severity} | "
            f"{r.fix_safety or ''} | {r.title} |"
        )
    family = ""
    for r in rules:
        if r.id[:3] != family:
            family = r.id[:3]
            out += ["", f"## {family}xx {FAMILIES.get(family, '')}", ""]
        out.append(rule_markdown(r))
    return "\n".join(out).rstrip("\n") + "\n"
