"""`layerwise bench --service` against the real engine: the image it builds is the service's
(its target, its build arg, its build network from a compose override file).

bench removes the images it tags when it is done, so the check runs inside that removal: the
test passes bench a docker CLI wrapper (`--docker`) that, before forwarding `image rm`, runs
`docker run` on each bench image and records what the image holds.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conftest import DockerEngine, run_cli

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM debian:bookworm-slim AS base
ARG GREETING=unset
RUN echo "$GREETING" > /greeting

FROM base AS app
RUN echo app-{nonce} > /stage

FROM base AS other
RUN echo other > /stage
"""
COMPOSE = """\
services:
  app:
    build:
      context: ./svc
      dockerfile: build/Dockerfile
      target: app
      args:
        GREETING: from-compose
  other:
    build:
      context: ./svc
      dockerfile: build/Dockerfile
      target: other
      args:
        GREETING: other-value
"""
# Test-only: builds here need the host network.
OVERRIDE = """\
services:
  app:
    build:
      network: host
  other:
    build:
      network: host
"""
WRAPPER = """\
#!/bin/sh
if [ "$1" = image ] && [ "$2" = rm ]; then
  for ref in "$@"; do
    case "$ref" in
      layerwise-bench-*)
        echo "image $ref" >> {log}
        {docker} run --rm --network none "$ref" cat /greeting /stage >> {log} 2>&1
        ;;
    esac
  done
fi
exec {docker} "$@"
"""


def _bench_images(docker: DockerEngine) -> set[str]:
    out = docker.run("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    return {i for i in out if i.startswith("layerwise-bench-")}


def test_bench_service_builds_the_service_target_with_its_build_arg(
    docker: DockerEngine, tmp_path: Path
) -> None:
    nonce = uuid.uuid4().hex[:12]
    project = tmp_path / "project"
    (project / "svc" / "build").mkdir(parents=True)
    (project / "svc" / "build" / "Dockerfile").write_text(DOCKERFILE.format(nonce=nonce))
    (project / "compose.yaml").write_text(COMPOSE)
    (project / "compose.override.yaml").write_text(OVERRIDE)
    log = tmp_path / "images.log"
    wrapper = tmp_path / "docker-wrapper"
    wrapper.write_text(WRAPPER.format(log=log, docker=docker.binary))
    wrapper.chmod(0o755)
    containers = set(docker.run("ps", "-aq").stdout.split())
    before = _bench_images(docker)

    several = run_cli("bench", str(project), "--docker", str(wrapper))
    assert several.code == 2 and "services app, other" in several.err

    result = run_cli(
        "bench", str(project), "--service", "app", "--scenario", "cold", "--docker",
        str(wrapper), "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["services"] == ["app"]
    [variant] = data["dockerfiles"]
    assert data["context"] == str((project / "svc").resolve())
    assert variant["path"] == str(project / "svc" / "build" / "Dockerfile")
    assert list(variant["scenarios"]) == ["cold"]
    steps = [s["text"] for s in variant["scenarios"]["cold"]["steps"]]
    assert any(f"echo app-{nonce}" in s for s in steps)
    assert not any("echo other" in s for s in steps)  # the last stage is not the target

    # What `docker run` found in the image bench built, just before bench removed it.
    lines = log.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("image layerwise-bench-"), lines
    assert lines[1:] == ["from-compose", f"app-{nonce}"]
    # Cleaned up: bench's images are gone and the checks left no container.
    assert _bench_images(docker) == before
    assert set(docker.run("ps", "-aq").stdout.split()) == containers
