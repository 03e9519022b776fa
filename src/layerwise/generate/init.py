"""`layerwise init` as a library: detect, generate, and write the files (or only show them).

    from layerwise.generate import plan_init, write_init
    plan = plan_init("path/to/project")          # detection + the generated text, nothing written
    for f in plan.files:
        print(f.path, len(f.text))
    write_init(plan, force=False)                # refuses to overwrite; atomic writes

Nothing outside the project directory is touched, and nothing inside it but the four files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerwise.errors import InputError
from layerwise.fsutil import atomic_write
from layerwise.generate.compose import existing_compose_files, render_compose, render_compose_dev
from layerwise.generate.detect import detect_project
from layerwise.generate.dockerfile import render_dockerfile
from layerwise.generate.dockerignore import render_dockerignore
from layerwise.generate.project import Project
from layerwise.generate.runtime import Runtime, plan_runtime

FILES = ("Dockerfile", ".dockerignore", "compose.yaml", "compose.dev.yaml")


@dataclass(frozen=True)
class GeneratedFile:
    path: str  # relative to the project
    text: str


@dataclass(frozen=True)
class InitPlan:
    project: Project
    runtime: Runtime
    files: tuple[GeneratedFile, ...]

    def existing(self) -> list[str]:
        """Files the plan would overwrite, and other compose files Compose would read instead."""
        root = self.project.root
        clash = [f.path for f in self.files if (root / f.path).exists()]
        others = [n for n in existing_compose_files(root) if n not in clash]
        return clash + others

    def to_json(self) -> dict[str, Any]:
        runtime = self.runtime
        return {
            "project": self.project.to_json(),
            "runtime": {
                "service": runtime.service,
                "server": runtime.server,
                "command": list(runtime.command),
                "port_env": runtime.port_env,
                "healthcheck": list(runtime.healthcheck) if runtime.healthcheck else None,
                "dev_command": list(runtime.dev_command) if runtime.dev_command else None,
                "dev_action": runtime.dev_action,
                "added_packages": list(runtime.server_packages),
            },
        }


def generate(project: Project) -> InitPlan:
    """The four files for a detected project."""
    runtime = plan_runtime(project)
    files = (
        GeneratedFile("Dockerfile", render_dockerfile(project, runtime)),
        GeneratedFile(".dockerignore", render_dockerignore(project)),
        GeneratedFile("compose.yaml", render_compose(project, runtime)),
        GeneratedFile("compose.dev.yaml", render_compose_dev(project, runtime)),
    )
    return InitPlan(project, runtime, files)


def plan_init(
    directory: str | Path, *, python: str | None = None, port: int | None = None
) -> InitPlan:
    """Detect the project in `directory` and generate its files; nothing is written."""
    return generate(detect_project(directory, python=python, port=port))


def write_init(plan: InitPlan, *, force: bool = False) -> list[Path]:
    """Write the plan's files atomically. Without `force`, an existing file (or another
    compose file that Compose would read instead of compose.yaml) is an `InputError` and
    nothing is written."""
    root = plan.project.root
    existing = plan.existing()
    if existing and not force:
        raise InputError(
            f"{root}: {', '.join(existing)} already exist(s); nothing was written "
            "(pass --force to overwrite, or --dry-run to see the files)"
        )
    written = []
    for generated in plan.files:
        path = root / generated.path
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise InputError(f"{path}: not a regular file; refusing to replace it")
        atomic_write(path, generated.text)
        written.append(path)
    return written
