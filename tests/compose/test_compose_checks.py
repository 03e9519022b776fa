"""The LW7xx compose checks: each finds what it should, stays quiet otherwise, and its fix
(where it has one) removes the finding and changes nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerwise.compose import load_project
from layerwise.compose.checks import CHECKS, ComposeFinding, apply_fixes, is_dev_file, run_checks

DOCKERFILE = """\
FROM python:3.11-slim AS base
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["gunicorn", "app:app"]
"""
HEALTHY = DOCKERFILE + 'HEALTHCHECK CMD ["python", "-c", "print(1)"]\n'
TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def project(
    tmp_path: Path,
    files: dict[str, str],
    compose_files: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> list[ComposeFinding]:
    files = {"Dockerfile": DOCKERFILE, "requirements.txt": "flask\n", **files}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    loaded = load_project(tmp_path, files=compose_files, env=env or {})
    return run_checks(loaded)


def rules(findings: list[ComposeFinding]) -> list[str]:
    return [f.rule for f in findings]


def fix_and_recheck(
    tmp_path: Path, findings: list[ComposeFinding], rule: str, compose_files: list[str] | None
) -> list[ComposeFinding]:
    fixes = [f.fix for f in findings if f.rule == rule and f.fix]
    assert fixes, f"{rule} offers no fix"
    apply_fixes(fixes)
    after = run_checks(load_project(tmp_path, files=compose_files, env={}))
    assert rule not in rules(after)
    return after


def test_every_check_is_documented() -> None:
    ids = [c.id for c in CHECKS]
    assert ids == sorted(set(ids)) and all(i.startswith("LW7") for i in ids)
    for check in CHECKS:
        assert (
            check.title
            and len(check.rationale) > 80
            and check.severity in ("error", "warning", "info")
        )


def test_is_dev_file() -> None:
    assert is_dev_file("compose.dev.yaml")
    assert is_dev_file("docker-compose.override.yml")
    assert is_dev_file("compose.local.yml")
    assert not is_dev_file("compose.yaml")
    assert not is_dev_file("compose.prod.yaml")
    assert not is_dev_file("devops-compose.yaml")


# -- LW701 -----------------------------------------------------------------------------------

PROD_MOUNT = """\
services:
  web:
    build: .
    healthcheck: {test: ["CMD", "true"]}
    volumes:
      - .:/app  # the source over the image's code
      - data:/data
volumes:
  data: {}
