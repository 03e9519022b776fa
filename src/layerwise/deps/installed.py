"""Installed distributions, read from an image's final filesystem or from a local
environment, each with what it costs (bytes and files), the modules it provides, its
console scripts, and what it requires.

Both sources go through `importlib.metadata`: an image's dist-info files are wrapped in a
`Distribution` whose `read_text` reads the captured layer contents, so METADATA, RECORD,
`top_level.txt` and `entry_points.txt` are parsed exactly as Python itself parses them.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement

from layerwise.deps.names import canonical
from layerwise.image.fs import FileSystem
from layerwise.image.packages import python_distributions
from layerwise.image.packages import wants_content as package_content
from layerwise.image.source import ImageMeta, open_image

_SKIP_TOP = frozenset({"__pycache__", "..", "", "bin", "share", "include", "etc"})


@dataclass
class InstalledDist:
    name: str
    version: str
    location: str  # the directory holding its dist-info
    bytes: int
    files: int
    modules: frozenset[str]  # top-level import names
    requires: tuple[str, ...]  # Requires-Dist as written
    scripts: dict[str, str] = field(default_factory=dict)  # console script -> "module:attr"
    entry_points: tuple[tuple[str, str, str], ...] = ()  # (group, name, value)

    @property
    def key(self) -> str:
        return canonical(self.name)


@dataclass
class Environment:
    """What is installed where the service runs."""

    source: str  # "image" or "venv"
    reference: str
    dists: dict[str, InstalledDist]  # canonical name -> distribution
    python_version: str = "3.11"
    machine: str = "x86_64"

    def by_module(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, dist in sorted(self.dists.items()):
            for module in dist.modules:
                out.setdefault(module, []).append(key)
        return out

    def by_script(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, dist in sorted(self.dists.items()):
            for script in dist.scripts:
                out.setdefault(script, key)
        return out

    def marker_env(self, extra: str = "") -> dict[str, str]:
        return {
            "python_version": self.python_version,
            "python_full_version": self.python_version + ".0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": self.machine,
            "extra": extra,
        }

    def requirements_of(self, key: str, extras: Iterable[str] = ()) -> list[str]:
        """The installed distributions that `key` (with these extras) requires here."""
        dist = self.dists.get(key)
        if dist is None:
            return []
        out = []
        for raw in dist.requires:
            try:
                req = Requirement(raw)
            except InvalidRequirement:
                continue
            if req.marker is not None and not _applies(req.marker, self, extras):
                continue
            dep = canonical(req.name)
            if dep in self.dists and dep != key:
                out.append(dep)
                # `pkg[extra]` requirements pull in the extra's requirements as well
                for sub in self.requirements_of(dep, req.extras) if req.extras else []:
                    if sub != key:
                        out.append(sub)
        return list(dict.fromkeys(out))


def _applies(marker: Marker, env: Environment, extras: Iterable[str]) -> bool:
    try:
        if marker.evaluate(env.marker_env("")):
            return True
        return any(marker.evaluate(env.marker_env(e)) for e in extras)
    except Exception:
        return True


def modules_from_record(files: Iterable[str]) -> set[str]:
    """Top-level import names from the files a distribution installed (RECORD paths relative
    to its site directory). For a namespace package (a top directory without `__init__.py`,
    such as `google`), the two-level names (`google.protobuf`) are given as well, so that an
    import is matched to the distribution that really provides it."""
    out: set[str] = set()
    paths = [rel.split("/") for rel in files]
    packages = {p[0] for p in paths if len(p) == 2 and p[1] == "__init__.py"}
    for parts in paths:
        if (
            len(parts) >= 3
            and parts[0].isidentifier()
            and parts[0] not in packages
            and (parts[1].isidentifier() or parts[1].endswith(".py"))
        ):
            out.add(f"{parts[0]}.{parts[1].removesuffix('.py')}")
    for parts in paths:
        head = parts[0]
        if head in _SKIP_TOP or head.endswith((".dist-info", ".egg-info", ".data", ".pth")):
            continue
        if len(parts) == 1:
            if head.endswith(".py"):
                out.add(head[:-3])
            elif ".so" in head or head.endswith(".pyd"):
                out.add(head.split(".", 1)[0])
            continue
        if head.endswith(".libs"):  # bundled shared libraries (numpy.libs), not a module
            continue
        if head.isidentifier():
            out.add(head)
    return out


def _parse_scripts(eps: Iterable[md.EntryPoint]) -> dict[str, str]:
    return {ep.name: ep.value for ep in eps if ep.group in ("console_scripts", "gui_scripts")}


class _ImageDistribution(md.Distribution):
    """A distribution inside an image, read through the image's captured file contents."""

    def __init__(self, fs: FileSystem, info_dir: str) -> None:
        self._fs = fs
        self._dir = info_dir

    def read_text(self, filename: str) -> str | None:
        data = self._fs.content(f"{self._dir}/{filename}")
        return data.decode("utf-8", "replace") if data is not None else None

    def locate_file(self, path: str | os.PathLike[str]) -> Any:
        return Path("/" + posixpath.join(posixpath.dirname(self._dir), str(path)))


