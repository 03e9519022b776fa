"""What a build reports: one `StepResult` per Dockerfile step, and the `BuildResult` as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.build.rawjson import BuildProgress, BuildWarning, Vertex
from layerwise.build.steps import StagePlan, StepLocation, locate_step, parse_step_name
from layerwise.errors import EngineError

CONTEXT_VERTEX = "[internal] load build context"


@dataclass(frozen=True)
class StepResult:
    """One Dockerfile step as BuildKit ran it.

    `line`/`end_line` are the Dockerfile lines of the instruction when the vertex could be tied to
    one (see `layerwise.build.steps`), else None. `started` is False for a step BuildKit never
    began (a step after a failure, or one whose work another stage already did). Steps that are
    identical in two stages are one vertex in BuildKit, so they appear once.
    """

    name: str
    line: int | None
    cached: bool
    seconds: float
    error: str | None = None
    end_line: int | None = None
    stage: str | None = None  # the stage label BuildKit prints ("builder", "stage-1"), None alone
    stage_index: int | None = None
    step: int | None = None
    total: int | None = None
    keyword: str | None = None  # FROM, RUN, COPY, ADD, WORKDIR
    started: bool = True
    digest: str = ""
    log: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "line": self.line,
            "end_line": self.end_line,
            "stage": self.stage,
            "stage_index": self.stage_index,
            "step": self.step,
            "total": self.total,
            "keyword": self.keyword,
            "cached": self.cached,
            "started": self.started,
            "seconds": round(self.seconds, 6),
            "error": self.error,
        }


@dataclass
class BuildResult:
    """A finished build. `seconds` is the wall-clock time of the whole `buildx build` command."""

    context: Path
    dockerfile: Path
    steps: list[StepResult]
    seconds: float
    image_id: str | None = None
    image_size: int | None = None  # bytes, from `docker image inspect`
    layers: int | None = None
    context_bytes: int | None = None  # bytes the client sent for the build context
    tag: str | None = None
    warnings: list[BuildWarning] = field(default_factory=list)
    vertexes: list[Vertex] = field(default_factory=list, repr=False)
    command: list[str] = field(default_factory=list, repr=False)

    @property
    def cached_steps(self) -> list[StepResult]:
        return [s for s in self.steps if s.cached]

    @property
    def rebuilt_steps(self) -> list[StepResult]:
        return [s for s in self.steps if s.started and not s.cached]

    def step_at(self, line: int) -> StepResult | None:
        """The step of the instruction that covers this Dockerfile line."""
        for s in self.steps:
            if s.line is not None and s.line <= line <= (s.end_line or s.line):
                return s
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": str(self.context),
            "dockerfile": str(self.dockerfile),
            "tag": self.tag,
            "image_id": self.image_id,
            "image_bytes": self.image_size,
            "layers": self.layers,
            "context_bytes": self.context_bytes,
            "seconds": round(self.seconds, 6),
            "steps": [s.to_dict() for s in self.steps],
        }


class BuildError(EngineError):
    """A build that BuildKit refused or that failed at a step.

    The message names the failing step (with its Dockerfile line when known) and BuildKit's error;
    `log_tail` holds the last lines of that step's output, which `str()` shows below the message.
    """

    def __init__(
        self,
        message: str,
        *,
        step: StepResult | None = None,
        log_tail: list[str] | None = None,
        result: BuildResult | None = None,
    ) -> None:
        super().__init__(message)
        self.step = step
        self.log_tail = list(log_tail or ())
        self.result = result

    def __str__(self) -> str:
        head = super().__str__()
        if not self.log_tail:
            return head
        return head + "\n" + "\n".join(f"  | {line}" for line in self.log_tail)


def steps_from_progress(progress: BuildProgress, plans: list[StagePlan]) -> list[StepResult]:
    """The Dockerfile steps among the vertexes, in Dockerfile order (stage, then step number)."""
    found: list[tuple[tuple[int, int, int], StepResult]] = []
    for vertex in progress.ordered():
        parsed = parse_step_name(vertex.name)
        if parsed is None:
            continue
        where: StepLocation | None = locate_step(parsed, plans) if plans else None
        stage_index = where.stage.index if where else None
        result = StepResult(
            name=vertex.name,
            line=where.line if where else None,
            end_line=where.end_line if where else None,
            cached=vertex.cached,
            seconds=vertex.seconds,
            error=vertex.error,
            stage=parsed.stage,
            stage_index=stage_index,
            step=parsed.step,
            total=parsed.total,
            keyword=parsed.keyword or None,
            started=vertex.started is not None or vertex.cached,
            digest=vertex.digest,
            log=vertex.log_text(),
        )
        order = (
            stage_index if stage_index is not None else 1 << 30,
            parsed.step,
            vertex.first_seen,
        )
        found.append((order, result))
    found.sort(key=lambda item: item[0])
    return [r for _, r in found]


def context_bytes(progress: BuildProgress) -> int | None:
    """Bytes sent for the build context: the `transferring context` counter of the `load build
    context` vertexes (the one under `load .dockerignore` only reads the ignore file)."""
    digests = {v.digest for v in progress.vertexes.values() if v.name == CONTEXT_VERTEX}
    if not digests:
        return None
    total = 0
    for (vertex, ident), counter in progress.statuses.items():
        if vertex in digests and ident.startswith("transferring context"):
            total += counter.current
    return total
