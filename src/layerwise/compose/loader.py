"""Loading a compose project the way Docker Compose v2 does.

Which files: `files` (like `-f`), else `COMPOSE_FILE` (split on `COMPOSE_PATH_SEPARATOR`,
default `:`), else the first of compose.yaml, compose.yml, docker-compose.yml,
docker-compose.yaml in the directory, with the first override file beside it
(compose.override.yml, ...). Unlike Compose, parent directories are not searched: layerwise
works on the directory it is given.

Which variables: the process environment, then `.env` in the project directory (or the given
env files) for what the environment does not set; `COMPOSE_PROJECT_NAME` is the project name.

Then each file (each YAML document) in order: interpolate, validate, apply `extends`, apply
`!reset`/`!override` to what the earlier files set, load `include`d projects, merge over the
earlier files; then default values, relative paths made absolute against the project
directory, build arguments without a value taken from the environment, and profiles.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.compose.dotenv import read_env_files
from layerwise.compose.errors import ComposeFileError
from layerwise.compose.interpolate import interpolate
from layerwise.compose.merge import (
    canonical,
    delete_path,
    enforce_unicity,
    extend_service,
    go_sprint,
    merge,
)
from layerwise.compose.model import (
    BuildTarget,
    ComposeProject,
    ComposeSource,
    Service,
    is_remote_context,
)
from layerwise.compose.validate import SERVICE, validate_document
from layerwise.compose.yamlsource import Document, YList, YMap, clone, parse_documents
from layerwise.compose.yamlsource import where as where_in
from layerwise.errors import InputError, Location

DEFAULT_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
DEFAULT_OVERRIDE_FILE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


def find_compose_files(directory: Path) -> list[Path]:
    """The files `docker compose` uses by default in `directory` (without searching parents)."""
    for name in DEFAULT_FILE_NAMES:
        main = directory / name
        if main.is_file():
            files = [main]
            for override in DEFAULT_OVERRIDE_FILE_NAMES:
                if (directory / override).is_file():
                    files.append(directory / override)
                    break
            return files
    return []


def normalize_project_name(name: str) -> str:
    """Compose's project name rule: lower case, [a-z0-9_-] only, no leading `_` or `-`."""
    return "".join(re.findall(r"[a-z0-9_-]", name.lower())).lstrip("_-")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "t", "true")


def _clean(path: str) -> str:
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def _join(base: str, path: str) -> str:
    return _clean(posixpath.join(base, path))


def _expand_user(path: str) -> str:
    if path.startswith("~"):
        return _join(str(Path.home()), path[1:].lstrip("/") or ".")
    return path


