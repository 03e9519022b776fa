"""LW7xx: Compose and the dev/prod workflow, in the same registry as the Dockerfile rules.

The checks themselves live with the Compose model (`layerwise.compose.checks`, which reads
compose files as Docker Compose does and keeps their line numbers); this module gives each one
its registry entry: name, documented examples (run by the same example harness as every rule),
and the conversion of its findings. `lint_compose` runs them on a loaded project.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from layerwise.compose.checks import ComposeFinding, run_checks
from layerwise.compose.model import ComposeProject
from layerwise.config import Config
from layerwise.rules.base import Example, Finding, LintContext, Rule, Severity, register
from layerwise.rules.engine import selected_rules

_DOCKERFILE = (
    "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nEXPOSE 8000\n"
    'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
)
_HEALTHY = _DOCKERFILE + 'HEALTHCHECK CMD ["python", "-c", "print(1)"]\n'
_HEALTH = "    healthcheck: {test: [CMD, 'true']}\n"


def _example(compose: dict[str, str], dockerfile: str = _HEALTHY, **files: str) -> Example:
    return Example(dockerfile, files={"requirements.txt": "flask\n", **compose, **files})


class ComposeRule(Rule):
    """A rule over a Compose project; `check` (for Dockerfiles) yields nothing."""

    scope = "compose"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        return iter(())

    def convert(self, found: ComposeFinding, config: Config) -> Finding:
        loc = found.location
        line = loc.line if loc else 1
        column = loc.column if loc else 1
        message = found.message
        if found.service and found.service not in message:
            message = f"service {found.service}: {message}"
        return Finding(
            rule=self.id,
            severity=config.severity_for(self.id, Severity.parse(found.severity)),
            message=message,
            path=_shown(loc.path) if loc and loc.path else None,
            line=line,
            column=column,
            end_line=line,
            end_column=column + 1,
            covers=(),
            fix=None,
            name=self.name,
        )


def _shown(path: str) -> str:
    """A path relative to the working directory when it is below it, as for Dockerfiles."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _check(check_id: str) -> str:
    from layerwise.compose.checks import CHECKS

    return next(c.rationale for c in CHECKS if c.id == check_id)


