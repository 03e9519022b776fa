"""Every example app's naive Dockerfile builds with real BuildKit (through layerwise's driver),
the image runs, and the app answers.

The builds run two at a time (this machine has two cores). They use BuildKit's cache when it is
warm; set LAYERWISE_EXAMPLES_NO_CACHE=1 to build every step from scratch, as on a fresh CI machine
(base images are present either way). At the end the module prints a table of build time, image
size and layer count per example; LAYERWISE_EXAMPLES_REPORT=path also writes it as JSON.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import DockerEngine
from examples_support import (
    EXAMPLES,
    copy_example,
    harmless_edit,
    image_contract,
    image_file_hashes,
    remove_images,
    run_in_image,
    running_app,
    tree_file_hashes,
    unique_tag,
)
from layerwise import read_dockerfile
from layerwise.build import BuildResult, Engine, build, find_engine
from layerwise.build.steps import STEP_KEYWORDS

pytestmark = pytest.mark.docker

# Slowest first, so that two workers finish close together.
BUILD_ORDER = [
    "django-psycopg2",
    "numpy-pandas",
    "unused-deps",
    "poetry-app",
    "fastapi-uvicorn",
    "pip-package",
    "uv-app",
    "flask-pip",
]
assert sorted(BUILD_ORDER) == sorted(EXAMPLES)


@dataclass
class Built:
    tag: str
    result: BuildResult | None
    error: BaseException | None


@pytest.fixture(scope="module")
def engine(docker: DockerEngine) -> Engine:
    return find_engine(docker.binary)


@pytest.fixture(scope="module")
def built(engine: Engine, request: pytest.FixtureRequest) -> Iterator[dict[str, Built]]:
    no_cache = os.environ.get("LAYERWISE_EXAMPLES_NO_CACHE") == "1"
    # Build only the examples that the selected tests of this module use (`-k flask`).
    wanted = {
        item.callspec.params["name"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and hasattr(item, "callspec")
        and "name" in item.callspec.params
    }
    order = [name for name in BUILD_ORDER if name in wanted]
    tags = {name: unique_tag(name) for name in order}

    def one(name: str) -> Built:
        try:
            result = build(
                EXAMPLES[name].path,
                tag=tags[name],
                network="host",
                docker=engine,
                no_cache=no_cache,
            )
            return Built(tags[name], result, None)
        except Exception as exc:  # reported by the test of that example
            return Built(tags[name], None, exc)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(order, pool.map(one, order), strict=True))
    wall = time.monotonic() - started
    try:
        yield results
    finally:
        remove_images(engine, *tags.values())
        _report(request, results, wall, no_cache)


def _report(
    request: pytest.FixtureRequest, results: dict[str, Built], wall: float, cold: bool
) -> None:
    rows = []
    for name, b in results.items():
        r = b.result
        rows.append(
            {
                "example": name,
                "seconds": round(r.seconds, 1) if r else None,
                "image_mb": round(r.image_size / 1e6, 1) if r and r.image_size else None,
                "layers": r.layers if r else None,
                "cached_steps": f"{len(r.cached_steps)}/{len(r.steps)}" if r else None,
                "error": str(b.error).splitlines()[0] if b.error else None,
            }
        )
    report = {"no_cache": cold, "wall_seconds": round(wall, 1), "examples": rows}
    path = os.environ.get("LAYERWISE_EXAMPLES_REPORT")
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    mode = "no cache" if cold else "BuildKit cache allowed"
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        reporter.write_line("")
        reporter.write_line(f"example builds ({mode}, 2 in parallel): {wall:.1f}s wall")
        for row in rows:
            reporter.write_line(
                f"  {row['example']:<16} {row['seconds']!s:>6}s  {row['image_mb']!s:>7} MB  "
                f"{row['layers']!s:>3} layers  cached {row['cached_steps']}"
                + (f"  ERROR {row['error']}" if row["error"] else "")
            )


def _result(built: dict[str, Built], name: str) -> BuildResult:
    b = built[name]
    if b.error is not None:
        pytest.fail(f"{name}: naive Dockerfile did not build: {b.error}")
    assert b.result is not None
    return b.result


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_naive_dockerfile_builds_and_every_step_is_mapped(
    built: dict[str, Built], name: str
) -> None:
    result = _result(built, name)
    dockerfile = read_dockerfile(EXAMPLES[name].path / "Dockerfile")
    expected = {
        ins.start_line: ins.name
        for ins in dockerfile.instructions
        if ins.name in STEP_KEYWORDS or ins.name == "FROM"
    }
    assert {s.line: s.keyword for s in result.steps} == expected
    assert all(s.error is None and s.started for s in result.steps)
    assert result.image_id and result.image_id.startswith("sha256:")
    assert result.image_size and result.image_size > 50_000_000
    assert result.layers and result.layers > 1
    assert result.context_bytes is not None
    # Naive files have no .dockerignore, and no file is left out of the context.
    assert not (EXAMPLES[name].path / ".dockerignore").exists()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_app_starts_and_answers(engine: Engine, built: dict[str, Built], name: str) -> None:
    app = EXAMPLES[name]
    result = _result(built, name)
    with running_app(engine, built[name].tag) as url:
        body = app.check(url)
    assert body["python"].startswith("3.11")
    if app.check_command:
        proc = run_in_image(engine, built[name].tag, *app.check_command)
        assert proc.returncode == 0, proc.stderr
    assert result.tag == built[name].tag


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_image_holds_the_application_files_and_naive_contract(
    engine: Engine, built: dict[str, Built], name: str
) -> None:
    app = EXAMPLES[name]
    _result(built, name)
    in_image = image_file_hashes(engine, built[name].tag, app.workdir, skip_dirs=(".venv",))
    in_tree = tree_file_hashes(app.path)
    assert {k: in_image.get(k) for k in in_tree} == in_tree
    contract = image_contract(engine, built[name].tag)
    assert contract["WorkingDir"] == app.workdir
    assert contract["ExposedPorts"] == ["8000/tcp"]
    assert contract["Env"]["PORT"] == "8000"
    assert contract["User"] == ""  # naive: root
    assert contract["Cmd"][:2] == ["/bin/sh", "-c"]  # naive: shell form


@pytest.mark.parametrize("name", ["flask-pip", "uv-app"])
def test_naive_source_edit_reruns_the_dependency_install(
    engine: Engine, built: dict[str, Built], name: str, tmp_path: Path
) -> None:
    """The "before" that the optimize fixes change: with `COPY . .` first, editing one source
    file makes BuildKit re-run the COPY and every step after it, the install included."""
    _result(built, name)
    app = EXAMPLES[name]
    copy = copy_example(name, tmp_path)
    tag = unique_tag(name)
    try:
        warm = build(copy, tag=tag, network="host", docker=engine)
        assert all(s.cached for s in warm.steps if s.keyword != "FROM"), [
            (s.name, s.cached) for s in warm.steps
        ]
        harmless_edit(copy / app.source_file)
        edited = build(copy, tag=tag, network="host", docker=engine)
    finally:
        remove_images(engine, tag)
    copy_line = next(s.line for s in edited.steps if s.keyword == "COPY" and s.line)
    for step in edited.steps:
        if step.keyword == "FROM":
            continue
        assert step.line is not None
        assert step.cached == (step.line < copy_line), (step.name, step.cached)
    install = [s for s in edited.steps if s.keyword == "RUN" and s.line and s.line > copy_line]
    assert install and not any(s.cached for s in install)


@pytest.mark.parametrize("name", ["poetry-app", "uv-app"])
def test_harmless_manifest_edit_keeps_the_locked_install_working(
    engine: Engine, built: dict[str, Built], name: str, tmp_path: Path
) -> None:
    """The dependency-change scenario of `bench` edits a manifest; with a lock file in play
    (poetry's content-hash, `uv sync --frozen`) the edit must not break the install."""
    _result(built, name)
    app = EXAMPLES[name]
    copy = copy_example(name, tmp_path)
    for manifest in app.manifests:
        harmless_edit(copy / manifest)
    tag = unique_tag(name)
    try:
        result = build(copy, tag=tag, network="host", docker=engine)
        with running_app(engine, tag) as url:
            app.check(url)
    finally:
        remove_images(engine, tag)
    installs = [s for s in result.steps if s.keyword == "RUN"]
    assert installs and not any(s.cached for s in installs)
