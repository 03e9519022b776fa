"""Structural validation of a compose file against the Compose specification.

Compose checks every file against the specification's JSON schema and refuses unknown keys and
wrongly typed values. This is the same check, written out for the keys Compose defines, so
that the error can name the file, line and column (and suggest the key that was probably
meant). Keys starting with `x-` are extensions and always allowed where the schema allows them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.yamlsource import Path, where
from layerwise.errors import Location


class Schema:
    def check(self, value: Any, path: Path, loc: Location | None) -> str | None:
        """An error message, or None when the value is valid."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass
class Scalar(Schema):
    kinds: tuple[str, ...]  # "string", "number", "integer", "boolean", "null"
    enum: tuple[str, ...] = ()

    def check(self, value: Any, path: Path, loc: Location | None) -> str | None:
        if not _is_kind(value, self.kinds):
            return f"{_dotted(path)} must be {self.describe()}"
        if self.enum and value not in self.enum:
            return f"{_dotted(path)} must be one of {', '.join(self.enum)}"
        return None

    def describe(self) -> str:
        return " or ".join(("a " if k != "null" else "") + k for k in self.kinds)


def _is_kind(value: Any, kinds: tuple[str, ...]) -> bool:
    for kind in kinds:
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
        if kind == "null" and value is None:
            return True
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
    return False


@dataclass
class Anything(Schema):
    def check(self, value: Any, path: Path, loc: Location | None) -> str | None:
        return None

    def describe(self) -> str:
        return "any value"


@dataclass
class Array(Schema):
    items: Schema = field(default_factory=Anything)
    unique: bool = False

    def check(self, value: Any, path: Path, loc: Location | None) -> str | None:
        if not isinstance(value, list):
            return f"{_dotted(path)} must be a list"
        for index, item in enumerate(value):
            problem = _check(self.items, item, (*path, str(index)), where(value, index))
            if problem:
                return problem
        if self.unique:
            seen: list[Any] = []
            for index, item in enumerate(value):
                if item in seen:
                    raise ComposeFileError(
                        f"{_dotted(path)} contains {item!r} more than once", where(value, index)
                    )
                seen.append(item)
        return None

    def describe(self) -> str:
        return "a list"


@dataclass
class Object(Schema):
    properties: dict[str, Schema] = field(default_factory=dict)
    additional: Schema | None = None  # schema for other keys; None: other keys not allowed
    required: tuple[str, ...] = ()
    extensions: bool = True  # x-* keys allowed
    nullable: bool = False

    def check(self, value: Any, path: Path, loc: Location | None) -> str | None:
        if value is None and self.nullable:
            return None
        if not isinstance(value, dict):
            return f"{_dotted(path)} must be a mapping"
        for key in self.required:
            if key not in value:
                raise ComposeFileError(f"{_dotted(path)}: {key!r} is required", loc)
        for key, item in value.items():
            item_path = (*path, key)
            schema = self.properties.get(key)
            if schema is None:
                if self.extensions and key.startswith("x-"):
                    continue
                if self.additional is None:
                    hint = difflib.get_close_matches(key, list(self.properties), n=1)
                    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                    raise ComposeFileError(
                        f"{_dotted(path) or 'top level'}: additional property {key!r} is "
                        f"not allowed{suggestion}",
                        where(value, key),
                    )
                schema = self.additional
            problem = _check(schema, item, item_path, _value_loc(value, key))
            if problem:
                return problem
        return None

    def describe(self) -> str:
        return "a mapping"


@dataclass
class OneOf(Schema):
    options: tuple[Schema, ...]

    def check(self, value: Any, path: Path, loc: Location | None) -> str | None:
        first: str | None = None
        for option in self.options:
            if _shape_fits(option, value):
                return option.check(value, path, loc)
        for option in self.options:
            problem = option.check(value, path, loc)
            if problem is None:
                return None
            first = first or problem
        kinds = " or ".join(o.describe() for o in self.options)
        return f"{_dotted(path)} must be {kinds}"

    def describe(self) -> str:
        return " or ".join(o.describe() for o in self.options)


def _shape_fits(schema: Schema, value: Any) -> bool:
    if isinstance(schema, Object):
        return isinstance(value, dict)
    if isinstance(schema, Array):
        return isinstance(value, list)
    return False


def _value_loc(container: Any, key: str) -> Location | None:
    value = container.get(key)
    return getattr(value, "loc", None) or where(container, key)


def _check(schema: Schema, value: Any, path: Path, loc: Location | None) -> str | None:
    problem = schema.check(value, path, loc)
    if problem:
        raise ComposeFileError(problem, loc)
    return None


def _dotted(path: Path) -> str:
    return ".".join(path)


