"""`layerwise optimize`: the library result and the command (no Docker here; the real builds are
in tests/integration/test_optimize_examples.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dockerfile as buildkit
import pytest

from conftest import run_cli
from examples_support import EXAMPLES, EXAMPLES_DIR
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.errors import InputError
from layerwise.optimize import optimize


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLES_DIR / "flask-pip", tmp_path / "flask-pip"))


def _final(text: str) -> dict[str, object]:
    """What the image config gets from the final stage's instructions."""
    df = parse_dockerfile(text, "Dockerfile")
    stage = df.model().target
    assert stage is not None
    out: dict[str, object] = {}
    for name in ("CMD", "ENTRYPOINT", "WORKDIR", "EXPOSE"):
        step = stage.last(name)
        args = list(step.instruction.arguments) if step else None
        shell_form = step and name in ("CMD", "ENTRYPOINT") and not step.instruction.json
        if step and step.instruction.json and args and args[:2] == ["/bin/sh", "-c"]:
            # `exec` in front only replaces the shell by the program (LW602's fix)
            args, shell_form = [args[2].removeprefix("exec ")], True
        # the exec-form fix (LW602) writes the words of a command the shell only splits
        if shell_form and args and not any(ch in args[0] for ch in "$`\\\"'|&;<>(){}*?[]~#"):
            args = args[0].split()
        out[name] = args
    out["env"] = {k: v for k, v in stage.env.items() if k not in ADDED_ENV}
    return out


# Variables the fixes may add (the venv's PATH; LW6xx's Python settings).
ADDED_ENV = frozenset({"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"})


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_optimizes_to_a_file_buildkit_parses(name: str, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(EXAMPLES_DIR / name, tmp_path / name))
    result = optimize(copy, unsafe=True)
    assert result.changed
    text = result.dockerfile.text
    buildkit.parse_string(text)  # BuildKit's own parser (moby/buildkit, Go)
    # the runtime contract, as far as the Dockerfile says it
    assert _final(text) == _final(result.dockerfile.original or "")
    # source edits no longer re-run a dependency install
    assert result.gain.installs_rebuilt_before
    assert not result.gain.installs_rebuilt_after
    # what a source edit re-runs is the source COPY and what follows it
    first = result.gain.rebuilt_after[0].instruction
    assert first.startswith(("COPY . ", "ADD . ")), result.gain.rebuilt_after
    # optimizing the result again changes nothing
    result.write()
    again = optimize(copy, unsafe=True)
    assert not again.changed, again.dockerfile.diff()


def test_only_the_multistage_example_drops_build_tools(tmp_path: Path) -> None:
    for name in sorted(EXAMPLES):
        result = optimize(EXAMPLES_DIR / name, unsafe=True)
        tools = result.gain.build_tools_removed
        if name == "django-psycopg2":
            assert tools == ["gcc", "libpq-dev"]
            assert result.gain.packages_added == ["libpq5"]
            assert (result.gain.base_before, result.gain.base_after) == (
                "python:3.11",
                "python:3.11-slim",
            )
        else:
            assert tools == [], name


def test_safe_only_run_lists_what_unsafe_would_do(example: Path) -> None:
    result = optimize(example)
    names = [n for n, _ in result.available]
    assert "LW101" in names and "LW401" in names  # the manifest-first and non-root fixes
    assert "COPY . ." in result.dockerfile.text.split("RUN pip install")[0]  # not restructured
    data = result.to_json()
    assert data["unsafe"] is False
    assert {d["fix"] for d in data["available_with_unsafe"]} >= {"LW101", "LW401"}


def test_dockerignore_is_proposed_and_the_context_shrinks(example: Path) -> None:
    result = optimize(example, unsafe=True)
    assert result.dockerignore is not None and result.dockerignore.original is None
    assert "logs" in result.dockerignore.text or "*.log" in result.dockerignore.text
    context = result.gain.context
    assert context is not None
    assert context.files_after < context.files_before
    assert context.bytes_after < context.bytes_before


