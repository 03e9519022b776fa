"""Image analysis: read a built image (engine, `docker save` tarball, OCI layout), stack its
layers, and report per-layer sizes, dive-compatible efficiency and wasted bytes, what the final
filesystem still holds (build tools, caches, secrets, ...), its packages, and a comparison of
two images.

    from layerwise.image import analyze_image, compare_reports
    before = analyze_image("before.tar")
    after = analyze_image("myapp:latest", dockerfile="Dockerfile")
    diff = compare_reports(before, after)
"""

from __future__ import annotations

from layerwise.image.analysis import ImageReport, LayerReport, SizedPath, analyze_image
from layerwise.image.compare import ImageComparison, compare_reports
from layerwise.image.errors import ImageFormatError, Limits
from layerwise.image.findings import Finding
from layerwise.image.fs import FileSystem
from layerwise.image.gates import GateResult, Gates, evaluate_gates
from layerwise.image.installed import installed_packages, load_filesystem
from layerwise.image.packages import (
    DebianPackage,
    PythonDistribution,
    debian_packages,
    python_distributions,
)
from layerwise.image.source import ImageMeta, open_image

__all__ = [
    "DebianPackage",
    "FileSystem",
    "Finding",
    "GateResult",
    "Gates",
    "ImageComparison",
    "ImageFormatError",
    "ImageMeta",
    "ImageReport",
    "LayerReport",
    "Limits",
    "PythonDistribution",
    "SizedPath",
    "analyze_image",
    "compare_reports",
    "debian_packages",
    "evaluate_gates",
    "installed_packages",
    "load_filesystem",
    "open_image",
    "python_distributions",
]
