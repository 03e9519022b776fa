"""Differential test: layerwise's build targets equal what `docker compose config` resolves.

Every project under tests/fixtures/compose/ is loaded twice, by `docker compose config --format
json` (Compose v2, the reference) and by `layerwise.compose`, in a clean environment with the
case's variables, and the build of every service must agree field by field. The error cases
under tests/fixtures/compose-errors/ must be refused by both.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, DockerEngine, run_cli
from layerwise.compose import ComposeFileError, build_targets, load_project
from layerwise.errors import LayerwiseError

FIXTURES = REPO / "tests" / "fixtures" / "compose"
ERRORS = REPO / "tests" / "fixtures" / "compose-errors"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
ERROR_CASES = sorted(p.name for p in ERRORS.iterdir() if p.is_dir())
FIELDS = ("context", "dockerfile", "dockerfile_inline", "target", "args", "network")


def case_options(directory: Path) -> dict[str, Any]:
    path = directory / "case.json"
    return json.loads(path.read_text()) if path.exists() else {}


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    env.update(extra)
    return env


def compose_args(options: dict[str, Any]) -> list[str]:
    args = []
    for file in options.get("files", []):
        args += ["-f", file]
    for profile in options.get("profiles", []):
        args += ["--profile", profile]
    for env_file in options.get("env_files", []):
        args += ["--env-file", env_file]
    if "project_directory" in options:
        args += ["--project-directory", options["project_directory"]]
    return args


def compose_targets(docker: DockerEngine, directory: Path) -> dict[str, dict[str, Any]]:
    options = case_options(directory)
    proc = subprocess.run(
        [docker.binary, "compose", *compose_args(options), "config", "--format", "json"],
        cwd=directory,
        env=clean_env(options.get("env", {})),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # `config` prints a model that is itself a compose file, so a literal `$` comes out as `$$`.
    model = json.loads(proc.stdout.replace("$$", "$"))
    targets = {}
    for name, service in model.get("services", {}).items():
        build = service.get("build")
        if build is None:
            continue
        context = build["context"]
        dockerfile = build.get("dockerfile")
        remote = "://" in context or context.startswith(("git@", "github.com/"))
        if dockerfile is not None and not remote and not posixpath.isabs(dockerfile):
            dockerfile = posixpath.normpath(posixpath.join(context, dockerfile))
        targets[name] = {
            "context": context,
            "dockerfile": dockerfile,
            "dockerfile_inline": build.get("dockerfile_inline"),
            "target": build.get("target"),
            "args": build.get("args") or None,
            "network": build.get("network"),
        }
    return targets


def layerwise_targets(directory: Path) -> dict[str, dict[str, Any]]:
    options = case_options(directory)
    project = load_project(
        directory,
        files=options.get("files"),
        env=clean_env(options.get("env", {})),
        profiles=options.get("profiles"),
        project_directory=(
            directory / options["project_directory"] if "project_directory" in options else None
        ),
        env_files=options.get("env_files"),
    )
    return {
        t.service: {k: v for k, v in t.to_json().items() if k in FIELDS}
        for t in build_targets(project)
    }


def test_enough_fixture_projects() -> None:
    assert len(CASES) >= 30


@pytest.mark.docker
@pytest.mark.parametrize("case", CASES)
def test_build_targets_equal_docker_compose(docker: DockerEngine, case: str) -> None:
    directory = FIXTURES / case
    expected = compose_targets(docker, directory)
    assert expected, "the fixture defines no build (a useless case)"
    assert layerwise_targets(directory) == expected


@pytest.mark.docker
@pytest.mark.parametrize("case", ERROR_CASES)
def test_docker_compose_refuses_the_error_cases(docker: DockerEngine, case: str) -> None:
    directory = ERRORS / case
    options = case_options(directory)
    proc = subprocess.run(
        [docker.binary, "compose", *compose_args(options), "config", "--format", "json"],
        cwd=directory,
        env=clean_env(options.get("env", {})),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0, proc.stdout


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_cases_give_a_one_line_located_error(case: str) -> None:
    directory = ERRORS / case
    options = case_options(directory)
    with pytest.raises(LayerwiseError) as info:
        load_project(directory, env=clean_env(options.get("env", {})))
    assert options["message"] in info.value.message
    if "line" in options:
        assert info.value.location is not None
        assert info.value.location.line == options["line"]
        assert info.value.location.path == str(directory / "compose.yaml")
    result = run_cli("services", str(directory), "--format", "json", env=options.get("env"))
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err
    if "line" in options:
        assert lines[0].startswith(f"{directory / 'compose.yaml'}:{options['line']}:")
    assert isinstance(info.value, ComposeFileError | LayerwiseError)
