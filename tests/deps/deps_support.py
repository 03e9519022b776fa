"""Helpers for the dependency tests: a project written to a temporary directory, and an
installed environment made of fake distributions (what an image would report)."""

from __future__ import annotations

from pathlib import Path

from layerwise.context.project import BuildContext
from layerwise.deps.analysis import DepsReport, analyze_context
from layerwise.deps.installed import Environment, InstalledDist

SITE = "/usr/local/lib/python3.11/site-packages"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def dist(
    name: str,
    size: int = 1000,
    *,
    modules: tuple[str, ...] | None = None,
    requires: tuple[str, ...] = (),
    scripts: dict[str, str] | None = None,
    version: str = "1.0",
) -> InstalledDist:
    mods = modules if modules is not None else (name.lower().replace("-", "_"),)
    return InstalledDist(
        name, version, SITE, size, 3, frozenset(mods), requires, dict(scripts or {})
    )


def environment(*dists: InstalledDist) -> Environment:
    return Environment("image", "test:latest", {d.key: d for d in dists})


def analyze(root: Path, env: Environment | None = None, **kw: str) -> DepsReport:
    return analyze_context(BuildContext.load(root, **kw), env)  # type: ignore[arg-type]


def findings(report: DepsReport) -> set[tuple[str, str]]:
    return {(f.code, f.name) for f in report.findings}
