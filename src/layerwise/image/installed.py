"""What is installed in an image and what it costs, for other parts of layerwise (the
dependency analysis asks "how many bytes does each distribution occupy in the final image").

    from layerwise.image import installed_packages
    debs, dists = installed_packages("myapp:latest")
    {d.key: (d.bytes, d.files) for d in dists}
"""

from __future__ import annotations

from layerwise.image.errors import Limits
from layerwise.image.fs import FileSystem
from layerwise.image.packages import (
    DebianPackage,
    PythonDistribution,
    debian_packages,
    python_distributions,
)
from layerwise.image.packages import wants_content as package_content
from layerwise.image.source import ImageMeta, open_image


def load_filesystem(
    spec: str,
    *,
    kind: str = "auto",
    limits: Limits | None = None,
    platform: str | None = None,
) -> tuple[ImageMeta, FileSystem]:
    """The image's metadata and its final filesystem (package metadata files kept readable)."""
    meta, layers, close = open_image(
        spec, kind=kind, limits=limits, capture=package_content, platform=platform
    )
    try:
        fs = FileSystem()
        for index, scan in enumerate(layers):
            fs.apply(index, scan)
    finally:
        close()
    return meta, fs


def installed_packages(
    image: str | FileSystem,
    *,
    kind: str = "auto",
    limits: Limits | None = None,
    platform: str | None = None,
) -> tuple[list[DebianPackage], list[PythonDistribution]]:
    """Debian packages and Python distributions installed in the final filesystem of `image`
    (a path, `-`, an engine reference, or an already loaded FileSystem), each with the bytes
    and number of regular files it really occupies there, largest first."""
    fs = (
        image
        if isinstance(image, FileSystem)
        else load_filesystem(image, kind=kind, limits=limits, platform=platform)[1]
    )
    return debian_packages(fs), python_distributions(fs)
