"""Where an image comes from: a `docker save` tarball, an OCI image layout (directory or tar),
or an image in the local Docker engine (streamed through the Docker SDK, never copied to disk).

A seekable tarball is read in two steps: an index pass over the outer archive (headers only,
seeking past data) finds the manifest, then each layer is read in order straight out of the
archive, so only one layer's entries are in memory at a time. A stream (the engine, a pipe)
is read once, front to back, whatever order its blobs come in; layers are kept until the
manifest at the end says how to stack them.
"""

from __future__ import annotations

import io
import json
import os
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from layerwise.errors import EngineError, InputError
from layerwise.image.errors import ImageFormatError, Limits
from layerwise.image.layer import CapturePolicy, LayerScan, scan_layer
from layerwise.image.stream import Decompressed, FileSource, Source, Window, compression_of
from layerwise.image.tar import BLOCK, SYMLINK, iter_tar

SOURCE_KINDS = ("auto", "docker", "docker-archive", "oci")


@dataclass
class ImageMeta:
    """What the manifest and config say about an image."""

    reference: str
    source: str  # "docker-archive", "oci" or "docker"
    config: dict[str, Any]
    layer_names: list[str]  # blob names in stacking order (base first)
    layer_digests: list[str]
    repo_tags: list[str] = field(default_factory=list)

    @property
    def diff_ids(self) -> list[str]:
        rootfs = self.config.get("rootfs")
        ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
        return [str(i) for i in ids] if isinstance(ids, list) else []

    @property
    def history(self) -> list[dict[str, Any]]:
        hist = self.config.get("history")
        return [h for h in hist if isinstance(h, dict)] if isinstance(hist, list) else []


@dataclass
class _Reader:
    limits: Limits
    capture: CapturePolicy
    budget: list[int] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)
    captured: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.budget = [self.limits.max_total_bytes]
        self.entries = [self.limits.max_entries]
        self.captured = [self.limits.max_captured_bytes]

    def scan(self, window: Window, name: str, label: str) -> LayerScan:
        head = window.peek(BLOCK)
        kind = compression_of(head)
        source: Source = Decompressed(window, kind, self.limits, label) if kind else window
        scan = scan_layer(
            source, name, self.limits, self.budget, self.entries, self.capture, self.captured
        )
        scan.compression = kind
        return scan