def _abs_path(base: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _expand_user(value)
    if posixpath.isabs(value) or value == "":
        return value
    return _join(base, value)


def _abs_context(base: str, value: Any) -> Any:
    if not isinstance(value, str) or is_remote_context(value):
        return value
    return _abs_path(base, value)


@dataclass
class _Cycle:
    loaded: tuple[tuple[str, str], ...] = ()

    def add(self, filename: str, service: str) -> _Cycle:
        entry = (filename, service)
        if entry in self.loaded:
            chain = [*self.loaded, entry]
            steps = " -> ".join(f"{s} in {f}" for f, s in chain)
            raise ComposeFileError(f"circular reference in extends: {steps}")
        return _Cycle((*self.loaded, entry))


@dataclass
class _Loader:
    working_dir: str  # where relative paths are resolved (may be relative during includes)
    local_dir: str  # absolute directory that relative extends/include files are read from
    environment: dict[str, str]
    validate: bool = True
    sources: list[ComposeSource] = field(default_factory=list)
    included: tuple[str, ...] = ()

    def lookup(self, name: str) -> str | None:
        return self.environment.get(name)

    def read(self, path: Path) -> ComposeSource:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ComposeFileError(f"compose file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ComposeFileError(f"cannot read compose file {path}: {exc}") from None
        source = ComposeSource(path, text, parse_documents(text, str(path)))
        self.sources.append(source)
        return source

    # -- one file -------------------------------------------------------------------------

    def load_file(self, path: Path, model: YMap, *, extends: bool = True) -> tuple[YMap, Document]:
        source = self.read(path)
        last = Document(None)
        for document in source.documents:
            model = self.load_document(document, str(path), model, extends=extends)
            last = document
        return model, last

    def load_document(
        self, document: Document, filename: str, model: YMap, *, extends: bool
    ) -> YMap:
        raw = document.value
        if not isinstance(raw, dict):
            raise ComposeFileError(
                "top-level object must be a mapping",
                getattr(raw, "loc", None) or Location(filename, 1, 1),
            )
        config = interpolate(raw, self.lookup)
        if self.validate:
            validate_document(config, filename)
        if extends:
            self.apply_extends(config, filename, _Cycle(), [document])
        for reset in document.reset_paths:
            delete_path(model, reset)
        if "include" in config:
            self.apply_include(config, filename)
        model = merge(model, config)
        model = enforce_unicity(model)
        model.pop("version", None)
        model = canonical(model)
        unique: YMap = enforce_unicity(model)
        return unique

    # -- extends ---------------------------------------------------------------------------

    def apply_extends(
        self, config: YMap, filename: str, cycle: _Cycle, post: list[Document]
    ) -> None:
        services = config.get("services")
        if services is None:
            return
        if not isinstance(services, dict):
            raise ComposeFileError("services must be a mapping", where_in(config, "services"))
        for name in list(services):
            services[name] = self.extend_service(name, services, filename, cycle, post)

    def extend_service(
        self,
        name: str,
        services: dict[str, Any],
        filename: str,
        cycle: _Cycle,
        post: list[Document],
    ) -> Any:
        service = services.get(name)
        if service is None:
            return None
        if not isinstance(service, dict):
            raise ComposeFileError(f"services.{name} must be a mapping", where_in(services, name))
        extends = service.get("extends")
        if extends is None:
            return service
        loc = where_in(service, "extends")
        file: str | None = None
        if isinstance(extends, dict):
            ref = str(extends.get("service"))
            file = extends.get("file")
        else:
            ref = str(extends)
        ref_file = filename
        if file is not None:
            services, document = self.extends_base(name, ref, filename, str(file), loc)
            post = [*post, document]
            ref_file = str(file)
        elif ref not in services:
            raise ComposeFileError(
                f"cannot extend service {name!r} in {filename}: service {ref!r} not found", loc
            )
        cycle = cycle.add(ref_file, name)
        base = self.extend_service(ref, services, filename, cycle, post)
        if base is None:
            return service
        source = clone(base)
        for document in post:
            for reset in document.reset_paths:
                wrapper = {"services": {name: source}}
                delete_path(wrapper, reset)
        merged = extend_service(source, service if isinstance(service, YMap) else YMap(service))
        merged.pop("extends", None)
        merged.key_locs.pop("extends", None)
        if isinstance(service, YMap):
            merged.loc = service.loc
        services[name] = merged
        return merged

    def extends_base(
        self, name: str, ref: str, filename: str, file: str, loc: Location | None
    ) -> tuple[dict[str, Any], Document]:
        local = Path(_abs_path(self.local_dir, file))
        if not local.is_file():
            raise ComposeFileError(
                f"cannot extend service {name!r}: file {file!r} not found ({local})", loc
            )
        rel = os.path.relpath(local.parent, self.local_dir)
        base_loader = _Loader(
            working_dir=rel,
            local_dir=str(local.parent),
            environment=self.environment,
            validate=False,
            sources=self.sources,
        )
        model, document = base_loader.load_file(local, YMap(), extends=False)
        services = model.get("services")
        if not isinstance(services, dict):
            raise ComposeFileError(
                f"cannot extend service {name!r} in {filename}: {local} has no services", loc
            )
        if ref not in services:
            raise ComposeFileError(
                f"cannot extend service {name!r} in {filename}: service {ref!r} not found in "
                f"{file}",
                loc,
            )
        if self.validate and isinstance(services[ref], dict):
            problem = SERVICE.check(services[ref], ("services", ref), where_in(services, ref))
            if problem:
                raise ComposeFileError(problem, where_in(services, ref))
        resolve_paths(model, rel)
        return services, document

    # -- include ---------------------------------------------------------------------------

    def apply_include(self, config: YMap, filename: str) -> None:
        entries = config.pop("include")
        if not isinstance(entries, list):
            raise ComposeFileError("include must be a list", where_in(config, "include"))
        for index, entry in enumerate(entries):
            loc = where_in(entries, index)
            if isinstance(entry, str):
                entry = {"path": entry}
            paths = entry.get("path")
            paths = [paths] if isinstance(paths, str) else list(paths or [])
            if not paths:
                raise ComposeFileError("include: path is required", loc)
            files = [Path(_abs_path(self.local_dir, str(p))) for p in paths]
            for file in files:
                if not file.is_file():
                    raise ComposeFileError(f"included file not found: {file}", loc)
            if str(files[0]) in self.included or str(files[0]) == filename:
                raise ComposeFileError(f"include cycle detected at {files[0]}", loc)
            project_dir = entry.get("project_directory")
            if project_dir is None:
                project_abs = str(files[0].parent)
            else:
                project_abs = _abs_path(self.local_dir, str(project_dir))
            rel = os.path.relpath(project_abs, self.local_dir)
            env_files_value = entry.get("env_file")
            if env_files_value is None:
                default = Path(project_abs) / ".env"
                env_paths = [default] if default.is_file() else []
            else:
                values = [env_files_value] if isinstance(env_files_value, str) else env_files_value
                env_paths = [Path(_abs_path(self.local_dir, str(v))) for v in values]
            from_files = read_env_files(env_paths, self.environment)
            environment = {**from_files, **self.environment}
            loader = _Loader(
                working_dir=rel,
                local_dir=project_abs,
                environment=environment,
                validate=self.validate,
                sources=self.sources,
                included=(*self.included, filename),
            )
            model = YMap()
            for file in files:
                model, _ = loader.load_file(file, model)
            finish_model(model, rel)
            _import_resources(model, config, loc)


def _import_resources(source: YMap, target: YMap, loc: Location | None) -> None:
    for key in ("services", "volumes", "networks", "secrets", "configs"):
        incoming = source.get(key)
        if not isinstance(incoming, dict):
            continue
        existing = target.get(key)
        if not isinstance(existing, dict):
            existing = YMap(loc=getattr(incoming, "loc", None))
            target[key] = existing
        for name, value in incoming.items():
            if name in existing:
                if existing[name] == value:
                    continue
                raise ComposeFileError(f"{key}.{name} conflicts with imported resource", loc)
            existing[name] = value
            if isinstance(existing, YMap) and isinstance(incoming, YMap):
                found = incoming.key_locs.get(name)
                if found is not None:
                    existing.key_locs[name] = found


# -- after all files -----------------------------------------------------------------------


def finish_model(model: YMap, working_dir: str) -> None:
    """Default values, semantic checks and path resolution (compose-go's loadYamlModel)."""
    services = model.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            if not isinstance(service, dict):
                continue
            build = service.get("build")
            if isinstance(build, dict) and "context" not in build:
                build["context"] = "."
            for key in ("secrets",):
                for mount in service.get(key) or []:
                    if isinstance(mount, dict) and "target" not in mount:
                        mount["target"] = f"/run/secrets/{mount.get('source')}"
            develop = service.get("develop")
            if isinstance(develop, dict):
                for index, rule in enumerate(develop.get("watch") or []):
                    if isinstance(rule, dict) and rule.get("path") == "":
                        raise ComposeFileError(
                            f"services.{name}.develop.watch.{index}.path: value can't be blank",
                            where_in(develop.get("watch"), index),
                        )
    resolve_paths(model, working_dir)


def resolve_paths(model: YMap, base: str) -> None:
    """Make relative paths absolute against `base`, where Compose does."""
    services = model.get("services")
    if isinstance(services, dict):
        for service in services.values():
            if isinstance(service, dict):
                _resolve_service_paths(service, base)
    for key in ("configs", "secrets"):
        resources = model.get(key)
        if isinstance(resources, dict):
            for resource in resources.values():
                if isinstance(resource, dict) and isinstance(resource.get("file"), str):
                    resource["file"] = _abs_path(base, resource["file"])


def _resolve_service_paths(service: dict[str, Any], base: str) -> None:
    build = service.get("build")
    if isinstance(build, dict):
        if "context" in build:
            build["context"] = _abs_context(base, build["context"])
        contexts = build.get("additional_contexts")
        if isinstance(contexts, dict):
            for key, value in contexts.items():
                contexts[key] = _abs_context(base, value)
    for entry in service.get("env_file") or []:
        if isinstance(entry, dict) and "path" in entry:
            entry["path"] = _abs_path(base, entry["path"])
    label_files = service.get("label_file")
    if isinstance(label_files, str):
        service["label_file"] = _abs_path(base, label_files)
    elif isinstance(label_files, list):
        service["label_file"] = YList(
            (_abs_path(base, f) for f in label_files), loc=getattr(label_files, "loc", None)
        )
    extends = service.get("extends")
    if isinstance(extends, dict) and isinstance(extends.get("file"), str):
        extends["file"] = _abs_path(base, extends["file"])
    develop = service.get("develop")
    if isinstance(develop, dict):
        for rule in develop.get("watch") or []:
            if isinstance(rule, dict) and "path" in rule:
                rule["path"] = _abs_path(base, rule["path"])
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict) and volume.get("type") == "bind":
            source = volume.get("source")
            if source is None:
                raise ComposeFileError(
                    'invalid mount config for type "bind": field Source must not be empty',
                    getattr(volume, "loc", None),
                )
            volume["source"] = _abs_path(base, str(source))


def _resolve_args(args: Any, environment: Mapping[str, str]) -> dict[str, str]:
    """Build arguments as Compose passes them: a value without `=` (or a null) is taken from
    the environment, and dropped when the environment does not set it."""
    resolved: dict[str, str] = {}
    if isinstance(args, dict):
        for key, value in args.items():
            if value is None:
                if key in environment:
                    resolved[key] = environment[key]
            else:
                resolved[key] = value if isinstance(value, str) else go_sprint(value)
    elif isinstance(args, list):
        for item in args:
            text = item if isinstance(item, str) else go_sprint(item)
            key, sep, value = text.partition("=")
            if sep:
                resolved[key] = value
            elif key in environment:
                resolved[key] = environment[key]
    return resolved


def _enabled(service: dict[str, Any], profiles: list[str]) -> bool:
    own = service.get("profiles") or []
    if not own:
        return True
    return "*" in profiles or any(str(p) in profiles for p in own)


def _check_consistency(project: ComposeProject) -> None:
    model = project.model
    networks = model.get("networks") if isinstance(model.get("networks"), dict) else {}
    volumes = model.get("volumes") if isinstance(model.get("volumes"), dict) else {}
    secrets = model.get("secrets") if isinstance(model.get("secrets"), dict) else {}
    for name, service in project.services.items():
        config = service.config
        loc = service.location
        build = service.build
        if build is None and not config.get("image"):
            raise ComposeFileError(
                f"service {name!r} has neither an image nor a build context specified", loc
            )
        if build is not None:
            if build.get("dockerfile") and build.get("dockerfile_inline"):
                raise ComposeFileError(
                    f"service {name!r} declares mutually exclusive dockerfile and "
                    "dockerfile_inline",
                    where_in(build, "dockerfile_inline"),
                )
            for mount in build.get("secrets") or []:
                source = mount.get("source") if isinstance(mount, dict) else None
                if source not in (secrets or {}):
                    raise ComposeFileError(
                        f"service {name!r} refers to undefined build secret {source}",
                        where_in(build, "secrets"),
                    )
        if config.get("network_mode") and config.get("networks"):
            raise ComposeFileError(
                f"service {name} declares mutually exclusive `network_mode` and `networks`",
                service.where("network_mode"),
            )
        for network in config.get("networks") or {}:
            if network != "default" and network not in (networks or {}):
                raise ComposeFileError(
                    f"service {name!r} refers to undefined network {network}",
                    service.where("networks"),
                )
        for dependency, condition in (config.get("depends_on") or {}).items():
            if dependency in project.services:
                continue
            required = not isinstance(condition, dict) or condition.get("required", True)
            if dependency in project.disabled_services and not required:
                continue
            raise ComposeFileError(
                f"service {name!r} depends on undefined service {dependency!r}",
                service.where("depends_on"),
            )
        for index, volume in enumerate(service.volumes):
            if (
                isinstance(volume, dict)
                and volume.get("type") == "volume"
                and volume.get("source")
                and volume["source"] not in (volumes or {})
            ):
                raise ComposeFileError(
                    f"service {name!r} refers to undefined volume {volume['source']}",
                    service.volumes.where(index),
                )


def _config_paths(
    directory: Path, files: list[str] | None, environment: Mapping[str, str]
) -> list[Path]:
    if files:
        return [(directory / f).absolute() for f in files]
    compose_file = environment.get("COMPOSE_FILE")
    if compose_file:
        separator = environment.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [(directory / f).absolute() for f in compose_file.split(separator) if f]
    return find_compose_files(directory)


def load_project(
    directory: str | os.PathLike[str],
    files: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    profiles: list[str] | None = None,
    *,
    project_name: str | None = None,
    project_directory: str | os.PathLike[str] | None = None,
    env_files: list[str] | None = None,
) -> ComposeProject:
    """Load the compose project in `directory` as `docker compose` run there would.

    `files` are the `-f` files (relative to `directory`); `env` is the process environment to
    use (default: os.environ); `profiles` the active profiles (default: COMPOSE_PROFILES).
    Raises ComposeFileError (a LayerwiseError, with file:line:col where there is one).
    """
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"not a directory: {root}")
    root = root.resolve()
    base_env = dict(os.environ if env is None else env)

    config_paths = _config_paths(root, files, base_env)
    if project_directory:
        working_dir = Path(project_directory).absolute()
    else:
        working_dir = config_paths[0].parent if config_paths else root

    if env_files:
        env_paths = [(root / f).absolute() for f in env_files]
    elif base_env.get("COMPOSE_ENV_FILES"):
        env_paths = [(root / f).absolute() for f in base_env["COMPOSE_ENV_FILES"].split(",")]
    elif _truthy(base_env.get("COMPOSE_DISABLE_ENV_FILE")):
        env_paths = []
    else:
        default_env = working_dir / ".env"
        env_paths = [default_env] if default_env.is_file() else []
    dotenv = read_env_files(env_paths, base_env)
    environment = {**dotenv, **base_env}

    if not files and "COMPOSE_FILE" not in base_env and environment.get("COMPOSE_FILE"):
        config_paths = _config_paths(root, None, environment)
        if not project_directory:
            working_dir = config_paths[0].parent
    if not config_paths:
        names = ", ".join(DEFAULT_FILE_NAMES)
        raise ComposeFileError(
            f"no compose file in {root} (looked for {names}); name one with -f FILE"
        )
    for path in config_paths:
        if not path.is_file():
            raise ComposeFileError(f"compose file not found: {path}")

    if profiles is None:
        profiles = [
            p.strip() for p in environment.get("COMPOSE_PROFILES", "").split(",") if p.strip()
        ]

    loader = _Loader(
        working_dir=str(working_dir), local_dir=str(working_dir), environment=environment
    )
    sources = [loader.read(path) for path in config_paths]
    name = _project_name(project_name, environment, sources, working_dir)
    environment["COMPOSE_PROJECT_NAME"] = name
    loader.sources = []

    model = YMap()
    for source in sources:
        loader.sources.append(source)
        for document in source.documents:
            model = loader.load_document(document, str(source.path), model, extends=True)
    if not model:
        raise ComposeFileError("empty compose file", Location(str(config_paths[0]), 1, 1))
    finish_model(model, str(working_dir))
    model["name"] = name

    project = ComposeProject(
        name=name,
        working_dir=working_dir,
        files=config_paths,
        sources=loader.sources,
        env_files=env_paths,
        profiles=list(profiles),
        model=model,
        environment=environment,
    )
    services = model.get("services") or {}
    for service_name, config in services.items():
        if not isinstance(config, YMap):
            config = YMap(config or {}, loc=where_in(services, service_name))
        service = Service(service_name, config, where_in(services, service_name))
        if _enabled(config, project.profiles):
            project.services[service_name] = service
        else:
            project.disabled_services[service_name] = service
    _check_consistency(project)
    return project


