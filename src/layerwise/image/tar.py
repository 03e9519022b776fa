"""A strict, streaming tar reader for image layers (ustar, GNU and PAX, as Go's archive/tar
reads them), written for hostile input.

Headers are checked (checksum, octal or base-256 numbers, sizes against the limits) before
anything is trusted; long names and PAX records are bounded; nothing is ever written to disk.
Entry data is only read when the caller asks for it (`TarEntry.read`), otherwise skipped,
which on a seekable source is a seek.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from layerwise.image.errors import ImageFormatError, Limits
from layerwise.image.stream import Source

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)

REGULAR = "0"
HARDLINK = "1"
SYMLINK = "2"
CHAR = "3"
BLOCKDEV = "4"
DIRECTORY = "5"
FIFO = "6"
CONTIGUOUS = "7"
# Types whose header is followed by data the reader must consume or skip.
DATA_TYPES = {REGULAR, CONTIGUOUS, "\0", ""}
_HEADER_ONLY = {HARDLINK, SYMLINK, CHAR, BLOCKDEV, DIRECTORY, FIFO}


@dataclass(slots=True)
class TarEntry:
    name: str
    type: str  # one of the constants above
    size: int  # bytes of data (0 for links, directories and devices)
    mode: int
    uid: int
    gid: int
    linkname: str
    offset: int  # of the header, for error messages
    _source: Source
    _left: int = 0

    def read(self, limit: int) -> bytes:
        """Up to `limit` bytes of this entry's data (call before asking for the next entry)."""
        want = min(limit, self._left)
        data = self._source.read(want)
        self._left -= len(data)
        if len(data) < want:
            raise ImageFormatError(f"tar data of {self.name!r} is truncated")
        return data

    @property
    def is_regular(self) -> bool:
        return self.type in DATA_TYPES


def _octal(field: bytes, what: str, offset: int) -> int:
    if field and not field[0] & 0x80:
        try:
            return int(field.rstrip(b"\0") or b"0", 8)  # the common case: NUL-terminated octal
        except ValueError:
            pass
    if field and field[0] & 0x80:
        # GNU base-256: big-endian two's complement; 0xff marks a negative number.
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:
            value -= 1 << (8 * (len(field) - 1))
        elif field[0] != 0x80:
            value |= (field[0] & 0x7F) << (8 * (len(field) - 1))
        return value
    text = field.partition(b"\0")[0]
    try:
        return int(text, 8) if text.strip() else 0
    except ValueError:
        raise ImageFormatError(
            f"invalid {what} field {text[:20]!r} in tar header at offset {offset}"
        ) from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "replace")


def _parse_pax(data: bytes, offset: int) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break  # NUL padding
        space = data.find(b" ", pos)
        if space < 0 or space - pos > 20:
            raise ImageFormatError(f"malformed PAX header at offset {offset}")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ImageFormatError(f"malformed PAX record length at offset {offset}") from None
        end = pos + length
        if length <= space - pos + 1 or end > len(data) or data[end - 1 : end] != b"\n":
            raise ImageFormatError(f"malformed PAX record at offset {offset}")
        key, eq, value = data[space + 1 : end - 1].partition(b"=")
        if not eq:
            raise ImageFormatError(f"malformed PAX record at offset {offset}")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        pos = end
    return records


_LOW_BITS = int.from_bytes(b"\x01" * BLOCK, "little")


def _byte_sum(block: bytes) -> int:
    """sum(block) for a 512-byte block, exactly, at C speed: Adler-32 gives the sum modulo
    65521, and since the sum is at most 512 * 255 < 2 * 65521 the two candidates left differ
    in parity, which the low bits of the bytes give. (A plain sum() costs ~5 µs a header.)"""
    low = (zlib.adler32(block) & 0xFFFF) - 1
    if low < 0:
        low += 65521
    parity = (int.from_bytes(block, "little") & _LOW_BITS).bit_count() & 1
    return low if low & 1 == parity else low + 65521


def _signed_checksum(block: bytes) -> int:
    # Some old tar writers summed the header as signed chars; Go's reader accepts both.
    rest = block[:148] + block[156:]
    return sum(rest) - 256 * sum(1 for b in rest if b > 127) + 8 * 32


def _pad(size: int) -> int:
    return -size % BLOCK


