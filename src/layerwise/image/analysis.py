"""Analyse an image: per-layer sizes and changes, dive's efficiency and wasted bytes, what the
final filesystem holds (findings, largest files and directories, packages).

    from layerwise.image import analyze_image
    report = analyze_image("myapp:latest", dockerfile="Dockerfile")
    report.efficiency, report.wasted_bytes, report.findings, report.to_json()
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.dockerfile.parser import read_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.image.efficiency import EfficiencyCounter, Inefficiency
from layerwise.image.errors import Limits
from layerwise.image.findings import ERROR, Finding, find_problems
from layerwise.image.findings import wants_content as finding_content
from layerwise.image.fs import FileSystem
from layerwise.image.history import command_of, layer_history, map_history
from layerwise.image.layer import DIR, FILE, LayerScan
from layerwise.image.packages import (
    DebianPackage,
    PythonDistribution,
    debian_packages,
    python_distributions,
)
from layerwise.image.packages import wants_content as package_content
from layerwise.image.source import ImageMeta, open_image


@dataclass
class LayerReport:
    index: int
    digest: str
    size: int  # bytes its tar entries declare (dive's layer size)
    blob_size: int  # bytes of the blob as stored (compressed when compressed)
    compression: str | None
    command: str  # from the image history, normalised
    created_by: str  # from the image history, as written
    instruction: str | None  # "Dockerfile:12" when a Dockerfile was given and matched
    added: int
    changed: int
    removed: int
    added_bytes: int
    removed_bytes: int
    wasted_bytes: int  # this layer's share of dive's wasted bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "digest": self.digest,
            "size": self.size,
            "blob_size": self.blob_size,
            "compression": self.compression,
            "command": self.command,
            "created_by": self.created_by,
            "instruction": self.instruction,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "added_bytes": self.added_bytes,
            "removed_bytes": self.removed_bytes,
            "wasted_bytes": self.wasted_bytes,
        }


@dataclass
class SizedPath:
    path: str
    size: int
    layer: int | None = None


@dataclass
class ImageReport:
    image: str
    source: str
    repo_tags: list[str]
    size: int  # dive's image size: the sum of the layer sizes
    filesystem_size: int  # bytes of regular files in the final filesystem
    efficiency: float
    wasted_bytes: int
    wasted_percent: float  # wasted bytes / bytes above the base layer (dive's definition)
    user: str
    layers: list[LayerReport]
    findings: list[Finding]
    debian: list[DebianPackage]
    python: list[PythonDistribution]
    largest_files: list[SizedPath]
    largest_dirs: list[SizedPath]
    top_dirs: dict[str, int]  # "/usr" -> bytes
    inefficiencies: list[Inefficiency]
    files: int = 0
    config: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def build_tools(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in ("build-tool", "dev-package", "headers")]

    @property
    def secrets(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "secret" and f.severity == ERROR]

    def to_json(self) -> dict[str, Any]:
        packages: list[dict[str, Any]] = [
            {
                "type": "deb",
                "name": p.name,
                "version": p.version,
                "architecture": p.architecture,
                "bytes": p.bytes,
                "files": p.files,
                "installed_size": p.installed_size,
            }
            for p in self.debian
        ]
        packages += [
            {
                "type": "python",
                "name": d.name,
                "version": d.version,
                "location": d.location,
                "bytes": d.bytes,
                "files": d.files,
            }
            for d in self.python
        ]
        return {
            "image": self.image,
            "source": self.source,
            "repo_tags": self.repo_tags,
            "size": self.size,
            "filesystem_size": self.filesystem_size,
            "files": self.files,
            "efficiency": self.efficiency,
            "wasted_bytes": self.wasted_bytes,
            "wasted_percent": self.wasted_percent,
            "user": self.user,
            "layers": [layer.to_json() for layer in self.layers],
            "findings": [f.to_json() for f in self.findings],
            "packages": packages,
            "largest_files": [
                {"path": p.path, "size": p.size, "layer": p.layer} for p in self.largest_files
            ],
            "largest_dirs": [{"path": p.path, "size": p.size} for p in self.largest_dirs],
            "top_dirs": self.top_dirs,
            "inefficient_files": [
                {"path": i.path, "count": i.count, "size": i.size} for i in self.inefficiencies
            ],
        }


def _capture(path: str) -> int | None:
    return package_content(path) or finding_content(path)


def _sizes(
    fs: FileSystem, top: int
) -> tuple[int, int, list[SizedPath], list[SizedPath], dict[str, int]]:
    """(total bytes, files, largest files, largest directories, sizes of top-level dirs)."""
    total = files = root_files = 0
    heap: list[tuple[int, str, int]] = []
    dirs: dict[str, int] = {}
    for path, node in fs.walk():
        if node.kind != FILE:
            if node.kind != DIR:
                files += 1
            continue
        files += 1
        size = node.size
        total += size
        if len(heap) < top:
            heapq.heappush(heap, (size, path, node.layer))
        elif size > heap[0][0]:
            heapq.heapreplace(heap, (size, path, node.layer))
        head = path.rpartition("/")[0]
        if not head:
            root_files += size
        depth = head.count("/") + 1 if head else 0
        while head:
            if depth <= 4:
                dirs[head] = dirs.get(head, 0) + size
            head = head.rpartition("/")[0]
            depth -= 1
    largest = [SizedPath("/" + p, s, layer) for s, p, layer in sorted(heap, reverse=True)]
    top_dirs = {"/" + d: s for d, s in sorted(dirs.items()) if "/" not in d}
    if root_files:
        top_dirs["/"] = root_files  # files directly in the root directory
    # A directory is worth naming unless one of its subdirectories holds most of it.
    biggest_child: dict[str, int] = {}
    for d, s in dirs.items():
        parent = d.rpartition("/")[0]
        if parent:
            biggest_child[parent] = max(biggest_child.get(parent, 0), s)
    candidates = [(s, d) for d, s in dirs.items() if "/" in d and biggest_child.get(d, 0) < 0.8 * s]
    candidates.sort(key=lambda c: (-c[0], c[1]))
    largest_dirs = [SizedPath("/" + d, s) for s, d in candidates[:top]]
    return total, files, largest, largest_dirs, top_dirs


def analyze_image(
    spec: str,
    *,
    dockerfile: str | Path | Dockerfile | None = None,
    kind: str = "auto",
    limits: Limits | None = None,
    platform: str | None = None,
    top: int = 10,
    target: str | None = None,
) -> ImageReport:
    """Read and analyse one image (a tarball, an OCI layout, `-`, or an engine reference).

    With `dockerfile` (and its build `target` stage when not the last), each layer is tied
    to the instruction that made it."""
    df: Dockerfile | None
    if dockerfile is None or isinstance(dockerfile, Dockerfile):
        df = dockerfile
    else:
        df = read_dockerfile(str(dockerfile))
    meta, layers, close = open_image(
        spec, kind=kind, limits=limits, capture=_capture, platform=platform
    )
    try:
        return _analyze(meta, layers, df, top, target)
    finally:
        close()


def _analyze(
    meta: ImageMeta,
    layers: Iterator[LayerScan],
    df: Dockerfile | None,
    top: int,
    target: str | None,
) -> ImageReport:
    fs = FileSystem()
    counter = EfficiencyCounter()
    history = meta.history
    owners = layer_history(history, len(meta.layer_names))
    mapping = map_history(df, history, target) if df is not None else {}
    reports: list[LayerReport] = []
    for index, scan in enumerate(layers):
        changes = fs.apply(index, scan)
        counter.add(scan)
        entry = history[owners[index]] if owners[index] is not None else None  # type: ignore[index]
        inst = mapping.get(owners[index]) if owners[index] is not None else None  # type: ignore[arg-type]
        where = None
        if inst is not None:
            where = f"{df.path if df is not None and df.path else 'Dockerfile'}:{inst.start_line}"
        reports.append(
            LayerReport(
                index=index,
                digest=meta.layer_digests[index] if index < len(meta.layer_digests) else "",
                size=scan.size,
                blob_size=scan.blob_size,
                compression=scan.compression,
                command=command_of(entry),
                created_by=str((entry or {}).get("created_by") or ""),
                instruction=where,
                added=changes.added,
                changed=changes.changed,
                removed=changes.removed,
                added_bytes=changes.added_bytes,
                removed_bytes=changes.removed_bytes,
                wasted_bytes=0,
            )
        )
    eff = counter.result()
    for report, wasted in zip(reports, eff.per_layer_wasted, strict=True):
        report.wasted_bytes = wasted
    debian = debian_packages(fs)
    python = python_distributions(fs)
    findings, user = find_problems(fs, meta.config, debian)
    total, files, largest, largest_dirs, top_dirs = _sizes(fs, top)
    return ImageReport(
        image=meta.reference,
        source=meta.source,
        repo_tags=meta.repo_tags,
        size=eff.size,
        filesystem_size=total,
        efficiency=eff.score,
        wasted_bytes=eff.wasted_bytes,
        wasted_percent=eff.wasted_percent,
        user=user,
        layers=reports,
        findings=findings,
        debian=debian,
        python=python,
        largest_files=largest,
        largest_dirs=largest_dirs,
        top_dirs=top_dirs,
        inefficiencies=eff.inefficiencies,
        files=files,
        config=meta.config,
    )
