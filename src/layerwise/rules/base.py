"""What a rule is: an id, a title, the why, a severity, examples, a check and optionally a fix.

A rule reads the semantic model (never the raw text) and yields findings. A finding may carry
a fix: a set of edits on the source (replace characters `start..end` with new text) computed
from the spans of syntax-tree nodes. Fixes are applied by `layerwise.fixes`, which re-parses the
result and refuses anything that does not parse, so a rule cannot break a Dockerfile.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from layerwise.dockerfile.model import Model, Stage, Step
from layerwise.dockerfile.syntax import Dockerfile, Instruction, Span

if TYPE_CHECKING:
    from layerwise.config import Config
    from layerwise.context.project import BuildContext
    from layerwise.shell.run import RunScript


class Severity(enum.IntEnum):
    """Ordered so that `--fail-on warning` means warning or worse."""

    STYLE = 0
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


Safety = Literal["safe", "unsafe"]


@dataclass(frozen=True, order=True)
class Edit:
    """Replace `text[start:end]` with `replacement` (offsets into the Dockerfile text)."""

    start: int
    end: int
    replacement: str

    @classmethod
    def insert(cls, at: int, text: str) -> Edit:
        return cls(at, at, text)

    @classmethod
    def replace(cls, span: Span, text: str) -> Edit:
        return cls(span.start, span.end, text)

    @classmethod
    def delete(cls, span: Span) -> Edit:
        return cls(span.start, span.end, "")


@dataclass(frozen=True)
class Fix:
    """Edits that resolve a finding, applied all together or not at all."""

    edits: tuple[Edit, ...]
    safety: Safety
    description: str

    def overlaps(self, other: Fix) -> bool:
        for a in self.edits:
            for b in other.edits:
                if a.start < b.end and b.start < a.end:
                    return True
                # Two insertions at the same place would be ordered arbitrarily.
                if a.start == b.start and (a.start == a.end or b.start == b.end):
                    return True
        return False


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    path: str | None
    line: int
    column: int
    end_line: int
    end_column: int
    covers: tuple[str, ...] = ()  # the hadolint codes / Docker check names this finding matches
    fix: Fix | None = None
    name: str = ""  # the rule's short name

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path or "", self.line, self.column, self.rule)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "rule": self.rule,
            "name": self.name,
            "severity": str(self.severity),
            "message": self.message,
            "covers": list(self.covers),
            "fixable": self.fixable,
            "fix_safety": self.fix.safety if self.fix else None,
        }


class LintContext:
    """Everything a rule may read, computed once per Dockerfile and shared by all rules."""

    def __init__(
        self,
        dockerfile: Dockerfile,
        model: Model | None = None,
        *,
        config: Config | None = None,
        build_context: BuildContext | None = None,
    ) -> None:
        from layerwise.config import Config

        self.dockerfile = dockerfile
        self.model = model if model is not None else dockerfile.model()
        self.config = config or Config()
        # Read the context through this model, so its steps are the ones the rules see.
        self.build_context = (
            build_context.with_model(self.model) if build_context is not None else None
        )
        self._runs: dict[int, RunScript | None] = {}

    @property
    def path(self) -> str | None:
        return self.dockerfile.path

    @property
    def text(self) -> str:
        return self.dockerfile.text

    @cached_property
    def final(self) -> Stage | None:
        """The stage the image is made from (the target)."""
        return self.model.target

    def built_steps(self) -> Iterator[Step]:
        return self.model.steps(built_only=True)

    def run(self, step: Step) -> RunScript | None:
        """What a RUN step executes (shell form, heredoc bodies, or `sh -c` in exec form), parsed
        once with the stage's SHELL and the ARG/ENV values in scope; None for other steps."""
        key = id(step.instruction)
        if key not in self._runs:
            from layerwise.shell.run import analyze_step

            self._runs[key] = analyze_step(step)
        return self._runs[key]


@dataclass(frozen=True)
class Example:
    """A Dockerfile (and, for context rules, files around it) used in the docs and the tests."""

    dockerfile: str
    files: dict[str, str] = field(default_factory=dict)
    build_args: dict[str, str] = field(default_factory=dict)
    # `[tool.layerwise]` settings the example is linted with (for rules a setting turns on).
    config: dict[str, Any] = field(default_factory=dict)

    def make_config(self) -> Config:
        from layerwise.config import Config, config_from_table

        return config_from_table(self.config) if self.config else Config()


class Rule:
    """Base class of every rule. Subclasses set the class attributes and implement `check`."""

    id: ClassVar[str]
    name: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity]
    rationale: ClassVar[str]
    hadolint: ClassVar[tuple[str, ...]] = ()
    buildkit: ClassVar[tuple[str, ...]] = ()
    bad: ClassVar[Example]
    good: ClassVar[Example]
    # The result of applying this rule's fix to `bad` (None when the rule has no fix).
    fixed: ClassVar[str | None] = None
    fix_safety: ClassVar[Safety | None] = None
    # Rules that need the build context (files, .dockerignore) are skipped without one.
    needs_context: ClassVar[bool] = False
    # Opt-in rules run only when a `select` (command line or config) names them: for checks
    # that cost far more than the rest of the lint (an external program per file).
    opt_in: ClassVar[bool] = False

    def check(self, ctx: LintContext) -> Iterable[Finding]:
        raise NotImplementedError

    # -- helpers for subclasses ----------------------------------------------------------------

    def finding(
        self,
        ctx: LintContext,
        at: Instruction | Span,
        message: str,
        *,
        fix: Fix | None = None,
        covers: Iterable[str] | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        span = at.span if isinstance(at, Instruction) else at
        end = span.end
        if isinstance(at, Instruction):
            # Point at the instruction's first line, not its heredoc bodies.
            end = min(span.end, at.args_span.end) if at.args_span.end > span.start else span.end
        df = ctx.dockerfile
        start_pos = df.position(span.start)
        end_pos = df.end_position(max(end, span.start + 1))
        return Finding(
            rule=self.id,
            severity=ctx.config.severity_for(
                self.id,
                severity if severity is not None else self.severity,  # STYLE is 0
            ),
            message=message,
            path=df.path,
            line=start_pos.line,
            column=start_pos.column,
            end_line=end_pos.line,
            end_column=end_pos.column,
            covers=tuple(covers) if covers is not None else self.hadolint + self.buildkit,
            fix=fix,
            name=self.name,
        )

    def make_fix(self, edits: Iterable[Edit], description: str) -> Fix:
        assert self.fix_safety is not None, f"{self.id} declares no fix"
        return Fix(tuple(sorted(edits)), self.fix_safety, description)


_REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry (ids are unique)."""
    for attr in ("id", "name", "title", "severity", "rationale", "bad", "good"):
        if not hasattr(cls, attr):
            raise TypeError(f"rule {cls.__name__} lacks {attr}")
    if cls.id in _REGISTRY:
        raise TypeError(f"duplicate rule id {cls.id}")
    if (cls.fixed is None) != (cls.fix_safety is None):
        raise TypeError(f"rule {cls.id}: `fixed` and `fix_safety` go together")
    _REGISTRY[cls.id] = cls
    return cls


def registry() -> dict[str, type[Rule]]:
    return _REGISTRY
