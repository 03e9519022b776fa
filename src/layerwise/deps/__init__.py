"""`layerwise deps`: which dependencies a service really needs, and what each one costs in
the image.

    from layerwise.deps import analyze_dependencies
    report = analyze_dependencies("examples/unused-deps", image="unused-deps:latest")
    [(d.name, d.used, d.installed_bytes) for d in report.dependencies]
    [(f.code, f.name, f.bytes) for f in report.findings]
"""

from __future__ import annotations

from layerwise.deps.analysis import (
    Dependency,
    DepsFinding,
    DepsReport,
    ManifestUse,
    analyze_context,
    analyze_dependencies,
)
from layerwise.deps.imports import FileScan, Reference, scan_files, scan_source
from layerwise.deps.installed import (
    Environment,
    InstalledDist,
    image_environment,
    venv_environment,
)
from layerwise.deps.manifests import (
    Declared,
    ProjectManifest,
    RequirementsChain,
    read_manifest,
    read_pyproject,
    read_requirements,
)

__all__ = [
    "Declared",
    "Dependency",
    "DepsFinding",
    "DepsReport",
    "Environment",
    "FileScan",
    "InstalledDist",
    "ManifestUse",
    "ProjectManifest",
    "Reference",
    "RequirementsChain",
    "analyze_context",
    "analyze_dependencies",
    "image_environment",
    "read_manifest",
    "read_pyproject",
    "read_requirements",
    "scan_files",
    "scan_source",
    "venv_environment",
]