def test_existing_dockerignore_is_kept_and_extended(example: Path) -> None:
    (example / ".dockerignore").write_text("# mine\ndocs\n")
    result = optimize(example, unsafe=True)
    assert result.dockerignore is not None
    assert result.dockerignore.original == "# mine\ndocs\n"
    assert result.dockerignore.text.startswith("# mine\ndocs\n")


def test_write_is_atomic_and_only_touches_the_two_files(example: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in example.rglob("*") if p.is_file()}
    result = optimize(example, unsafe=True, healthcheck="/health")
    written = result.write()
    assert sorted(p.name for p in written) == [".dockerignore", "Dockerfile"]
    after = {p: p.stat().st_mtime_ns for p in example.rglob("*") if p.is_file()}
    changed = {p.name for p in after if before.get(p) != after[p]}
    assert changed == {".dockerignore", "Dockerfile"}
    assert not list(example.glob(".*.tmp"))
    text = (example / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "USER 10001:10001" in text


def test_healthcheck_only_on_request(example: Path) -> None:
    assert "HEALTHCHECK" not in optimize(example, unsafe=True).dockerfile.text
    result = optimize(example, healthcheck="/health")
    assert "HEALTHCHECK" in result.dockerfile.text
    with pytest.raises(InputError):
        optimize(example, healthcheck="health")


def test_selection_and_suppression(example: Path) -> None:
    result = optimize(example, unsafe=True, ignore=["LW101"])
    assert "COPY requirements.txt" not in result.dockerfile.text
    assert "USER 10001:10001" in result.dockerfile.text


def test_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        optimize(tmp_path / "missing")
    with pytest.raises(InputError, match="no Dockerfile"):
        optimize(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM x\nRUN <<EOF\n")
    from layerwise.errors import DockerfileSyntaxError

    with pytest.raises(DockerfileSyntaxError):
        optimize(tmp_path)


# -- the command -------------------------------------------------------------------------------


def test_cli_text_and_exit_codes(example: Path) -> None:
    r = run_cli("optimize", str(example), "--unsafe")
    assert r.code == 1, r.err
    assert "Predicted gain" in r.out and "+COPY requirements.txt base.txt ./" in r.out
    assert "Not written" in r.out
    r = run_cli("optimize", str(example), "--unsafe", "--write")
    assert r.code == 0, r.err
    assert "Wrote Dockerfile, .dockerignore." in r.out
    r = run_cli("optimize", str(example), "--unsafe")
    assert r.code == 0 and "Nothing to change." in r.out


def test_cli_json_and_markdown(example: Path) -> None:
    r = run_cli("optimize", str(example), "--unsafe", "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    assert set(data) >= {
        "version", "directory", "dockerfile", "dockerignore", "changed", "unsafe", "findings",
        "fixes", "remaining", "skipped", "available_with_unsafe", "gain", "notes",
    }  # fmt: skip
    assert data["dockerfile"]["path"] == "Dockerfile" and data["dockerfile"]["changed"]
    assert data["gain"]["source_change"]["installs_rebuilt_after"] == 0
    assert data["gain"]["context"]["bytes_saved"] > 0
    r = run_cli("optimize", str(example), "--unsafe", "--format", "markdown")
    assert r.out.startswith("## layerwise optimize: `Dockerfile`")
    assert "```diff" in r.out and "### Predicted gain" in r.out


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    r = run_cli("optimize", str(tmp_path / "nope"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "not a directory" in r.err
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nCOPY\n")
    r = run_cli("optimize", str(tmp_path), "--healthcheck", "nope")
    assert r.code == 2 and "--healthcheck" in r.err and "Traceback" not in r.err


def test_scripts_example_runs_optimize_without_writing() -> None:
    import subprocess

    from examples_support import REPO

    before = (EXAMPLES_DIR / "flask-pip" / "Dockerfile").read_text()
    proc = subprocess.run(
        [str(REPO / "scripts" / "example")], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert "Predicted gain" in proc.stdout and "+COPY requirements.txt base.txt ./" in proc.stdout
    assert (EXAMPLES_DIR / "flask-pip" / "Dockerfile").read_text() == before
    assert not (EXAMPLES_DIR / "flask-pip" / ".dockerignore").exists()


def test_fix_command_applies_the_structural_fixes_with_the_build_context(example: Path) -> None:
    dockerfile = example / "Dockerfile"
    original = dockerfile.read_text()
    r = run_cli("fix", str(dockerfile), "--unsafe", "--diff")
    assert r.code == 1, r.err
    # the nested requirement file is known from the context next to the Dockerfile
    assert "+COPY requirements.txt base.txt ./" in r.out
    r = run_cli("fix", str(dockerfile), "--unsafe", "--diff", "--no-context")
    assert "+COPY requirements.txt ./" in r.out
    r = run_cli("fix", str(dockerfile), "--diff")  # safe fixes only: no restructuring
    assert "COPY requirements.txt" not in r.out
    assert dockerfile.read_text() == original
    r = run_cli("fix", str(dockerfile), "--unsafe", "--write")
    assert r.code == 0, r.err
    assert "USER 10001:10001" in dockerfile.read_text()
    r = run_cli("fix", str(dockerfile), "--unsafe", "--diff")
    assert r.code == 0 and r.out == ""


def test_cli_writable_dirs(example: Path) -> None:
    r = run_cli("optimize", str(example), "--unsafe", "--writable", "/app/uploads")
    assert "+RUN mkdir -p /app/uploads && chown -R app:app /app/uploads" in r.out


def test_compose_project_optimizes_every_local_build(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(EXAMPLES_DIR / "flask-pip", root / "api")
    shutil.copytree(EXAMPLES_DIR / "uv-app", root / "shortener")
    (root / "compose.yaml").write_text(
        "services:\n"
        "  api:\n    build: ./api\n"
        "  api-debug:\n    build:\n      context: ./api\n      target: ''\n"
        "  shortener:\n    build:\n      context: ./shortener\n      args:\n        X: '1'\n"
        "  remote:\n    build: https://github.com/docker/awesome-compose.git#master:flask\n"
        "  db:\n    image: postgres:16\n"
    )
    r = run_cli("optimize", str(root), "--unsafe", "--format", "json")
    assert r.code == 1, r.err
    data = json.loads(r.out)
    assert data["compose"] is True
    builds = {tuple(b["services"]): b for b in data["builds"]}
    assert set(builds) == {("api", "api-debug"), ("shortener",)}
    assert all(b["dockerfile"]["changed"] for b in builds.values())
    assert any("remote" in n for n in data["notes"])
    r = run_cli("optimize", str(root), "--unsafe", "--service", "shortener")
    assert r.code == 1 and "== services shortener" in r.out and "services api" not in r.out
    r = run_cli("optimize", str(root), "--unsafe", "--write")
    assert r.code == 0, r.err
    assert "COPY requirements.txt base.txt ./" in (root / "api" / "Dockerfile").read_text()
    assert "uv.lock" in (root / "shortener" / "Dockerfile").read_text()
    r = run_cli("optimize", str(root), "--unsafe")
    assert r.code == 0, r.out


def _ignored(result: object) -> list[str]:
    change = result.dockerignore  # type: ignore[attr-defined]
    text = change.text if change is not None else ""
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


def test_unsafe_keeps_out_what_a_broad_copy_sweeps_up_but_the_image_never_runs(
    example: Path,
) -> None:
    # LW102's files: the tests, docs and container files `COPY . .` brings. Leaving them out
    # changes the image's content, so only with --unsafe; the ignore file names itself too,
    # so that a second run has nothing left to add.
    assert _ignored(optimize(example)) == ["**/*.log"]
    result = optimize(example, unsafe=True)
    assert _ignored(result) == ["**/*.log", "Dockerfile", ".dockerignore", "docs", "tests"]
    assert not [f for f in result.remaining if f.rule == "LW102"]
    result.write()
    assert not optimize(example, unsafe=True).changed


def test_files_a_step_uses_are_not_kept_out(example: Path) -> None:
    # a build that runs the tests needs them; a file a COPY names is needed too
    text = (example / "Dockerfile").read_text()
    (example / "Dockerfile").write_text(
        text.replace("COPY . .", "COPY . .\nCOPY docs/ /docs/\nRUN python -m pytest tests")
    )
    assert _ignored(optimize(example, unsafe=True)) == ["**/*.log", "Dockerfile", ".dockerignore"]
