"""`layerwise rules` and `layerwise rule ID`: the rule catalogue."""

from __future__ import annotations

import json

import click

from layerwise.report.rules_doc import rule_markdown, rules_markdown
from layerwise.rules import all_rules, get_rule


@click.command("rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def rules_command(fmt: str) -> None:
    """List every rule (markdown: the full documentation, as in docs/rules.md)."""
    rules = all_rules()
    if fmt == "markdown":
        click.echo(rules_markdown(rules), nl=False)
    elif fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "title": r.title,
                        "severity": str(r.severity),
                        "fix": r.fix_safety,
                        "hadolint": list(r.hadolint),
                        "docker_checks": list(r.buildkit),
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
    else:
        for r in rules:
            fix = f" [{r.fix_safety} fix]" if r.fix_safety else ""
            click.echo(f"{r.id}  {r.name:36} {r.severity!s:8} {r.title}{fix}")


@click.command("rule")
@click.argument("rule_id")
def rule_command(rule_id: str) -> None:
    """Show one rule's documentation: why it matters, examples, fix."""
    rule = get_rule(rule_id)
    if rule is None:
        raise click.UsageError(f"unknown rule {rule_id!r} (see `layerwise rules`)")
    click.echo(rule_markdown(rule, heading="#"), nl=False)
