"""Compose services as build targets: the resolver (`layerwise.compose.targets`) and `lint`,
`context`, `cache`, `bench`, `deps` and `optimize` given a compose project, as a user runs them.

The project below has what the resolver must get right: a context in a subdirectory with the
Dockerfile in a subdirectory of it, a target and a build arg, two services building the same
Dockerfile the same way, a third building it with another target, an inline Dockerfile, a
remote context and a service with no build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from layerwise.compose.targets import is_compose_directory, resolve_builds
from layerwise.errors import InputError

COMPOSE = """\
services:
  api:
    build:
      context: ./app
      dockerfile: docker/Dockerfile
      target: runtime
      args:
        APP_VERSION: "1.2"
  worker:
    build:
      context: ./app
      dockerfile: docker/Dockerfile
      target: runtime
      args:
        APP_VERSION: "1.2"
  debug:
    build:
      context: ./app
      dockerfile: docker/Dockerfile
      target: dev
  tool:
    build:
      context: ./tool
      dockerfile_inline: |
        FROM debian:bookworm-slim
        COPY run.sh missing.sh /usr/local/bin/
  remote:
    build: https://github.com/example/app.git#main
  db:
    image: postgres:16
"""
# The runtime stage reads config/${APP_VERSION}.toml: only with the service's build arg does it
# name a file that exists. The dev stage reads tests/, which does not exist.
DOCKERFILE = """\
FROM python:3.11-slim AS base
ARG APP_VERSION
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY src/ ./src/

FROM base AS dev
COPY tests/ ./tests/

FROM base AS runtime
ARG APP_VERSION
COPY config/${APP_VERSION}.toml /app/config.toml
CMD ["python", "-m", "src"]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(
        tmp_path / "proj",
        {
            "compose.yaml": COMPOSE,
            "app/docker/Dockerfile": DOCKERFILE,
            "app/requirements.txt": "flask==3.0.3\n",
            "app/src/__main__.py": "import flask\nprint(flask)\n",
            "app/config/1.2.toml": "debug = false\n",
            "tool/run.sh": "echo hi\n",
        },
    )


def _json(*args: str, code: int | None = None) -> object:
    result = run_cli(*args, "--format", "json")
    if code is not None:
        assert result.code == code, result.err
    return json.loads(result.out)


# -- the resolver ------------------------------------------------------------------------------


def test_one_build_per_dockerfile_with_a_variant_per_target_and_args(project: Path) -> None:
    resolved = resolve_builds(project, env={})
    app, tool = resolved.builds
    assert app.services == ["api", "debug", "worker"]
    assert app.context == project / "app"
    assert app.dockerfile == project / "app" / "docker" / "Dockerfile"
    assert app.dockerfile_inline is None
    runtime, dev = app.variants
    assert (runtime.services, runtime.target, runtime.args) == (
        ("api", "worker"),
        "runtime",
        {"APP_VERSION": "1.2"},
    )
    assert (dev.services, dev.target, dev.args) == (("debug",), "dev", {})
    assert app.note is not None and "targets dev, runtime" in app.note
    assert tool.services == ["tool"] and tool.dockerfile is None
    assert tool.dockerfile_inline is not None and "missing.sh" in tool.dockerfile_inline
    assert tool.context == project / "tool"
    # The remote context is left out with a note that does not repeat its URL.
    [note] = resolved.notes
    assert "service remote" in note and "github.com" not in note
    assert resolved.dockerfiles() == {(project / "app" / "docker" / "Dockerfile").resolve()}


def test_service_filter_and_unknown_names(project: Path) -> None:
    resolved = resolve_builds(project, services=["debug"], env={})
    [build] = resolved.builds
    assert build.services == ["debug"] and build.target == "dev" and build.note is None
    with pytest.raises(InputError) as unknown:
        resolve_builds(project, services=["nope"], env={})
    message = str(unknown.value)
    assert "'nope'" in message and "services: api, db, debug, remote, tool, worker" in message
    assert "\n" not in message
    with pytest.raises(InputError, match="'db' has no build"):
        resolve_builds(project, services=["db"], env={})


