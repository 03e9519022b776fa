"""`layerwise services DIR`: the build targets that the compose files define, as Compose
resolves them (files, overrides, .env, interpolation, extends, include, profiles).

JSON (`--format json`), stable keys:
    {"project": str, "working_dir": str, "files": [str],
     "services": [{"name", "context", "dockerfile", "dockerfile_inline", "target", "args",
                   "network", "image", "cache_from", "secrets"}]}
Paths are absolute; `null` where unset (`args` is null when no argument is passed). The value
of a build argument that looks like a secret (by its name or its shape) is printed as
"<redacted: KIND>" unless --show-secrets is given.
Exit status: 0 on success, 2 on bad input (invalid YAML or compose file, missing file, ...).
"""

from __future__ import annotations

import json

import click

from layerwise.compose import BuildTarget, build_targets, load_project
from layerwise.compose.secrets import secret_kind


def _shown(target: BuildTarget, show_secrets: bool) -> dict[str, object]:
    data = target.to_json()
    if data["args"] and not show_secrets:
        data["args"] = {
            key: f"<redacted: {kind}>" if (kind := secret_kind(key, value)) else value
            for key, value in data["args"].items()
        }
    return data


@click.command("services")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("-f", "--file", "files", multiple=True, help="Compose file (repeatable), as -f.")
@click.option("--profile", "profiles", multiple=True, help="Profile to enable (repeatable).")
@click.option("--env-file", "env_files", multiple=True, help="Env file instead of .env.")
@click.option("-p", "--project-name", default=None, help="Project name.")
@click.option(
    "--project-directory", default=None, help="Project directory (default: the first file's)."
)
@click.option("--service", "service_names", multiple=True, help="Only this service (repeatable).")
@click.option("--show-secrets", is_flag=True, help="Print secret-looking build args as they are.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def services_command(
    directory: str,
    files: tuple[str, ...],
    profiles: tuple[str, ...],
    env_files: tuple[str, ...],
    project_name: str | None,
    project_directory: str | None,
    service_names: tuple[str, ...],
    show_secrets: bool,
    fmt: str,
) -> None:
    """List the services with `build:` and what each builds."""
    project = load_project(
        directory,
        files=list(files) or None,
        profiles=list(profiles) or None,
        project_name=project_name,
        project_directory=project_directory,
        env_files=list(env_files) or None,
    )
    targets = build_targets(project, list(service_names) or None)
    if fmt == "json":
        payload = {
            "project": project.name,
            "working_dir": str(project.working_dir),
            "files": [str(f) for f in project.files],
            "services": [_shown(t, show_secrets) for t in targets],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"project {project.name} ({', '.join(str(f) for f in project.files)})")
    if not targets:
        click.echo("no service has a build: section")
    for t in targets:
        source = t.dockerfile if t.dockerfile_inline is None else "(inline Dockerfile)"
        extras = []
        if t.target:
            extras.append(f"target {t.target}")
        if t.network:
            extras.append(f"network {t.network}")
        if t.args:
            extras.append("args " + ", ".join(sorted(t.args)))
        suffix = f" [{'; '.join(extras)}]" if extras else ""
        click.echo(f"  {t.service}: {t.context} <- {source}{suffix}")
