"""`layerwise bench` against the real engine: scenarios, --compare, cleanup, failures, Ctrl-C.

The projects are tiny (debian base, a few `echo` steps) so that these tests time bench itself,
not package downloads; `tests/integration/test_cache_buildkit.py` builds the example apps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import SRC, DockerEngine, run_cli

pytestmark = pytest.mark.docker

NAIVE = """\
FROM debian:bookworm-slim
WORKDIR /app
COPY . .
RUN sleep 1 && cat requirements.txt > /deps.txt
RUN echo {nonce} > /built
"""
OPTIMIZED = """\
FROM debian:bookworm-slim
WORKDIR /app
COPY requirements.txt .
RUN sleep 1 && cat requirements.txt > /deps.txt
COPY app.py .
RUN echo {nonce} > /built
"""


def _project(tmp_path: Path) -> tuple[Path, str]:
    nonce = uuid.uuid4().hex
    ctx = tmp_path / "project"
    (ctx / "logs").mkdir(parents=True)
    (ctx / "app.py").write_text(f"print('{nonce}')\n")
    (ctx / "requirements.txt").write_text(f"# {nonce}\nflask\n")
    (ctx / "logs" / "x.log").write_text("log\n")
    (ctx / "Dockerfile").write_text(NAIVE.format(nonce=nonce))
    (tmp_path / "Dockerfile.optimized").write_text(OPTIMIZED.format(nonce=nonce))
    return ctx, nonce


def _bench_images(docker: DockerEngine) -> set[str]:
    out = docker.run("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    return {i for i in out if i.startswith("layerwise-bench-")}


def _snapshot(root: Path) -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_compare_scenarios_json_and_cleanup(docker: DockerEngine, tmp_path: Path) -> None:
    ctx, _ = _project(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = _snapshot(ctx)
    images = _bench_images(docker)
    res = run_cli(
        "bench",
        str(ctx),
        "--compare",
        str(tmp_path / "Dockerfile.optimized"),
        "--network",
        "host",
        "--docker",
        docker.binary,
        "--format",
        "json",
        "--html",
        str(tmp_path / "report.html"),
        env={"TMPDIR": str(tmp)},
    )
    assert res.code == 0, res.err
    data = json.loads(res.out)
    original, optimized = data["dockerfiles"]
    assert set(original["scenarios"]) == {"cold", "no_change", "code_change", "deps_change"}
    assert data["code_file"] == "app.py" and data["deps_file"] == "requirements.txt"

    def cached(entry: dict[str, object], scenario: str) -> list[bool]:
        steps = entry["scenarios"][scenario]["steps"]  # type: ignore[index]
        return [s["cached"] for s in steps if s["keyword"] != "FROM"]

    # --no-cache: BuildKit runs every RUN and COPY again (a WORKDIR may still come from cache)
    assert cached(original, "cold") in ([False] * 4, [True, False, False, False])
    assert all(cached(original, "no_change"))
    assert cached(original, "code_change") == [True, False, False, False]
    assert cached(optimized, "code_change") == [True, True, True, False, False]
    assert cached(optimized, "deps_change") == [True, False, False, False, False]
    assert data["ratios"]["code_change"] < 1  # the install no longer reruns
    assert original["image_bytes"] > 0 and original["layers"] >= optimized["layers"] - 1
    assert (tmp_path / "report.html").read_text().count("<svg") >= 3
    # the user's files are untouched, copies and tagged images are gone
    assert _snapshot(ctx) == before
    assert list(tmp.iterdir()) == []
    assert _bench_images(docker) <= images


def test_failing_build_reports_the_step_and_cleans_up(docker: DockerEngine, tmp_path: Path) -> None:
    ctx = tmp_path / "failing"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM debian:bookworm-slim\nRUN echo {uuid.uuid4().hex} && echo about to fail && exit 3\n"
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    res = run_cli(
        "bench", str(ctx), "--network", "host", "--docker", docker.binary, env={"TMPDIR": str(tmp)}
    )
    assert res.code == 2
    first = res.err.splitlines()[0]
    assert f"{ctx / 'Dockerfile'}:2" in first and "exit code: 3" in first
    assert "about to fail" in res.err
    assert list(tmp.iterdir()) == []


def test_ctrl_c_removes_copies_and_images(docker: DockerEngine, tmp_path: Path) -> None:
    ctx = tmp_path / "slow"
    ctx.mkdir()
    marker = uuid.uuid4().hex
    (ctx / "Dockerfile").write_text(f"FROM debian:bookworm-slim\nRUN echo {marker} && sleep 120\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    images = _bench_images(docker)
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp)}
    command = [sys.executable, "-m", "layerwise", "bench", str(ctx), "--docker", docker.binary]
    proc = subprocess.Popen(
        [*command, "--network", "host"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ps = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
        if len(ps.stdout.split()) >= 1 and any(tmp.iterdir()):
            break
        time.sleep(0.5)
    time.sleep(2)  # let the step start inside the engine
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, (out, err)
    assert time.monotonic() - started < 60
    assert "interrupted" in err or "aborted" in err
    assert list(tmp.iterdir()) == []
    assert _bench_images(docker) <= images