STRING = Scalar(("string",))
BOOL_OR_STRING = Scalar(("boolean", "string"))
NUMBER_OR_STRING = Scalar(("number", "string"))
INT_OR_STRING = Scalar(("integer", "string"))
STRINGS = Array(STRING)
STRING_OR_LIST = OneOf((STRING, STRINGS))
LIST_OR_DICT = OneOf(
    (
        Object(additional=Scalar(("string", "number", "boolean", "null")), extensions=False),
        Array(STRING, unique=True),
    )
)
ANY_OBJECT = Object(additional=Anything())
NULLABLE_ANY_OBJECT = Object(additional=Anything(), nullable=True)
COMMAND = OneOf((Scalar(("null", "string")), STRINGS))
EXTRA_HOSTS = OneOf((Object(additional=OneOf((STRING, STRINGS)), extensions=False), STRINGS))
ULIMITS = Object(
    additional=OneOf(
        (
            INT_OR_STRING,
            Object({"hard": INT_OR_STRING, "soft": INT_OR_STRING}, required=("soft", "hard")),
        )
    ),
    extensions=False,
)
SERVICE_CONFIG_OR_SECRET = Array(
    OneOf(
        (
            STRING,
            Object(
                {
                    "source": STRING,
                    "target": STRING,
                    "uid": STRING,
                    "gid": STRING,
                    "mode": NUMBER_OR_STRING,
                }
            ),
        )
    )
)
SERVICE_HOOK = Object(
    {
        "command": COMMAND,
        "user": STRING,
        "privileged": BOOL_OR_STRING,
        "working_dir": STRING,
        "environment": LIST_OR_DICT,
    },
    required=("command",),
)

BUILD = OneOf(
    (
        STRING,
        Object(
            {
                "context": STRING,
                "dockerfile": STRING,
                "dockerfile_inline": STRING,
                "entitlements": STRINGS,
                "args": LIST_OR_DICT,
                "ssh": LIST_OR_DICT,
                "labels": LIST_OR_DICT,
                "cache_from": STRINGS,
                "cache_to": STRINGS,
                "no_cache": BOOL_OR_STRING,
                "additional_contexts": LIST_OR_DICT,
                "network": STRING,
                "pull": BOOL_OR_STRING,
                "target": STRING,
                "shm_size": INT_OR_STRING,
                "extra_hosts": EXTRA_HOSTS,
                "isolation": STRING,
                "privileged": BOOL_OR_STRING,
                "secrets": SERVICE_CONFIG_OR_SECRET,
                "tags": STRINGS,
                "ulimits": ULIMITS,
                "platforms": STRINGS,
            }
        ),
    )
)

DEVELOP = Object(
    {
        "watch": Array(
            Object(
                {
                    "ignore": STRINGS,
                    "path": STRING,
                    "action": Scalar(
                        ("string",), ("rebuild", "sync", "restart", "sync+restart", "sync+exec")
                    ),
                    "target": STRING,
                    "exec": SERVICE_HOOK,
                },
                required=("path", "action"),
            )
        )
    },
    nullable=True,
)

HEALTHCHECK = Object(
    {
        "disable": BOOL_OR_STRING,
        "interval": STRING,
        "retries": NUMBER_OR_STRING,
        "test": OneOf((STRING, STRINGS)),
        "timeout": STRING,
        "start_period": STRING,
        "start_interval": STRING,
    }
)

ENV_FILE = OneOf(
    (
        STRING,
        Array(
            OneOf(
                (
                    STRING,
                    Object(
                        {"path": STRING, "format": STRING, "required": BOOL_OR_STRING},
                        required=("path",),
                    ),
                )
            )
        ),
    )
)

