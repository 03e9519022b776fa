"""What the compose checks claim about Docker, checked against the real engine and Compose v2.

One small project (debian:bookworm-slim, no package installs) is built once and serves:
LW701 (a bind mount of the source hides the code the image was built with), LW705 (a build
arg's value ends up in `docker history`), LW704 (DOCKER_BUILDKIT=0 makes Compose use the legacy
builder, which cannot run a Dockerfile that uses RUN --mount) and LW706 (Compose warns about
`version`). Builds use the host network through a test-only override file.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DockerEngine
from layerwise.compose import load_project
from layerwise.compose.checks import run_checks

pytestmark = pytest.mark.docker

DOCKERFILE = """\
FROM debian:bookworm-slim
ARG NPM_TOKEN
WORKDIR /app
COPY marker.txt ./
RUN echo "token length ${#NPM_TOKEN}" && touch image-only.txt
"""
MOUNT_DOCKERFILE = "FROM debian:bookworm-slim\nRUN --mount=type=cache,target=/root/.cache true\n"


@pytest.fixture(scope="module")
def built(docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("compose-engine")
    tag = f"layerwise-test-compose-{uuid.uuid4().hex[:8]}"
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "marker.txt").write_text("from the build context\n")
    (root / "Mount.Dockerfile").write_text(MOUNT_DOCKERFILE)
    (root / "compose.yaml").write_text(
        'version: "3.8"\n'
        "services:\n"
        "  mounted:\n"
        "    build:\n"
        "      context: .\n"
        "      args:\n"
        "        NPM_TOKEN: ${NPM_TOKEN}\n"
        f"    image: {tag}:latest\n"
        "    volumes:\n"
        "      - .:/app\n"
        '    command: ["ls", "/app"]\n'
        "  plain:\n"
        f"    image: {tag}:latest\n"
        '    command: ["ls", "/app"]\n'
        "  cachemount:\n"
        "    build: {context: ., dockerfile: Mount.Dockerfile}\n"
        f"    image: {tag}-mount:latest\n"
    )
    (root / "compose.test.yaml").write_text(
        "services:\n"
        "  mounted: {build: {network: host}, network_mode: host}\n"
        "  plain: {network_mode: host}\n"
        "  cachemount: {build: {network: host}, network_mode: host}\n"
    )
    (root / ".env").write_text("NPM_TOKEN=npm_secretvalue123\n")
    try:
        yield root
    finally:
        compose(docker, root, "down", "--rmi", "all", "--remove-orphans", check=False)
        docker.run("image", "rm", "-f", f"{tag}:latest", f"{tag}-mount:latest", check=False)


def compose(
    docker: DockerEngine,
    root: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return docker.run(
        "compose",
        "-f",
        "compose.yaml",
        "-f",
        "compose.test.yaml",
        "-p",
        root.name.lower(),
        *args,
        cwd=root,
        check=check,
        env=full,
    )


def test_lw701_and_lw705_claims(docker: DockerEngine, built: Path) -> None:
    findings = run_checks(load_project(built, env={}))
    assert {"LW701", "LW705", "LW706"} <= {f.rule for f in findings}

    compose(docker, built, "build", "mounted")
    with_mount = compose(docker, built, "run", "--rm", "--no-deps", "mounted").stdout.split()
    without = compose(docker, built, "run", "--rm", "--no-deps", "plain").stdout.split()
    # LW701: the image has the file made at build time; the bind mount hides it
    assert "image-only.txt" in without
    assert "image-only.txt" not in with_mount and "compose.yaml" in with_mount

    # LW705: the build arg's value is readable from the image's history
    tag = load_project(built, env={}).services["mounted"].config["image"]
    history = docker.run("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout
    assert "npm_secretvalue123" in history


def test_lw704_claim_legacy_builder(docker: DockerEngine, built: Path) -> None:
    legacy = compose(
        docker, built, "build", "cachemount", check=False, env={"DOCKER_BUILDKIT": "0"}
    )
    assert legacy.returncode != 0 or "requires BuildKit" in legacy.stdout + legacy.stderr
    assert "--mount option requires BuildKit" in legacy.stdout + legacy.stderr
    buildkit = compose(docker, built, "build", "cachemount", env={"DOCKER_BUILDKIT": "1"})
    assert buildkit.returncode == 0


def test_lw706_claim_version_warning(docker: DockerEngine, built: Path) -> None:
    result = docker.run("compose", "config", "-q", cwd=built, check=False)
    assert result.returncode == 0
    assert "`version` is obsolete" in result.stderr