def test_one_build_for_commands_that_build_one_thing(project: Path) -> None:
    with pytest.raises(InputError) as several:
        resolve_builds(project, env={}).one("bench")
    assert "services api, debug, tool, worker" in str(several.value)
    assert "--service" in str(several.value)
    # Two services that build the same thing the same way are one build.
    _, variant = resolve_builds(project, services=["api", "worker"], env={}).one("bench")
    assert variant.services == ("api", "worker") and variant.args == {"APP_VERSION": "1.2"}
    with pytest.raises(InputError, match="remote build context"):
        resolve_builds(project, services=["remote"], env={}).one("bench")


def test_compose_files_given(project: Path) -> None:
    write(
        project,
        {
            "prod.yaml": "services:\n  web:\n    build:\n      context: app\n"
            "      dockerfile: docker/Dockerfile\n      args: [APP_VERSION=2.0]\n"
        },
    )
    [build] = resolve_builds(project, files=["prod.yaml"], env={}).builds
    assert build.services == ["web"] and build.args == {"APP_VERSION": "2.0"}


def test_build_context_of_a_variant(project: Path) -> None:
    app, tool = resolve_builds(project, env={}).builds
    runtime, dev = app.variants
    assert app.build_context(runtime).model is not None
    assert [e for _, e in app.build_context(dev).errors] == ['tests/: "/tests": not found']
    assert not app.build_context(runtime).errors  # config/1.2.toml exists
    inline = tool.build_context()
    assert inline.dockerfile is None and inline.root == (project / "tool").resolve()
    assert [e for _, e in inline.errors] == ['missing.sh: "/missing.sh": not found']
    bad = app.overridden({}, "nope")
    with pytest.raises(InputError, match="target stage 'nope'"):
        bad.build_context()
    assert app.overridden({"APP_VERSION": "9"}, None).variants[1].args == {"APP_VERSION": "9"}


def test_is_compose_directory(project: Path, tmp_path: Path) -> None:
    assert is_compose_directory(project)
    assert not is_compose_directory(project, "app/docker/Dockerfile")
    assert not is_compose_directory(project / "app")  # no compose file
    (project / "Dockerfile").write_text("FROM scratch\n")
    assert not is_compose_directory(project)  # its own Dockerfile wins, as before


# -- lint --------------------------------------------------------------------------------------


def test_lint_reads_each_dockerfile_as_its_services_build_it(project: Path) -> None:
    findings = _json("lint", str(project), "--select", "LW305,LW401,LW709", code=1)
    assert isinstance(findings, list)
    got = {(f["rule"], Path(f["path"]).name, f["line"], tuple(f["services"])) for f in findings}
    assert got == {
        # dev (service debug) copies tests/, which is missing; runtime's config/1.2.toml is there.
        ("LW305", "Dockerfile", 9, ("debug",)),
        ("LW305", "<dockerfile_inline of tool>", 2, ("tool",)),
        ("LW401", "Dockerfile", 8, ("debug",)),
        ("LW401", "Dockerfile", 11, ("api", "worker")),
        ("LW401", "<dockerfile_inline of tool>", 1, ("tool",)),
        ("LW709", "compose.yaml", 10, ()),  # the compose checks still run
    }
    text = run_cli("lint", str(project), "--select", "LW305")
    assert text.code == 1
    assert 'service debug: "/tests": not found' in text.out
    assert "note: service remote: a remote build context is left out" in text.err
    # Linted alone (no build args, the last stage), the Dockerfile reads config/.toml.
    plain = _json(
        "lint", str(project / "app" / "docker" / "Dockerfile"), "--context",
        str(project / "app"), "--select", "LW305", code=1,
    )  # fmt: skip
    assert isinstance(plain, list)
    assert [f["message"] for f in plain] == ['"/config/.toml": not found']
    assert "services" not in plain[0]  # a plain Dockerfile keeps its JSON


def test_lint_service_filter(project: Path) -> None:
    findings = _json("lint", str(project), "--service", "api", "--select", "LW305,LW401", code=1)
    assert isinstance(findings, list)
    assert [(f["rule"], f["line"], f["services"]) for f in findings] == [("LW401", 11, ["api"])]
    # --build-arg adds to the service's args: a version whose config file is missing.
    findings = _json(
        "lint", str(project), "--service", "api", "--build-arg", "APP_VERSION=3", "--select",
        "LW305", code=1,
    )  # fmt: skip
    assert isinstance(findings, list)
    assert [f["message"] for f in findings] == ['"/config/3.toml": not found']
    unknown = run_cli("lint", str(project), "--service", "nope")
    assert unknown.code == 2 and unknown.out == ""
    assert unknown.err.strip().splitlines() == [
        "error: no service 'nope' in the compose project "
        "(services: api, db, debug, remote, tool, worker)"
    ]
    both = run_cli("lint", str(project), str(project / "app"), "--service", "api")
    assert both.code == 2 and "one directory" in both.err


