"""Finding the docker CLI, checking that its engine answers, and asking it about images."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from layerwise.errors import EngineError

ENV_DOCKER = "LAYERWISE_DOCKER"
_PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Engine:
    """A docker CLI whose engine answers and which has the buildx plugin."""

    binary: str
    server_version: str
    buildx_version: str

    def run(
        self, *args: str, timeout: float = 120.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a docker command; a failure becomes an `EngineError` with docker's own message."""
        try:
            proc = subprocess.run(
                [self.binary, *args], capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise EngineError(
                f"`docker {' '.join(args[:2])}` did not answer in {timeout:g}s"
            ) from None
        except OSError as exc:
            raise EngineError(f"cannot run {self.binary}: {exc.strerror or exc}") from None
        if check and proc.returncode != 0:
            raise EngineError(f"`docker {' '.join(args[:2])}` failed: {_last_line(proc.stderr)}")
        return proc


@dataclass(frozen=True)
class ImageInfo:
    id: str
    size: int  # bytes, as `docker image inspect` reports (the image's own layers, uncompressed)
    layers: int  # entries of RootFS.Layers
    config: dict[str, object]  # the image config (`Config`): Cmd, Entrypoint, Env, WorkingDir ...


def candidate_binaries(explicit: str | None = None) -> list[str]:
    """Where to look for docker, in order: the explicit path, $LAYERWISE_DOCKER, then every
    `docker` on PATH (an older client without buildx may come first)."""
    if explicit:
        return [explicit]
    found: list[str] = []
    env = os.environ.get(ENV_DOCKER)
    if env:
        return [env]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory:
            continue
        path = Path(directory) / "docker"
        if path.is_file() and os.access(path, os.X_OK):
            real = str(path.resolve())
            if real not in {str(Path(f).resolve()) for f in found}:
                found.append(str(path))
    which = shutil.which("docker")
    if which and which not in found:
        found.append(which)
    return found


def find_engine(docker: str | None = None) -> Engine:
    """The docker CLI to build with: `docker` if given, else $LAYERWISE_DOCKER, else the first
    `docker` on PATH that has buildx. Raises `EngineError` (one line saying what to do) when there
    is none, when buildx is missing, or when the engine does not answer."""
    candidates = candidate_binaries(docker)
    if not candidates:
        raise EngineError(
            "no docker CLI found on PATH; install Docker or pass its path with --docker "
            f"(or set {ENV_DOCKER})"
        )
    problems: list[str] = []
    for binary in candidates:
        buildx = _probe(binary, "buildx", "version")
        if buildx is not None and buildx.returncode in (126, 127):
            problems.append(buildx.stderr)
            continue
        if buildx is None or buildx.returncode != 0:
            problems.append(f"{binary} has no buildx plugin")
            continue
        server = _probe(binary, "version", "--format", "{{json .Server.Version}}")
        if server is None:
            problems.append(f"{binary} did not answer")
            continue
        if server.returncode != 0:
            problems.append(f"{binary}: engine not reachable ({_last_line(server.stderr)})")
            continue
        try:
            version = json.loads(server.stdout.strip() or "null")
        except json.JSONDecodeError:
            version = None
        if not version:
            problems.append(f"{binary}: engine not reachable")
            continue
        return Engine(binary, str(version), buildx.stdout.strip())
    raise EngineError("; ".join(problems) + " (start Docker, or pass a docker CLI with --docker)")


def _probe(binary: str, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            [binary, *args], capture_output=True, text=True, timeout=_PROBE_TIMEOUT
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess([binary, *args], 127, "", f"{binary}: not found")
    except PermissionError:
        return subprocess.CompletedProcess([binary, *args], 126, "", f"{binary}: not executable")
    except (OSError, subprocess.TimeoutExpired):
        return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def inspect_image(engine: Engine, ref: str) -> ImageInfo:
    """Size, layer count and config of a local image."""
    proc = engine.run("image", "inspect", "--format", "{{json .}}", ref)
    data = json.loads(proc.stdout)
    rootfs = data.get("RootFS") or {}
    config = data.get("Config") or {}
    return ImageInfo(
        id=str(data.get("Id", ref)),
        size=int(data.get("Size") or 0),
        layers=len(rootfs.get("Layers") or ()),
        config=dict(config),
    )


def remove_images(engine: Engine, refs: Sequence[str]) -> None:
    """Remove images (tags or ids) that a caller created; missing ones are not an error."""
    if refs:
        engine.run("image", "rm", "--force", *refs, check=False)
