"""Byte sources the tar reader pulls from: a file or pipe, a window of an outer archive, and a
decompressing stream with bomb protection.

Every source has the same two operations: `read(n)` returns up to n bytes (fewer only at the
end) and `skip(n)` moves past n bytes, seeking where the underlying file allows it, so listing
an uncompressed layer inside a `docker save` tarball never reads its file contents.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO, Protocol, cast

from layerwise.image.errors import ImageFormatError, Limits

CHUNK = 1 << 20


class Source(Protocol):
    def read(self, n: int) -> bytes: ...

    def skip(self, n: int) -> int: ...


class FileSource:
    """A binary file or pipe. Seeks to skip when the file is seekable, and knows its size then,
    so a skip past the end is reported as truncation rather than silently succeeding."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.size: int | None = None
        try:
            if f.seekable():
                self.size = os.fstat(f.fileno()).st_size
        except (OSError, io.UnsupportedOperation, AttributeError):
            self.size = None
        self.pos = f.tell() if self.size is not None else 0

    @property
    def seekable(self) -> bool:
        return self.size is not None

    def read(self, n: int) -> bytes:
        data = self.f.read(n)
        self.pos += len(data)
        return data

    def skip(self, n: int) -> int:
        if self.size is not None:
            step = max(0, min(n, self.size - self.pos))
            self.f.seek(step, os.SEEK_CUR)
            self.pos += step
            return step
        done = 0
        while done < n:
            data = self.f.read(min(CHUNK, n - done))
            if not data:
                break
            done += len(data)
        self.pos += done
        return done

    def seek(self, offset: int) -> None:
        self.f.seek(offset)
        self.pos = offset


class Window:
    """The next `size` bytes of a parent source (one member of an outer tar), with the first
    bytes available for sniffing before they are consumed."""

    def __init__(self, parent: Source, size: int) -> None:
        self.parent = parent
        self.remaining = size
        self.head = b""
        self.consumed = 0  # bytes handed out, for expansion-ratio accounting

    def peek(self, n: int) -> bytes:
        if len(self.head) < n:
            more = self.parent.read(min(n - len(self.head), self.remaining))
            self.remaining -= len(more)
            self.head += more
        return self.head[:n]

    def read(self, n: int) -> bytes:
        if self.head:
            data, self.head = self.head[:n], self.head[n:]
            if len(data) < n and self.remaining:
                more = self.parent.read(min(n - len(data), self.remaining))
                self.remaining -= len(more)
                data += more
        else:
            data = self.parent.read(min(n, self.remaining))
            self.remaining -= len(data)
        self.consumed += len(data)
        return data

    def skip(self, n: int) -> int:
        done = 0
        if self.head:
            done = min(n, len(self.head))
            self.head = self.head[done:]
        step = self.parent.skip(min(n - done, self.remaining))
        self.remaining -= step
        done += step
        self.consumed += done
        return done

    def finish(self) -> bool:
        """Move the parent past the rest of this window; False when the parent ended early."""
        self.head = b""
        want = self.remaining
        got = self.parent.skip(want)
        self.remaining -= got
        return got == want


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compression_of(head: bytes) -> str | None:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


class _SourceFile(io.RawIOBase):
    """A Source as a file object, for decompressors that pull from one."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.source.read(len(b))
        b[: len(data)] = data
        return len(data)


class Decompressed:
    """A gzip (multi-member) or zstd stream over `parent` that refuses to expand more than the
    limits allow: a ratio against the compressed bytes read, and the image-wide total."""

    def __init__(self, parent: Window, kind: str, limits: Limits, label: str) -> None:
        self.parent = parent
        self.kind = kind
        self.limits = limits
        self.label = label
        self.buf = b""
        self.off = 0
        self.produced = 0
        self.done = False
        self._chunks = self._gzip() if kind == "gzip" else self._zstd()

    def _gzip(self) -> Iterator[bytes]:
        d = zlib.decompressobj(31)
        while True:
            if d.eof:
                # Another member may follow (parallel compressors write several).
                rest = d.unused_data
                while len(rest) < 2:
                    more = self.parent.read(CHUNK)
                    if not more:
                        break
                    rest += more
                if not rest.strip(b"\0"):
                    return  # the end (zero padding after the last member is tolerated)
                if not rest.startswith(GZIP_MAGIC):
                    raise ImageFormatError(f"{self.label}: garbage after the gzip stream")
                d = zlib.decompressobj(31)
                data = rest
            else:
                data = d.unconsumed_tail or self.parent.read(CHUNK)
                if not data:
                    raise ImageFormatError(f"{self.label}: gzip stream is truncated")
            try:
                out = d.decompress(data, CHUNK)  # bounded output: a bomb cannot balloon memory
            except zlib.error as exc:
                raise ImageFormatError(f"{self.label}: corrupt gzip data ({exc})") from None
            if out:
                yield out

    def _zstd(self) -> Iterator[bytes]:
        import zstandard

        dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27)
        reader = dctx.stream_reader(
            cast(IO[bytes], _SourceFile(self.parent)), read_size=CHUNK, read_across_frames=True
        )
        while True:
            try:
                out = reader.read(CHUNK)
            except zstandard.ZstdError as exc:
                raise ImageFormatError(f"{self.label}: corrupt zstd data ({exc})") from None
            if not out:
                return
            yield out

    def _more(self) -> bool:
        if self.done:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            self.done = True
            return False
        self.produced += len(chunk)
        limits = self.limits
        if (
            self.produced > limits.expansion_grace_bytes
            and self.produced > limits.max_expansion_ratio * max(1, self.parent.consumed)
        ):
            raise ImageFormatError(
                f"{self.label}: decompresses to more than {limits.max_expansion_ratio:g} times "
                "its compressed size (a decompression bomb?); raise --max-expansion-ratio "
                "if the image is genuine"
            )
        if self.produced > limits.max_total_bytes:
            raise ImageFormatError(
                f"{self.label}: decompresses to more than {limits.max_total_bytes} bytes; "
                "raise --max-total-size if the image is genuine"
            )
        self.buf = self.buf[self.off :] + chunk if self.off < len(self.buf) else chunk
        self.off = 0
        return True

    def read(self, n: int) -> bytes:
        while len(self.buf) - self.off < n and self._more():
            pass
        data = self.buf[self.off : self.off + n]
        self.off += len(data)
        return data

    def skip(self, n: int) -> int:
        done = 0
        while done < n:
            if self.off >= len(self.buf) and not self._more():
                break
            step = min(n - done, len(self.buf) - self.off)
            self.off += step
            done += step
        return done
