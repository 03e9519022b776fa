"""Reading buildx's `--progress=rawjson` stream.

buildx writes every BuildKit `SolveStatus` it receives as one JSON object (indented, so one object
spans many lines) on stderr: `vertexes` (the steps of the build graph, sent again in full each time
one changes), `statuses` (progress counters such as bytes of context transferred), `logs` (a
step's output, base64) and `warnings`. When the build fails, buildx then prints plain text to the
same stream (the Dockerfile excerpt around the failing line and `ERROR: ...`). `RawJsonReader`
takes the stream line by line, as it arrives, and keeps the latest state of every vertex.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def parse_timestamp(value: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp as BuildKit writes it (nanoseconds, `Z`).

    Python's parser takes at most six fractional digits, so the nanoseconds are cut to micro-
    seconds first; a microsecond is far below anything a build step takes.
    """
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: dot + 1] + text[dot + 1 : end][:6].ljust(6, "0") + text[end:]
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


@dataclass
class Vertex:
    """One node of the build graph as BuildKit last reported it.

    A vertex can run more than once in one build (BuildKit re-sends it with a new `started`):
    `intervals` keeps every (started, completed) pair so that `seconds` adds them up as buildx's
    own progress display does.
    """

    digest: str
    name: str = ""
    inputs: tuple[str, ...] = ()
    started: float | None = None
    completed: float | None = None
    cached: bool = False
    error: str | None = None
    intervals: dict[float, float | None] = field(default_factory=dict)
    logs: list[bytes] = field(default_factory=list)
    first_seen: int = 0  # order in which the stream first mentioned this vertex

    @property
    def seconds(self) -> float:
        total = 0.0
        for start, end in self.intervals.items():
            if end is not None and end >= start:
                total += end - start
        return total

    @property
    def done(self) -> bool:
        return self.completed is not None

    def log_text(self) -> str:
        return b"".join(self.logs).decode("utf-8", errors="replace")


@dataclass
class StatusCounter:
    """A progress counter of a vertex (`transferring context: 12.3kB`, a layer download ...)."""

    id: str
    vertex: str
    current: int = 0
    total: int | None = None
    completed: bool = False


@dataclass
class BuildWarning:
    """A build warning BuildKit reported (short message decoded; `line` when it has a source)."""

    vertex: str | None
    message: str
    detail: tuple[str, ...] = ()
    url: str | None = None
    line: int | None = None


@dataclass
class BuildProgress:
    """Everything the stream said so far: vertexes by digest, counters, warnings, plain text."""

    vertexes: dict[str, Vertex] = field(default_factory=dict)
    statuses: dict[tuple[str, str], StatusCounter] = field(default_factory=dict)
    warnings: list[BuildWarning] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # lines that were not JSON (errors, notices)

    def ordered(self) -> list[Vertex]:
        """Vertexes in the order the stream first mentioned them."""
        return sorted(self.vertexes.values(), key=lambda v: v.first_seen)

    def find(self, name: str) -> list[Vertex]:
        return [v for v in self.ordered() if v.name == name]


VertexCallback = Callable[[Vertex], None]


class RawJsonReader:
    """Feeds rawjson lines into a `BuildProgress`; calls `on_vertex` when a vertex changes (its
    state, or new log output)."""

    def __init__(self, on_vertex: VertexCallback | None = None) -> None:
        self.progress = BuildProgress()
        self._on_vertex = on_vertex
        self._pending: list[str] = []

    def feed_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.feed_line(line)

    def feed_line(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if self._pending:
            self._pending.append(line)
            # buildx indents with two spaces, so an object ends with `}` alone at column 0.
            if line == "}":
                self._flush_pending()
            return
        if line.startswith("{"):
            if line.rstrip().endswith("}"):
                # compact (single-line) encoding
                try:
                    self._apply(json.loads(line))
                    return
                except json.JSONDecodeError:
                    pass
            self._pending.append(line)
            return
        if line.strip():
            self.progress.text.append(line)

    def close(self) -> BuildProgress:
        """End of stream: an unfinished object is kept as text (the build was cut off)."""
        if self._pending:
            self.progress.text.extend(self._pending)
            self._pending = []
        return self.progress

    def _flush_pending(self) -> None:
        chunk = "\n".join(self._pending)
        self._pending = []
        try:
            message = json.loads(chunk)
        except json.JSONDecodeError:
            self.progress.text.extend(chunk.splitlines())
            return
        if isinstance(message, dict):
            self._apply(message)

    def _apply(self, message: dict[str, Any]) -> None:
        for raw in message.get("vertexes") or ():
            self._vertex(raw)
        for raw in message.get("statuses") or ():
            self._status(raw)
        for raw in message.get("logs") or ():
            self._log(raw)
        for raw in message.get("warnings") or ():
            self._warning(raw)

    def _get(self, digest: str) -> Vertex:
        vertex = self.progress.vertexes.get(digest)
        if vertex is None:
            vertex = Vertex(digest=digest, first_seen=len(self.progress.vertexes))
            self.progress.vertexes[digest] = vertex
        return vertex

    def _vertex(self, raw: dict[str, Any]) -> None:
        digest = raw.get("digest")
        if not isinstance(digest, str):
            return
        vertex = self._get(digest)
        vertex.name = str(raw.get("name") or vertex.name)
        vertex.inputs = tuple(str(i) for i in raw.get("inputs") or ())
        # Each message carries the vertex's whole current state.
        vertex.started = parse_timestamp(raw.get("started"))
        vertex.completed = parse_timestamp(raw.get("completed"))
        vertex.cached = bool(raw.get("cached"))
        error = raw.get("error")
        vertex.error = str(error) if error else None
        if vertex.started is not None:
            vertex.intervals[vertex.started] = vertex.completed
        if self._on_vertex is not None:
            self._on_vertex(vertex)

    def _status(self, raw: dict[str, Any]) -> None:
        vertex = str(raw.get("vertex") or "")
        ident = str(raw.get("id") or "")
        key = (vertex, ident)
        counter = self.progress.statuses.get(key)
        if counter is None:
            counter = StatusCounter(id=ident, vertex=vertex)
            self.progress.statuses[key] = counter
        counter.current = int(raw.get("current") or 0)
        total = raw.get("total")
        counter.total = int(total) if total else None
        counter.completed = bool(raw.get("completed"))

    def _log(self, raw: dict[str, Any]) -> None:
        digest = raw.get("vertex")
        if not isinstance(digest, str):
            return
        vertex = self._get(digest)
        vertex.logs.append(_b64(raw.get("data")))
        if self._on_vertex is not None:
            self._on_vertex(vertex)

    def _warning(self, raw: dict[str, Any]) -> None:
        line = None
        for rng in raw.get("range") or ():
            start = (rng or {}).get("start") or {}
            if isinstance(start.get("line"), int):
                line = start["line"]
                break
        detail = tuple(_b64(d).decode("utf-8", "replace") for d in raw.get("detail") or ())
        self.progress.warnings.append(
            BuildWarning(
                vertex=raw.get("vertex"),
                message=_b64(raw.get("short")).decode("utf-8", "replace"),
                detail=detail,
                url=raw.get("url"),
                line=line,
            )
        )


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        return b""
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError):
        return value.encode()


def read_rawjson(text: str) -> BuildProgress:
    """Parse a whole recorded stream."""
    reader = RawJsonReader()
    reader.feed_lines(text.splitlines())
    return reader.close()