SERVICE = Object(
    {
        "annotations": LIST_OR_DICT,
        "attach": BOOL_OR_STRING,
        "blkio_config": ANY_OBJECT,
        "build": BUILD,
        "cap_add": Array(STRING, unique=True),
        "cap_drop": Array(STRING, unique=True),
        "cgroup": Scalar(("string",), ("host", "private")),
        "cgroup_parent": STRING,
        "command": COMMAND,
        "configs": SERVICE_CONFIG_OR_SECRET,
        "container_name": STRING,
        "cpu_count": INT_OR_STRING,
        "cpu_percent": INT_OR_STRING,
        "cpu_period": NUMBER_OR_STRING,
        "cpu_quota": NUMBER_OR_STRING,
        "cpu_rt_period": NUMBER_OR_STRING,
        "cpu_rt_runtime": NUMBER_OR_STRING,
        "cpu_shares": NUMBER_OR_STRING,
        "cpus": NUMBER_OR_STRING,
        "cpuset": STRING,
        "credential_spec": ANY_OBJECT,
        "depends_on": OneOf(
            (
                Array(STRING, unique=True),
                Object(
                    additional=Object(
                        {
                            "restart": BOOL_OR_STRING,
                            "required": Scalar(("boolean",)),
                            "condition": Scalar(
                                ("string",),
                                (
                                    "service_started",
                                    "service_healthy",
                                    "service_completed_successfully",
                                ),
                            ),
                        },
                        required=("condition",),
                    ),
                    extensions=False,
                ),
            )
        ),
        "deploy": Object(additional=Anything(), nullable=True),
        "develop": DEVELOP,
        "device_cgroup_rules": STRINGS,
        "devices": Array(Anything()),
        "dns": STRING_OR_LIST,
        "dns_opt": Array(STRING, unique=True),
        "dns_search": STRING_OR_LIST,
        "domainname": STRING,
        "entrypoint": COMMAND,
        "env_file": ENV_FILE,
        "label_file": STRING_OR_LIST,
        "environment": LIST_OR_DICT,
        "expose": Array(Scalar(("string", "number")), unique=True),
        "extends": OneOf(
            (
                STRING,
                Object(
                    {"service": STRING, "file": STRING}, required=("service",), extensions=False
                ),
            )
        ),
        "external_links": Array(STRING, unique=True),
        "extra_hosts": EXTRA_HOSTS,
        "gpus": Anything(),
        "group_add": Array(Scalar(("string", "number")), unique=True),
        "healthcheck": HEALTHCHECK,
        "hostname": STRING,
        "image": STRING,
        "init": BOOL_OR_STRING,
        "ipc": STRING,
        "isolation": STRING,
        "labels": LIST_OR_DICT,
        "links": Array(STRING, unique=True),
        "logging": ANY_OBJECT,
        "mac_address": STRING,
        "mem_limit": NUMBER_OR_STRING,
        "mem_reservation": INT_OR_STRING,
        "mem_swappiness": INT_OR_STRING,
        "memswap_limit": NUMBER_OR_STRING,
        "network_mode": STRING,
        "networks": OneOf(
            (
                Array(STRING, unique=True),
                Object(additional=Object(additional=Anything(), nullable=True)),
            )
        ),
        "oom_kill_disable": BOOL_OR_STRING,
        "oom_score_adj": INT_OR_STRING,
        "pid": Scalar(("string", "null")),
        "pids_limit": NUMBER_OR_STRING,
        "platform": STRING,
        "ports": Array(Anything()),
        "post_start": Array(SERVICE_HOOK),
        "pre_stop": Array(SERVICE_HOOK),
        "privileged": BOOL_OR_STRING,
        "profiles": Array(STRING, unique=True),
        "pull_policy": Scalar(
            ("string",), ("always", "never", "if_not_present", "build", "missing")
        ),
        "read_only": BOOL_OR_STRING,
        "restart": STRING,
        "runtime": STRING,
        "scale": INT_OR_STRING,
        "security_opt": Array(STRING, unique=True),
        "shm_size": NUMBER_OR_STRING,
        "secrets": SERVICE_CONFIG_OR_SECRET,
        "sysctls": LIST_OR_DICT,
        "stdin_open": BOOL_OR_STRING,
        "stop_grace_period": STRING,
        "stop_signal": STRING,
        "storage_opt": ANY_OBJECT,
        "tmpfs": STRING_OR_LIST,
        "tty": BOOL_OR_STRING,
        "ulimits": ULIMITS,
        "user": STRING,
        "uts": STRING,
        "userns_mode": STRING,
        "volumes": Array(
            OneOf(
                (
                    STRING,
                    Object(
                        {
                            "type": STRING,
                            "source": STRING,
                            "target": STRING,
                            "read_only": BOOL_OR_STRING,
                            "consistency": STRING,
                            "bind": ANY_OBJECT,
                            "volume": ANY_OBJECT,
                            "tmpfs": ANY_OBJECT,
                            "image": ANY_OBJECT,
                        },
                        required=("type",),
                    ),
                )
            )
        ),
        "volumes_from": Array(STRING, unique=True),
        "working_dir": STRING,
    }
)

INCLUDE = Array(
    OneOf(
        (
            STRING,
            Object(
                {"path": STRING_OR_LIST, "env_file": STRING_OR_LIST, "project_directory": STRING},
                extensions=False,
            ),
        )
    )
)

TOP_LEVEL = Object(
    {
        "version": STRING,
        "name": STRING,
        "include": INCLUDE,
        "services": Object(additional=SERVICE, extensions=False),
        "networks": Object(additional=NULLABLE_ANY_OBJECT),
        "volumes": Object(additional=NULLABLE_ANY_OBJECT),
        "secrets": Object(additional=ANY_OBJECT),
        "configs": Object(additional=ANY_OBJECT),
    }
)


def validate_document(document: Any, path: str) -> None:
    """Raise ComposeFileError (file:line:col) where a compose document breaks the spec."""
    if not isinstance(document, dict):
        raise ComposeFileError(
            "top-level object must be a mapping",
            getattr(document, "loc", None) or Location(path, 1, 1),
        )
    _check(TOP_LEVEL, document, (), getattr(document, "loc", None))