def _looks_like_tar(head: bytes) -> bool:
    if compression_of(head):
        return True
    if len(head) < BLOCK:
        return False
    if head[257:262] == b"ustar" or head == bytes(BLOCK):
        return True
    try:
        stored = int(head[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(head) - sum(head[148:156]) + 8 * 32


def _looks_like_json(head: bytes) -> bool:
    return head.lstrip()[:1] in (b"{", b"[")


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageFormatError(f"{what} is not valid JSON ({exc})") from None


def _parse_json_blob(data: bytes, name: str, reference: str) -> Any:
    """A JSON member of an archive; None for a blob that only looked like JSON (blobs are
    sniffed, and an unknown artifact that fails to parse is not the image's business)."""
    try:
        return _parse_json(data, f"{reference}: {name}")
    except ImageFormatError:
        if name.endswith(".json"):
            raise
        return None


def _blob_name(digest: Any) -> str:
    if not isinstance(digest, str) or ":" not in digest:
        raise ImageFormatError(f"invalid digest {digest!r} in the image manifest")
    alg, _, hexpart = digest.partition(":")
    if not alg.isalnum() or not hexpart.isalnum():
        raise ImageFormatError(f"invalid digest {digest!r} in the image manifest")
    return f"blobs/{alg}/{hexpart}"


def _host_platform() -> tuple[str, str]:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return "linux", arch


def _resolve(
    get_json: Callable[[str], Any], label: str, platform_wanted: str | None
) -> tuple[str, list[str], list[str], list[str]]:
    """(config blob name, layer blob names, layer digests, repo tags) from manifest.json (the
    Docker archive format) or index.json (OCI)."""
    manifest = get_json("manifest.json")
    if manifest is not None:
        if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
            raise ImageFormatError(f"{label}: manifest.json has no image in it")
        first = manifest[0]
        config = first.get("Config")
        layers = first.get("Layers")
        if not isinstance(config, str) or not isinstance(layers, list):
            raise ImageFormatError(f"{label}: manifest.json lacks Config or Layers")
        names = [str(x) for x in layers]
        digests = []
        for n in names:
            parts = n.split("/")
            digests.append(
                f"{parts[1]}:{parts[2]}" if len(parts) == 3 and parts[0] == "blobs" else ""
            )
        tags = first.get("RepoTags") or []
        return config, names, digests, [str(t) for t in tags] if isinstance(tags, list) else []
    index = get_json("index.json")
    if index is None:
        raise ImageFormatError(
            f"{label}: not an image archive (no manifest.json or index.json); "
            "give a `docker save` tarball or an OCI image layout"
        )
    want_os, want_arch = _host_platform()
    if platform_wanted:
        want_os, _, want_arch = platform_wanted.partition("/")
    node: Any = index
    for _ in range(8):  # nested indexes, bounded
        if not isinstance(node, dict):
            raise ImageFormatError(f"{label}: malformed image index")
        if isinstance(node.get("layers"), list):
            break
        manifests = node.get("manifests")
        if not isinstance(manifests, list) or not manifests:
            raise ImageFormatError(f"{label}: the image index lists no manifests")
        candidates = [m for m in manifests if isinstance(m, dict)]
        candidates = [
            m
            for m in candidates
            if (m.get("annotations") or {}).get("vnd.docker.reference.type")
            != "attestation-manifest"
        ]
        chosen = None
        for m in candidates:
            plat = m.get("platform")
            if isinstance(plat, dict) and (plat.get("os"), plat.get("architecture")) == (
                want_os,
                want_arch,
            ):
                chosen = m
                break
        if chosen is None:
            if platform_wanted and any(isinstance(m.get("platform"), dict) for m in candidates):
                raise InputError(f"{label}: no image for platform {platform_wanted}")
            if not candidates:
                raise ImageFormatError(f"{label}: the image index lists no image manifests")
            chosen = candidates[0]
        name = _blob_name(chosen.get("digest"))
        node = get_json(name)
        if node is None:
            raise ImageFormatError(f"{label}: manifest {name} is missing")
    else:
        raise ImageFormatError(f"{label}: image indexes nested too deep")
    config_desc = node.get("config")
    layers = node.get("layers")
    if not isinstance(config_desc, dict) or not isinstance(layers, list):
        raise ImageFormatError(f"{label}: image manifest lacks config or layers")
    digests = [str(d.get("digest")) for d in layers if isinstance(d, dict)]
    return _blob_name(config_desc.get("digest")), [_blob_name(d) for d in digests], digests, []


def _config(get_json: Callable[[str], Any], name: str, label: str) -> dict[str, Any]:
    config = get_json(name)
    if not isinstance(config, dict):
        raise ImageFormatError(f"{label}: image config {name} is missing or malformed")
    return config


def _member_path(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def _link_target(member: str, link: str) -> str:
    base = member.rpartition("/")[0]
    parts: list[str] = []
    for part in f"{base}/{link}".split("/") if not link.startswith("/") else link.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _meta(
    reference: str,
    source: str,
    get_json: Callable[[str], Any],
    label: str,
    platform_wanted: str | None,
    limits: Limits,
) -> ImageMeta:
    config_name, names, digests, tags = _resolve(get_json, label, platform_wanted)
    if len(names) > limits.max_layers:
        raise ImageFormatError(
            f"{label}: the manifest lists {len(names)} layers, more than {limits.max_layers}"
        )
    meta = ImageMeta(reference, source, _config(get_json, config_name, label), names, digests, tags)
    diff_ids = meta.diff_ids
    if len(diff_ids) == len(names):
        meta.layer_digests = [d or diff_ids[i] for i, d in enumerate(digests)]
    return meta


# ----------------------------------------------------------------------------- tarballs


def _read_seekable_tar(
    f: BinaryIO, reference: str, reader: _Reader, platform_wanted: str | None
) -> tuple[ImageMeta, Iterator[LayerScan]]:
    top = FileSource(f)
    limits = reader.limits
    members: dict[str, tuple[int, int]] = {}
    links: dict[str, str] = {}
    jsons: dict[str, Any] = {}
    for entry in iter_tar(top, limits):
        name = _member_path(entry.name)
        if entry.type == SYMLINK:
            links[name] = _link_target(name, entry.linkname)
            continue
        if not entry.is_regular:
            continue
        members[name] = (entry.offset + BLOCK, entry.size)
        small = entry.size <= limits.max_json_bytes
        if small and (
            name.endswith(".json") or (name.startswith("blobs/") and entry.size < 1 << 22)
        ):
            head = entry.read(BLOCK)
            # A layer whose first file is named "{…" must not be mistaken for JSON: tar first.
            if _looks_like_json(head) and not _looks_like_tar(head):
                parsed = _parse_json_blob(head + entry.read(entry.size), name, reference)
                if parsed is not None:
                    jsons[name] = parsed

    def lookup(name: str) -> str:
        seen = 0
        while name in links and seen < 16:
            name, seen = links[name], seen + 1
        return name

    def get_json(name: str) -> Any:
        return jsons.get(lookup(_member_path(name)))

    meta = _meta(reference, "docker-archive", get_json, reference, platform_wanted, limits)
    for name in meta.layer_names:
        if lookup(_member_path(name)) not in members:
            raise ImageFormatError(f"{reference}: layer {name} named in the manifest is missing")
    if "index.json" in jsons and "manifest.json" not in jsons:
        meta.source = "oci"

    def layers() -> Iterator[LayerScan]:
        for name in meta.layer_names:
            offset, size = members[lookup(_member_path(name))]
            top.seek(offset)
            window = Window(top, size)
            label = f"{reference}: layer {name}"
            scan = reader.scan(window, name, label)
            scan.blob_size = size
            yield scan

    return meta, layers()


def _read_tar_stream(
    f: BinaryIO, reference: str, reader: _Reader, platform_wanted: str | None
) -> tuple[ImageMeta, Iterator[LayerScan]]:
    top = FileSource(f)
    limits = reader.limits
    scans: dict[str, LayerScan] = {}
    links: dict[str, str] = {}
    jsons: dict[str, Any] = {}
    entry_iter = iter_tar(top, limits)
    for entry in entry_iter:
        name = _member_path(entry.name)
        if entry.type == SYMLINK:
            links[name] = _link_target(name, entry.linkname)
            continue
        if not entry.is_regular:
            continue
        # The entry's data is consumed here through a window on the tar reader's own (read-ahead)
        # source; the tar reader then has none of it left to skip.
        window = Window(entry._source, entry.size)
        entry._left = 0
        head = window.peek(BLOCK)
        is_tar = _looks_like_tar(head)
        if not is_tar and _looks_like_json(head) and entry.size <= limits.max_json_bytes:
            parsed = _parse_json_blob(window.read(entry.size), name, reference)
            if parsed is not None:
                jsons[name] = parsed
        elif is_tar:
            label = f"{reference}: layer {name}"
            try:
                scan = reader.scan(window, name, label)
            except ImageFormatError as exc:
                scan = LayerScan(name, error=exc)
            scan.blob_size = entry.size
            scans[name] = scan
        if not window.finish():
            raise ImageFormatError(f"{reference}: archive is truncated inside {name}")

    def lookup(name: str) -> str:
        seen = 0
        while name in links and seen < 16:
            name, seen = links[name], seen + 1
        return name

    def get_json(name: str) -> Any:
        return jsons.get(lookup(_member_path(name)))

    meta = _meta(reference, "docker-archive", get_json, reference, platform_wanted, limits)
    if "index.json" in jsons and "manifest.json" not in jsons:
        meta.source = "oci"
    ordered = []
    for name in meta.layer_names:
        found = scans.get(lookup(_member_path(name)))
        if found is None:
            raise ImageFormatError(f"{reference}: layer {name} named in the manifest is missing")
        if found.error is not None:
            raise found.error
        ordered.append(found)
    return meta, iter(ordered)


# ----------------------------------------------------------------------------- OCI layout


def _read_oci_dir(
    root: Path, reference: str, reader: _Reader, platform_wanted: str | None
) -> tuple[ImageMeta, Iterator[LayerScan]]:
    limits = reader.limits
    if not (root / "index.json").is_file():
        raise InputError(f"{reference}: a directory, but not an OCI image layout (no index.json)")

    def get_json(name: str) -> Any:
        path = root / _member_path(name)
        try:
            if not path.is_file():
                return None
            if path.stat().st_size > limits.max_json_bytes:
                raise ImageFormatError(f"{reference}: {name} is larger than the JSON limit")
            return _parse_json(path.read_bytes(), f"{reference}: {name}")
        except OSError as exc:
            raise InputError(f"{reference}: cannot read {name}: {exc.strerror}") from None

    meta = _meta(reference, "oci", get_json, reference, platform_wanted, limits)
    resolved_root = root.resolve()
    paths = []
    for name in meta.layer_names:
        path = (root / name).resolve()
        if not path.is_relative_to(resolved_root):
            raise ImageFormatError(f"{reference}: layer {name} points outside the layout")
        if not path.is_file():
            raise ImageFormatError(f"{reference}: layer blob {name} is missing")
        paths.append(path)

    def layers() -> Iterator[LayerScan]:
        for name, path in zip(meta.layer_names, paths, strict=True):
            with path.open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                window = Window(FileSource(f), size)
                scan = reader.scan(window, name, f"{reference}: layer {name}")
                scan.blob_size = size
            yield scan

    return meta, layers()


# ----------------------------------------------------------------------------- the engine


class _ChunkStream(io.RawIOBase):
    """A generator of byte chunks (the Docker SDK's streamed response) as a raw file."""

    def __init__(self, chunks: Iterator[bytes], first: bytes, reference: str) -> None:
        self.chunks = chunks
        self.pending = first
        self.reference = reference

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self.pending:
            try:
                chunk = next(self.chunks, None)
            except Exception as exc:  # the connection broke mid-stream (requests, urllib3, ...)
                raise EngineError(
                    f"the Docker engine stopped sending image {self.reference!r}: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                ) from None
            if chunk is None:
                return 0
            self.pending = chunk
        n = min(len(b), len(self.pending))
        b[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _engine_stream(reference: str) -> BinaryIO:
    try:
        import docker
        import docker.errors
        import requests
    except ImportError:  # pragma: no cover - docker is a dependency
        raise EngineError("the Docker SDK for Python is not installed") from None
    try:
        client = docker.from_env(timeout=600)
        chunks = iter(client.api.get_image(reference, chunk_size=1 << 20))
        first = next(chunks, b"")  # the request is made here, so its errors are caught here
    except docker.errors.NotFound:
        raise InputError(
            f"no image {reference!r} in the local Docker engine, and no such file; "
            "build it, or give a `docker save` tarball or an OCI layout"
        ) from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineError(
            f"cannot read image {reference!r} from the Docker engine: {message[:300]}"
        ) from None
    return io.BufferedReader(_ChunkStream(chunks, first, reference), 1 << 20)


# ----------------------------------------------------------------------------- entry point


def open_image(
    spec: str,
    *,
    kind: str = "auto",
    limits: Limits | None = None,
    capture: CapturePolicy | None = None,
    platform: str | None = None,
) -> tuple[ImageMeta, Iterator[LayerScan], Callable[[], None]]:
    """Open an image: its metadata, an iterator of its layers in stacking order, and a function
    that releases what was opened (call it when done).

    `spec` is a path to a tarball or OCI layout directory, `-` for a tarball on standard input,
    or an image reference in the local engine; `kind` forces one of SOURCE_KINDS.
    """
    limits = limits or Limits()
    reader = _Reader(limits, capture or (lambda _path: None))
    if kind not in SOURCE_KINDS:
        raise InputError(f"unknown image source kind {kind!r} (one of {', '.join(SOURCE_KINDS)})")
    for prefix, forced in (
        ("docker-archive:", "docker-archive"),
        ("oci:", "oci"),
        ("docker:", "docker"),
    ):
        if kind == "auto" and spec.startswith(prefix):
            spec, kind = spec[len(prefix) :], forced
    if spec == "-":
        stdin = sys.stdin.buffer
        return (*_read_tar_stream(stdin, "<stdin>", reader, platform), lambda: None)
    path = Path(spec)
    if kind in ("auto", "docker-archive", "oci") and path.exists():
        if path.is_dir():
            return (*_read_oci_dir(path, spec, reader, platform), lambda: None)
        try:
            f = path.open("rb")
        except OSError as exc:
            raise InputError(f"{spec}: cannot open: {exc.strerror}") from None
        try:
            meta, layers = _read_seekable_tar(f, spec, reader, platform)
        except BaseException:
            f.close()
            raise
        return meta, layers, f.close
    looks_like_path = spec.endswith((".tar", ".tar.gz", ".tgz")) or spec.startswith(("./", "/"))
    if kind in ("docker-archive", "oci") or (kind == "auto" and looks_like_path):
        raise InputError(f"{spec}: no such file or directory")
    stream = _engine_stream(spec)
    meta, layers = _read_tar_stream(stream, spec, reader, platform)
    meta.source = "docker"
    return meta, layers, stream.close
