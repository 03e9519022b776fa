"""Shared test fixtures: where the peer data lives, and a real Docker engine when there is one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"


def shared_path() -> Path:
    """`../shared` beside the repository (or LAYERWISE_SHARED): peer test data and the corpus."""
    return Path(os.environ.get("LAYERWISE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_path()
    if not (path / "corpus").is_dir():
        pytest.skip(f"peer data not found at {path} (set LAYERWISE_SHARED to the shared/ folder)")
    return path


def require_docker() -> bool:
    return os.environ.get("LAYERWISE_REQUIRE_DOCKER") == "1"


@dataclass(frozen=True)
class DockerEngine:
    """A reachable Docker engine with buildx; `binary` is the docker CLI to call."""

    binary: str

    def run(
        self, *args: str, check: bool = True, timeout: float = 900, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            [self.binary, *args], capture_output=True, text=True, check=check, timeout=timeout, **kw
        )


def _find_docker() -> tuple[DockerEngine | None, str]:
    candidates = [os.environ.get("LAYERWISE_DOCKER"), "/usr/bin/docker", shutil.which("docker")]
    reasons = []
    for binary in [c for c in candidates if c]:
        if not Path(binary).exists():
            continue
        try:
            info = subprocess.run(
                [binary, "info", "--format", "{{json .ServerVersion}}"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            bx = subprocess.run(
                [binary, "buildx", "version"], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            reasons.append(f"{binary}: {exc}")
            continue
        # `docker info` exits 0 even when the daemon is unreachable: the server version tells.
        server = json.loads(info.stdout or '""') if info.returncode == 0 else ""
        if not server:
            reasons.append(f"{binary}: engine not reachable ({info.stderr.strip()[:200]})")
            continue
        if bx.returncode != 0:
            reasons.append(f"{binary}: no buildx plugin")
            continue
        return DockerEngine(binary), ""
    return None, "; ".join(reasons) or "no docker binary found"


@pytest.fixture(scope="session")
def docker() -> DockerEngine:
    """A real Docker engine. Skips when there is none, unless LAYERWISE_REQUIRE_DOCKER=1 (CI),
    where a missing engine fails the test instead: the integration tests must run there."""
    engine, reason = _find_docker()
    if engine is None:
        message = f"Docker engine with buildx not available: {reason}"
        if require_docker():
            pytest.fail(message + " (LAYERWISE_REQUIRE_DOCKER=1: integration tests are required)")
        pytest.skip(message)
    return engine


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    """Run `python -m layerwise` in a subprocess, as a user would."""
    full_env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1", "COLUMNS": "120"}
    full_env.pop("LAYERWISE_DEBUG", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "layerwise", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=600,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Iterator[object]:
    yield run_cli
