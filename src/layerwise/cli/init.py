"""`layerwise init DIR`: an optimized Dockerfile, .dockerignore, compose.yaml (production) and
compose.dev.yaml (development with `docker compose watch`) for a Python project.

JSON (`--format json`), stable keys:
    {"directory": str, "dry_run": bool, "written": bool,
     "project": {...detected facts, see docs/init.md...},
     "runtime": {"service", "server", "command", "port_env", "healthcheck", "dev_command",
                 "dev_action", "added_packages"},
     "files": [{"path": str, "bytes": int, "exists": bool, "content": str | null}]}
`content` is the file's text with --dry-run, else null.
Exit status: 0 written (or shown with --dry-run); 2 bad input: no Python project, no entry
point, unreadable manifest, or files that exist without --force (nothing is written then).
"""

from __future__ import annotations

import json

import click

from layerwise.generate import plan_init, write_init


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite existing Docker files.")
@click.option("--dry-run", is_flag=True, help="Print the files instead of writing them.")
@click.option("--python", "python", metavar="X.Y", help="Python version (default: detected).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: detected, or 8000).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def init_command(
    directory: str, force: bool, dry_run: bool, python: str | None, port: int | None, fmt: str
) -> None:
    """Generate Docker files for the Python project in DIRECTORY (default: .)."""
    plan = plan_init(directory, python=python, port=port)
    existing = set(plan.existing())
    if not dry_run:
        write_init(plan, force=force)
    if fmt == "json":
        payload = {
            "directory": str(plan.project.root),
            "dry_run": dry_run,
            "written": not dry_run,
            **plan.to_json(),
            "files": [
                {
                    "path": f.path,
                    "bytes": len(f.text.encode()),
                    "exists": f.path in existing,
                    "content": f.text if dry_run else None,
                }
                for f in plan.files
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    project, runtime = plan.project, plan.runtime
    entry = project.entry
    deps = project.dependencies
    click.echo(
        f"{project.name}: {entry.framework or entry.kind} app {entry.target} ({entry.source})"
    )
    click.echo(f"  python       {project.python}  ({project.python_source})")
    click.echo(f"  dependencies {deps.manager}: {', '.join(deps.manifests) or 'none'}")
    click.echo(f"  server       {runtime.server}: {' '.join(runtime.command)}")
    if project.port is not None:
        click.echo(f"  port         {project.port}  ({project.port_source})")
    click.echo(f"  healthcheck  {runtime.health_note}")
    for native in project.native:
        click.echo(
            f"  compiles     {native.name}: build {' '.join(native.build_packages)}; "
            f"runtime {' '.join(native.runtime_packages) or '-'}"
        )
    for note in project.notes:
        click.echo(f"  note         {note}")
    if dry_run:
        for f in plan.files:
            click.echo(f"\n==> {f.path} <==")
            click.echo(f.text, nl=False)
        return
    verb = "overwrote" if existing else "wrote"
    click.echo(f"{verb} {', '.join(f.path for f in plan.files)} in {project.root}")
    click.echo("  production:  docker compose up --build --detach --wait")
    click.echo("  development: docker compose -f compose.yaml -f compose.dev.yaml watch")