"""


def test_lw701_source_mount_in_production_and_its_fix(tmp_path: Path) -> None:
    findings = project(tmp_path, {"compose.yaml": PROD_MOUNT})
    [finding] = [f for f in findings if f.rule == "LW701"]
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == (str(tmp_path / "compose.yaml"), 6)
    assert "over /app" in finding.message
    fix_and_recheck(tmp_path, findings, "LW701", None)
    assert (tmp_path / "compose.yaml").read_text() == PROD_MOUNT.replace(
        "      - .:/app  # the source over the image's code\n", ""
    )


def test_lw701_allows_the_mount_in_a_dev_file(tmp_path: Path) -> None:
    dev = "services:\n  web:\n    volumes:\n      - .:/app\n"
    base = "services:\n  web:\n    build: .\n    healthcheck: {test: [CMD, 'true']}\n"
    findings = project(
        tmp_path,
        {"compose.yaml": base, "compose.dev.yaml": dev},
        ["compose.yaml", "compose.dev.yaml"],
    )
    assert "LW701" not in rules(findings)


def test_lw701_quiet_for_mounts_elsewhere(tmp_path: Path) -> None:
    text = "services:\n  web:\n    build: .\n    volumes: ['./logs:/var/log/app']\n"
    assert "LW701" not in rules(project(tmp_path, {"compose.yaml": text}))


def test_lw701_no_fix_when_the_image_has_no_code_there(tmp_path: Path) -> None:
    dockerfile = 'FROM python:3.11-slim\nWORKDIR /app\nCMD ["python", "app.py"]\n'
    text = "services:\n  web:\n    build: .\n    volumes: ['.:/app']\n"
    findings = project(tmp_path, {"compose.yaml": text, "Dockerfile": dockerfile})
    [finding] = [f for f in findings if f.rule == "LW701"]
    assert finding.fix is None  # removing it would leave the container without code


# -- LW702 -----------------------------------------------------------------------------------


def test_lw702_long_running_without_healthcheck(tmp_path: Path) -> None:
    text = (
        "services:\n  web:\n    build: .\n"
        "  migrate:\n    build: .\n    command: alembic upgrade head\n    restart: 'no'\n"
    )
    findings = project(
        tmp_path,
        {
            "compose.yaml": text,
            "Dockerfile": DOCKERFILE.replace(
                'EXPOSE 8000\nCMD ["gunicorn", "app:app"]\n', 'CMD ["gunicorn", "app:app"]\n'
            ),
        },
    )
    # web serves (gunicorn from the image's CMD); migrate's command is a one-off
    assert [f.service for f in findings if f.rule == "LW702"] == ["web"]


def test_lw702_quiet_with_a_healthcheck_in_compose_or_image(tmp_path: Path) -> None:
    text = "services:\n  web:\n    build: .\n    healthcheck: {test: [CMD, 'true']}\n"
    assert "LW702" not in rules(project(tmp_path / "a", {"compose.yaml": text}))
    text = "services:\n  web:\n    build: .\n"
    assert "LW702" not in rules(
        project(tmp_path / "b", {"compose.yaml": text, "Dockerfile": HEALTHY})
    )


def test_lw702_one_shot_jobs_are_not_long_running(tmp_path: Path) -> None:
    text = (
        "services:\n"
        "  migrate:\n    build: {context: ., dockerfile: Migrate.Dockerfile}\n"
        "  web:\n    image: x\n    depends_on:\n"
        "      migrate: {condition: service_completed_successfully}\n"
    )
    files = {
        "compose.yaml": text,
        "Migrate.Dockerfile": 'FROM python:3.11-slim\nCMD ["alembic", "upgrade", "head"]\n',
    }
    assert "LW702" not in rules(project(tmp_path, files))


# -- LW703 -----------------------------------------------------------------------------------


def test_lw703_dev_file_without_watch_and_its_fix(tmp_path: Path) -> None:
    base = "services:\n  web:\n    build: .\n    healthcheck: {test: [CMD, 'true']}\n"
    dev = "services:\n  web:\n    environment: [DEBUG=1]\n"
    files = ["compose.yaml", "compose.dev.yaml"]
    findings = project(tmp_path, {"compose.yaml": base, "compose.dev.yaml": dev}, files)
    [finding] = [f for f in findings if f.rule == "LW703"]
    assert finding.location is not None and finding.location.line == 2
    after = fix_and_recheck(tmp_path, findings, "LW703", files)
    assert not [f for f in after if f.rule in ("LW707", "LW708")]
    assert (tmp_path / "compose.dev.yaml").read_text() == (
        "services:\n"
        "  web:\n"
        "    environment: [DEBUG=1]\n"
        "    develop:\n"
        "      watch:\n"
        "        - action: rebuild\n"
        "          path: ./requirements.txt\n"
        "        - action: sync\n"
        "          path: .\n"
        "          target: /app\n"
    )


# -- LW704 -----------------------------------------------------------------------------------


def test_lw704_buildkit_off_in_env_files_and_scripts(tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: x\n"
    files = {
        "compose.yaml": text,
        ".env": "A=1\nDOCKER_BUILDKIT=0\n",
        "scripts/build.sh": (
            "#!/bin/sh\n# DOCKER_BUILDKIT=0 in a comment is fine\n"
            "COMPOSE_DOCKER_CLI_BUILD=0 docker-compose build\n"
        ),
    }
    findings = [f for f in project(tmp_path, files) if f.rule == "LW704"]
    assert [(Path(f.location.path).name, f.location.line) for f in findings if f.location] == [
        (".env", 2),
        ("build.sh", 3),
    ]
    apply_fixes([f.fix for f in findings if f.fix])
    assert (tmp_path / ".env").read_text() == "A=1\nDOCKER_BUILDKIT=1\n"
    assert (
        "COMPOSE_DOCKER_CLI_BUILD=1 docker-compose" in (tmp_path / "scripts/build.sh").read_text()
    )


# -- LW705 -----------------------------------------------------------------------------------


def test_lw705_secret_build_args_never_show_the_value(tmp_path: Path) -> None:
    text = (
        "services:\n  web:\n    build:\n      context: .\n      args:\n"
        "        - NPM_TOKEN\n        - SAFE=1\n        - DSN=postgres://u:hunter2@db/x\n"
    )
    findings = project(tmp_path, {"compose.yaml": text, ".env": f"NPM_TOKEN={TOKEN}\n"}, env=None)
    found = [f for f in findings if f.rule == "LW705"]
    assert sorted((f.location.line if f.location else 0) for f in found) == [6, 8]
    dump = json.dumps([f.to_json() for f in findings])
    assert TOKEN not in dump and "hunter2" not in dump
    assert "a GitHub token" in dump and "a URL with a password" in dump


def test_lw705_unset_or_harmless_args_are_fine(tmp_path: Path) -> None:
    text = (
        "services:\n  web:\n    build:\n      context: .\n"
        "      args: {GITHUB_TOKEN: null, PYTHON: '3.11'}\n"
    )
    assert "LW705" not in rules(project(tmp_path, {"compose.yaml": text}))


# -- LW706 -----------------------------------------------------------------------------------


def test_lw706_version_and_its_fix(tmp_path: Path) -> None:
    text = "# app\nversion: '3.8'\nservices:\n  web:\n    image: x\n"
    findings = project(tmp_path, {"compose.yaml": text})
    [finding] = [f for f in findings if f.rule == "LW706"]
    assert finding.location is not None and finding.location.line == 2
    fix_and_recheck(tmp_path, findings, "LW706", None)
    assert (tmp_path / "compose.yaml").read_text() == "# app\nservices:\n  web:\n    image: x\n"


# -- LW707 / LW708 ---------------------------------------------------------------------------

WATCH = """\
services:
  web:
    build: .
    healthcheck: {test: [CMD, 'true']}
    develop:
      watch:
        - action: sync
          path: ./src
          target: /srv/src