def test_lint_keeps_dockerfiles_no_service_builds(project: Path) -> None:
    write(project, {"ci/Dockerfile.ci": "FROM debian:bookworm-slim\nRUN cd /tmp\n"})
    findings = _json("lint", str(project), "--select", "LW305,LW605", code=1)
    assert isinstance(findings, list)
    ci = [f for f in findings if f["path"].endswith("Dockerfile.ci")]
    assert ci and all(f["services"] == [] for f in ci)
    # --service narrows it down to that service's build.
    only = _json("lint", str(project), "--service", "debug", "--select", "LW305", code=1)
    assert isinstance(only, list)
    assert {f["path"].rsplit("/", 1)[-1] for f in only} == {"Dockerfile"}


def test_lint_directory_with_its_own_dockerfile_is_unchanged(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.11-slim\nARG V\nCOPY cfg/${V}.toml /c\n",
            "cfg/1.toml": "",
            "compose.yaml": "services:\n  web:\n    build:\n      context: .\n"
            "      args: {V: '1'}\n",
        },
    )
    plain = _json("lint", str(root), "--select", "LW305", code=1)
    assert isinstance(plain, list)
    assert [f["message"] for f in plain] == ['"/cfg/.toml": not found']
    assert "services" not in plain[0]
    service = run_cli("lint", str(root), "--service", "web", "--select", "LW305")
    assert service.code == 0, service.out + service.err


# -- context -----------------------------------------------------------------------------------


def test_context_report_per_service_build(project: Path) -> None:
    data = _json("context", str(project), code=0)
    assert isinstance(data, dict)
    assert data["compose"] is True and data["project"] == "proj"
    builds = {tuple(b["services"]): b for b in data["builds"]}
    assert set(builds) == {("api", "worker"), ("debug",), ("tool",)}
    runtime, dev, tool = builds[("api", "worker")], builds[("debug",)], builds[("tool",)]
    assert runtime["context"] == dev["context"] == str((project / "app").resolve())
    assert runtime["target"] == "runtime" and dev["target"] == "dev"
    assert "config/1.2.toml" in [f["path"] for f in runtime["files"]]
    assert "config/1.2.toml" in dev["unused"]
    assert tool["dockerfile"] is None and [f["path"] for f in tool["files"]] == ["run.sh"]
    assert any("remote" in n for n in data["notes"])
    one = _json("context", str(project), "--service", "debug", code=0)
    assert isinstance(one, dict)
    assert [b["services"] for b in one["builds"]] == [["debug"]]
    text = run_cli("context", str(project), "--service", "api")
    assert text.code == 0 and text.out.startswith("== service api\n")


def test_context_write_leaves_shared_ignore_files_alone(project: Path) -> None:
    # api/worker (runtime) and debug (dev) share app/.dockerignore and read different files:
    # a line one build does not need may be a file the other reads.
    result = run_cli("context", str(project), "--service", "debug", "--write-dockerignore")
    assert result.code == 0, result.err
    assert "not writing" in result.err and "api, debug, worker" in result.err
    assert not (project / "app" / ".dockerignore").exists()
    # tool's context is its own: written, and the build still gets run.sh.
    write(project / "tool", {"notes.log": "x\n"})
    result = run_cli("context", str(project), "--service", "tool", "--write-dockerignore")
    assert result.code == 0, result.err
    assert "*.log" in (project / "tool" / ".dockerignore").read_text()


# -- cache, bench, deps, optimize ----------------------------------------------------------------


def test_cache_uses_the_service_build(project: Path) -> None:
    data = _json("cache", str(project), "--service", "api", "--changed", "config/1.2.toml", code=0)
    assert isinstance(data, dict)
    assert data["services"] == ["api"]
    rebuilt = [
        (st["name"], s["text"]) for st in data["stages"] for s in st["steps"] if s["rebuilt"]
    ]
    # The runtime stage (the service's target) copies the config named by its build arg.
    assert rebuilt == [("runtime", "COPY config/${APP_VERSION}.toml /app/config.toml")]
    arg = _json(
        "cache", str(project), "--service", "api", "--changed-build-arg", "APP_VERSION=1.3",
        code=0,
    )  # fmt: skip
    assert isinstance(arg, dict) and arg["services"] == ["api"]
    several = run_cli("cache", str(project), "--changed", "app/src/__main__.py")
    assert several.code == 2 and "choose one with --service" in several.err
    inline = run_cli("cache", str(project), "--service", "tool", "--changed", "run.sh")
    assert inline.code == 2 and "dockerfile_inline" in inline.err
    plain = _json("cache", str(project / "app"), "-f", str(project / "app/docker/Dockerfile"),
                  "--changed", "src/__main__.py", code=0)  # fmt: skip
    assert isinstance(plain, dict) and plain["services"] is None


