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
        # Closed by bytes(), once the layer is complete.
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

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


# ---------------------------------------------------------------------------- test images


def hand_layers() -> list[Layer]:
    return [
        Layer()
        .dir("etc")
        .file("etc/a", 100)
        .file("etc/b", 50)
        .dir("data")
        .file("data/x", 1000)
        .file("data/sub/y", 200),
        Layer().file("etc/a", 120).whiteout("etc/b").file("new", 10),
        Layer().whiteout("data"),
        Layer().opaque("etc").dir("etc").file("etc/c", 5),
    ]


# Not a key: the shape a scanner recognises, with a marker that must never appear in output.
FAKE_KEY = (
    b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
    b"AAAAfakefakefakeSECRETVALUE\n"
    b"-----END OPENSSH PRIVATE KEY-----\n"
)
CERT = b"-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----\n"
DPKG_STATUS = b"""Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9
Installed-Size: 12

Package: gcc-12
Status: install ok installed
Architecture: amd64
Version: 12.2.0-14
Installed-Size: 1

Package: libpq-dev
Status: install ok installed
Architecture: amd64
Version: 15.5
Installed-Size: 1

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1
"""


RECORD = (
    b"demo/__init__.py,sha256=x,100\ndemo/big.bin,,\n"
    b"demo-1.0.dist-info/RECORD,,\n../../../bin/demo,,\n"
)


def findings_image() -> list[Layer]:
    return [
        Layer()
        .file("var/lib/dpkg/status", DPKG_STATUS)
        .file("var/lib/dpkg/info/libc6:amd64.list", b"/.\n/lib\n/lib/libc.so.6\n")
        .file(
            "var/lib/dpkg/info/gcc-12.list",
            b"/usr/bin/gcc-12\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n",
        )
        .file("var/lib/dpkg/info/libpq-dev.list", b"/usr/include/libpq-fe.h\n")
        .file("lib/libc.so.6", 2000)
        .file("usr/bin/gcc-12", 900, mode=0o755)
        .file("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 3000, mode=0o755)
        .file("usr/include/libpq-fe.h", 40)
        .file("usr/bin/passwd", 50, mode=0o4755)
        .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n")
        .file("etc/ssl/certs/ca.pem", CERT)
        .file("tmp/scratch", 1, mode=0o666)
        .dir("tmp", mode=0o1777),
        Layer()
        .file("root/.cache/pip/http/ab/cd", 500)
        .file("var/lib/apt/lists/deb.debian.org_dists", 700)
        .file("var/lib/apt/lists/lock", 0)
        .file("app/.git/HEAD", b"ref: refs/heads/main\n")
        .file("app/.git/objects/pack/p.pack", 4000)
        .file("app/.env", b"DATABASE_PASSWORD=hunter2-SECRETVALUE\n")
        .file("app/.env.example", b"DATABASE_PASSWORD=\n")
        .file("app/deploy/id_ed25519", FAKE_KEY, mode=0o600)
        .file("app/certs/server.pem", FAKE_KEY)
        .file("app/certs/public.pem", CERT)
        .file("root/.aws/credentials", b"[default]\naws_secret_access_key=SECRETVALUE\n")
        .file("app/tests/test_x.py", 30)
        .file("app/tests/unit/tests/deep.py", 10)
        .file("app/__pycache__/m.cpython-311.pyc", 77)
        .file("usr/local/lib/python3.11/site-packages/tornado/test/test.key", FAKE_KEY)
        .file(
            "usr/local/lib/python3.11/site-packages/demo-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\n\nlong text\nName: nope\n",
        )
        .file("usr/local/lib/python3.11/site-packages/demo-1.0.dist-info/RECORD", RECORD)
        .file("usr/local/lib/python3.11/site-packages/demo/__init__.py", 100)
        .file("usr/local/lib/python3.11/site-packages/demo/big.bin", 5000)
        .file("usr/local/bin/demo", 20, mode=0o755),
        Layer().whiteout("usr/local/lib/python3.11/site-packages/demo/big.bin"),
    ]