def _project_name(
    explicit: str | None,
    environment: Mapping[str, str],
    sources: list[ComposeSource],
    working_dir: Path,
) -> str:
    if explicit:
        if normalize_project_name(explicit) != explicit:
            raise InputError(f"invalid project name {explicit!r}: use [a-z0-9_-]")
        return explicit
    from_env = environment.get("COMPOSE_PROJECT_NAME")
    if from_env:
        return from_env
    from_files = ""
    for source in sources:
        for document in source.documents:
            value = document.value
            if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
                from_files = value["name"]
    if from_files:
        interpolated = interpolate({"name": from_files}, environment.get)["name"]
        normalized = normalize_project_name(str(interpolated))
        if normalized:
            return normalized
    return normalize_project_name(working_dir.name)


def build_targets(project: ComposeProject, services: list[str] | None = None) -> list[BuildTarget]:
    """The build of every enabled service that has `build:` (or of the named ones), sorted by
    service name. Raises InputError for a named service that does not exist or has no build."""
    chosen = sorted(project.services)
    if services:
        for name in services:
            if name not in project.services and name not in project.disabled_services:
                known = ", ".join(sorted(project.services)) or "none"
                raise InputError(f"no service {name!r} in the compose project (services: {known})")
        chosen = sorted(set(services))
    targets = []
    for name in chosen:
        service = project.services.get(name) or project.disabled_services[name]
        build = service.build
        if build is None:
            if services:
                raise InputError(f"service {name!r} has no build: section (it uses an image)")
            continue
        targets.append(_build_target(project, service, build))
    return targets