@register
class SourceMountInProduction(ComposeRule):
    id = "LW701"
    name = "source-mount-in-production"
    title = "A production compose file mounts the source over the image's code"
    severity = Severity.WARNING
    rationale = _check("LW701")
    bad = _example(
        {
            "compose.yaml": "services:\n  web:\n    build: .\n"
            + _HEALTH
            + "    volumes:\n      - .:/app\n"
        }
    )
    good = _example({"compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH})


@register
class ServiceWithoutHealthcheck(ComposeRule):
    id = "LW702"
    name = "service-without-healthcheck"
    title = "A long-running service has no healthcheck in compose nor in its image"
    severity = Severity.WARNING
    rationale = _check("LW702")
    bad = _example({"compose.yaml": "services:\n  web:\n    build: .\n"}, dockerfile=_DOCKERFILE)
    good = _example({"compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH})


@register
class DevWithoutHotReload(ComposeRule):
    id = "LW703"
    name = "dev-without-hot-reload"
    title = "A development compose file has neither develop.watch nor a source mount"
    severity = Severity.INFO
    rationale = _check("LW703")
    bad = _example(
        {
            "compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH,
            "compose.dev.yaml": "services:\n  web:\n    environment: [DEBUG=1]\n",
        }
    )
    good = _example(
        {
            "compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH,
            "compose.dev.yaml": (
                "services:\n  web:\n    develop:\n      watch:\n"
                "        - action: rebuild\n          path: ./requirements.txt\n"
                "        - action: sync\n          path: .\n          target: /app\n"
            ),
        }
    )


@register
class BuildKitDisabled(ComposeRule):
    id = "LW704"
    name = "buildkit-disabled"
    title = "DOCKER_BUILDKIT=0 or COMPOSE_DOCKER_CLI_BUILD=0 turns BuildKit off"
    severity = Severity.WARNING
    rationale = _check("LW704")
    bad = _example(
        {"compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH},
        **{".env": "DOCKER_BUILDKIT=0\n"},
    )
    good = _example(
        {"compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH}, **{".env": "DEBUG=0\n"}
    )


@register
class SecretBuildArg(ComposeRule):
    id = "LW705"
    name = "secret-build-arg"
    title = "A secret is passed as a build argument"
    severity = Severity.ERROR
    rationale = _check("LW705")
    bad = _example(
        {
            "compose.yaml": (
                "services:\n  web:\n    build:\n      context: .\n"
                "      args: [NPM_TOKEN]\n" + _HEALTH
            )
        },
        **{".env": "NPM_TOKEN=npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "\n"},
    )
    good = _example(
        {
            "compose.yaml": (
                "services:\n  web:\n    build:\n      context: .\n"
                "      args: {PYTHON: '3.11'}\n" + _HEALTH
            )
        }
    )


@register
class ObsoleteVersion(ComposeRule):
    id = "LW706"
    name = "obsolete-compose-version"
    title = "The top-level `version:` is obsolete"
    severity = Severity.INFO
    rationale = _check("LW706")
    bad = _example({"compose.yaml": "version: '3.8'\nservices:\n  web:\n    build: .\n" + _HEALTH})
    good = _example({"compose.yaml": "services:\n  web:\n    build: .\n" + _HEALTH})


_WATCH = (
    "services:\n  web:\n    build: .\n" + _HEALTH + "    develop:\n      watch:\n"
    "        - action: rebuild\n          path: ./requirements.txt\n"
    "        - action: sync\n          path: ./src\n          target: TARGET\n"
)


@register
class WatchSyncTarget(ComposeRule):
    id = "LW707"
    name = "watch-sync-target"
    title = "A develop.watch sync target is not where the Dockerfile copies that path"
    severity = Severity.WARNING
    rationale = _check("LW707")
    bad = _example({"compose.yaml": _WATCH.replace("TARGET", "/srv/src")}, **{"src/app.py": ""})
    good = _example({"compose.yaml": _WATCH.replace("TARGET", "/app/src")}, **{"src/app.py": ""})


@register
class WatchWithoutRebuild(ComposeRule):
    id = "LW708"
    name = "watch-without-rebuild"
    title = "A dependency manifest is not covered by a develop.watch rebuild"
    severity = Severity.WARNING
    rationale = _check("LW708")
    bad = _example(
        {
            "compose.yaml": _WATCH.replace("TARGET", "/app/src").replace(
                "        - action: rebuild\n          path: ./requirements.txt\n", ""
            )
        },
        **{"src/app.py": ""},
    )
    good = _example({"compose.yaml": _WATCH.replace("TARGET", "/app/src")}, **{"src/app.py": ""})


@register
class SameBuildTwice(ComposeRule):
    id = "LW709"
    name = "same-build-twice"
    title = "Several services build the same context and Dockerfile separately"
    severity = Severity.WARNING
    rationale = _check("LW709")
    bad = _example(
        {
            "compose.yaml": (
                "services:\n  web:\n    build: .\n"
                + _HEALTH
                + "  worker:\n    build: .\n    command: celery worker\n"
                + _HEALTH
            )
        }
    )
    good = _example(
        {
            "compose.yaml": (
                "services:\n  web:\n    build: .\n    image: app\n"
                + _HEALTH
                + "  worker:\n    image: app\n    command: celery worker\n"
                + _HEALTH
            )
        }
    )


def lint_compose(
    project: ComposeProject,
    *,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    services: Sequence[str] = (),
) -> list[Finding]:
    """Findings of the LW7xx rules on a loaded Compose project; with `services`, only those
    of these services and of the project as a whole (an obsolete `version:`)."""
    config = config or Config()
    chosen = {
        r.id: r
        for r in selected_rules(config, select, ignore, scope="compose")
        if isinstance(r, ComposeRule)
    }
    if not chosen:
        return []
    out = []
    for found in run_checks(project, only=chosen):
        if services and found.service is not None and found.service not in services:
            continue
        rule = chosen.get(found.rule)
        if rule is not None:
            finding = rule.convert(found, config)
            path = finding.path
            if path is None or config.enabled(rule.id, path):
                out.append(finding)
    return sorted(out, key=Finding.sort_key)


def dev_compose_files(directory: Path) -> list[Path]:
    """Development compose files beside the default ones (`compose.dev.yaml`, ...)."""
    from layerwise.compose.checks import is_dev_file

    names = sorted(p for p in directory.glob("*compose*.y*ml") if p.is_file())
    return [p for p in names if is_dev_file(p) and "override" not in p.name]


def lint_compose_directory(
    directory: Path,
    *,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    services: Sequence[str] = (),
) -> list[Finding]:
    """LW7xx findings for a directory: its default Compose project (compose.yaml and its
    override, as `docker compose` loads them) and, for each development file beside it
    (`compose.dev.yaml`, ...), the project it makes with the default file. Empty when the
    directory has no compose file. `services`: see `lint_compose`."""
    from layerwise.compose import load_project
    from layerwise.compose.loader import DEFAULT_FILE_NAMES

    default = next((directory / n for n in DEFAULT_FILE_NAMES if (directory / n).is_file()), None)
    if default is None:
        return []
    projects = [load_project(directory)]
    for dev in dev_compose_files(directory):
        if dev != default:
            projects.append(load_project(directory, files=[str(default), str(dev)]))
    seen: set[tuple[str, str | None, int, str]] = set()
    out = []
    for project in projects:
        for finding in lint_compose(
            project, config=config, select=select, ignore=ignore, services=services
        ):
            key = (finding.rule, finding.path, finding.line, finding.message)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    return sorted(out, key=Finding.sort_key)
