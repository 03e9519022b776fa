"""The example apps in `examples/` and how a test checks that an image of one works.

Tests of other features (optimize, cache, bench, init, deps) use this to build an example, run
it and call it, with the same rules everywhere:

    app = EXAMPLES["flask-pip"]
    with running_app(engine, image) as url:
        body = app.check(url)                  # raises AppCheckFailed with the container's logs

Every example reads the port from `$PORT`, so containers run with `--network host` (required
on this machine) on a free port each, side by side.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

REPO = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO / "examples"


class DockerLike(Protocol):
    """Anything with a `.binary` docker CLI: the conftest engine or a layerwise Engine."""

    @property
    def binary(self) -> str: ...


@dataclass(frozen=True)
class ExampleApp:
    name: str
    base: str  # the base image of its naive Dockerfile
    health_path: str  # GET here answers 200 with JSON containing `expect`
    source_file: str  # a source file the image uses: edit it for a code-change rebuild
    manifests: tuple[str, ...]  # the dependency manifests it installs from
    workdir: str = "/app"
    expect: dict[str, Any] = field(default_factory=dict)
    check_command: tuple[str, ...] = ()  # a command that exits 0 in a working image
    extra_paths: tuple[tuple[str, dict[str, Any]], ...] = ()  # more GETs and what they return

    @property
    def path(self) -> Path:
        return EXAMPLES_DIR / self.name

    def check(self, url: str, timeout: float = 90.0) -> dict[str, Any]:
        """Wait until the app answers its health check, then check the extra endpoints."""
        body = wait_for_json(url + self.health_path, timeout=timeout)
        expected = {"status": "ok", "app": self.name, **self.expect}
        missing = {k: v for k, v in expected.items() if body.get(k) != v}
        if missing:
            raise AppCheckFailed(f"{self.name}: {self.health_path} answered {body}, not {missing}")
        for path, subset in self.extra_paths:
            extra = wait_for_json(url + path, timeout=10)
            wrong = {k: v for k, v in subset.items() if extra.get(k) != v}
            if wrong:
                raise AppCheckFailed(f"{self.name}: {path} answered {extra}, expected {wrong}")
        return body


EXAMPLES: dict[str, ExampleApp] = {
    app.name: app
    for app in (
        ExampleApp(
            "flask-pip", "python:3.11-slim", "/health", "app.py", ("requirements.txt", "base.txt")
        ),
        ExampleApp(
            "fastapi-uvicorn", "python:3.11-slim", "/health", "app/main.py", ("requirements.txt",)
        ),
        ExampleApp(
            "django-psycopg2",
            "python:3.11",
            "/health/",
            "health/views.py",
            ("requirements.txt",),
            expect={"psycopg2": "2.9.9", "django": "4.2.16"},
        ),
        ExampleApp(
            "poetry-app",
            "python:3.11-slim",
            "/health",
            "poetry_app/api.py",
            ("pyproject.toml", "poetry.lock"),
        ),
        ExampleApp(
            "uv-app", "python:3.11-slim", "/health", "uv_app/app.py", ("pyproject.toml", "uv.lock")
        ),
        ExampleApp(
            "pip-package",
            "python:3.11-slim",
            "/health",
            "src/greeter/server.py",
            ("pyproject.toml",),
            expect={"version": "1.4.0"},
            check_command=("greeter-server", "--check"),
            extra_paths=(("/greet?name=Ada", {"greeting": "Hello, Ada!"}),),
        ),
        ExampleApp(
            "numpy-pandas",
            "python:3.11-slim",
            "/health",
            "report.py",
            ("requirements.txt",),
            expect={"numpy": "1.26.4", "pandas": "2.2.2"},
            extra_paths=(("/summary", {"rows": 200}),),
        ),
        ExampleApp(
            "unused-deps", "python:3.11-slim", "/health", "service.py", ("requirements.txt",)
        ),
    )
}


class AppCheckFailed(AssertionError):
    pass


def free_port() -> int:
    """A TCP port free on the host right now (containers share the host network here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_json(url: str, timeout: float = 60.0) -> dict[str, Any]:
    """GET `url` until it answers 200 with a JSON object; bounded in time."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = json.loads(response.read().decode())
                if response.status == 200 and isinstance(body, dict):
                    return body
                last = f"HTTP {response.status}: {body!r}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise AppCheckFailed(f"{url} did not answer within {timeout:g}s ({last})")


def unique_tag(name: str) -> str:
    return f"layerwise-test-{name}:{uuid.uuid4().hex[:10]}"


@contextlib.contextmanager
def running_app(
    docker: DockerLike, image: str, *, port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run `image` detached on the host network with PORT set; yields its base URL; the container
    is removed afterwards, and its logs are added to any AppCheckFailed raised inside."""
    port = port or free_port()
    name = f"layerwise-test-{uuid.uuid4().hex[:12]}"
    args = [docker.binary, "run", "--detach", "--name", name, "--network", "host"]
    for key, value in {"PORT": str(port), **(env or {})}.items():
        args += ["--env", f"{key}={value}"]
    started = subprocess.run([*args, image], capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        raise AppCheckFailed(f"docker run {image} failed: {started.stderr.strip()[-1500:]}")
    try:
        yield f"http://127.0.0.1:{port}"
    except AppCheckFailed as exc:
        logs = subprocess.run(
            [docker.binary, "logs", "--tail", "30", name], capture_output=True, text=True
        )
        raise AppCheckFailed(f"{exc}\ncontainer logs:\n{logs.stdout}{logs.stderr}") from None
    finally:
        subprocess.run([docker.binary, "rm", "--force", name], capture_output=True, timeout=60)


def run_in_image(docker: DockerLike, image: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a one-off command in a fresh container of `image` (no network needed)."""
    return subprocess.run(
        [docker.binary, "run", "--rm", "--network", "none", image, *command],
        capture_output=True,
        text=True,
        timeout=120,
    )


_HASH_SCRIPT = """
import hashlib, json, os, sys
root = sys.argv[1]
out = {}
for base, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if d not in sys.argv[2:]]
    for name in files:
        path = os.path.join(base, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as fh:
            out[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
print(json.dumps(out))
"""


def image_file_hashes(
    docker: DockerLike, image: str, root: str = "/app", skip_dirs: tuple[str, ...] = ()
) -> dict[str, str]:
    """sha256 of every regular file under `root` in the image (relative path -> hex digest),
    read with the image's own python; directories named in `skip_dirs` are not entered."""
    proc = subprocess.run(
        [
            docker.binary,
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "python",
            image,
            "-c",
            _HASH_SCRIPT,
            root,
            *skip_dirs,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"hashing {root} in {image} failed: {proc.stderr.strip()[-500:]}")
    result: dict[str, str] = json.loads(proc.stdout)
    return result


def tree_file_hashes(root: Path) -> dict[str, str]:
    """The same for a directory on this machine."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def image_contract(docker: DockerLike, image: str) -> dict[str, Any]:
    """What a fix must keep: Cmd, Entrypoint, WorkingDir, ExposedPorts, Env, User."""
    proc = subprocess.run(
        [docker.binary, "image", "inspect", "--format", "{{json .Config}}", image],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config = json.loads(proc.stdout)
    return {
        "Cmd": config.get("Cmd"),
        "Entrypoint": config.get("Entrypoint"),
        "WorkingDir": config.get("WorkingDir"),
        "ExposedPorts": sorted((config.get("ExposedPorts") or {}).keys()),
        "Env": dict(item.split("=", 1) for item in config.get("Env") or ()),
        "User": config.get("User") or "",
    }


def copy_example(name: str, dest: Path, *, with_git: bool = False) -> Path:
    """A private copy of an example (to edit for rebuild scenarios) at `dest/name`.

    `with_git` makes the copy a git repository with one commit of every file (fixed author and
    date, so commit ids are the same on every run): a real `.git` directory in the build context,
    which the repository itself cannot hold inside `examples/`, and a history to extend."""
    target = dest / name
    shutil.copytree(EXAMPLES_DIR / name, target, symlinks=True)
    if with_git:
        git(target, "init", "--quiet", "--initial-branch=main")
        git(target, "add", "--all")
        git(target, "commit", "--quiet", "--message", f"{name}: initial import")
    return target


GIT_ENV = {
    "GIT_AUTHOR_NAME": "layerwise tests",
    "GIT_AUTHOR_EMAIL": "tests@layerwise.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "layerwise tests",
    "GIT_COMMITTER_EMAIL": "tests@layerwise.invalid",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity and date and no user or system config."""
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return proc.stdout


def harmless_edit(path: Path) -> str:
    """Append a unique comment line to a source file or manifest (Python, requirements, TOML
    and TOML lock files all take `#` comments): new content for BuildKit, same meaning for the
    app and its installers. Returns the line added."""
    line = f"# layerwise edit {uuid.uuid4()}"
    text = path.read_text()
    path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n")
    return line


def remove_images(docker: DockerLike, *refs: str) -> None:
    refs = tuple(r for r in refs if r)
    if refs:
        subprocess.run(
            [docker.binary, "image", "rm", "--force", *refs], capture_output=True, timeout=120
        )
