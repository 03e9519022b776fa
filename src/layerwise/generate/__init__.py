"""Starting a Python project right: `layerwise init` detects how a project is built and run
and generates an optimized Dockerfile, a .dockerignore, and compose files for production and
for development with `docker compose watch`.

    from layerwise.generate import detect_project, plan_init, write_init
    project = detect_project(".")        # manager, Python, entry point, port, health route, ...
    plan = plan_init(".")                # the generated files, nothing written yet
    write_init(plan, force=False)        # atomic; never overwrites without force
"""

from __future__ import annotations

from layerwise.generate.detect import detect_project
from layerwise.generate.init import FILES, GeneratedFile, InitPlan, generate, plan_init, write_init
from layerwise.generate.project import Broker, Dependencies, Entry, NativeBuild, Project
from layerwise.generate.runtime import Runtime, plan_runtime

__all__ = [
    "FILES",
    "Broker",
    "Dependencies",
    "Entry",
    "GeneratedFile",
    "InitPlan",
    "NativeBuild",
    "Project",
    "Runtime",
    "detect_project",
    "generate",
    "plan_init",
    "plan_runtime",
    "write_init",
]
