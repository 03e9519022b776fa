"""Compose files read as Docker Compose v2 reads them: loading, merging, interpolation,
`extends`, `include`, profiles, and the build target of every service.

    from layerwise.compose import load_project, build_targets
    project = load_project(".")                 # compose.yaml (+ override), .env, COMPOSE_FILE
    for target in build_targets(project):       # services with `build:`
        print(target.service, target.context, target.dockerfile, target.args)
"""

from __future__ import annotations

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.loader import build_targets, find_compose_files, load_project
from layerwise.compose.model import BuildTarget, ComposeProject, ComposeSource, Service

__all__ = [
    "BuildTarget",
    "ComposeFileError",
    "ComposeProject",
    "ComposeSource",
    "Service",
    "build_targets",
    "find_compose_files",
    "load_project",
]
