"""Compose checks (family LW7xx): the dev/prod workflow and how Compose builds.

Each check is a plain function over a loaded `ComposeProject` that yields findings as data:
rule id, title, severity, location (file:line:col), message and, where it is safe, a fix made
of round-trip edits (`YamlEdit` on a compose file, `TextEdit` on an env file or script) that
`apply_fix` writes atomically. Secret values are never put into a message: a finding names the
variable and the kind of secret, not its value.

    project = load_project(".")
    for finding in run_checks(project):
        print(finding.location, finding.rule, finding.message)
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from layerwise.compose.image_facts import ImageFacts, read_image_facts
from layerwise.compose.loader import build_targets
from layerwise.compose.model import BuildTarget, ComposeProject, ComposeSource, Service
from layerwise.compose.roundtrip import ComposeDocument, write_atomic
from layerwise.compose.secrets import secret_kind
from layerwise.compose.yamlsource import YList, YMap
from layerwise.errors import Location

Severity = Literal["error", "warning", "info"]
Key = str | int


@dataclass(frozen=True)
class YamlEdit:
    """A round-trip edit of one compose file: `delete` a key or list item, `set` a value,
    `insert` into a list at an index (`path` ends with the index)."""

    file: Path
    op: Literal["delete", "set", "insert"]
    path: tuple[Key, ...]
    value: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.file), "op": self.op, "path": list(self.path), "value": self.value}


@dataclass(frozen=True)
class TextEdit:
    """Replace `length` characters at line:column (1-based) of a text file."""

    file: Path
    line: int
    column: int
    length: int
    replacement: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "op": "replace",
            "line": self.line,
            "column": self.column,
            "length": self.length,
            "replacement": self.replacement,
        }


Edit = YamlEdit | TextEdit


@dataclass(frozen=True)
class ComposeFix:
    description: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "edits": [e.to_json() for e in self.edits]}


@dataclass(frozen=True)
class ComposeFinding:
    rule: str
    title: str
    severity: Severity
    message: str
    location: Location | None
    service: str | None = None
    fix: ComposeFix | None = None

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity,
            "message": self.message,
            "location": (
                {"path": loc.path, "line": loc.line, "column": loc.column} if loc else None
            ),
            "service": self.service,
            "fix": self.fix.to_json() if self.fix else None,
        }


@dataclass
class CheckContext:
    """The project and what the checks derive from it once (build targets, image facts)."""

    project: ComposeProject
    targets: dict[str, BuildTarget] = field(default_factory=dict)
    _facts: dict[str, ImageFacts | None] = field(default_factory=dict)

    def facts(self, service: str) -> ImageFacts | None:
        if service not in self._facts:
            target = self.targets.get(service)
            self._facts[service] = read_image_facts(target) if target else None
        return self._facts[service]

    def source(self, path: str | None) -> ComposeSource | None:
        for source in self.project.sources:
            if str(source.path) == path:
                return source
        return None

    def yaml_path(self, loc: Location | None) -> tuple[Key, ...] | None:
        """The path, in the file `loc` points into, of the key or list item written there."""
        if loc is None:
            return None
        source = self.source(loc.path)
        if source is None:
            return None
        for document in source.documents:
            found = _find(document.value, loc, ())
            if found is not None:
                return found
        return None


def _find(node: Any, loc: Location, path: tuple[Key, ...]) -> tuple[Key, ...] | None:
    if isinstance(node, YMap):
        for key, key_loc in node.key_locs.items():
            if key_loc == loc and key in node:
                return (*path, key)
        for key, value in node.items():
            found = _find(value, loc, (*path, key))
            if found is not None:
                return found
    elif isinstance(node, YList):
        for index, item_loc in enumerate(node.item_locs):
            if item_loc == loc:
                return (*path, index)
        for index, value in enumerate(node):
            found = _find(value, loc, (*path, index))
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class ComposeCheck:
    id: str
    title: str
    severity: Severity
    rationale: str
    run: Callable[[CheckContext], Iterable[ComposeFinding]]

    def finding(
        self,
        message: str,
        location: Location | None,
        service: str | None = None,
        fix: ComposeFix | None = None,
    ) -> ComposeFinding:
        return ComposeFinding(self.id, self.title, self.severity, message, location, service, fix)


_DEV_NAME = re.compile(
    r"(^|[._-])(dev|develop|development|local|override|debug|test|testing)([._-]|$)"
)


def is_dev_file(path: str | Path) -> bool:
    """A compose file meant for development (compose.dev.yaml, docker-compose.override.yml,
    compose.local.yml, ...): bind mounts of the source are expected there."""
    return bool(_DEV_NAME.search(Path(path).name.lower()))


def _inside(path: str, root: str) -> bool:
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _rel(path: str, base: str | Path) -> str:
    rel = posixpath.relpath(path, str(base))
    return rel if rel.startswith(".") else "./" + rel


# --- LW701 ---------------------------------------------------------------------------------


def _source_mount(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for name, service in ctx.project.services.items():
        target = ctx.targets.get(name)
        if target is None or target.is_remote:
            continue
        facts = ctx.facts(name)
        for index, volume in enumerate(service.volumes):
            if not isinstance(volume, dict) or volume.get("type") != "bind":
                continue
            loc = service.volumes.where(index)
            if loc is None or is_dev_file(loc.path or ""):
                continue
            source, mount = str(volume.get("source", "")), str(volume.get("target", ""))
            if not (_inside(source, target.context) or _inside(target.context, source)):
                continue
            shadows = facts.copies_into(mount) if facts else []
            if facts is not None and not shadows and posixpath.normpath(mount) != facts.workdir:
                continue
            if facts is None and posixpath.normpath(source) != posixpath.normpath(target.context):
                continue
            shown = _rel(source, ctx.project.working_dir)
            message = (
                f"service {name!r} bind-mounts {shown} over {mount} in a production compose file: "
                "the container runs the host's files instead of the code built into the image"
                " (keep such mounts in a development file such as compose.dev.yaml)"
            )
            fix = None
            path = ctx.yaml_path(loc)
            if shadows and path is not None and loc.path:
                fix = ComposeFix(
                    f"remove the {shown}:{mount} mount (the image already COPYs the code there)",
                    (YamlEdit(Path(loc.path), "delete", path),),
                )
            yield LW701.finding(message, loc, name, fix)


LW701 = ComposeCheck(
    "LW701",
    "production compose file mounts the source over the image's code",
    "warning",
    "A bind mount such as `.:/app` replaces the directory the Dockerfile copied the code into, so "
    "production runs whatever is on the host (uncommitted edits, build artefacts, a different "
    "dependency tree) and the image that was built and tested is not what runs. Mount the "
    "source only in a development compose file (or use `develop.watch`).",
    _source_mount,
)

# --- LW702 ---------------------------------------------------------------------------------

_SERVER = re.compile(
    r"gunicorn|uvicorn|hypercorn|daphne|waitress|celery|runserver|flask\s+run|http\.server|"
    r"nginx|node\s|npm\s+start|rq\s+worker|dramatiq|streamlit|fastapi\s+run"
)


def _command_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def _long_running(ctx: CheckContext, service: Service, facts: ImageFacts) -> bool:
    config = service.config
    if config.get("restart") in ("always", "unless-stopped", "on-failure") or str(
        config.get("restart", "")
    ).startswith("on-failure"):
        return True
    if config.get("ports") or config.get("expose") or facts.exposes:
        return True
    command = _command_text(config.get("entrypoint")) + " "
    command += _command_text(config.get("command")) if "command" in config else facts.command or ""
    return bool(_SERVER.search(command))


def _one_shot(ctx: CheckContext, name: str) -> bool:
    for other in ctx.project.services.values():
        depends = other.config.get("depends_on")
        if isinstance(depends, dict):
            condition = depends.get(name)
            if isinstance(condition, dict) and (
                condition.get("condition") == "service_completed_successfully"
            ):
                return True
    return False


def _awaited_healthy(ctx: CheckContext, name: str) -> list[str]:
    waiting = []
    for other_name, other in ctx.project.services.items():
        depends = other.config.get("depends_on")
        if isinstance(depends, dict):
            condition = depends.get(name)
            if isinstance(condition, dict) and condition.get("condition") == "service_healthy":
                waiting.append(other_name)
    return waiting


def _no_healthcheck(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for name, service in ctx.project.services.items():
        if name not in ctx.targets or "healthcheck" in service.config:
            continue
        facts = ctx.facts(name)
        if facts is None or facts.healthcheck:
            continue
        waiting = _awaited_healthy(ctx, name)
        if not waiting and (_one_shot(ctx, name) or not _long_running(ctx, service, facts)):
            continue
        where_ = (
            "its image has HEALTHCHECK NONE"
            if facts.healthcheck is False
            else ("its Dockerfile has no HEALTHCHECK")
        )
        detail = (
            f"; {', '.join(waiting)} wait(s) for it to be healthy, which can never happen"
            if waiting
            else ""
        )
        yield LW702.finding(
            f"service {name!r} runs long but has no healthcheck in the compose file and "
            f"{where_}{detail}: add `healthcheck:` (a Python urllib probe needs no curl)",
            service.where("build"),
            name,
        )


LW702 = ComposeCheck(
    "LW702",
    "long-running service without a healthcheck",
    "warning",
    "Without a healthcheck Compose (and `docker compose up --wait`, `depends_on: "
    "condition: service_healthy`, orchestrators) only knows the process started, not that it "
    "answers; a hung server stays 'running'. Declare one in the compose file or in the "
    'image (HEALTHCHECK); for Python services `python -c "import urllib.request; ..."` '
    "needs no extra package.",
    _no_healthcheck,
)

# --- LW703 ---------------------------------------------------------------------------------

_MANIFEST_NAMES = re.compile(
    r"^(requirements[\w.-]*\.(txt|in)|constraints[\w.-]*\.txt|pyproject\.toml|poetry\.lock|"
    r"uv\.lock|pdm\.lock|Pipfile|Pipfile\.lock|setup\.py|setup\.cfg|package\.json|"
    r"package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$"
)


def _manifests(context: str) -> list[str]:
    root = Path(context)
    found: list[str] = []
    for folder in (root, root / "requirements"):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.is_file() and (
                _MANIFEST_NAMES.match(entry.name)
                or (folder.name == "requirements" and entry.suffix in (".txt", ".in"))
            ):
                found.append(str(entry))
    return found


def _has_source_mount(service: Service, target: BuildTarget) -> bool:
    for volume in service.volumes:
        if isinstance(volume, dict) and volume.get("type") == "bind":
            source = str(volume.get("source", ""))
            if _inside(source, target.context) or _inside(target.context, source):
                return True
    return False


def _dev_without_reload(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for source in ctx.project.sources:
        if not is_dev_file(source.path):
            continue
        for document in source.documents:
            services = document.value.get("services") if isinstance(document.value, dict) else None
            if not isinstance(services, YMap):
                continue
            for name in services:
                service = ctx.project.services.get(name)
                target = ctx.targets.get(name)
                if service is None or target is None or target.is_remote:
                    continue
                if service.watch or _has_source_mount(service, target):
                    continue
                loc = services.where(name)
                yield LW703.finding(
                    f"service {name!r} in the development file {source.path.name} has neither "
                    "`develop.watch` nor a mount of its source: every code change needs a "
                    "rebuild",
                    loc,
                    name,
                    _watch_fix(ctx, source.path, name, target),
                )


def _watch_fix(ctx: CheckContext, file: Path, name: str, target: BuildTarget) -> ComposeFix | None:
    facts = ctx.facts(name)
    if facts is None:
        return None
    whole = [c for c in facts.copies if any(s in (".", "./") for s in c.sources)]
    if not whole:
        return None
    landing = posixpath.normpath(whole[-1].destination)
    rules: list[dict[str, Any]] = [
        {"action": "rebuild", "path": _rel(m, ctx.project.working_dir)}
        for m in _manifests(target.context)
    ]
    rules.append(
        {"action": "sync", "path": _rel(target.context, ctx.project.working_dir), "target": landing}
    )
    return ComposeFix(
        f"add develop.watch: sync the source to {landing}, rebuild on dependency manifests",
        (YamlEdit(file, "set", ("services", name, "develop", "watch"), rules),),
    )


LW703 = ComposeCheck(
    "LW703",
    "development setup without hot reload",
    "info",
    "A development compose file exists to shorten the edit-run loop. Without `develop.watch` "
    "(sync source, rebuild on manifest changes; `docker compose watch`) or a source mount, "
    "every edit means a full `docker compose build`.",
    _dev_without_reload,
)

# --- LW704 ---------------------------------------------------------------------------------

_LEGACY_BUILDER = re.compile(
    r"\b(DOCKER_BUILDKIT|COMPOSE_DOCKER_CLI_BUILD)(\s*[=:]\s*[\"']?)(0|false|False)\b"
)
_SCRIPT_GLOBS = (
    "*.sh",
    "*.bash",
    "Makefile",
    "*.mk",
    "justfile",
    "Justfile",
    "Taskfile.yml",
    ".env",
    ".env.*",
    "*.env",
    "Jenkinsfile",
    ".gitlab-ci.yml",
    "scripts/*",
    "bin/*",
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
)


def _script_files(ctx: CheckContext) -> list[Path]:
    root = ctx.project.working_dir
    files: dict[Path, None] = dict.fromkeys(p for p in ctx.project.env_files if p.is_file())
    for pattern in _SCRIPT_GLOBS:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and path.stat().st_size <= 1_000_000:
                files.setdefault(path)
    return list(files)


def _legacy_builder(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for path in _script_files(ctx):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for match in _LEGACY_BUILDER.finditer(line):
                column = match.start(3) + 1
                fix = ComposeFix(
                    f"set {match.group(1)} to 1",
                    (TextEdit(path, number, column, len(match.group(3)), "1"),),
                )
                yield LW704.finding(
                    f"{match.group(1)}={match.group(3)} turns BuildKit off: builds fall back to "
                    "the legacy builder (no cache or secret mounts, no parallel stages, slower "
                    "cache)",
                    Location(str(path), number, match.start(1) + 1),
                    None,
                    fix,
                )


LW704 = ComposeCheck(
    "LW704",
    "BuildKit turned off",
    "warning",
    "`DOCKER_BUILDKIT=0` (and `COMPOSE_DOCKER_CLI_BUILD=0` for docker-compose v1) select the "
    "legacy builder, which ignores `RUN --mount` cache and secret mounts, builds stages "
    "serially and is deprecated. Every cache optimisation layerwise makes depends on BuildKit.",
    _legacy_builder,
)

# --- LW705 ---------------------------------------------------------------------------------


def _secret_args(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for name, target in ctx.targets.items():
        service = ctx.project.services[name]
        build = service.build
        raw = build.get("args") if build is not None else None
        for arg, value in sorted(target.args.items()):
            kind = secret_kind(arg, value)
            if kind is None:
                continue
            loc = _arg_location(raw, arg) or service.where("build")
            yield LW705.finding(
                f"build arg {arg} of service {name!r} carries {kind}: build args are kept in the "
                "image metadata and `docker history`; pass it as a build secret instead "
                "(build.secrets in compose, RUN --mount=type=secret in the Dockerfile)",
                loc,
                name,
            )


def _arg_location(raw: Any, arg: str) -> Location | None:
    if isinstance(raw, YMap):
        return raw.where(arg) if arg in raw.key_locs else None
    if isinstance(raw, YList):
        for index, item in enumerate(raw):
            if str(item).split("=", 1)[0] == arg:
                return raw.where(index)
    return None


LW705 = ComposeCheck(
    "LW705",
    "secret passed as a build arg",
    "error",
    "Build arguments are recorded in the image (`docker history`, provenance) and in the build "
    "cache, so a token passed as an ARG leaks to everyone who can pull the image. BuildKit "
    "build secrets (`build.secrets` + `RUN --mount=type=secret`) are mounted for one RUN only.",
    _secret_args,
)

# --- LW706 ---------------------------------------------------------------------------------


def _obsolete_version(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for source in ctx.project.sources:
        for document in source.documents:
            value = document.value
            if isinstance(value, YMap) and "version" in value:
                loc = value.where("version")
                yield LW706.finding(
                    "the top-level `version` is obsolete: Compose v2 ignores it (and warns)",
                    loc,
                    None,
                    ComposeFix(
                        "remove `version`", (YamlEdit(source.path, "delete", ("version",)),)
                    ),
                )


LW706 = ComposeCheck(
    "LW706",
    "obsolete top-level version",
    "info",
    "The Compose specification dropped `version`; Compose v2 ignores it and prints a warning "
    "on every command. It suggests a file format that no longer exists.",
    _obsolete_version,
)

# --- LW707 / LW708 -------------------------------------------------------------------------


def _watch_rules(service: Service) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, rule in enumerate(service.watch):
        if isinstance(rule, dict):
            yield index, rule


def _sync_target(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for name, service in ctx.project.services.items():
        target = ctx.targets.get(name)
        facts = ctx.facts(name)
        if target is None or facts is None or target.is_remote:
            continue
        context = Path(target.context)
        for index, rule in _watch_rules(service):
            if not str(rule.get("action", "")).startswith("sync") or "target" not in rule:
                continue
            path, dest = str(rule.get("path", "")), posixpath.normpath(str(rule["target"]))
            loc = service.watch.where(index)
            shown = _rel(path, ctx.project.working_dir)
            if not _inside(path, target.context):
                yield LW707.finding(
                    f"service {name!r} syncs {shown}, which is outside its build context: the "
                    "image never has these files where the sync puts them",
                    loc,
                    name,
                )
                continue
            rel = posixpath.relpath(path, target.context)
            landings = {
                landing
                for copy in facts.copies
                if (landing := copy.landing(rel, context)) is not None
            }
            if dest in landings:
                continue
            if landings:
                only = sorted(landings)
                fix = None
                yaml_path = ctx.yaml_path(loc)
                if len(only) == 1 and yaml_path is not None and loc is not None and loc.path:
                    fix = ComposeFix(
                        f"sync to {only[0]}, where the Dockerfile copies {shown}",
                        (YamlEdit(Path(loc.path), "set", (*yaml_path, "target"), only[0]),),
                    )
                message = (
                    f"service {name!r} syncs {shown} to {dest}, but the Dockerfile copies it to "
                    f"{', '.join(only)}: the running code is not the synced code"
                )
                yield LW707.finding(message, loc, name, fix)
            else:
                yield LW707.finding(
                    f"service {name!r} syncs {shown} to {dest}, but the Dockerfile does not COPY "
                    f"{shown} into the image: the sync updates files the image does not run",
                    loc,
                    name,
                )


LW707 = ComposeCheck(
    "LW707",
    "develop.watch sync target differs from where the Dockerfile copies the code",
    "warning",
    "`docker compose watch` copies changed files to the sync target in the running container. "
    "If the Dockerfile puts that code elsewhere (another WORKDIR, a package directory) the "
    "synced files are never imported and the edit seems to do nothing.",
    _sync_target,
)


def _covered_by(manifest: str, rule: dict[str, Any]) -> bool:
    path = str(rule.get("path", ""))
    return _inside(manifest, path)


def _manifest_rebuild(ctx: CheckContext) -> Iterator[ComposeFinding]:
    for name, service in ctx.project.services.items():
        target = ctx.targets.get(name)
        rules = list(_watch_rules(service))
        if target is None or target.is_remote or not rules:
            continue
        facts = ctx.facts(name)
        manifests = _manifests(target.context)
        if facts is not None:
            context = Path(target.context)
            manifests = [
                m
                for m in manifests
                if any(
                    c.landing(posixpath.relpath(m, target.context), context) is not None
                    for c in facts.copies
                )
            ]
        missing = [
            m
            for m in manifests
            if not any(r.get("action") == "rebuild" and _covered_by(m, r) for _, r in rules)
        ]
        if not missing:
            continue
        shown = [_rel(m, ctx.project.working_dir) for m in missing]
        loc = service.watch.loc or service.where("develop")
        yaml_path = ctx.yaml_path(service.watch.where(0))
        fix = None
        if yaml_path is not None and loc is not None and loc.path:
            base = yaml_path[:-1]
            fix = ComposeFix(
                f"add rebuild rules for {', '.join(shown)}",
                tuple(
                    YamlEdit(Path(loc.path), "insert", (*base, 0), {"action": "rebuild", "path": s})
                    for s in reversed(shown)
                ),
            )
        yield LW708.finding(
            f"service {name!r} watches its source but no `rebuild` rule covers "
            f"{', '.join(shown)}: a dependency change is synced (or ignored) without "
            "reinstalling, so the container runs with stale packages",
            loc,
            name,
            fix,
        )


LW708 = ComposeCheck(
    "LW708",
    "dependency manifest not covered by a develop.watch rebuild",
    "warning",
    "Dependencies are installed when the image is built. A changed requirements file, lock "
    "file or pyproject.toml needs `action: rebuild`; syncing it into the container changes "
    "nothing that is installed.",
    _manifest_rebuild,
)

# --- LW709 ---------------------------------------------------------------------------------


def _duplicate_builds(ctx: CheckContext) -> Iterator[ComposeFinding]:
    groups: dict[tuple[Any, ...], list[BuildTarget]] = defaultdict(list)
    for target in ctx.targets.values():
        key = (
            target.context,
            target.dockerfile,
            target.dockerfile_inline,
            target.target,
            tuple(sorted(target.args.items())),
        )
        groups[key].append(target)
    for group in groups.values():
        if len(group) < 2:
            continue
        images = {t.image for t in group}
        if len(images) == 1:
            continue
        first, rest = group[0], group[1:]
        for target in rest:
            yield LW709.finding(
                f"services {first.service!r} and {target.service!r} build the same context, "
                "Dockerfile, target and args separately: the image is built (and stored) "
                f"twice. Build it once: keep `build:` with `image: {first.image}` on "
                f"{first.service!r} and use `image: {first.image}` on {target.service!r}",
                target.location,
                target.service,
            )


LW709 = ComposeCheck(
    "LW709",
    "the same image built by several services",
    "warning",
    "Compose builds every service that has `build:` on its own and tags each result "
    "differently, so two services that build the same context and Dockerfile (an app and its "
    "worker) double the build time and the stored images.",
    _duplicate_builds,
)

CHECKS: tuple[ComposeCheck, ...] = (LW701, LW702, LW703, LW704, LW705, LW706, LW707, LW708, LW709)


def run_checks(project: ComposeProject, only: Iterable[str] | None = None) -> list[ComposeFinding]:
    """Every finding of the compose checks (or of the ids in `only`), by file and line."""
    wanted = set(only) if only is not None else None
    ctx = CheckContext(project, {t.service: t for t in build_targets(project)})
    findings: list[ComposeFinding] = []
    for check in CHECKS:
        if wanted is None or check.id in wanted:
            findings.extend(check.run(ctx))
    findings.sort(
        key=lambda f: (
            f.location.path or "" if f.location else "",
            f.location.line if f.location else 0,
            f.rule,
        )
    )
    return findings


def apply_fixes(fixes: Iterable[ComposeFix]) -> list[Path]:
    """Apply fixes (round-trip for compose files, in place for text files); each file is
    rewritten once, atomically. Returns the files written."""
    yaml_edits: dict[Path, list[YamlEdit]] = defaultdict(list)
    text_edits: dict[Path, list[TextEdit]] = defaultdict(list)
    for fix in fixes:
        for edit in fix.edits:
            if isinstance(edit, TextEdit):
                text_edits[edit.file].append(edit)
            else:
                yaml_edits[edit.file].append(edit)
    written = []
    for file, edits in yaml_edits.items():
        document = ComposeDocument.read(file)
        # deletes of list items from the last one, so earlier indexes stay valid
        deletes = sorted(
            (e for e in edits if e.op == "delete"), key=lambda e: [str(k) for k in e.path]
        )
        deletes.sort(key=lambda e: e.path[-1] if isinstance(e.path[-1], int) else -1, reverse=True)
        for edit in [e for e in edits if e.op != "delete"] + deletes:
            if edit.op == "delete":
                document.delete(edit.path)
            elif edit.op == "set":
                document.set(edit.path, edit.value)
            else:
                document.insert(edit.path, edit.value)
        written.append(document.write())
    for file, replacements in text_edits.items():
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        for change in sorted(replacements, key=lambda e: (e.line, e.column), reverse=True):
            line = lines[change.line - 1]
            start = change.column - 1
            lines[change.line - 1] = (
                line[:start] + change.replacement + line[start + change.length :]
            )
        write_atomic(file, "".join(lines))
        written.append(file)
    return written
