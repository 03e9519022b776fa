"""The streaming tar reader and the hostile-input limits of the image reader."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagefixtures import Layer, compress, docker_archive, oci_files, write_oci_dir
from layerwise.errors import LayerwiseError
from layerwise.image import ImageFormatError, Limits, analyze_image
from layerwise.image.layer import OPAQUE, WHITEOUT, normalize, scan_layer
from layerwise.image.stream import FileSource
from layerwise.image.tar import iter_tar


def entries(data: bytes, limits: Limits | None = None) -> list[tuple[str, str, int, str]]:
    return [
        (e.name, e.type, e.size, e.linkname)
        for e in iter_tar(FileSource(io.BytesIO(data)), limits or Limits())
    ]


def scan(data: bytes, limits: Limits | None = None):  # type: ignore[no-untyped-def]
    limits = limits or Limits()
    return scan_layer(
        FileSource(io.BytesIO(data)),
        "layer",
        limits,
        [limits.max_total_bytes],
        [limits.max_entries],
        lambda _p: None,
        [limits.max_captured_bytes],
    )


def header(
    name: bytes = b"file", size: bytes = b"00000000012", typeflag: bytes = b"0"
) -> bytearray:
    """A hand-made ustar header with a correct checksum."""
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = b"0000644\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124 : 124 + len(size)] = size
    block[136:148] = b"00000000000\0"
    block[156:157] = typeflag
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    fix_checksum(block)
    return block


def fix_checksum(block: bytearray) -> None:
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()


# ---------------------------------------------------------------------------- well-formed


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_reads_every_format_python_writes(fmt: int) -> None:
    long = "d/" + "x" * 140 + "/" + "y" * 120
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as out:
        for name, data in [
            ("a.txt", b"hello"),
            (long if fmt != tarfile.USTAR_FORMAT else "b", b"12"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("l")
        link.type = tarfile.SYMTYPE
        link.linkname = "/" + "t" * (200 if fmt != tarfile.USTAR_FORMAT else 50)
        out.addfile(link)
    got = entries(buf.getvalue())
    assert got[0] == ("a.txt", "0", 5, "")
    assert got[1][0] == (long if fmt != tarfile.USTAR_FORMAT else "b") and got[1][2] == 2
    assert got[2][1] == "2" and got[2][3] == link.linkname


def test_entry_data_is_read_only_when_asked() -> None:
    data = Layer().file("a", b"x" * 1000).file("b", b"y" * 10).bytes()
    it = iter_tar(FileSource(io.BytesIO(data)), Limits())
    first = next(it)
    assert first.read(4) == b"xxxx"
    second = next(it)
    assert second.name == "b" and second.read(100) == b"y" * 10


def test_base256_size_is_understood() -> None:
    block = header(size=b"")
    block[124:136] = b"\x80" + (5).to_bytes(11, "big")
    fix_checksum(block)
    data = bytes(block) + b"hello".ljust(512, b"\0") + bytes(1024)
    assert entries(data) == [("file", "0", 5, "")]


def test_archive_without_end_marker_is_accepted_like_go() -> None:
    data = Layer().file("a", b"1").bytes()
    assert entries(data[:1024]) == [("a", "0", 1, "")]


# ---------------------------------------------------------------------------- hostile


def test_checksum_mismatch_is_an_error() -> None:
    block = header()
    block[0:4] = b"evil"
    with pytest.raises(ImageFormatError, match="checksum"):
        entries(bytes(block) + bytes(1024))


def test_negative_size_is_an_error() -> None:
    block = header(size=b"")
    block[124:136] = b"\xff" * 12
    fix_checksum(block)
    with pytest.raises(ImageFormatError, match="negative size"):
        entries(bytes(block) + bytes(1024))


def test_huge_declared_size_is_refused_before_reading() -> None:
    block = header(size=b"")
    block[124:136] = b"\x80" + (1 << 62).to_bytes(11, "big")
    fix_checksum(block)
    limits = Limits(max_total_bytes=1 << 30)
    with pytest.raises(ImageFormatError, match="over the image's size limit"):
        scan(bytes(block) + bytes(1024), limits)


def test_truncated_header_and_data_are_errors() -> None:
    data = Layer().file("a", b"x" * 3000).file("b", b"y").bytes()
    with pytest.raises(ImageFormatError, match="truncated inside a header"):
        entries(data[:100])
    with pytest.raises(ImageFormatError, match="truncated inside the data"):
        entries(data[: 512 + 1000])


def test_malformed_pax_record_is_an_error() -> None:
    pax = b"99999 path=x\n"
    block = header(name=b"././@PaxHeader", size=f"{len(pax):011o}".encode(), typeflag=b"x")
    data = bytes(block) + pax.ljust(512, b"\0") + bytes(header()) + bytes(1024)
    with pytest.raises(ImageFormatError, match="PAX"):
        entries(data)


def test_oversized_long_name_is_an_error() -> None:
    name = b"n" * 5000
    block = header(name=b"././@LongLink", size=f"{len(name):011o}".encode(), typeflag=b"L")
    padded = name + bytes(-len(name) % 512)
    data = bytes(block) + padded + bytes(header(size=b"00000000000")) + bytes(1024)
    with pytest.raises(ImageFormatError, match="longer than 4096"):
        entries(data)
    with pytest.raises(ImageFormatError, match="over the limit"):
        entries(data, Limits(max_meta_bytes=1024))


def test_paths_are_normalised_and_escapes_refused() -> None:
    assert normalize("/usr/bin/../lib/./x") == "usr/lib/x"
    assert normalize("./") is None
    with pytest.raises(ImageFormatError, match="outside the image root"):
        normalize("../../etc/passwd")
    layer = Layer().file("/abs/path", b"1").file("rel/../ok", b"2")
    assert [e.path for e in scan(layer.bytes()).entries] == ["abs/path", "ok"]
    with pytest.raises(ImageFormatError, match="outside the image root"):
        scan(Layer().file("a/../../etc/shadow", b"x").bytes())
    with pytest.raises(ImageFormatError, match="outside the image root"):
        scan(Layer().file("a", b"1").hardlink("b", "../../etc/shadow").bytes())


def test_symlinks_pointing_outside_are_recorded_not_followed() -> None:
    result = scan(Layer().symlink("etc/evil", "../../../../root/.ssh").bytes())
    assert [(e.path, e.kind, e.link) for e in result.entries] == [
        ("etc/evil", "l", "../../../../root/.ssh")
    ]


def test_whiteouts_are_recognised() -> None:
    result = scan(Layer().whiteout("a/b").opaque("c").file("d/.wh..wh.plnk", b"").bytes())
    assert [(e.path, e.kind) for e in result.entries] == [("a/b", WHITEOUT), ("c", OPAQUE)]


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_decompression_bomb_is_refused(tmp_path: Path, kind: str) -> None:
    bomb = Layer().file("zeros", bytes(40 << 20)).bytes()
    files = oci_files([bomb], compression=kind)
    root = write_oci_dir(tmp_path / "oci", files)
    limits = Limits(max_expansion_ratio=50, expansion_grace_bytes=1 << 20)
    with pytest.raises(ImageFormatError, match="decompression bomb"):
        analyze_image(str(root), limits=limits)
    # The same image within generous limits reads fine, and the layer size is the real one.
    report = analyze_image(str(root), limits=Limits(max_expansion_ratio=1e9))
    assert report.layers[0].size == 40 << 20 and report.layers[0].compression == kind


def test_total_size_limit_applies_to_uncompressed_layers(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    archive.write_bytes(docker_archive([Layer().file("a", 3 << 20), Layer().file("b", 3 << 20)]))
    with pytest.raises(ImageFormatError, match="size limit"):
        analyze_image(str(archive), limits=Limits(max_total_bytes=5 << 20))
    assert analyze_image(str(archive), limits=Limits(max_total_bytes=7 << 20)).size == 6 << 20


def _many_entries_layer(count: int) -> bytes:
    # Hand-packed headers: tarfile is too slow to write hundreds of thousands of entries.
    template = header(name=b"", size=b"00000000000")
    out = bytearray()
    for i in range(count):
        block = bytearray(template)
        name = f"d{i % 100}/f{i}".encode()
        block[0 : len(name)] = name
        fix_checksum(block)
        out += block
    return bytes(out + bytes(1024))


def test_millions_of_entries_hit_a_clear_limit_or_give_a_correct_result(tmp_path: Path) -> None:
    layer = _many_entries_layer(200_000)
    archive = tmp_path / "many.tar"
    archive.write_bytes(docker_archive([gzip.compress(layer, 1)]))
    with pytest.raises(ImageFormatError, match="more than 100000 tar entries"):
        analyze_image(str(archive), limits=Limits(max_entries=100_000))
    report = analyze_image(str(archive))
    assert report.files == 200_000
    assert report.layers[0].added == 200_000


def test_truncated_archives_are_clear_errors(tmp_path: Path) -> None:
    data = docker_archive([Layer().file("a", b"x" * 5000), Layer().file("b", b"y" * 5000)])
    content = len(data.rstrip(b"\0"))  # tarfile pads the archive with zeros past the content
    for cut in (content // 3, content // 2, content - 10):
        path = tmp_path / f"cut{cut}.tar"
        path.write_bytes(data[:cut])
        with pytest.raises(LayerwiseError):
            analyze_image(str(path))


def test_not_an_image_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file at all" * 100)
    with pytest.raises(ImageFormatError, match="checksum"):
        analyze_image(str(junk))
    plain = tmp_path / "plain.tar"
    plain.write_bytes(Layer().file("hello.txt", b"hi").bytes())
    with pytest.raises(ImageFormatError, match=r"no manifest\.json or index\.json"):
        analyze_image(str(plain))
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    with pytest.raises(ImageFormatError):
        analyze_image(str(empty))


def test_corrupt_compressed_layer_is_a_clear_error(tmp_path: Path) -> None:
    good = compress(Layer().file("a", b"x" * 100_000).bytes(), "gzip")
    bad = good[:20] + bytes(b ^ 0x5A for b in good[20:60]) + good[60:]
    archive = tmp_path / "bad.tar"
    archive.write_bytes(docker_archive([bad]))
    with pytest.raises(ImageFormatError, match="gzip"):
        analyze_image(str(archive))


# ---------------------------------------------------------------------------- fuzz

VALID = Layer().file("etc/a", b"abc").dir("usr").symlink("usr/l", "a").whiteout("x/y").bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 1535), st.integers(0, 255)), min_size=1, max_size=12),
    st.booleans(),
)
def test_fuzzed_tar_headers_give_entries_or_a_clear_error(
    edits: list[tuple[int, int]], recompute: bool
) -> None:
    data = bytearray(VALID)
    for pos, value in edits:
        data[pos] = value
    if recompute:  # get past the checksum so the fields themselves are exercised
        for start in range(0, 1536, 512):
            if any(data[start : start + 512]):
                block = data[start : start + 512]
                fix_checksum(block)
                data[start : start + 512] = block
    try:
        result = scan(bytes(data), Limits(max_total_bytes=1 << 20))
    except ImageFormatError as exc:
        assert str(exc).startswith("error: ") and "\n" not in str(exc)
    else:
        assert all(e.size >= 0 and not e.path.startswith("/") for e in result.entries)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=3000))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    with contextlib.suppress(ImageFormatError):
        scan(data, Limits(max_total_bytes=1 << 20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_fuzzed_image_archives_give_a_report_or_a_clear_error(pos: int, value: int) -> None:
    data = bytearray(docker_archive([VALID, Layer().file("b", b"1").bytes()]))
    data[pos % len(data)] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.tar"
        path.write_bytes(bytes(data))
        try:
            analyze_image(str(path))
        except LayerwiseError as exc:
            assert "\n" not in str(exc)


def test_a_manifest_listing_too_many_layers_is_refused(tmp_path: Path) -> None:
    empty = Layer().bytes()
    archive = tmp_path / "many-layers.tar"
    archive.write_bytes(docker_archive([empty] * 30))
    with pytest.raises(ImageFormatError, match="lists 30 layers, more than 20"):
        analyze_image(str(archive), limits=Limits(max_layers=20))
    assert len(analyze_image(str(archive)).layers) == 30


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=512, max_size=512))
def test_header_byte_sum_is_exact(block: bytes) -> None:
    from layerwise.image.tar import _byte_sum

    assert _byte_sum(block) == sum(block)


def test_header_byte_sum_extremes() -> None:
    from layerwise.image.tar import _byte_sum

    for block in (bytes(512), b"\xff" * 512, b"\x80" * 512, b"\x01" * 512, bytes(511) + b"\x01"):
        assert _byte_sum(block) == sum(block)
    # Sums on both sides of the Adler-32 modulus.
    for total in (65520, 65521, 65522, 130560):
        block = bytes([255] * (total // 255) + [total % 255]).ljust(512, b"\0")
        assert _byte_sum(block) == sum(block) == total


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_multi_member_compressed_layers(tmp_path: Path, kind: str) -> None:
    # Parallel compressors (pigz, zstd -T) write several members/frames back to back.
    data = Layer().file("a", os.urandom(300_000)).file("b", b"x" * 200_000).bytes()
    third = len(data) // 3
    blob = b"".join(
        compress(part, kind) for part in (data[:third], data[third : 2 * third], data[2 * third :])
    )
    root = write_oci_dir(tmp_path / "oci", oci_files([blob]))
    report = analyze_image(str(root))
    assert report.layers[0].compression == kind
    assert report.size == 500_000 and report.files == 2
    # Cut inside the last member: a clear error, whichever of the two readers notices first.
    cut = write_oci_dir(tmp_path / "cut", oci_files([blob[: len(blob) - 100]]))
    with pytest.raises(ImageFormatError, match=r"truncated|corrupt"):
        analyze_image(str(cut))