def _build_target(project: ComposeProject, service: Service, build: YMap) -> BuildTarget:
    context = str(build.get("context") or ".")
    inline = build.get("dockerfile_inline")
    dockerfile = build.get("dockerfile")
    if dockerfile is None and inline is None:
        dockerfile = "Dockerfile"
    if isinstance(dockerfile, str) and not is_remote_context(context):
        dockerfile = _join(context, _expand_user(dockerfile))
    secrets = tuple(str(m.get("source")) for m in build.get("secrets") or [] if isinstance(m, dict))
    image = service.config.get("image")
    return BuildTarget(
        service=service.name,
        context=context,
        dockerfile=dockerfile if isinstance(dockerfile, str) else None,
        dockerfile_inline=inline if isinstance(inline, str) else None,
        target=build.get("target") if isinstance(build.get("target"), str) else None,
        args=_resolve_args(build.get("args"), project.environment),
        network=build.get("network") if isinstance(build.get("network"), str) else None,
        image=str(image) if image else f"{project.name}-{service.name}",
        cache_from=tuple(str(c) for c in build.get("cache_from") or []),
        secrets=secrets,
        location=service.where("build"),
    )


__all__ = [
    "DEFAULT_FILE_NAMES",
    "DEFAULT_OVERRIDE_FILE_NAMES",
    "build_targets",
    "find_compose_files",
    "load_project",
    "normalize_project_name",
]
