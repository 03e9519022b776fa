"""`layerwise context --write-dockerignore` on a small app, proven by a real build: the written
file keeps every file the Dockerfile needs (the build's own self-check passes, every COPY source
resolves as before) and the image no longer carries the junk and secrets."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from test_context_report import FIXTURE, add_junk

from conftest import DockerEngine, run_cli
from layerwise.context.project import BuildContext

pytestmark = pytest.mark.docker


def test_written_dockerignore_builds(docker: DockerEngine, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(FIXTURE, app)
    add_junk(app)
    before = BuildContext.load(app)
    assert before.secrets and before.junk and not before.errors

    result = run_cli("context", str(app), "--write-dockerignore")
    assert result.code == 0, result.err

    after = BuildContext.load(app)
    assert not after.errors and not after.secrets and not after.junk
    # Every source resolves to the same files, except the junk and secrets a broad COPY swept up.
    dropped = set(before.snapshot.entries) - set(after.snapshot.entries)
    for old, new in zip(before.built_reads, after.built_reads, strict=True):
        assert new.result.reads == old.result.reads - dropped
    assert dropped >= {".env", "deploy/id_rsa", "config/notes.txt", ".git/HEAD", "server.log"}

    tag = f"layerwise-test-context-app:{uuid.uuid4().hex[:12]}"
    build = docker.run("build", "--network", "host", "-q", "-t", tag, str(app), check=False)
    try:
        assert build.returncode == 0, build.stderr[-3000:]
        check = docker.run(
            "run", "--rm", "--network", "host", tag, "python", "-c",
            "import os, sys; from app.settings import load; assert load()['greeting'] == 'hello'; "
            "gone = ['.env', '.git', '.venv', 'node_modules', 'deploy/id_rsa', 'server.log', "
            "'config/notes.txt', 'app/__pycache__/stale.cpython-311.pyc', 'docs']; "
            "left = [p for p in gone if os.path.lexists(p)]; "
            "sys.exit(f'sent: {left}' if left else 0)",
            check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr + check.stdout
    finally:
        docker.run("rmi", "-f", tag, check=False)
