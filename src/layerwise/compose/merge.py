"""How Compose merges files and `extends`, and the canonical forms it brings values into.

The rules are the Compose specification's (and compose-go's, which Docker Compose v2 runs):

- mappings merge key by key; a scalar in the later file replaces the earlier one;
- sequences are appended, except `command`, `entrypoint` and `healthcheck.test`, which are
  replaced;
- `build` given as a string means `{context: <string>}` before merging;
- `environment`, `labels`, `build.args` and the like (list or mapping) are merged as
  `KEY=VALUE` lists, and then one entry per key is kept, the later value in the earlier place;
- `volumes` keep one mount per target, `ports` and `secrets` one per published port or target.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Callable
from typing import Any

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.interpolate import path_matches
from layerwise.compose.yamlsource import Path, YList, YMap, where


def go_sprint(value: Any) -> str:
    """Go's fmt.Sprint of a decoded YAML scalar (how Compose turns numbers into strings)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{go_sprint(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    return str(value)


def go_float(value: float) -> str:
    """Go's %v for a float64 (strconv.FormatFloat(v, 'g', -1, 64)): the shortest digits that
    round-trip, in exponent form when the exponent is below -4 or at least 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    digits, exponent = _shortest(abs(value))
    sign = "-" if value < 0 else ""
    point = exponent  # position of the decimal point relative to the digits
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest(value: float) -> tuple[str, int]:
    # repr gives the shortest round-tripping digits, as Go's 'g' with precision -1 does.
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    exp = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + exp
    if whole == "0" or whole.strip("0") == "":
        stripped = frac.lstrip("0")
        point = exp - (len(frac) - len(stripped))
        digits = stripped
    digits = digits.rstrip("0") or "0"
    return digits, point


Merger = Callable[[Any, Any, Path], Any]


def _override(_base: Any, other: Any, _path: Path) -> Any:
    return other


def _to_sequence(value: Any) -> YList:
    if isinstance(value, dict):
        items: list[str] = []
        for key, item in value.items():
            if item is None:
                items.append(key)
            elif isinstance(item, list):
                items.extend(f"{key}={go_sprint(v)}" for v in item)
            else:
                items.append(f"{key}={go_sprint(item)}")
        items.sort()
        out = YList(items, loc=getattr(value, "loc", None))
        out.item_locs = [where(value, i.split("=", 1)[0]) for i in items]
        return out
    if isinstance(value, list):
        if isinstance(value, YList):
            return value
        return YList(value)
    if isinstance(value, str):
        return YList([value])
    return YList()


def _merge_to_sequence(base: Any, other: Any, _path: Path) -> Any:
    left, right = _to_sequence(base), _to_sequence(other)
    out = YList(left, loc=left.loc or right.loc)
    out.item_locs = _item_locs(left) + _item_locs(right)
    out.extend(right)
    return out


def _merge_extra_hosts(base: Any, other: Any, _path: Path) -> Any:
    left, right = _to_sequence(base), _to_sequence(other)
    out = YList(left, loc=left.loc)
    out.item_locs = _item_locs(left)
    for index, item in enumerate(right):
        if item not in left:
            out.append(item)
            out.item_locs.append(right.where(index))
    return out


def _item_locs(seq: list[Any]) -> list[Any]:
    if isinstance(seq, YList) and len(seq.item_locs) == len(seq):
        return list(seq.item_locs)
    return [getattr(seq, "loc", None)] * len(seq)


def _to_mapping(value: Any, default: dict[str, Any] | None) -> YMap:
    if isinstance(value, dict):
        if isinstance(value, YMap):
            return value
        return YMap(value)
    out = YMap(loc=getattr(value, "loc", None))
    if isinstance(value, list):
        for index, item in enumerate(value):
            key = str(item)
            out[key] = None if default is None else dict(default)
            loc = where(value, index)
            if loc is not None:
                out.key_locs[key] = loc
    return out


def _merge_depends_on(base: Any, other: Any, path: Path) -> Any:
    default = {"condition": "service_started", "required": True}
    return merge_mappings(_to_mapping(base, default), _to_mapping(other, default), path)


def _merge_networks(base: Any, other: Any, path: Path) -> Any:
    return merge_mappings(_to_mapping(base, None), _to_mapping(other, None), path)


def _merge_build(base: Any, other: Any, path: Path) -> Any:
    def as_mapping(value: Any, container_loc: Any) -> YMap:
        if isinstance(value, str):
            out = YMap(loc=container_loc)
            out["context"] = value
            if container_loc is not None:
                out.key_locs["context"] = container_loc
            return out
        if isinstance(value, YMap):
            return value
        if isinstance(value, dict):
            return YMap(value)
        return YMap()

    return merge_mappings(as_mapping(base, None), as_mapping(other, None), path)


def _merge_logging(base: Any, other: Any, path: Path) -> Any:
    if not isinstance(base, dict) or not isinstance(other, dict):
        return other
    if "driver" not in other or "driver" not in base or other["driver"] == base["driver"]:
        return merge_mappings(_to_mapping(base, None), _to_mapping(other, None), path)
    return other


def _merge_ulimit(base: Any, other: Any, path: Path) -> Any:
    # compose-go merges the override with itself here, so the override wins whole.
    return other


_SPECIALS: list[tuple[Path, Merger]] = [
    (("networks", "*", "labels"), _merge_to_sequence),
    (("volumes", "*", "labels"), _merge_to_sequence),
    (("services", "*", "annotations"), _merge_to_sequence),
    (("services", "*", "build"), _merge_build),
    (("services", "*", "build", "args"), _merge_to_sequence),
    (("services", "*", "build", "additional_contexts"), _merge_to_sequence),
    (("services", "*", "build", "extra_hosts"), _merge_extra_hosts),
    (("services", "*", "build", "labels"), _merge_to_sequence),
    (("services", "*", "command"), _override),
    (("services", "*", "depends_on"), _merge_depends_on),
    (("services", "*", "deploy", "labels"), _merge_to_sequence),
    (("services", "*", "dns"), _merge_to_sequence),
    (("services", "*", "dns_opt"), _merge_to_sequence),
    (("services", "*", "dns_search"), _merge_to_sequence),
    (("services", "*", "entrypoint"), _override),
    (("services", "*", "env_file"), _merge_to_sequence),
    (("services", "*", "label_file"), _merge_to_sequence),
    (("services", "*", "environment"), _merge_to_sequence),
    (("services", "*", "extra_hosts"), _merge_extra_hosts),
    (("services", "*", "healthcheck", "test"), _override),
    (("services", "*", "labels"), _merge_to_sequence),
    (("services", "*", "logging"), _merge_logging),
    (("services", "*", "networks"), _merge_networks),
    (("services", "*", "sysctls"), _merge_to_sequence),
    (("services", "*", "tmpfs"), _merge_to_sequence),
    (("services", "*", "ulimits", "*"), _merge_ulimit),
]


def _special(path: Path) -> Merger | None:
    for pattern, merger in _SPECIALS:
        if path_matches(path, pattern):
            return merger
    return None


def merge_values(base: Any, other: Any, path: Path) -> Any:
    """Merge `other` (the later file, or the extending service) over `base`."""
    merger = _special(path)
    if merger is not None:
        return merger(base, other, path)
    if other is None:
        return base
    if isinstance(base, dict):
        if not isinstance(other, dict):
            raise ComposeFileError(
                f"cannot override {'.'.join(path)}: a mapping cannot be replaced by "
                f"a {type(other).__name__}",
                getattr(other, "loc", None),
            )
        return merge_mappings(_to_mapping(base, None), _to_mapping(other, None), path)
    if isinstance(base, list):
        if not isinstance(other, list):
            raise ComposeFileError(
                f"cannot override {'.'.join(path)}: a list cannot be replaced by "
                f"a {type(other).__name__}",
                getattr(other, "loc", None),
            )
        out = YList(base, loc=getattr(base, "loc", None))
        out.item_locs = _item_locs(base) + _item_locs(other)
        out.extend(other)
        return out
    return other


def merge_mappings(base: YMap, other: YMap, path: Path) -> YMap:
    for key, value in other.items():
        if key not in base or key.startswith("x-"):
            base[key] = value
        else:
            base[key] = merge_values(base[key], value, (*path, key))
        loc = other.key_locs.get(key)
        if loc is not None:
            base.key_locs[key] = loc
    return base


def merge(base: YMap, other: YMap) -> YMap:
    """Merge a whole compose file over the files before it."""
    return merge_mappings(base, other, ())


def extend_service(base: YMap, service: YMap) -> YMap:
    """A service that `extends` another: the base with the service merged over it."""
    return merge_mappings(base, service, ("services", "x"))


def delete_path(tree: Any, target: Path) -> None:
    """Remove the value at `target` (compose's `!reset` / `!override` on earlier files)."""
    _delete(tree, (), target)


def _delete(node: Any, path: Path, target: Path) -> None:
    if isinstance(node, dict):
        for key in list(node):
            child = (*path, key)
            if path_matches(child, target):
                del node[key]
                if isinstance(node, YMap):
                    node.key_locs.pop(key, None)
                continue
            _delete(node[key], child, target)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _delete(item, (*path, f"[{index}]"), target)


# --- one entry per key ("unicity") -------------------------------------------------------


def parse_volume(spec: str) -> dict[str, Any]:
    """A short volume syntax (`SRC:DST[:MODE]`) in its long form, as Compose parses it."""
    volume: dict[str, Any] = {}
    if not spec:
        raise ValueError("invalid empty volume spec")
    if len(spec) <= 2:
        return {"type": "volume", "target": spec}
    fields: list[str] = []
    buffer = ""
    for char in [*spec, None]:
        if char == ":" and len(buffer) == 1 and buffer.isalpha():
            buffer += char  # a Windows drive letter
            continue
        if char == ":" or char is None:
            if not buffer:
                raise ValueError(f"invalid spec: {spec}: empty section between colons")
            if len(fields) == 2 and char == ":":
                raise ValueError(f"invalid spec: {spec}: too many colons")
            fields.append(buffer)
            buffer = ""
            continue
        buffer += char
    if len(fields) == 1:
        volume["target"] = fields[0]
    else:
        volume["source"], volume["target"] = fields[0], fields[1]
    if len(fields) == 3:
        for option in fields[2].split(","):
            if option == "ro":
                volume["read_only"] = True
            elif option == "rw":
                volume["read_only"] = False
            elif option == "nocopy":
                volume["volume"] = {"nocopy": True}
            elif option in ("rprivate", "private", "rshared", "shared", "rslave", "slave"):
                volume.setdefault("bind", {})["propagation"] = option
            elif option in ("z", "Z"):
                volume.setdefault("bind", {})["selinux"] = option
    source = volume.get("source", "")
    if _is_file_path(source):
        volume["type"] = "bind"
        volume.setdefault("bind", {})["create_host_path"] = True
    else:
        volume["type"] = "volume"
    return volume


def _is_file_path(source: str) -> bool:
    if not source:
        return False
    if source[0] in "./~" or source.startswith("\\\\"):
        return True
    return len(source) > 1 and source[0].isalpha() and source[1] == ":"


Indexer = Callable[[Any, Path], str]


def _key_value_indexer(value: Any, path: Path) -> str:
    if isinstance(value, str):
        return value.split("=", 1)[0]
    raise ComposeFileError(f"{'.'.join(path)}: unexpected type {type(value).__name__}")


def _volume_indexer(value: Any, path: Path) -> str:
    if isinstance(value, dict):
        target = value.get("target")
        if not isinstance(target, str):
            raise ComposeFileError(f"service volume {'.'.join(path)} is missing a mount target")
        return target
    if isinstance(value, str):
        try:
            return str(parse_volume(value).get("target", ""))
        except ValueError as exc:
            raise ComposeFileError(str(exc)) from None
    return ""


def _expose_indexer(value: Any, path: Path) -> str:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    raise ComposeFileError(f"{'.'.join(path)}: unsupported expose value {value!r}")


def _mount_indexer(default: str) -> Indexer:
    def index(value: Any, path: Path) -> str:
        if isinstance(value, str):
            return f"{default}/{value}"
        if isinstance(value, dict):
            if "target" in value:
                return str(value["target"])
            return f"{default}/{value.get('source')}"
        raise ComposeFileError(f"{'.'.join(path)}: unsupported value {value!r}")

    return index


def _port_indexer(value: Any, path: Path) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        if "target" not in value:
            raise ComposeFileError(f"service ports {'.'.join(path)} is missing a target port")
        return (
            f"{value.get('host_ip', '0.0.0.0')}:{value.get('published')}:{value['target']}/"
            f"{value.get('protocol', 'tcp')}"
        )
    if isinstance(value, str):
        return value
    return ""


def _env_file_indexer(value: Any, path: Path) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "path" in value:
            return str(value["path"])
        raise ComposeFileError(f"environment path attribute {'.'.join(path)} is missing")
    return ""


_UNIQUE: list[tuple[Path, Indexer]] = [
    (("networks", "*", "labels"), _key_value_indexer),
    (("networks", "*", "ipam", "options"), _key_value_indexer),
    (("services", "*", "annotations"), _key_value_indexer),
    (("services", "*", "build", "args"), _key_value_indexer),
    (("services", "*", "build", "additional_contexts"), _key_value_indexer),
    (("services", "*", "build", "extra_hosts"), _key_value_indexer),
    (("services", "*", "build", "platform"), _key_value_indexer),
    (("services", "*", "build", "tags"), _key_value_indexer),
    (("services", "*", "build", "labels"), _key_value_indexer),
    (("services", "*", "cap_add"), _key_value_indexer),
    (("services", "*", "cap_drop"), _key_value_indexer),
    (("services", "*", "devices"), _volume_indexer),
    (("services", "*", "configs"), _mount_indexer("")),
    (("services", "*", "deploy", "labels"), _key_value_indexer),
    (("services", "*", "dns"), _key_value_indexer),
    (("services", "*", "dns_opt"), _key_value_indexer),
    (("services", "*", "dns_search"), _key_value_indexer),
    (("services", "*", "environment"), _key_value_indexer),
    (("services", "*", "env_file"), _env_file_indexer),
    (("services", "*", "expose"), _expose_indexer),
    (("services", "*", "extra_hosts"), _key_value_indexer),
    (("services", "*", "labels"), _key_value_indexer),
    (("services", "*", "links"), _key_value_indexer),
    (("services", "*", "networks", "*", "aliases"), _key_value_indexer),
    (("services", "*", "networks", "*", "link_local_ips"), _key_value_indexer),
    (("services", "*", "ports"), _port_indexer),
    (("services", "*", "profiles"), _key_value_indexer),
    (("services", "*", "secrets"), _mount_indexer("/run/secrets")),
    (("services", "*", "sysctls"), _key_value_indexer),
    (("services", "*", "tmpfs"), _key_value_indexer),
    (("services", "*", "volumes"), _volume_indexer),
]


def enforce_unicity(tree: Any, path: Path = ()) -> Any:
    """Keep one entry per key in the sequences where Compose does (the later value, in the
    place of the first)."""
    if isinstance(tree, dict):
        for key in list(tree):
            tree[key] = enforce_unicity(tree[key], (*path, key))
        return tree
    if isinstance(tree, list):
        for pattern, indexer in _UNIQUE:
            if path_matches(path, pattern):
                out = YList(loc=getattr(tree, "loc", None))
                seen: dict[str, int] = {}
                for index, entry in enumerate(tree):
                    key = indexer(entry, (*path, f"[{index}]"))
                    if key in seen:
                        out[seen[key]] = entry
                        out.item_locs[seen[key]] = where(tree, index)
                    else:
                        seen[key] = len(out)
                        out.append(entry)
                        out.item_locs.append(where(tree, index))
                return out
    return tree


# --- canonical forms ----------------------------------------------------------------------


def _keyed(value: Any, key: str) -> YMap:
    out = YMap(loc=getattr(value, "loc", None))
    out[key] = value
    return out


def canonical(tree: YMap) -> YMap:
    """The long forms Compose brings a merged model into (`build: .` -> `{context: .}`,
    `extends: svc` -> `{service: svc}`, short volume syntax -> mapping, ...)."""
    services = tree.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            if isinstance(service, dict):
                _canonical_service(service, ("services", name))
    return tree


def _canonical_service(service: dict[str, Any], path: Path) -> None:
    build = service.get("build")
    if isinstance(build, str):
        out = YMap(loc=where(service, "build"))
        out["context"] = build
        loc = where(service, "build")
        if loc is not None:
            out.key_locs["context"] = loc
        service["build"] = out
    elif build is not None and not isinstance(build, dict):
        raise ComposeFileError(
            f"{'.'.join((*path, 'build'))}: invalid type {type(build).__name__} for build",
            where(service, "build"),
        )
    build = service.get("build")
    if isinstance(build, dict):
        if isinstance(build.get("secrets"), list):
            build["secrets"] = _file_mounts(build["secrets"], (*path, "build", "secrets"))
        contexts = build.get("additional_contexts")
        if isinstance(contexts, list):
            build["additional_contexts"] = _key_values(contexts, (*path, "additional_contexts"))
    extends = service.get("extends")
    if isinstance(extends, str):
        service["extends"] = _keyed(extends, "service")
    networks = service.get("networks")
    if isinstance(networks, list):
        service["networks"] = _to_mapping(networks, None)
    depends_on = service.get("depends_on")
    if isinstance(depends_on, list):
        mapping = _to_mapping(depends_on, None)
        for key in mapping:
            mapping[key] = {"condition": "service_started", "required": True}
        service["depends_on"] = mapping
    elif isinstance(depends_on, dict):
        for value in depends_on.values():
            if isinstance(value, dict):
                value.setdefault("required", True)
    env_file = service.get("env_file")
    if isinstance(env_file, str):
        env_file = YList([env_file], loc=where(service, "env_file"))
    if isinstance(env_file, list):
        files = YList(loc=getattr(env_file, "loc", None))
        for index, entry in enumerate(env_file):
            files.append({"path": entry, "required": True} if isinstance(entry, str) else entry)
            files.item_locs.append(where(env_file, index))
        service["env_file"] = files
    volumes = service.get("volumes")
    if isinstance(volumes, list):
        mounts = YList(loc=getattr(volumes, "loc", None))
        for index, entry in enumerate(volumes):
            if isinstance(entry, str):
                try:
                    volume = parse_volume(entry)
                except ValueError as exc:
                    raise ComposeFileError(str(exc), where(volumes, index)) from None
                if volume.get("target"):
                    volume["target"] = posixpath.normpath(volume["target"])
                entry = volume
            mounts.append(entry)
            mounts.item_locs.append(where(volumes, index))
        service["volumes"] = mounts
    for key in ("secrets", "configs"):
        if isinstance(service.get(key), list):
            service[key] = _file_mounts(service[key], (*path, key))


def _file_mounts(entries: list[Any], path: Path) -> YList:
    out = YList(loc=getattr(entries, "loc", None))
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"source": entry}
        elif not isinstance(entry, dict):
            raise ComposeFileError(
                f"{'.'.join(path)}: unsupported type {type(entry).__name__}",
                where(entries, index),
            )
        out.append(entry)
        out.item_locs.append(where(entries, index))
    return out


def _key_values(entries: list[Any], path: Path) -> YMap:
    out = YMap(loc=getattr(entries, "loc", None))
    for index, entry in enumerate(entries):
        key, sep, value = str(entry).partition("=")
        if not sep:
            raise ComposeFileError(
                f"{'.'.join(path)}: invalid value {entry!r}, expected key=value",
                where(entries, index),
            )
        out[key] = value
        loc = where(entries, index)
        if loc is not None:
            out.key_locs[key] = loc
    return out
