"""`layerwise init` proven with real Docker Compose and BuildKit.

For every example app and the init fixtures (Django + psycopg2 built from source, a Poetry
FastAPI app in a src layout, a uv Flask app built by a factory, a Celery worker): copy it, remove
its Docker files, run `layerwise init`, then

* production: the image is built (through layerwise's BuildKit driver), then `docker compose up
  --build --detach --wait` runs it (a cached build) with a test-only override (host
  network for builds and containers, a free port; the generated files never contain it): the
  service becomes healthy through the image's own HEALTHCHECK, answers, runs as the non-root
  user, and its image holds no compiler and no packaging tool;
* a source edit rebuilds only the final COPY (BuildKit reports every other step cached);
* development (`-f compose.yaml -f compose.dev.yaml`): `docker compose watch` syncs a source edit
  into the running container without a rebuild, and a dependency manifest change rebuilds the
  image and replaces the container (a new requirement is importable) - both checked inside it.

Apps run three at a time, each on its own port. The module prints, per app, image size, time to
healthy and code-change rebuild time (LAYERWISE_INIT_REPORT=path also writes them as JSON).
`# syntax=` lines are stripped from the generated Dockerfiles here only: this machine cannot
pull the Dockerfile frontend image.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import DockerEngine, run_cli
from examples_support import EXAMPLES, free_port, harmless_edit, wait_for_json
from layerwise.build import BuildResult, build, find_engine

pytestmark = pytest.mark.docker

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "init"
DOCKER_FILES = (
    "Dockerfile",
    ".dockerignore",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
)
WORKERS = 3


@dataclass(frozen=True)
class InitApp:
    name: str
    source: Path
    source_file: str  # edited for the code-change rebuild and the watch sync
    check: Callable[[str, Callable[..., subprocess.CompletedProcess[str]]], None]
    service: str = "web"


def _example_check(name: str) -> Callable[[str, Any], None]:
    def check(url: str, compose: Any) -> None:
        EXAMPLES[name].check(url)

    return check


def _json_check(path: str, expect: dict[str, Any]) -> Callable[[str, Any], None]:
    def check(url: str, compose: Any) -> None:
        body = wait_for_json(url + path, timeout=60)
        wrong = {k: v for k, v in expect.items() if body.get(k) != v}
        assert not wrong, f"{path} answered {body}, expected {expect}"

    return check


def _django_check(url: str, compose: Any) -> None:
    _json_check("/api/healthz/", {"status": "ok", "psycopg2": "2.9.9"})(url, compose)
    # MEDIA_ROOT was made before USER and belongs to the runtime user: the app can write there.
    body = wait_for_json(url + "/api/upload/", timeout=10)
    assert body["written"] == "/app/media/upload.txt", body


def _uv_check(url: str, compose: Any) -> None:
    _json_check("/health", {"status": "ok", "app": "uv-flask-factory"})(url, compose)


def _celery_check(url: str, compose: Any) -> None:
    code = "from tasks import add; print(add.delay(2, 3).get(timeout=30))"
    proc = compose("exec", "-T", "worker", "python", "-c", code, timeout=90)
    assert proc.returncode == 0 and proc.stdout.strip() == "5", proc.stdout + proc.stderr


APPS: dict[str, InitApp] = {
    app.name: app
    for app in (
        *(
            InitApp(name, example.path, example.source_file, _example_check(name))
            for name, example in EXAMPLES.items()
        ),
        InitApp(
            "django-postgres",
            FIXTURES / "django-postgres",
            "core/views.py",
            _django_check,
        ),
        InitApp(
            "poetry-fastapi",
            FIXTURES / "poetry-fastapi",
            "src/notes_api/main.py",
            _json_check("/api/healthz", {"status": "ok", "app": "poetry-fastapi"}),
        ),
        InitApp(
            "uv-flask-factory", FIXTURES / "uv-flask-factory", "linkshort/__init__.py", _uv_check
        ),
        InitApp("celery-worker", FIXTURES / "celery-worker", "tasks.py", _celery_check, "worker"),
    )
}
# Slowest first, so that the workers finish close together.
ORDER = [
    "django-psycopg2",
    "django-postgres",
    "numpy-pandas",
    "celery-worker",
    "unused-deps",
    "poetry-fastapi",
    "poetry-app",
    "uv-flask-factory",
    "fastapi-uvicorn",
    "pip-package",
    "uv-app",
    "flask-pip",
]
assert sorted(ORDER) == sorted(APPS)

REDIS_DOCKERFILE = (
    "FROM debian:bookworm-slim\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends redis-server "
    "&& rm -rf /var/lib/apt/lists/*\n"
)


@dataclass
class Proof:
    name: str
    project: str = ""
    image: str = ""
    generated: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # stage -> what went wrong
    build_seconds: float | None = None
    healthy_seconds: float | None = None
    image_bytes: int | None = None
    overhead_bytes: int | None = None  # image - slim base - /opt/venv - /app
    rebuild_seconds: float | None = None
    rebuilt_steps: list[str] = field(default_factory=list)
    rebuild_attempts: int = 0
    uid: str = ""
    tools: str = ""
    synced: bool = False
    sync_rebuilt: bool | None = None
    manifest_rebuilt: bool = False
    manifest_checked: str = ""
    watch_log: str = ""

    def require(self, *stages: str) -> None:
        for stage in stages:
            if stage in self.errors:
                pytest.fail(f"{self.name}: {stage}: {self.errors[stage]}")


class Compose:
    def __init__(self, docker: str, workdir: Path, project: str, files: list[str]) -> None:
        self.docker, self.workdir, self.project, self.files = docker, workdir, project, files

    def args(self, *args: str) -> list[str]:
        out = [self.docker, "compose", "-p", self.project]
        for f in self.files:
            out += ["-f", f]
        return [*out, *args]

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.args(*args), cwd=self.workdir, capture_output=True, text=True, timeout=timeout
        )

    def ok(self, *args: str, timeout: float = 600) -> str:
        proc = self(*args, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(
                f"docker compose {' '.join(args)} failed: {(proc.stderr or proc.stdout)[-2000:]}"
            )
        return proc.stdout


def _override(app: InitApp, port: int, redis_port: int, workdir: Path, tag: str) -> str:
    env = {"PORT": port, "UVICORN_PORT": port, "FLASK_RUN_PORT": port}
    lines = [
        "services:",
        f"  {app.service}:",
        "    build:",
        "      network: host",
        "    network_mode: host",
        "    ports: !reset []",
        "    environment:",
        *(f'      {k}: "{v}"' for k, v in env.items()),
    ]
    if app.name == "celery-worker":
        lines += [
            f'      CELERY_BROKER_URL: "redis://127.0.0.1:{redis_port}/0"',
            f'      CELERY_RESULT_BACKEND: "redis://127.0.0.1:{redis_port}/1"',
            "  redis:",
            f"    image: {tag}-redis",
            "    build:",
            f"      context: {json.dumps(str(workdir))}",
            f"      dockerfile_inline: {json.dumps(REDIS_DOCKERFILE)}",
            "      network: host",
            "    network_mode: host",
            f'    command: ["redis-server", "--port", "{redis_port}", "--save", ""]',
            "    healthcheck:",
            f'      test: ["CMD", "redis-cli", "-p", "{redis_port}", "ping"]',
            "      interval: 2s",
        ]
    return "\n".join(lines) + "\n"


def _strip_syntax(dockerfile: Path) -> None:
    lines = dockerfile.read_text().splitlines(keepends=True)
    assert lines[0].startswith("# syntax="), "generated Dockerfiles start with # syntax="
    dockerfile.write_text("".join(lines[1:]))


def _running_image(compose: Compose, docker: str, service: str) -> tuple[str, str]:
    cid = compose.ok("ps", "-q", service).strip()
    if not cid:
        return "", ""
    image = subprocess.run(
        [docker, "inspect", "--format", "{{.Image}}", cid], capture_output=True, text=True
    ).stdout.strip()
    return cid, image


def _timestamp(text: str) -> float:
    # Docker writes RFC 3339 with nanoseconds; Python's parser takes microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).timestamp()


def _time_to_healthy(compose: Compose, docker: str, service: str) -> float:
    """From the container's start to the end of its first passing health probe (the build
    that `up --build` may do is not counted)."""
    cid = compose.ok("ps", "-q", service).strip()
    state = json.loads(
        subprocess.run(
            [docker, "inspect", "--format", "{{json .State}}", cid],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    passed = [e for e in state["Health"]["Log"] if e["ExitCode"] == 0]
    return _timestamp(passed[0]["End"]) - _timestamp(state["StartedAt"])


def _poll(what: str, probe: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(1)
    raise AssertionError(f"{what} did not happen within {timeout:g}s")


class Watch:
    """`docker compose watch --no-up` in the background, its output collected."""

    def __init__(self, compose: Compose) -> None:
        self.proc = subprocess.Popen(
            compose.args("watch", "--no-up"),
            cwd=compose.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    @property
    def text(self) -> str:
        return "".join(self.output)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.thread.join(timeout=5)


def _manifest_edit(app: InitApp, workdir: Path) -> tuple[str, Callable[[Compose], bool]]:
    """Change a dependency manifest; returns what changed and a check run inside the container."""
    requirements = workdir / "requirements.txt"
    if requirements.is_file():
        requirements.write_text(requirements.read_text().rstrip("\n") + "\nsix==1.16.0\n")

        def imported(compose: Compose) -> bool:
            code = "import six; print(six.__version__)"
            proc = compose("exec", "-T", app.service, "python", "-c", code, timeout=60)
            return proc.returncode == 0 and proc.stdout.strip() == "1.16.0"

        return "requirements.txt: six==1.16.0 added", imported
    manifest = next(
        name for name in ("uv.lock", "poetry.lock", "pyproject.toml") if (workdir / name).is_file()
    )
    line = harmless_edit(workdir / manifest)

    def rebuilt_with(compose: Compose) -> bool:
        proc = compose("exec", "-T", app.service, "cat", f"/app/{manifest}", timeout=60)
        return proc.returncode == 0 and line in proc.stdout

    return f"{manifest}: {line}", rebuilt_with


def _prove(app: InitApp, docker: str, tmp: Path) -> Proof:
    proof = Proof(app.name)
    workdir = tmp / app.name
    shutil.copytree(app.source, workdir, symlinks=True)
    for name in DOCKER_FILES:
        (workdir / name).unlink(missing_ok=True)
    result = run_cli("init", str(workdir))
    if result.code != 0:
        proof.errors["init"] = f"exit {result.code}: {result.err.strip()}"
        return proof
    proof.generated = {
        p.name: p.read_text()
        for p in (workdir / n for n in ("Dockerfile", ".dockerignore", "compose.yaml"))
    }
    proof.generated["compose.dev.yaml"] = (workdir / "compose.dev.yaml").read_text()
    _strip_syntax(workdir / "Dockerfile")
    port, redis_port = free_port(), free_port()
    proof.project = f"lwinit-{app.name}-{uuid.uuid4().hex[:6]}"
    proof.image = f"{proof.project}-{app.service}"
    (workdir / "compose.test.yaml").write_text(
        _override(app, port, redis_port, workdir, proof.project)
    )
    prod = Compose(docker, workdir, proof.project, ["compose.yaml", "compose.test.yaml"])
    dev = Compose(
        docker, workdir, proof.project, ["compose.yaml", "compose.dev.yaml", "compose.test.yaml"]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        stage = "production"
        engine = find_engine(docker)
        first = build(workdir, tag=proof.image, network="host", docker=engine)
        proof.build_seconds = first.seconds

        # The code change right after the first build. BuildKit's cache is shared with every
        # other build on the engine and its garbage collector can drop entries between two
        # builds; a rebuild that re-ran more is tried again (a Dockerfile that invalidates the
        # install on a code change re-runs it every time), at most three times.
        stage = "code-change rebuild"
        for attempt in range(1, 4):
            harmless_edit(workdir / app.source_file)
            rebuilt: BuildResult = build(
                workdir, tag=f"{proof.image}:edit", network="host", docker=engine
            )
            proof.rebuild_seconds = rebuilt.seconds
            proof.rebuild_attempts = attempt
            # FROM of an image already present does no work (BuildKit never marks it cached)
            proof.rebuilt_steps = [
                s.name for s in rebuilt.steps if not s.cached and s.started and s.keyword != "FROM"
            ]
            if len(proof.rebuilt_steps) == 1:
                break
        subprocess.run([docker, "image", "rm", f"{proof.image}:edit"], capture_output=True)

        stage = "production"
        prod.ok("up", "--build", "--detach", "--wait", "--wait-timeout", "300")
        proof.healthy_seconds = _time_to_healthy(prod, docker, app.service)
        app.check(url, prod)
        proof.uid = prod.ok("exec", "-T", app.service, "id", "-u").strip()
        probe = "command -v gcc cc uv poetry pipenv pdm; ls -d /opt/tools /root/.cache 2>/dev/null"
        run = [docker, "run", "--rm", "--network", "none", "--entrypoint", "sh"]
        proof.tools = subprocess.run(
            [*run, proof.image, "-c", f"{probe}; true"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        inspect = subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Size}}", proof.image],
            capture_output=True,
            text=True,
        )
        proof.image_bytes = int(inspect.stdout.strip())
        base = subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Size}}", "python:3.11-slim"],
            capture_output=True,
            text=True,
        )
        sizes = subprocess.run(
            [*run, proof.image, "-c", "du -sb /opt/venv /app | cut -f1"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
        proof.overhead_bytes = proof.image_bytes - int(base.stdout) - sum(int(s) for s in sizes)

        stage = "development"
        prod.ok("down", "--timeout", "3")
        dev.ok("up", "--build", "--detach", "--wait", "--wait-timeout", "180")
        watch = Watch(dev)
        try:
            _poll("`docker compose watch` start", lambda: "Watch enabled" in watch.text, 60)
            before = _running_image(dev, docker, app.service)
            marker = harmless_edit(workdir / app.source_file)

            def synced() -> bool:
                proc = dev("exec", "-T", app.service, "cat", f"/app/{app.source_file}", timeout=60)
                return proc.returncode == 0 and marker in proc.stdout

            _poll("the source edit reaching the container", synced, 60)
            proof.synced = True
            proof.sync_rebuilt = _running_image(dev, docker, app.service)[1] != before[1]

            stage = "development: manifest change"
            proof.manifest_checked, check = _manifest_edit(app, workdir)

            def replaced() -> bool:
                now = _running_image(dev, docker, app.service)
                return bool(now[1]) and now[1] != before[1]

            _poll("a rebuild after the manifest change", replaced, 600)
            proof.manifest_rebuilt = True
            _poll("the manifest change inside the rebuilt container", lambda: check(dev), 120)
        finally:
            watch.stop()
            proof.watch_log = watch.text[-3000:]
    except Exception as exc:
        proof.errors[stage] = str(exc)[-3000:]
        logs = dev("logs", "--tail", "30")
        proof.errors[stage] += f"\ncompose logs:\n{logs.stdout[-2000:]}"
    finally:
        dev("down", "--volumes", "--rmi", "local", "--remove-orphans", "--timeout", "3")
        # images with an explicit name (the test's Redis) are not "local" to Compose
        subprocess.run(
            [docker, "image", "rm", "--force", proof.image, f"{proof.project}-redis"],
            capture_output=True,
        )
    return proof


@pytest.fixture(scope="module")
def proofs(
    docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Proof]]:
    wanted = {
        item.callspec.params["name"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.module is request.module
        and hasattr(item, "callspec")
        and "name" in item.callspec.params
    }
    order = [name for name in ORDER if name in wanted]
    tmp = tmp_path_factory.mktemp("init-proof")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = dict(
            zip(order, pool.map(lambda n: _prove(APPS[n], docker.binary, tmp), order), strict=True)
        )
    wall = time.monotonic() - started
    yield results
    _report(request, results, wall)


def _report(request: pytest.FixtureRequest, results: dict[str, Proof], wall: float) -> None:
    rows = [
        {
            "app": p.name,
            "image_mb": round(p.image_bytes / 1e6, 1) if p.image_bytes else None,
            "beyond_base_venv_app_mb": round(p.overhead_bytes / 1e6, 1)
            if p.overhead_bytes is not None
            else None,
            "time_to_healthy_s": round(p.healthy_seconds, 1) if p.healthy_seconds else None,
            "code_change_rebuild_s": round(p.rebuild_seconds, 2) if p.rebuild_seconds else None,
            "first_build_s": round(p.build_seconds, 1) if p.build_seconds else None,
            "code_change_attempts": p.rebuild_attempts,
            "errors": sorted(p.errors),
        }
        for p in results.values()
    ]
    path = os.environ.get("LAYERWISE_INIT_REPORT")
    if path:
        Path(path).write_text(json.dumps({"wall_seconds": round(wall, 1), "apps": rows}, indent=2))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"layerwise init proof ({WORKERS} apps at a time): {wall:.1f}s wall")
        for r in rows:
            reporter.write_line(
                f"  {r['app']:<18} image {r['image_mb']!s:>6} MB "
                f"(+{r['beyond_base_venv_app_mb']!s:>4} MB)  healthy in "
                f"{r['time_to_healthy_s']!s:>5}s  code-change rebuild "
                f"{r['code_change_rebuild_s']!s:>5}s  first build {r['first_build_s']!s:>5}s"
                + (f"  FAILED {', '.join(r['errors'])}" if r["errors"] else "")
            )
            proof = results[r["app"]]
            if proof.rebuild_attempts > 1 or len(proof.rebuilt_steps) != 1:
                reporter.write_line(
                    f"    code change, attempt {proof.rebuild_attempts}: re-ran "
                    f"{proof.rebuilt_steps}"
                )


NAMES = sorted(APPS)


@pytest.mark.parametrize("name", NAMES)
def test_generated_files_hold_no_test_settings(proofs: dict[str, Proof], name: str) -> None:
    proof = proofs[name]
    proof.require("init")
    for filename, text in proof.generated.items():
        assert "network_mode" not in text, filename
        assert "network: host" not in text, filename
        assert "compose.test" not in text, filename


@pytest.mark.parametrize("name", NAMES)
def test_production_compose_is_healthy_and_answers(proofs: dict[str, Proof], name: str) -> None:
    proof = proofs[name]
    proof.require("init", "production")
    assert proof.healthy_seconds is not None
    assert proof.uid == "10001", f"runs as uid {proof.uid!r}, not the generated system user"
    assert proof.tools == "", f"compilers or packaging tools in the image: {proof.tools}"
    # Nothing but the slim base, the virtualenv, the code and the runtime libraries: what the
    # image holds beyond base + /opt/venv + /app is the libraries (libpq5 and its dependencies
    # are the largest here) and the user.
    assert proof.overhead_bytes is not None and proof.overhead_bytes < 40e6, proof.overhead_bytes


@pytest.mark.parametrize("name", NAMES)
def test_code_change_rebuilds_only_the_final_copy(proofs: dict[str, Proof], name: str) -> None:
    proof = proofs[name]
    proof.require("init", "production", "code-change rebuild")
    steps = proof.rebuilt_steps
    assert len(steps) == 1 and steps[0].endswith("COPY . ."), steps


@pytest.mark.parametrize("name", NAMES)
def test_watch_syncs_a_source_edit_without_rebuilding(proofs: dict[str, Proof], name: str) -> None:
    proof = proofs[name]
    proof.require("init", "production", "development")
    assert proof.synced
    assert proof.sync_rebuilt is False, "the container's image changed after a source edit"


@pytest.mark.parametrize("name", NAMES)
def test_watch_rebuilds_on_a_manifest_change(proofs: dict[str, Proof], name: str) -> None:
    proof = proofs[name]
    proof.require("init", "production", "development", "development: manifest change")
    assert proof.manifest_rebuilt, proof.watch_log