def test_bench_needs_one_service(project: Path) -> None:
    several = run_cli("bench", str(project), "--docker", str(project / "no-docker"))
    assert several.code == 2
    assert several.err.strip() == (
        "error: bench takes one build and the compose project has several (services api, "
        "debug, tool, worker): choose one with --service NAME"
    )
    both = run_cli("bench", str(project), "--service", "api", "-f", "app/docker/Dockerfile")
    assert both.code == 2 and "give one or the other" in both.err
    unknown = run_cli("bench", str(project), "--service", "nope")
    assert unknown.code == 2 and "services: api, db" in unknown.err
    # With one service chosen it gets as far as looking for the engine.
    chosen = run_cli("bench", str(project), "--service", "api", "--docker", "/nonexistent")
    assert chosen.code == 2 and "choose one" not in chosen.err


def test_deps_and_optimize_take_the_same_targets(project: Path) -> None:
    data = _json("deps", str(project), "--service", "api", "--fail-on", "none", code=0)
    assert isinstance(data, dict) and data["services"] == ["api"]
    several = run_cli("deps", str(project))
    assert several.code == 2 and "choose one with --service" in several.err
    result = _json("optimize", str(project), code=1)
    assert isinstance(result, dict)
    assert [b["services"] for b in result["builds"]] == [["api", "debug", "worker"]]
    [build] = result["builds"]
    assert "targets dev, runtime" in build["note"]
    assert any("tool: an inline Dockerfile is not optimized" in n for n in result["notes"])
    assert any("remote" in n for n in result["notes"])
    # --service with a Dockerfile in the directory still means the compose service.
    (project / "Dockerfile").write_text("FROM scratch\n")
    one = _json("optimize", str(project), "--service", "debug", code=1)
    assert isinstance(one, dict) and [b["services"] for b in one["builds"]] == [["debug"]]


def test_a_missing_dockerfile_names_its_service(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    build: ./a\n  b:\n    build:\n"
            "      context: .\n      dockerfile: nope/Dockerfile\n",
            "a/Dockerfile": "FROM debian:bookworm-slim\n",
        },
    )
    missing = str(root / "nope" / "Dockerfile")
    lint = run_cli("lint", str(root), "--select", "LW401")
    assert lint.code == 2 and "service a:" in lint.out
    assert "nope/Dockerfile: no such file (service b)" in lint.err
    context = run_cli("context", str(root), "--format", "json")
    assert context.code == 2
    assert [b["services"] for b in json.loads(context.out)["builds"]] == [["a"]]
    assert context.err.strip() == f"error: service b: Dockerfile {missing} does not exist"
    bench = run_cli("bench", str(root), "--service", "b")
    assert bench.code == 2
    assert bench.err.strip() == f"error: service b: Dockerfile {missing} does not exist"


def test_lint_service_narrows_the_compose_findings(tmp_path: Path) -> None:
    # LW702 (a long-running service without a healthcheck) is per service: --service keeps
    # only that service's findings; the Dockerfiles serve a port and have no HEALTHCHECK.
    server = 'FROM python:3.11-slim\nEXPOSE 8000\nCMD ["python", "-m", "http.server"]\n'
    root = write(
        tmp_path / "two",
        {
            "compose.yaml": "services:\n  web:\n    build: web\n  api:\n    build: api\n",
            "web/Dockerfile": server,
            "api/Dockerfile": server,
        },
    )
    every = _json("lint", str(root), "--select", "LW702", code=1)
    assert isinstance(every, list)
    assert sorted("web" in f["message"] for f in every) == [False, True], every
    one = _json("lint", str(root), "--service", "api", "--select", "LW702", code=1)
    assert isinstance(one, list)
    assert [("api" in f["message"], "web" in f["message"]) for f in one] == [(True, False)]