class _Buffered:
    """Reads ahead a little, so an archive of many small files costs one read per few dozen
    entries, while the data of a large file is still skipped (seeked) rather than read."""

    READ_AHEAD = 16 * 1024

    def __init__(self, source: Source) -> None:
        self.source = source
        self.buf = b""
        self.pos = 0

    def read(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end <= len(self.buf):
            self.pos = end
            return self.buf[pos:end]
        head = self.buf[pos:]
        want = n - len(head)
        if want >= self.READ_AHEAD:
            self.buf, self.pos = b"", 0
            return head + self.source.read(want)
        self.buf = head + self.source.read(max(self.READ_AHEAD, want))
        self.pos = min(n, len(self.buf))
        return self.buf[: self.pos]

    def skip(self, n: int) -> int:
        available = len(self.buf) - self.pos
        if n <= available:
            self.pos += n
            return n
        self.buf, self.pos = b"", 0
        return available + self.source.skip(n - available)


def _numbers(block: bytes, offset: int) -> tuple[int, int, int, int, int]:
    """(checksum, size, mode, uid, gid) of a header."""
    try:
        # The common case: NUL- or space-terminated octal.
        return (
            int(block[148:156].rstrip(b" \0"), 8),
            int(block[124:136].rstrip(b" \0") or b"0", 8),
            int(block[100:108].rstrip(b" \0") or b"0", 8),
            int(block[108:116].rstrip(b" \0") or b"0", 8),
            int(block[116:124].rstrip(b" \0") or b"0", 8),
        )
    except ValueError:
        return (
            _octal(block[148:156], "checksum", offset),
            _octal(block[124:136], "size", offset),
            _octal(block[100:108], "mode", offset),
            _octal(block[108:116], "uid", offset),
            _octal(block[116:124], "gid", offset),
        )


def iter_tar(source: Source, limits: Limits, budget: list[int] | None = None) -> Iterator[TarEntry]:
    """The entries of the tar stream in `source`, in order.

    `budget`, when given, is a one-element list of uncompressed bytes still allowed across the
    whole image; each entry's declared size is charged to it before its data is touched.
    Raises ImageFormatError for anything malformed or over a limit.
    """
    source = _Buffered(source)
    read, skip = source.read, source.skip
    max_path = limits.max_path_bytes
    offset = 0
    pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    entry: TarEntry | None = None
    while True:
        if entry is not None:
            padding = -entry.size % BLOCK
            rest = entry._left + padding
            if rest and skip(rest) != rest:
                raise ImageFormatError(
                    f"tar archive is truncated inside the data of {entry.name!r} "
                    f"(header at offset {entry.offset})"
                )
            offset += BLOCK + entry.size + padding
            entry = None
        block = read(BLOCK)
        if not block:
            return  # a stream that simply ends is accepted, as Go's reader does
        if len(block) < BLOCK:
            raise ImageFormatError(f"tar archive is truncated inside a header at offset {offset}")
        if block == ZERO_BLOCK:
            return  # end-of-archive marker; what follows it is padding
        stored, size, mode, uid, gid = _numbers(block, offset)
        unsigned = _byte_sum(block) - sum(block[148:156]) + 8 * 32
        if stored != unsigned and stored != _signed_checksum(block):
            raise ImageFormatError(
                f"tar header checksum mismatch at offset {offset} (not a tar archive, or corrupt)"
            )
        typeflag = chr(block[156]) if block[156] else REGULAR
        if pax and "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise ImageFormatError(f"invalid PAX size at offset {offset}") from None
        if size < 0:
            raise ImageFormatError(f"tar entry at offset {offset} declares a negative size")
        if typeflag in _HEADER_ONLY:
            data_size = 0
        else:
            data_size = size
        if budget is not None:
            budget[0] -= data_size
            if budget[0] < 0:
                raise ImageFormatError(
                    f"tar entry at offset {offset} declares {size} bytes, over the image's "
                    f"size limit ({limits.max_total_bytes} bytes); raise --max-total-size "
                    "if the image is genuine"
                )
        if typeflag in ("x", "g", "L", "K"):
            if data_size > limits.max_meta_bytes:
                raise ImageFormatError(
                    f"tar metadata record at offset {offset} is {data_size} bytes, "
                    f"over the limit of {limits.max_meta_bytes}"
                )
            data = source.read(data_size)
            if len(data) < data_size or source.skip(_pad(data_size)) != _pad(data_size):
                raise ImageFormatError(f"tar archive is truncated at offset {offset}")
            offset += BLOCK + data_size + _pad(data_size)
            if typeflag == "x":
                pax = _parse_pax(data, offset)
            elif typeflag == "L":
                long_name = _text(data)
            elif typeflag == "K":
                long_link = _text(data)
            # "g" (global PAX) records only carry defaults we do not use.
            continue
        if long_name is not None:
            name = long_name
        elif pax and "path" in pax:
            name = pax["path"]
        else:
            name = block[:100].partition(b"\0")[0].decode("utf-8", "replace")
            if block[345] and block[257:263] == b"ustar\0":  # POSIX ustar: a name prefix
                prefix = _text(block[345:500])
                if prefix:
                    name = f"{prefix}/{name}"
        linkname = long_link if long_link is not None else pax.get("linkpath") if pax else None
        if linkname is None:
            linkname = _text(block[157:257]) if block[157] else ""
        if len(name) > max_path or len(linkname) > max_path:
            raise ImageFormatError(
                f"tar entry at offset {offset} has a name longer than {max_path}"
            )
        if pax:
            if pax.get("uid", "").isdigit():
                uid = int(pax["uid"])
            if pax.get("gid", "").isdigit():
                gid = int(pax["gid"])
        if typeflag == "S" or (pax and any(k.startswith("GNU.sparse.") for k in pax)):
            raise ImageFormatError(
                f"tar entry {name!r} at offset {offset} is a GNU sparse file, "
                "which image layers do not use"
            )
        entry = TarEntry(
            name, typeflag, data_size, mode & 0o7777, uid, gid, linkname, offset, source, data_size
        )
        if pax:
            pax = {}
        long_name = long_link = None
        yield entry
