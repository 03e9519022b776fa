"""Installed Debian packages and Python distributions, and the bytes each really occupies in
the final filesystem.

Debian: `/var/lib/dpkg/status` (or distroless' `status.d/`) names the installed packages;
`/var/lib/dpkg/info/<package>.list` lists their files. Python: every `*.dist-info` directory
(its METADATA for name and version, its RECORD for the files, relative to the directory that
holds it). Bytes are summed from the files as they are in the final image, so a file a later
layer deleted costs nothing and a hard link is counted once.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from dataclasses import dataclass

from layerwise.image.fs import FileSystem
from layerwise.image.layer import FILE

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d/"
DPKG_INFO = "var/lib/dpkg/info/"


@dataclass(frozen=True)
class DebianPackage:
    name: str
    version: str
    architecture: str
    installed_size: int  # bytes dpkg declares (Installed-Size, KiB * 1024)
    bytes: int  # bytes of its files present in the final filesystem
    files: int  # its regular files present in the final filesystem
    source: str = ""  # the source package, when dpkg names one

    @property
    def is_dev(self) -> bool:
        return self.name.endswith("-dev") or self.name in BUILD_PACKAGES


@dataclass(frozen=True)
class PythonDistribution:
    name: str
    version: str
    location: str  # the directory that holds its .dist-info, e.g. /usr/local/lib/python3.11/…
    bytes: int
    files: int

    @property
    def key(self) -> str:
        return canonical_name(self.name)


# Packages that exist only to compile things.
BUILD_PACKAGES = frozenset(
    {
        "build-essential", "gcc", "g++", "make", "cpp", "binutils", "cmake", "autoconf",
        "automake", "libtool", "pkg-config", "pkgconf", "dpkg-dev", "clang", "llvm",
        "gfortran", "ninja-build", "meson", "bison", "flex", "patch",
    }
)  # fmt: skip
_VERSIONED_BUILD = re.compile(r"^(gcc|g\+\+|cpp|clang|llvm|gfortran)-\d+(\.\d+)*$")


def is_build_package(name: str) -> bool:
    return name.endswith("-dev") or name in BUILD_PACKAGES or bool(_VERSIONED_BUILD.match(name))


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _stanzas(text: str) -> list[dict[str, str]]:
    result = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t"):
                if key is not None:
                    fields[key] += "\n" + line.strip()
                continue
            key, sep, value = line.partition(":")
            if not sep:
                key = None
                continue
            fields[key] = value.strip()
        if fields.get("Package"):
            result.append(fields)
    return result


def _list_bytes(fs: FileSystem, listing: bytes) -> tuple[int, int]:
    total = files = 0
    for raw in listing.decode("utf-8", "replace").splitlines():
        path = raw.strip().lstrip("/")
        if not path or path == ".":
            continue
        node = fs.get(path)
        if node is not None and node.kind == FILE:
            total += node.size
            files += 1
    return total, files


def debian_packages(fs: FileSystem) -> list[DebianPackage]:
    """Installed Debian packages, largest first by bytes in the image."""
    texts = []
    status = fs.content(DPKG_STATUS)
    if status is not None:
        texts.append(status.decode("utf-8", "replace"))
    for path in list(fs.contents):
        if path.startswith(DPKG_STATUS_D) and fs.content(path) is not None:
            texts.append((fs.content(path) or b"").decode("utf-8", "replace"))
    packages = []
    seen = set()
    for text in texts:
        for fields in _stanzas(text):
            status_field = fields.get("Status", "install ok installed")
            if not status_field.endswith(" installed"):
                continue
            name = fields["Package"]
            arch = fields.get("Architecture", "")
            if (name, arch) in seen:
                continue
            seen.add((name, arch))
            listing = fs.content(f"{DPKG_INFO}{name}:{arch}.list") or fs.content(
                f"{DPKG_INFO}{name}.list"
            )
            size, files = _list_bytes(fs, listing) if listing is not None else (0, 0)
            try:
                declared = int(fields.get("Installed-Size", "0").split()[0]) * 1024
            except (ValueError, IndexError):
                declared = 0
            source = fields.get("Source", "").split(" ")[0]
            packages.append(
                DebianPackage(name, fields.get("Version", ""), arch, declared, size, files, source)
            )
    packages.sort(key=lambda p: (-p.bytes, p.name))
    return packages


def _metadata(text: str) -> tuple[str, str]:
    name = version = ""
    for line in text.splitlines():
        if not line.strip():
            break  # headers end at the first blank line; the description follows
        key, _, value = line.partition(":")
        if key.lower() == "name" and not name:
            name = value.strip()
        elif key.lower() == "version" and not version:
            version = value.strip()
    return name, version


def python_distributions(fs: FileSystem) -> list[PythonDistribution]:
    """Installed Python distributions (`*.dist-info`), largest first by bytes in the image."""
    result = []
    for path in sorted(fs.contents):
        if not path.endswith(".dist-info/RECORD"):
            continue
        record = fs.content(path)
        if record is None:
            continue
        info_dir = path.rpartition("/")[0]
        location = info_dir.rpartition("/")[0]
        meta = fs.content(f"{info_dir}/METADATA")
        name, version = _metadata(meta.decode("utf-8", "replace")) if meta else ("", "")
        if not name:
            stem = info_dir.rpartition("/")[2][: -len(".dist-info")]
            name, _, version = stem.partition("-")
        total = files = 0
        seen: set[str] = set()
        reader = csv.reader(io.StringIO(record.decode("utf-8", "replace")))
        for row in reader:
            if not row or not row[0]:
                continue
            rel = row[0]
            full = posixpath.normpath(posixpath.join("/" + location, rel)).lstrip("/")
            if full in seen:
                continue
            seen.add(full)
            node = fs.get(full)
            if node is not None and node.kind == FILE:
                total += node.size
                files += 1
        result.append(PythonDistribution(name, version, "/" + location, total, files))
    result.sort(key=lambda d: (-d.bytes, d.key))
    return result


def wants_content(path: str) -> int | None:
    """Capture policy for package metadata: how many bytes of `path` the analysis reads."""
    if path == DPKG_STATUS:
        return 64 << 20
    if path.startswith(DPKG_STATUS_D):
        return 4 << 20
    if path.startswith(DPKG_INFO) and path.endswith(".list"):
        return 8 << 20
    if path.endswith(".dist-info/RECORD"):
        return 16 << 20
    if path.endswith(".dist-info/METADATA"):
        return 16 << 10
    return None
