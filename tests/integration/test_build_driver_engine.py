"""The build driver against the real engine: step mapping, cache flags, image and context figures,
failures, the `# syntax=` workaround, Ctrl-C and an unreachable engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DockerEngine
from examples_support import remove_images, unique_tag
from layerwise import read_dockerfile
from layerwise.build import BuildError, Engine, Vertex, build, find_engine, inspect_image
from layerwise.errors import EngineError

pytestmark = pytest.mark.docker

CONTEXTS = Path(__file__).resolve().parent.parent / "fixtures" / "rawjson" / "contexts"


@pytest.fixture(scope="module")
def engine(docker: DockerEngine) -> Engine:
    return find_engine(docker.binary)


def test_multistage_steps_map_to_lines_and_rebuild_is_cached(engine: Engine) -> None:
    context = CONTEXTS / "multistage"
    tag = unique_tag("multistage")
    lines = read_dockerfile(context / "Dockerfile").text.splitlines()
    try:
        cold = build(context, tag=tag, network="host", docker=engine, no_cache=True)
        warm = build(context, tag=tag, network="host", docker=engine)
        info = inspect_image(engine, tag)
    finally:
        remove_images(engine, tag)
    for result in (cold, warm):
        assert len(result.steps) == 17
        for step in result.steps:
            assert step.line is not None, step.name
            assert lines[step.line - 1].upper().startswith(step.keyword or "?")
    runs = [s for s in cold.steps if s.keyword == "RUN"]
    assert len(runs) == 10 and not any(s.cached for s in runs)
    assert all(s.cached for s in warm.steps if s.keyword != "FROM")
    assert cold.image_id == warm.image_id == info.id
    assert cold.image_size == info.size and cold.layers == info.layers
    # stage-2 = FROM python:3.11-slim + 2 COPY + 1 RUN: the slim image's layers plus three.
    base = inspect_image(engine, "python:3.11-slim")
    assert info.layers == base.layers + 3


def test_failing_step_is_reported_with_line_and_log(engine: Engine) -> None:
    with pytest.raises(BuildError) as info:
        build(CONTEXTS / "failing", network="host", docker=engine)
    error = info.value
    assert error.step is not None and error.step.line == 4
    assert "exit code: 3" in str(error).splitlines()[0]
    assert "about to fail" in error.log_tail


def test_refused_dockerfile_is_reported_at_its_line(engine: Engine) -> None:
    with pytest.raises(BuildError, match=r"Dockerfile:4: build failed: .*FROBNICATE"):
        build(CONTEXTS / "syntax-error", network="host", docker=engine)


def test_context_bytes_follow_the_dockerignore(engine: Engine, tmp_path: Path) -> None:
    # Fresh random content each run: BuildKit sends only what it has not seen for a context.
    sizes = {}
    for name, ignore in (("whole", ""), ("ignored", "big.bin\n")):
        context = tmp_path / name
        context.mkdir()
        (context / "big.bin").write_bytes(os.urandom(300_000))
        (context / "small.txt").write_text("hello\n")
        (context / ".dockerignore").write_text(ignore)
        (context / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx/\n")
        tag = unique_tag(name)
        try:
            sizes[name] = build(context, tag=tag, docker=engine).context_bytes
        finally:
            remove_images(engine, tag)
    assert sizes["whole"] is not None and sizes["whole"] >= 300_000
    assert sizes["ignored"] is not None and sizes["ignored"] < 5_000


def test_syntax_directive_stripped_on_request_keeps_line_numbers(
    engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "# syntax=docker/dockerfile:1\n"
        "# escape=`\n"
        "FROM python:3.11-slim\n"
        "RUN --mount=type=cache,target=/root/.cache/pip `\n"
        "    echo cached-mount-works\n"
        "COPY <<EOF /hello.txt\n"
        "hello\n"
        "EOF\n"
    )
    tag = unique_tag("syntax")
    try:
        result = build(
            tmp_path, tag=tag, network="host", docker=engine, strip_syntax_directive=True
        )
    finally:
        remove_images(engine, tag)
    assert [(s.line, s.end_line, s.keyword) for s in result.steps] == [
        (3, 3, "FROM"),
        (4, 5, "RUN"),  # the backtick continuation only works if `# escape` was kept
        (6, 8, "COPY"),
    ]


def test_ctrl_c_cancels_the_build(engine: Engine, tmp_path: Path) -> None:
    context = tmp_path / f"ctrl-c-{unique_tag('x').split(':')[1]}"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM python:3.11-slim\nRUN echo {context.name} && sleep 120\n"
    )

    def on_vertex(vertex: Vertex) -> None:
        # Interrupt once the command runs. (Cancelled while BuildKit is still starting the
        # container, the process may go on in the engine: seen with BuildKit 0.13.)
        if "sleep 120" in vertex.name and context.name in vertex.log_text():
            raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        build(context, network="host", docker=engine, progress_callback=on_vertex)
    assert time.monotonic() - started < 60
    # No buildx client for this context is left running, nor the step's process in the engine.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-f", context.name], capture_output=True, text=True)
        if left.stdout.strip() == "":
            break
        time.sleep(0.5)
    assert left.stdout.strip() == ""


def test_unreachable_engine_is_one_line(
    docker: DockerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/layerwise-test.sock")
    with pytest.raises(EngineError) as info:
        find_engine(docker.binary)
    message = str(info.value)
    assert "\n" not in message and "engine not reachable" in message


def test_docker_found_on_path_when_not_given(
    docker: DockerEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAYERWISE_DOCKER", raising=False)
    monkeypatch.setenv("PATH", str(Path(docker.binary).parent) + os.pathsep + os.environ["PATH"])
    found = find_engine()
    assert shutil.which("docker") is not None
    assert found.buildx_version and found.server_version
