"""One layer's tar stream, read into a compact list of entries (and the few file contents the
analysis needs), with OCI whiteouts recognised.

Paths are normalised as Docker applies a layer: relative to the image root, `.` and `..`
resolved, and an entry whose path or hard-link target climbs out of the root is refused (Docker
refuses such a layer too: "invalid path" / "invalid hardlink").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from layerwise.image.errors import ImageFormatError, Limits
from layerwise.image.stream import Source
from layerwise.image.tar import (
    BLOCKDEV,
    CHAR,
    DATA_TYPES,
    DIRECTORY,
    FIFO,
    HARDLINK,
    SYMLINK,
    iter_tar,
)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# Entry kinds.
FILE = "f"
DIR = "d"
SYMLINK_KIND = "l"
HARDLINK_KIND = "h"
DEVICE = "c"
PIPE = "p"
WHITEOUT = "w"  # path is the deleted path
OPAQUE = "o"  # path is the directory whose lower contents are hidden

_KINDS = {
    DIRECTORY: DIR,
    SYMLINK: SYMLINK_KIND,
    HARDLINK: HARDLINK_KIND,
    CHAR: DEVICE,
    BLOCKDEV: DEVICE,
    FIFO: PIPE,
}


@dataclass(slots=True)
class Entry:
    path: str  # relative to the image root, no leading slash: "usr/bin/gcc"
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str = ""


@dataclass
class LayerScan:
    """What one layer blob holds."""

    name: str  # where it was found: "blobs/sha256/…" or "<id>/layer.tar"
    entries: list[Entry] = field(default_factory=list)
    captured: dict[str, bytes] = field(default_factory=dict)
    blob_size: int = 0
    compression: str | None = None
    error: ImageFormatError | None = None  # raised only if the manifest uses this blob

    @property
    def size(self) -> int:
        """dive's layer size: the sum of the sizes its tar entries declare."""
        return sum(e.size for e in self.entries)


def normalize(name: str) -> str | None:
    """The entry's path relative to the image root, or None when it names the root itself.
    Raises ImageFormatError when `..` climbs out of the root."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ImageFormatError(f"layer entry {name!r} points outside the image root")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) if parts else None


# Decides, for a normalised path, how many bytes of its content to keep (None: none).
CapturePolicy = Callable[[str], int | None]


def scan_layer(
    source: Source,
    name: str,
    limits: Limits,
    budget: list[int],
    entry_budget: list[int],
    capture: CapturePolicy,
    captured_budget: list[int],
) -> LayerScan:
    """Read one layer's tar stream. `budget`, `entry_budget` and `captured_budget` are shared
    across the image's layers (one-element lists that this call decrements)."""
    scan = LayerScan(name)
    append = scan.entries.append
    remaining = entry_budget[0]
    try:
        for tar_entry in iter_tar(source, limits, budget):
            remaining -= 1
            if remaining < 0:
                raise ImageFormatError(
                    f"{name}: more than {limits.max_entries} tar entries in the image; "
                    "raise --max-entries if the image is genuine"
                )
            raw = tar_entry.name
            if raw.startswith(".") or "/." in raw or "//" in raw:
                path = normalize(raw)
                if path is None:
                    continue  # the root directory itself
            else:
                path = raw.strip("/")
                if not path:
                    continue
            if WHITEOUT_PREFIX in path:
                head, _, base = path.rpartition("/")
                if base.startswith(WHITEOUT_PREFIX):
                    if base == OPAQUE_MARKER:
                        append(Entry(head, OPAQUE, 0, 0, 0, 0))
                    elif not base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
                        # Other ".wh..wh.*" names are AUFS bookkeeping, not files.
                        target = base[len(WHITEOUT_PREFIX) :]
                        append(Entry(f"{head}/{target}" if head else target, WHITEOUT, 0, 0, 0, 0))
                    continue
            kind = FILE if tar_entry.type in DATA_TYPES else _KINDS.get(tar_entry.type)
            if kind is None:
                raise ImageFormatError(
                    f"{name}: tar entry {tar_entry.name!r} has unknown type {tar_entry.type!r}"
                )
            link = tar_entry.linkname
            if kind == HARDLINK_KIND:
                target_path = normalize(link)
                if target_path is None:
                    raise ImageFormatError(f"{name}: hard link {raw!r} points at the root")
                link = target_path
            size = tar_entry.size
            append(Entry(path, kind, size, tar_entry.mode, tar_entry.uid, tar_entry.gid, link))
            if kind == FILE:
                keep = capture(path)
                if keep is not None:
                    keep = min(keep, size)
                    captured_budget[0] -= keep
                    if captured_budget[0] < 0:
                        raise ImageFormatError(
                            f"{name}: more than {limits.max_captured_bytes} bytes of package "
                            "metadata to read; the image is not what it seems"
                        )
                    scan.captured[path] = tar_entry.read(keep)
    finally:
        entry_budget[0] = remaining
    return scan