def _capture(path: str) -> int | None:
    if path.endswith(".dist-info/METADATA"):
        return 1 << 20  # long license headers can push Requires-Dist past a small window
    if path.endswith((".dist-info/top_level.txt", ".dist-info/entry_points.txt")):
        return 1 << 20
    return package_content(path)


_PYDIR = re.compile(r"python(\d+\.\d+)")
_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l"}


def image_environment(spec: str, *, kind: str = "auto", platform: str | None = None) -> Environment:
    """Every Python distribution in the final filesystem of an image (a reference in the local
    engine, a `docker save` tarball or an OCI layout), with the bytes it occupies there."""
    meta, layers, close = open_image(spec, kind=kind, capture=_capture, platform=platform)
    try:
        fs = FileSystem()
        for index, scan in enumerate(layers):
            fs.apply(index, scan)
    finally:
        close()
    return environment_from_filesystem(fs, meta)


def environment_from_filesystem(fs: FileSystem, meta: ImageMeta | None = None) -> Environment:
    dists: dict[str, InstalledDist] = {}
    versions: dict[str, int] = {}
    for sized in python_distributions(fs):
        info_dir = _info_dir(fs, sized.location, sized.name, sized.version)
        if info_dir is None:
            continue
        dist = _ImageDistribution(fs, info_dir)
        files = [str(f) for f in dist.files or ()]
        top = dist.read_text("top_level.txt")
        modules = modules_from_record(files) | {
            line.strip() for line in (top or "").splitlines() if line.strip().isidentifier()
        }
        requires = tuple(dist.requires or ())
        try:
            eps = tuple(dist.entry_points)
        except Exception:
            eps = ()
        installed = InstalledDist(
            sized.name,
            sized.version,
            sized.location,
            sized.bytes,
            sized.files,
            frozenset(modules),
            requires,
            _parse_scripts(eps),
            tuple((ep.group, ep.name, ep.value) for ep in eps),
        )
        key = installed.key
        # Two copies of one distribution (a venv and the system): the larger one is kept.
        if key not in dists or installed.bytes > dists[key].bytes:
            dists[key] = installed
        m = _PYDIR.search(sized.location)
        if m:
            versions[m.group(1)] = versions.get(m.group(1), 0) + 1
    python = max(versions, key=lambda v: versions[v]) if versions else "3.11"
    arch = str(meta.config.get("architecture", "amd64")) if meta is not None else "amd64"
    reference = meta.reference if meta is not None else "filesystem"
    return Environment("image", reference, dists, python, _ARCH.get(arch, arch))


def _info_dir(fs: FileSystem, location: str, name: str, version: str) -> str | None:
    base = location.strip("/")
    node = fs.get(base)
    if node is None or node.children is None:
        return None
    want = canonical(name)
    for child in node.children:
        if not child.endswith(".dist-info"):
            continue
        stem = child[: -len(".dist-info")]
        cname, _, cversion = stem.rpartition("-")
        if canonical(cname) == want and (cversion == version or not version):
            return f"{base}/{child}"
    for child in node.children:
        if child.endswith(".dist-info") and canonical(child.split("-", 1)[0]) == want:
            return f"{base}/{child}"
    return None


def venv_environment(path: str | Path) -> Environment:
    """The distributions of a local virtual environment (or a site-packages directory), with
    the bytes their RECORD files occupy on disk."""
    root = Path(path)
    sites: list[Path] = []
    if root.name in ("site-packages", "dist-packages"):
        sites = [root]
    else:
        sites = sorted(root.glob("lib/python*/site-packages")) + sorted(
            root.glob("Lib/site-packages")
        )
    if not sites:
        from layerwise.errors import InputError

        raise InputError(f"{path}: no site-packages found (give a virtual environment)")
    dists: dict[str, InstalledDist] = {}
    for dist in md.distributions(path=[str(s) for s in sites]):
        name = dist.metadata["Name"] or ""
        if not name:
            continue
        files = list(dist.files or ())
        total = count = 0
        for f in files:
            located = Path(str(dist.locate_file(f)))
            try:
                st = located.lstat()
            except OSError:
                continue
            if located.is_file():
                total += st.st_size
                count += 1
        top = dist.read_text("top_level.txt") or ""
        modules = modules_from_record(str(f) for f in files) | {
            x.strip() for x in top.splitlines() if x.strip().isidentifier()
        }
        eps = tuple(dist.entry_points)
        location = str(Path(str(dist.locate_file(""))))
        d = InstalledDist(
            name, dist.version, location, total, count, frozenset(modules),
            tuple(dist.requires or ()), _parse_scripts(eps),
            tuple((ep.group, ep.name, ep.value) for ep in eps),
        )  # fmt: skip
        dists.setdefault(d.key, d)
    m = _PYDIR.search(str(sites[0]))
    return Environment("venv", str(root), dists, m.group(1) if m else "3.11")
