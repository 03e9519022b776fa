"""Before and after: what changed between two images, in the terms a person asks about: size
per top-level directory, packages and Python distributions added and removed, findings that
disappeared or appeared, and one sentence ("gcc-12, build-essential and 140 other packages
removed, −540 MB").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layerwise.image.analysis import ImageReport
from layerwise.image.findings import Finding
from layerwise.image.packages import is_build_package
from layerwise.image.units import human_size


@dataclass(frozen=True)
class DirDelta:
    path: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class PackageChange:
    type: str  # "deb" or "python"
    name: str
    before_version: str | None  # None: not in the first image
    after_version: str | None  # None: not in the second image
    before_bytes: int
    after_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "before_version": self.before_version,
            "after_version": self.after_version,
            "before_bytes": self.before_bytes,
            "after_bytes": self.after_bytes,
        }


@dataclass
class ImageComparison:
    before: ImageReport
    after: ImageReport
    dirs: list[DirDelta]
    added: list[PackageChange] = field(default_factory=list)
    removed: list[PackageChange] = field(default_factory=list)
    changed: list[PackageChange] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)  # in before, gone in after
    introduced: list[Finding] = field(default_factory=list)

    @property
    def size_delta(self) -> int:
        return self.after.size - self.before.size

    @property
    def summary(self) -> str:
        parts = []
        if self.removed:
            ranked = sorted(
                self.removed,
                key=lambda c: (not is_build_package(c.name), -c.before_bytes, c.name),
            )
            names = [c.name for c in ranked[:2]]
            rest = len(self.removed) - len(names)
            noun = "package" if len(self.removed) == 1 else "packages"
            text = " and ".join(names) if rest == 0 else ", ".join(names)
            if rest:
                text += f" and {rest} other {'package' if rest == 1 else 'packages'}"
            parts.append(f"{text} removed" if rest else f"{noun} {text} removed")
        if self.added:
            parts.append(
                f"{len(self.added)} {'package' if len(self.added) == 1 else 'packages'} added"
            )
        if self.resolved:
            parts.append(
                f"{len(self.resolved)} {'finding' if len(self.resolved) == 1 else 'findings'} gone"
            )
        parts.append(human_size(self.size_delta, signed=True))
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "before": {"image": self.before.image, "size": self.before.size,
                       "filesystem_size": self.before.filesystem_size,
                       "efficiency": self.before.efficiency,
                       "wasted_bytes": self.before.wasted_bytes},
            "after": {"image": self.after.image, "size": self.after.size,
                      "filesystem_size": self.after.filesystem_size,
                      "efficiency": self.after.efficiency,
                      "wasted_bytes": self.after.wasted_bytes},
            "size_delta": self.size_delta,
            "summary": self.summary,
            "dirs": [
                {"path": d.path, "before": d.before, "after": d.after, "delta": d.delta}
                for d in self.dirs
            ],
            "packages_added": [c.to_json() for c in self.added],
            "packages_removed": [c.to_json() for c in self.removed],
            "packages_changed": [c.to_json() for c in self.changed],
            "findings_resolved": [f.to_json() for f in self.resolved],
            "findings_introduced": [f.to_json() for f in self.introduced],
        }  # fmt: skip


def _packages(report: ImageReport) -> dict[tuple[str, str], tuple[str, int]]:
    result: dict[tuple[str, str], tuple[str, int]] = {}
    for p in report.debian:
        result[("deb", p.name)] = (p.version, p.bytes)
    for d in report.python:
        key = ("python", d.key)
        version, size = result.get(key, ("", 0))
        result[key] = (d.version or version, size + d.bytes)
    return result


def compare_reports(before: ImageReport, after: ImageReport) -> ImageComparison:
    dirs = [
        DirDelta(path, before.top_dirs.get(path, 0), after.top_dirs.get(path, 0))
        for path in sorted(set(before.top_dirs) | set(after.top_dirs))
    ]
    dirs.sort(key=lambda d: (d.delta, d.path))
    old, new = _packages(before), _packages(after)
    result = ImageComparison(before, after, dirs)
    for key in sorted(set(old) | set(new)):
        kind, name = key
        was, now = old.get(key), new.get(key)
        change = PackageChange(
            kind,
            name,
            was[0] if was else None,
            now[0] if now else None,
            was[1] if was else 0,
            now[1] if now else 0,
        )
        if was is None:
            result.added.append(change)
        elif now is None:
            result.removed.append(change)
        elif was[0] != now[0]:
            result.changed.append(change)
    result.removed.sort(key=lambda c: (-c.before_bytes, c.name))
    result.added.sort(key=lambda c: (-c.after_bytes, c.name))
    before_ids = {f.id for f in before.findings}
    after_ids = {f.id for f in after.findings}
    result.resolved = [f for f in before.findings if f.id not in after_ids]
    result.introduced = [f for f in after.findings if f.id not in before_ids]
    return result
