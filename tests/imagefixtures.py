"""Synthetic container images for the image-analysis tests: layers built entry by entry with
Python's tarfile, packed as a `docker save` archive, an OCI layout directory or an OCI tar."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Layer:
    """A layer's tar, written entry by entry."""

    buf: io.BytesIO = field(default_factory=io.BytesIO)
    tar: tarfile.TarFile | None = None
    created_by: str = ""

    def __post_init__(self) -> None:
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _add(self, info: tarfile.TarInfo, data: bytes | None = None) -> Layer:
        assert self.tar is not None
        self.tar.addfile(info, io.BytesIO(data) if data is not None else None)
        return self

    def dir(self, path: str, mode: int = 0o755) -> Layer:
        info = tarfile.TarInfo(path)
        info.type = tarfile.DIRTYPE
        info.mode = mode
        return self._add(info)

    def file(self, path: str, data: bytes | int = b"", mode: int = 0o644, uid: int = 0) -> Layer:
        if isinstance(data, int):
            data = bytes(data)
        info = tarfile.TarInfo(path)
        info.size = len(data)
        info.mode = mode
        info.uid = uid
        return self._add(info, data)

    def symlink(self, path: str, target: str) -> Layer:
        info = tarfile.TarInfo(path)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        return self._add(info)

    def hardlink(self, path: str, target: str) -> Layer:
        info = tarfile.TarInfo(path)
        info.type = tarfile.LNKTYPE
        info.linkname = target
        return self._add(info)

    def whiteout(self, path: str) -> Layer:
        head, _, base = path.rpartition("/")
        return self.file(f"{head}/.wh.{base}" if head else f".wh.{base}")

    def opaque(self, directory: str) -> Layer:
        return self.file(f"{directory}/.wh..wh..opq")

    def bytes(self) -> bytes:
        assert self.tar is not None
        self.tar.close()
        return self.buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_for(
    diff_ids: list[str], created_by: list[str], user: str = "", extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": user, "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": c} for c in created_by],
    }
    config.update(extra or {})
    return config


def _tar_members(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def docker_archive(
    layers: list[Layer | bytes],
    user: str = "",
    created_by: list[str] | None = None,
    tag: str = "test:latest",
    json_first: bool = False,
) -> bytes:
    """A `docker save` tarball (Docker 25+ layout: OCI blobs plus manifest.json)."""
    blobs = [layer.bytes() if isinstance(layer, Layer) else layer for layer in layers]
    diff_ids = [f"sha256:{_sha(b)}" for b in blobs]
    commands = created_by or [
        (layer.created_by if isinstance(layer, Layer) else "") or f"RUN step {i}"
        for i, layer in enumerate(layers)
    ]
    config = json.dumps(config_for(diff_ids, commands, user)).encode()
    config_name = f"blobs/sha256/{_sha(config)}"
    layer_names = [f"blobs/sha256/{_sha(b)}" for b in blobs]
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [tag], "Layers": layer_names}]
    ).encode()
    members = [(n, b) for n, b in zip(layer_names, blobs, strict=True)]
    meta = [(config_name, config), ("manifest.json", manifest)]
    seen: set[str] = set()
    unique = []
    for name, data in (meta + members) if json_first else (members + meta):
        if name not in seen:
            seen.add(name)
            unique.append((name, data))
    return _tar_members(unique)


def compress(data: bytes, kind: str) -> bytes:
    if kind == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if kind == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


MEDIA = {
    None: "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def oci_files(
    layers: list[Layer | bytes],
    compression: str | None = None,
    user: str = "",
    platforms: list[str] | None = None,
) -> dict[str, bytes]:
    """The files of an OCI image layout. With `platforms`, an index of one image per platform
    (each image's first layer gets a file /platform naming it)."""
    files: dict[str, bytes] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    raw = [layer.bytes() if isinstance(layer, Layer) else layer for layer in layers]

    def image(extra_first: bytes | None) -> dict[str, Any]:
        tars = list(raw)
        if extra_first is not None:
            tars = [extra_first, *tars]
        blobs = [compress(t, compression) if compression else t for t in tars]
        config = json.dumps(
            config_for(
                [f"sha256:{_sha(t)}" for t in tars], [f"RUN {i}" for i in range(len(tars))], user
            )
        ).encode()
        files[f"blobs/sha256/{_sha(config)}"] = config
        for b in blobs:
            files[f"blobs/sha256/{_sha(b)}"] = b
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": f"sha256:{_sha(config)}",
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": MEDIA[compression], "digest": f"sha256:{_sha(b)}", "size": len(b)}
                    for b in blobs
                ],
            }
        ).encode()
        files[f"blobs/sha256/{_sha(manifest)}"] = manifest
        return {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": f"sha256:{_sha(manifest)}",
            "size": len(manifest),
        }

    if platforms:
        descriptors = []
        for plat in platforms:
            marker = Layer().file("platform", plat.encode()).bytes()
            desc = image(marker)
            os_, _, arch = plat.partition("/")
            desc["platform"] = {"os": os_, "architecture": arch}
            descriptors.append(desc)
    else:
        descriptors = [image(None)]
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": descriptors}).encode()
    return files


def write_oci_dir(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def oci_tar(files: dict[str, bytes]) -> bytes:
    return _tar_members(sorted(files.items()))
