"""The proof, with real BuildKit builds: `layerwise deps` names every unused dependency and
development tool of `examples/unused-deps` with the megabytes it occupies in the built image;
after `--fix`, the rebuilt image is smaller by the predicted amount (within 5 %), and the app
still starts and answers.

The sizes layerwise reads from the image's layers are checked against Python inside the
image: for every distribution, the sizes of the files its RECORD lists, as `os.stat` sees them
in a running container. LAYERWISE_DEPS_REPORT=path writes the figures as JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import DockerEngine, run_cli
from examples_support import (
    EXAMPLES,
    copy_example,
    remove_images,
    run_in_image,
    running_app,
    unique_tag,
)
from layerwise.build import build, find_engine

pytestmark = pytest.mark.docker

# Sizes of every distribution's RECORD files as the running container sees them.
_SIZES = """
import importlib.metadata as md, json, os
out = {}
for dist in md.distributions():
    seen = set()
    total = 0
    for f in dist.files or ():
        path = os.path.normpath(str(dist.locate_file(f)))
        if path in seen or os.path.islink(path) or not os.path.isfile(path):
            continue
        seen.add(path)
        total += os.stat(path).st_size
    out[dist.metadata["Name"]] = total
print(json.dumps(out))
"""


def image_size(docker: DockerEngine, tag: str) -> int:
    return int(docker.run("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())


def test_unused_deps_proof(docker: DockerEngine, tmp_path: Path) -> None:
    app = EXAMPLES["unused-deps"]
    project = copy_example("unused-deps", tmp_path)
    engine = find_engine(docker.binary)
    before, after = unique_tag("deps-before"), unique_tag("deps-after")
    try:
        build(project, tag=before, network="host", docker=engine)
        result = run_cli("deps", str(project), "--image", before, "--format", "json")
        assert result.code == 1, result.err
        payload = json.loads(result.out)
        found = {f["name"]: f for f in payload["findings"] if f["code"] in ("LW801", "LW802")}
        assert set(found) == {"pandas", "numpy", "pytest", "black"}
        assert found["pandas"]["code"] == found["numpy"]["code"] == "LW801"
        assert found["pytest"]["code"] == found["black"]["code"] == "LW802"
        for name, f in found.items():
            assert f["bytes"] > 1_000_000, (name, f)
            assert " MB in the image" in f["message"]
        deps = {d["name"]: d for d in payload["dependencies"]}
        assert deps["Flask"]["used"] and deps["gunicorn"]["used"]
        assert deps["Werkzeug"]["pulled_in_by"] == ["Flask"]

        # Bytes per distribution agree with what Python inside the image measures.
        proc = run_in_image(docker, before, "python3", "-c", _SIZES)
        assert proc.returncode == 0, proc.stderr
        inside = {k.lower(): v for k, v in json.loads(proc.stdout).items()}
        for d in payload["dependencies"]:
            assert d["installed_bytes"] == inside[d["name"].lower()], d["name"]

        predicted = payload["removable_bytes"]
        assert predicted == sum(f["bytes"] for f in found.values())

        fixed = run_cli("deps", str(project), "--image", before, "--fix")
        assert "moved pandas: requirements.txt:4 -> requirements-dev.txt" in fixed.err
        assert fixed.code == 0, fixed.err + fixed.out  # nothing left to report
        build(project, tag=after, network="host", docker=engine)
        size_before, size_after = image_size(docker, before), image_size(docker, after)
        saved = size_before - size_after
        assert abs(saved - predicted) <= 0.05 * predicted, (saved, predicted)

        with running_app(docker, after) as url:
            app.check(url)
        assert (
            run_in_image(docker, after, "python3", "-c", "import flask, gunicorn").returncode == 0
        )
        for module in ("pandas", "numpy", "pytest", "black"):
            gone = run_in_image(docker, after, "python3", "-c", f"import {module}")
            assert gone.returncode != 0, module

        figures = {
            "image_before": size_before,
            "image_after": size_after,
            "saved": saved,
            "predicted": predicted,
            "per_dependency": {
                n: {"code": f["code"], "bytes": f["bytes"],
                    "installed_bytes": deps[n]["installed_bytes"]}
                for n, f in found.items()
            },
        }  # fmt: skip
        print("\nlayerwise deps proof:", json.dumps(figures, indent=2))
        out = os.environ.get("LAYERWISE_DEPS_REPORT")
        if out:
            Path(out).write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        remove_images(docker, before, after)


def test_build_option_measures_and_removes_its_image(docker: DockerEngine) -> None:
    """`--build` builds the Dockerfile (BuildKit's cache makes this quick after the proof),
    measures the image, and leaves no image behind."""
    before = set(docker.run("image", "ls", "--quiet", "layerwise-deps").stdout.split())
    result = run_cli(
        "deps", str(EXAMPLES["unused-deps"].path), "--build", "--network", "host",
        "--format", "json", "--fail-on", "none",
        env={"LAYERWISE_DOCKER": docker.binary},
    )  # fmt: skip
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    sizes = {f["name"]: f["bytes"] for f in payload["findings"] if f["code"] == "LW801"}
    assert set(sizes) == {"pandas", "numpy"} and min(sizes.values()) > 10_000_000
    assert payload["image"] == "(built)"
    after = set(docker.run("image", "ls", "--quiet", "layerwise-deps").stdout.split())
    assert after <= before
