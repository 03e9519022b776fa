"""Errors and limits of the image reader.

Images come from anywhere (a tarball a colleague sent, a registry export), so every size and
count the reader trusts has a limit; going over one is a clear one-line error that says which
option raises it, never a crash or an unbounded allocation.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerwise.errors import InputError

GiB = 1 << 30
MiB = 1 << 20


class ImageFormatError(InputError):
    """The image (or one of its layers) is not a well-formed archive, or breaks a limit."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one image may make the reader do. All are configurable from the CLI."""

    # Uncompressed bytes across all layers (what the tar entries declare and the data really is).
    max_total_bytes: int = 256 * GiB
    # A compressed layer may not grow more than this many times its compressed size...
    max_expansion_ratio: float = 250.0
    # ...once it has produced at least this much (small, highly compressible layers are normal).
    expansion_grace_bytes: int = 64 * MiB
    # Tar entries across all layers: memory grows with them (about 0.7 KB each).
    max_entries: int = 2_000_000
    # A single path (after PAX / GNU long names); Linux's PATH_MAX is 4096.
    max_path_bytes: int = 4096
    # PAX extended headers and GNU long-name records.
    max_meta_bytes: int = 1 * MiB
    # JSON documents (manifests, configs, indexes) read into memory.
    max_json_bytes: int = 32 * MiB
    # Layers in one image (Docker's overlay2 driver stops at 125; a manifest could list millions).
    max_layers: int = 1000
    # File contents kept for analysis (dpkg status and lists, RECORD files, /etc/passwd, ...).
    max_captured_bytes: int = 512 * MiB
