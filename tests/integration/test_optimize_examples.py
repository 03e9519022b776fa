"""The proof of `layerwise optimize --unsafe` on every example app, with real BuildKit builds.

For each example, a copy is optimized (Dockerfile and .dockerignore written) and both the
original and the optimized copy are built; then one source file of the optimized copy is edited
and it is built again. The tests check that:

* both build, and the optimized image keeps the runtime contract: the same Cmd, Entrypoint,
  WorkingDir and ExposedPorts, the same environment apart from PATH (which now starts with the
  virtualenv) and variables layerwise adds, the same application files with the same hashes
  (apart from the junk the new .dockerignore leaves out, and the Dockerfile itself);
* the app starts and answers as the non-root user;
* the image is smaller where build tools were removed, and not larger elsewhere;
* after the source edit, BuildKit re-runs only the final COPY and the steps after it: every
  dependency install is reported CACHED.

Builds run two at a time. The original images usually come from BuildKit's cache, warmed by
test_examples.py (the same files, so the same cache keys). At the end the module prints, per
example, the image sizes and the code-change rebuild time of the optimized image.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import DockerEngine
from examples_support import (
    EXAMPLES,
    EXAMPLES_DIR,
    harmless_edit,
    image_contract,
    image_file_hashes,
    remove_images,
    run_in_image,
    running_app,
    unique_tag,
)
from layerwise.build import BuildResult, Engine, build, find_engine
from layerwise.context.project import BuildContext
from layerwise.dockerfile.parser import read_dockerfile
from layerwise.fixes.manifest import copy_source
from layerwise.optimize import OptimizeResult, optimize
from layerwise.rules.layers import not_runtime_files

pytestmark = pytest.mark.docker

# Slowest first, so that the two workers finish close together.
ORDER = [
    "django-psycopg2",
    "numpy-pandas",
    "unused-deps",
    "poetry-app",
    "fastapi-uvicorn",
    "pip-package",
    "uv-app",
    "flask-pip",
]
assert sorted(ORDER) == sorted(EXAMPLES)
# Variables an optimized image may add (none of them changes what the app does).
ADDED_ENV = frozenset(
    {
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
    }
)
BUILD_FILES = frozenset({"Dockerfile", ".dockerignore"})


@dataclass
class Case:
    name: str
    original_dir: Path
    optimized_dir: Path
    result: OptimizeResult | None = None
    original: BuildResult | None = None
    optimized: BuildResult | None = None
    edited: BuildResult | None = None
    tags: list[str] = field(default_factory=list)
    error: str | None = None


@pytest.fixture(scope="module")
def engine(docker: DockerEngine) -> Engine:
    return find_engine(docker.binary)


@pytest.fixture(scope="module")
def cases(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Case]]:
    wanted = {
        item.callspec.params["name"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and hasattr(item, "callspec")
        and "name" in item.callspec.params
    }
    if any(
        isinstance(item, pytest.Function)
        and item.module is request.module
        and item.name.startswith("test_healthcheck")
        for item in request.session.items
    ):
        wanted.add("flask-pip")
    root = tmp_path_factory.mktemp("optimize")

    def one(name: str) -> Case:
        case = Case(
            name,
            Path(shutil.copytree(EXAMPLES_DIR / name, root / "original" / name)),
            Path(shutil.copytree(EXAMPLES_DIR / name, root / "optimized" / name)),
        )
        try:
            case.result = optimize(case.optimized_dir, unsafe=True)
            case.result.write()
            original_tag, optimized_tag = unique_tag(name), unique_tag(f"{name}-opt")
            case.tags += [original_tag, optimized_tag]
            case.original = build(
                case.original_dir, tag=original_tag, network="host", docker=engine
            )
            case.optimized = build(
                case.optimized_dir,
                tag=optimized_tag,
                network="host",
                docker=engine,
                strip_syntax_directive=True,  # the frontend image cannot be pulled here
            )
            harmless_edit(case.optimized_dir / EXAMPLES[name].source_file)
            edited_tag = unique_tag(f"{name}-edit")
            case.tags.append(edited_tag)
            case.edited = build(
                case.optimized_dir,
                tag=edited_tag,
                network="host",
                docker=engine,
                strip_syntax_directive=True,
            )
        except Exception as exc:  # reported by the tests of this example
            case.error = f"{type(exc).__name__}: {exc}"
        return case

    order = [n for n in ORDER if n in wanted]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(order, pool.map(one, order), strict=True))
    wall = time.monotonic() - started
    try:
        yield results
    finally:
        remove_images(engine, *[t for c in results.values() for t in c.tags])
        _report(request, results, wall)


def _case(cases: dict[str, Case], name: str) -> Case:
    case = cases[name]
    if case.error:
        pytest.fail(f"{name}: {case.error}")
    assert case.result and case.original and case.optimized and case.edited
    return case


def _report(request: pytest.FixtureRequest, cases: dict[str, Case], wall: float) -> None:
    rows = []
    for name, c in cases.items():
        code_change = c.edited
        rows.append(
            {
                "example": name,
                "original_mb": _mb(c.original),
                "optimized_mb": _mb(c.optimized),
                "optimized_code_change_s": round(code_change.seconds, 1) if code_change else None,
                "rerun_after_edit": (
                    [s.name for s in code_change.rebuilt_steps] if code_change else None
                ),
                "error": c.error.splitlines()[0] if c.error else None,
            }
        )
    path = os.environ.get("LAYERWISE_OPTIMIZE_REPORT")
    if path:
        Path(path).write_text(json.dumps({"wall_seconds": wall, "examples": rows}, indent=2))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"optimize proof (2 builds in parallel): {wall:.1f}s wall")
        for r in rows:
            reporter.write_line(
                f"  {r['example']:<16} {r['original_mb']!s:>7} MB -> {r['optimized_mb']!s:>7} MB"
                f"  code change {r['optimized_code_change_s']!s:>5}s"
                + (f"  ERROR {r['error']}" if r["error"] else "")
            )


def _command(contract: dict[str, object]) -> list[str]:
    """Entrypoint + Cmd as the argv Docker starts, with `/bin/sh -c "words"` read as its words
    when the shell would only split them."""
    argv = [*(contract["Entrypoint"] or []), *(contract["Cmd"] or [])]  # type: ignore[misc]
    if len(argv) == 3 and argv[:2] == ["/bin/sh", "-c"]:
        # `exec` only makes the program PID 1 in place of the shell (LW602's fix where the
        # shell must still expand a variable): the same command.
        script = argv[2].removeprefix("exec ")
        if not any(ch in script for ch in "$`\\\"'|&;<>(){}*?[]~#"):
            return script.split()
        return [*argv[:2], script]
    return argv


def _mb(result: BuildResult | None) -> float | None:
    return round(result.image_size / 1e6, 1) if result and result.image_size else None


@pytest.mark.parametrize("name", ORDER)
def test_optimized_image_keeps_the_runtime_contract(
    engine: Engine, cases: dict[str, Case], name: str
) -> None:
    case = _case(cases, name)
    original, optimized = (image_contract(engine, t) for t in case.tags[:2])
    for key in ("WorkingDir", "ExposedPorts"):
        assert optimized[key] == original[key], key
    # The same program with the same arguments: a shell-form command the exec-form fix turned
    # into its words (only done when the shell would do nothing but split them) counts as equal.
    assert _command(optimized) == _command(original)
    env_before, env_after = dict(original["Env"]), dict(optimized["Env"])
    path_before, path_after = env_before.pop("PATH"), env_after.pop("PATH")
    assert path_after in (path_before, f"/opt/venv/bin:{path_before}")
    added = set(env_after) - set(env_before)
    assert added <= ADDED_ENV, added
    assert {k: env_after[k] for k in env_before} == env_before
    assert original["User"] == "" and optimized["User"] == "10001:10001"


@pytest.mark.parametrize("name", ORDER)
def test_optimized_image_holds_the_same_application_files(
    engine: Engine, cases: dict[str, Case], name: str
) -> None:
    case = _case(cases, name)
    workdir = EXAMPLES[name].workdir
    before = image_file_hashes(engine, case.tags[0], workdir, skip_dirs=(".venv",))
    after = image_file_hashes(engine, case.tags[1], workdir, skip_dirs=(".venv",))
    for files in (before, after):
        for path in list(files):
            # setuptools' egg-info lists the files it was built from: fewer files sent
            # (tests, docs) change its SOURCES.txt; it is written by the build, not shipped
            if path in BUILD_FILES or ".egg-info/" in path:
                del files[path]
    assert {k: before.get(k) for k in after} == after
    # what the original has and the optimized image lacks is what .dockerignore now leaves out
    sent = BuildContext.load(case.optimized_dir).snapshot.entries
    missing = sorted(set(before) - set(after))
    assert all(path not in sent for path in missing), missing
    # Left out: the tests, docs and container files a broad COPY swept up (LW102, the image
    # never runs them), and junk (logs, editor settings); never the application's code.
    swept = {p for paths in not_runtime_files(missing).values() for p in paths}
    junk = [p for p in missing if p not in swept]
    assert len(junk) <= 3 and not any(p.endswith(".py") for p in junk), junk


@pytest.mark.parametrize("name", ORDER)
def test_optimized_app_starts_and_answers_as_non_root(
    engine: Engine, cases: dict[str, Case], name: str
) -> None:
    case = _case(cases, name)
    app = EXAMPLES[name]
    with running_app(engine, case.tags[1]) as url:
        app.check(url)
    proc = run_in_image(engine, case.tags[1], "id", "-u")
    assert proc.returncode == 0 and proc.stdout.strip() == "10001", proc.stderr
    if app.check_command:
        proc = run_in_image(engine, case.tags[1], *app.check_command)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ORDER)
def test_optimized_image_is_smaller_where_build_tools_were_removed(
    cases: dict[str, Case], name: str
) -> None:
    case = _case(cases, name)
    assert case.result and case.original and case.optimized
    before, after = case.original.image_size, case.optimized.image_size
    assert before and after
    if case.result.gain.build_tools_removed:
        assert after < before * 0.75, (before, after)
    else:
        assert after <= before * 1.01 + 1_000_000, (before, after)


@pytest.mark.parametrize("name", ORDER)
def test_source_edit_reruns_only_the_final_copy_and_after(
    cases: dict[str, Case], name: str
) -> None:
    case = _case(cases, name)
    assert case.edited
    df = read_dockerfile(case.optimized_dir / "Dockerfile")
    model = df.model()
    assert model.target is not None
    copies = [s for s in model.target.steps if copy_source(s) is not None]
    assert copies, "no source COPY in the final stage"
    final_copy = copies[-1].line
    rerun = [s for s in case.edited.steps if s.keyword != "FROM" and not s.cached]
    assert rerun, "the edit changed nothing?"
    for step in case.edited.steps:
        if step.keyword == "FROM" or step.line is None:
            continue
        in_final = step.stage_index == model.target.index
        if not in_final or step.line < final_copy:
            assert step.cached, f"{step.name} re-ran after a source edit"
    assert any(s.line == final_copy and not s.cached for s in case.edited.steps)
    installs = [
        s
        for s in case.edited.steps
        if s.keyword == "RUN"
        and any(k in s.name for k in ("pip install", "uv sync", "poetry"))
        and "--no-deps" not in s.name
    ]
    assert installs and all(s.cached for s in installs), [(s.name, s.cached) for s in installs]


@pytest.mark.parametrize(("path", "expected"), [("/health", "healthy"), ("/nope", "unhealthy")])
def test_healthcheck_on_request(
    engine: Engine, cases: dict[str, Case], tmp_path: Path, path: str, expected: str
) -> None:
    """`--healthcheck PATH` adds a HEALTHCHECK that Docker runs in the optimized, non-root,
    slim image (no curl there: Python's urllib) against the port the app listens on ($PORT);
    a path the app answers with 404 makes the container unhealthy."""
    from examples_support import free_port

    case = _case(cases, "flask-pip")
    copy = Path(shutil.copytree(case.optimized_dir, tmp_path / "flask-pip"))
    result = optimize(copy, unsafe=True, healthcheck=path)
    assert "HEALTHCHECK" in result.dockerfile.text
    result.write()
    tag = unique_tag("flask-pip-health")
    try:
        build(copy, tag=tag, network="host", docker=engine, strip_syntax_directive=True)
        name = f"layerwise-test-{tag.rsplit(':', 1)[1]}"
        port = free_port()
        started = engine.run(
            "run", "--detach", "--name", name, "--network", "host", "--env", f"PORT={port}",
            # the image's own check, run sooner than its 30s interval
            "--health-interval", "2s", "--health-start-period", "1s", "--health-retries", "2",
            tag,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        try:
            status = ""
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and status != expected:
                time.sleep(1)
                proc = engine.run("inspect", "--format", "{{.State.Health.Status}}", name)
                status = proc.stdout.strip()
            assert status == expected, status
        finally:
            engine.run("rm", "--force", name, check=False)
    finally:
        remove_images(engine, tag)
