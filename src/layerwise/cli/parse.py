"""`layerwise parse`: the syntax tree and stages of Dockerfiles, for people and for other tools."""

from __future__ import annotations

import json
from typing import Any

import click

from layerwise.dockerfile.parser import read_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import LayerwiseError


def parse_summary(df: Dockerfile) -> dict[str, Any]:
    """The stable JSON shape of `layerwise parse --format json` for one file."""
    model = df.model()
    stage_of: dict[int, int] = {}
    for stage in model.stages:
        stage_of[stage.from_instruction.index] = stage.index
        for step in stage.steps:
            stage_of[step.instruction.index] = stage.index
    return {
        "path": df.path,
        "stages": [
            {"index": st.index, "name": st.name, "base": st.base_name} for st in model.stages
        ],
        "instructions": [
            {
                "keyword": ins.name,
                "start_line": ins.start_line,
                "end_line": ins.end_line,
                "flags": [f.text for f in ins.flags],
                "exec_form": ins.json,
                "stage": stage_of.get(ins.index),
            }
            for ins in df.instructions
        ],
    }


def _text(summary: dict[str, Any]) -> str:
    lines = [f"{summary['path']}:"]
    stages = summary["stages"]
    for ins in summary["instructions"]:
        if ins["keyword"] == "FROM" and ins["stage"] is not None:
            st = stages[ins["stage"]]
            label = f" AS {st['name']}" if st["name"] else ""
            lines.append(f"  stage {st['index']}: FROM {st['base']}{label}")
            continue
        span = (
            f"{ins['start_line']}"
            if ins["start_line"] == ins["end_line"]
            else (f"{ins['start_line']}-{ins['end_line']}")
        )
        flags = (" " + " ".join(ins["flags"])) if ins["flags"] else ""
        form = " (exec form)" if ins["exec_form"] else ""
        lines.append(f"    {span:>7}  {ins['keyword']}{flags}{form}")
    return "\n".join(lines)


@click.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per file and line (stable interface).",
)
def parse_command(files: tuple[str, ...], fmt: str) -> None:
    """Parse Dockerfiles as BuildKit does and print their stages and instructions.

    Exit status: 0 when every file parses, 2 when one cannot be read or parsed (each error is
    printed as path:line:col: error: message).
    """
    failed = False
    for path in files:
        try:
            summary = parse_summary(read_dockerfile(path))
        except LayerwiseError as exc:
            click.echo(str(exc), err=True)
            failed = True
            continue
        if fmt == "json":
            click.echo(json.dumps(summary, ensure_ascii=False))
        else:
            click.echo(_text(summary))
    if failed:
        raise click.exceptions.Exit(2)
