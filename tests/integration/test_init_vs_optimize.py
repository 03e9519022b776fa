"""`layerwise init` against `layerwise optimize --unsafe` on the same example apps: the image
init generates is no larger than the one optimize makes of the naive Dockerfile (issue 9),
both built here with BuildKit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import DockerEngine
from examples_support import EXAMPLES_DIR, remove_images, unique_tag
from layerwise.build import build
from layerwise.generate.init import plan_init, write_init
from layerwise.optimize import optimize

pytestmark = pytest.mark.docker


# A single-stage app and the multi-stage case (a C extension built from source).
@pytest.mark.parametrize("name", ["flask-pip", "django-psycopg2"])
def test_init_image_is_no_larger_than_the_optimized_one(
    docker: DockerEngine, tmp_path: Path, name: str
) -> None:
    optimized = Path(shutil.copytree(EXAMPLES_DIR / name, tmp_path / "optimized"))
    optimize(optimized, unsafe=True).write()
    generated = Path(shutil.copytree(EXAMPLES_DIR / name, tmp_path / "init"))
    (generated / "Dockerfile").unlink()
    write_init(plan_init(generated))
    tags = [unique_tag(f"{name}-optimized"), unique_tag(f"{name}-init")]
    try:
        sizes = []
        for directory, tag in zip((optimized, generated), tags, strict=True):
            result = build(
                directory, tag=tag, network="host", docker=docker.binary,
                strip_syntax_directive=True,
            )  # fmt: skip
            assert result.image_size, result
            sizes.append(result.image_size)
        assert sizes[1] <= sizes[0], f"init {sizes[1]} bytes > optimize {sizes[0]} bytes"
    finally:
        remove_images(docker, *tags)
