"""The BuildKit build driver: real builds through `docker buildx build --progress=rawjson`.

    from layerwise.build import build
    result = build("examples/flask-pip", network="host", tag="flask-pip:dev")
    for step in result.steps:
        print(step.line, step.name, "CACHED" if step.cached else f"{step.seconds:.1f}s")
    print(result.image_size, result.layers, result.context_bytes)

Every step of the Dockerfile that BuildKit ran becomes a `StepResult` tied to its Dockerfile line;
a failing build raises `BuildError` with the failing step and the end of its log.
"""

from __future__ import annotations

from layerwise.build.docker import Engine, ImageInfo, find_engine, inspect_image, remove_images
from layerwise.build.driver import build
from layerwise.build.rawjson import BuildProgress, RawJsonReader, Vertex, read_rawjson
from layerwise.build.result import BuildError, BuildResult, StepResult, steps_from_progress
from layerwise.build.steps import StagePlan, StepName, locate_step, parse_step_name, plan_stages

__all__ = [
    "BuildError",
    "BuildProgress",
    "BuildResult",
    "Engine",
    "ImageInfo",
    "RawJsonReader",
    "StagePlan",
    "StepName",
    "StepResult",
    "Vertex",
    "build",
    "find_engine",
    "inspect_image",
    "locate_step",
    "parse_step_name",
    "plan_stages",
    "read_rawjson",
    "remove_images",
    "steps_from_progress",
]