"""


def test_lw707_sync_target_and_its_fix(tmp_path: Path) -> None:
    files = {"compose.yaml": WATCH, "src/app.py": "print(1)\n"}
    findings = project(tmp_path, files)
    [finding] = [f for f in findings if f.rule == "LW707"]
    assert "/app/src" in finding.message and finding.location is not None
    assert finding.location.line == 7
    fix_and_recheck(tmp_path, findings, "LW707", None)
    assert "target: /app/src" in (tmp_path / "compose.yaml").read_text()


def test_lw707_sync_of_what_the_image_never_copies(tmp_path: Path) -> None:
    dockerfile = 'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    files = {"compose.yaml": WATCH, "src/app.py": "", "Dockerfile": dockerfile}
    [finding] = [f for f in project(tmp_path, files) if f.rule == "LW707"]
    assert "does not COPY" in finding.message and finding.fix is None


def test_lw708_manifests_need_rebuild_and_its_fix(tmp_path: Path) -> None:
    text = WATCH.replace("/srv/src", "/app/src")
    files = {"compose.yaml": text, "src/app.py": "", "pyproject.toml": "[project]\n"}
    findings = project(tmp_path, files)
    [finding] = [f for f in findings if f.rule == "LW708"]
    # the Dockerfile copies requirements.txt on its own and pyproject.toml with `COPY . .`
    assert "./pyproject.toml" in finding.message and "./requirements.txt" in finding.message
    fix_and_recheck(tmp_path, findings, "LW708", None)
    written = (tmp_path / "compose.yaml").read_text()
    assert written.index("action: rebuild") < written.index("action: sync")


def test_lw708_quiet_when_a_rebuild_rule_covers_the_manifests(tmp_path: Path) -> None:
    text = WATCH.replace("/srv/src", "/app/src") + (
        "        - action: rebuild\n          path: ./requirements.txt\n"
    )
    assert "LW708" not in rules(project(tmp_path, {"compose.yaml": text, "src/a.py": ""}))


# -- LW709 -----------------------------------------------------------------------------------


def test_lw709_same_build_twice(tmp_path: Path) -> None:
    text = (
        "services:\n"
        "  web:\n    build: .\n    healthcheck: {test: [CMD, 'true']}\n"
        "  worker:\n    build: .\n    command: celery worker\n"
        "    healthcheck: {test: [CMD, 'true']}\n"
        "  other:\n    build: {context: ., target: base}\n    healthcheck: {test: [CMD, 'true']}\n"
    )
    findings = [f for f in project(tmp_path, {"compose.yaml": text}) if f.rule == "LW709"]
    assert [f.service for f in findings] == ["worker"]


def test_lw709_quiet_when_they_share_an_image_name(tmp_path: Path) -> None:
    text = (
        "services:\n"
        "  web:\n    build: .\n    image: app\n    healthcheck: {test: [CMD, 'true']}\n"
        "  worker:\n    build: .\n    image: app\n    healthcheck: {test: [CMD, 'true']}\n"
    )
    assert "LW709" not in rules(project(tmp_path, {"compose.yaml": text}))


@pytest.mark.parametrize("rule", [c.id for c in CHECKS])
def test_findings_serialise(rule: str, tmp_path: Path) -> None:
    findings = project(tmp_path, {"compose.yaml": PROD_MOUNT})
    for finding in findings:
        data = finding.to_json()
        assert set(data) == {"rule", "title", "severity", "message", "location", "service", "fix"}
