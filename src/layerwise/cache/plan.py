"""The steps BuildKit runs for a target, numbered as BuildKit numbers them.

Only the stages the target reaches are built. Each built stage has, in order: its `FROM` when it
is an image (step 1; not for `scratch` or another stage), the ONBUILD triggers of its base stage
(BuildKit parses them and runs them first, numbered before the stage's own steps but not counted in
the total: `[child 3/1]`), then every RUN, COPY, ADD and WORKDIR. Other instructions change the
state (ENV, ARG, USER, SHELL) or the image config only, and make no step.

Triggers are modelled the way BuildKit does it: the stage is rebuilt as if the trigger lines were
written right after its FROM line, so they see the stage's own scope; they report the FROM's line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from layerwise.dockerfile.model import Model, Stage, Step, build_model
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Dockerfile, Instruction
from layerwise.errors import LayerwiseError

STEP_KEYWORDS = frozenset(("RUN", "COPY", "ADD", "WORKDIR"))


@dataclass(frozen=True)
class PlannedStep:
    """One step of the build: a vertex BuildKit shows as `[<stage> <number>/<total>] ...`."""

    stage: Stage
    step: Step | None  # None for FROM
    keyword: str  # FROM, RUN, COPY, ADD, WORKDIR
    number: int
    total: int
    line: int  # in the Dockerfile as written (a trigger reports its stage's FROM line)
    end_line: int
    text: str  # the instruction as written, continuations joined
    ident: str  # identity within the stage, stable when other lines are added or removed
    trigger: bool = False

    @property
    def stage_label(self) -> str:
        return self.stage.display_name

    layer: bool = True  # does BuildKit run a vertex for it? (`WORKDIR /` makes none)


@dataclass
class PlannedStage:
    stage: Stage
    steps: list[PlannedStep] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Identity of the stage across versions of the file: its name, else its index."""
        return self.stage.name or f"#{self.stage.index}"


@dataclass
class BuildPlan:
    dockerfile: Dockerfile
    model: Model  # of the file with triggers written out when there are any
    stages: list[PlannedStage]  # the built stages, in file order
    memo: dict[object, Any] = field(default_factory=dict, repr=False)  # for the key model

    @property
    def steps(self) -> list[PlannedStep]:
        return [s for st in self.stages for s in st.steps]


def plan_build(
    dockerfile: Dockerfile,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
) -> BuildPlan:
    """The steps of the stages BuildKit builds for `target` (default: the last stage)."""
    args = dict(build_args or {})
    model = build_model(dockerfile, args, target, platform)
    line_of = _identity
    triggered: set[int] = set()
    inserted = _trigger_text(model)
    if inserted:
        text, line_of, triggered = _with_triggers(dockerfile, inserted)
        try:
            synthetic = parse_dockerfile(text, dockerfile.path)
        except LayerwiseError:
            synthetic = None  # a trigger BuildKit would refuse: keep the file without triggers
        if synthetic is not None:
            model = build_model(synthetic, args, target, platform)
        else:
            line_of, triggered = _identity, set()
    stages: list[PlannedStage] = []
    for stage in model.built_stages:
        planned = PlannedStage(stage)
        from_image = stage.base_stage is None and not stage.is_scratch
        own = [
            s
            for s in stage.steps
            if s.name in STEP_KEYWORDS and s.instruction.start_line not in triggered
        ]
        total = len(own) + (1 if from_image else 0)
        number = 0
        fi = stage.from_instruction
        if from_image:
            number += 1
            planned.steps.append(
                PlannedStep(
                    stage, None, "FROM", 1, total, line_of(fi.start_line), line_of(fi.end_line),
                    fi.logical, "FROM",
                )
            )  # fmt: skip
        seen: dict[str, int] = {}
        for s in stage.steps:
            if s.name not in STEP_KEYWORDS:
                continue
            number += 1
            ins = s.instruction
            is_trigger = ins.start_line in triggered
            text = _normal(ins)
            count = seen.get(text, 0)
            seen[text] = count + 1
            ident = ("ONBUILD " if is_trigger else "") + text + (f" #{count}" if count else "")
            planned.steps.append(
                PlannedStep(
                    stage,
                    s,
                    s.name,
                    number,
                    total,
                    line_of(ins.start_line),
                    line_of(ins.end_line),
                    ins.logical,
                    ident,
                    is_trigger,
                    s.produces_layer,
                )
            )
        stages.append(planned)
    return BuildPlan(dockerfile, model, stages)


def _identity(line: int) -> int:
    return line


def _normal(ins: Instruction) -> str:
    words = ins.logical.split()
    if words:
        words[0] = words[0].upper()
    return " ".join(words)


def _trigger_text(model: Model) -> dict[int, str]:
    """Stage index -> the trigger lines to run first, for stages whose base stage has ONBUILD."""
    out: dict[int, str] = {}
    for stage in model.built_stages:
        if stage.base_stage is None:
            continue
        lines = []
        for step in model.stages[stage.base_stage].steps:
            trig = step.instruction.trigger
            if step.name == "ONBUILD" and trig is not None and not trig.heredocs:
                parts = trig.logical.split(None, 1)
                if len(parts) == 2:
                    lines.append(parts[1])
        if lines:
            out[stage.index] = "".join(line + "\n" for line in lines)
    return out


def _with_triggers(df: Dockerfile, inserted: dict[int, str]):  # type: ignore[no-untyped-def]
    """The Dockerfile text with trigger lines after the FROM of each stage that gets them; a map
    from its lines back to the original lines; and the set of its lines that are triggers."""
    froms = [ins for ins in df.instructions if ins.name == "FROM"]
    text = df.text
    pieces: list[str] = []
    at = 0
    blocks: list[tuple[int, int, int]] = []  # (first synthetic line, lines, original FROM line)
    shift = 0
    for index, block in sorted(inserted.items()):
        fi = froms[index]
        end = fi.span.end
        pieces.append(text[at:end])
        if not text[:end].endswith("\n"):
            pieces.append("\n")
        n = block.count("\n")
        blocks.append((fi.end_line + 1 + shift, n, fi.start_line))
        pieces.append(block)
        shift += n
        at = end
    pieces.append(text[at:])
    triggered: set[int] = set()
    for first, n, _ in blocks:
        triggered.update(range(first, first + n))

    def line_of(line: int) -> int:
        before = 0
        for first, n, from_line in blocks:
            if first <= line < first + n:
                return from_line
            if line >= first + n:
                before += n
        return line - before

    return "".join(pieces), line_of, triggered
