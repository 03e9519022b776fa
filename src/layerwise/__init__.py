"""layerwise: make container builds fast and images small, and prove it with real builds.

The library API starts here::

    from layerwise import parse_dockerfile
    tree = parse_dockerfile(open("Dockerfile", newline="").read(), path="Dockerfile")
    assert tree.to_text() == text          # lossless
    model = tree.model()                    # stages, stage graph, ARG/ENV scopes, reads
"""

from __future__ import annotations

__version__ = "0.1.0"

from layerwise.dockerfile.parser import parse_dockerfile, read_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import DockerfileSyntaxError, LayerwiseError

__all__ = [
    "Dockerfile",
    "DockerfileSyntaxError",
    "LayerwiseError",
    "__version__",
    "parse_dockerfile",
    "read_dockerfile",
]
