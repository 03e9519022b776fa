"""Which Dockerfile instruction a BuildKit vertex belongs to.

BuildKit's Dockerfile frontend names the vertex of every step `[<stage> <i>/<n>] <instruction>`:
`<stage>` is the stage name as written after `AS` (lower-cased), `stage-<k>` for an unnamed stage
(k counts every stage of the file), and is left out when the file has a single stage; with several
target platforms the platform comes first. `<n>` counts the steps that make a vertex: `FROM` of an
image (not `scratch`, not another stage), then every RUN, COPY, ADD and WORKDIR, with ONBUILD
triggers of the base image right after FROM. The numbers are padded to the width of `<n>`
(`[builder  3/12]`). The docker driver reports no source map with the progress stream, so the
step number is the link to the instruction, and the keyword is checked against it.

A vertex's name is not always this build's own: BuildKit merges identical vertexes of builds
running at the same time on one engine (`FROM python:3.11-slim` then `WORKDIR /app` in two
projects), and the merged vertex keeps the name the first build gave it. So when the numbers do
not fit this Dockerfile, the instruction text decides (the image of a FROM, or the instruction as
written, whitespace aside); what neither can tell is left unmapped rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from layerwise.dockerfile.syntax import Dockerfile, Instruction

STEP_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})

_STEP_NAME = re.compile(
    r"^\[(?P<prefix>[^\]]*?)\s*(?P<step>\d+)/(?P<total>\d+)\]\s?(?P<text>.*)$", re.S
)


@dataclass(frozen=True)
class StepName:
    """A parsed vertex name such as `[builder  3/12] RUN pip install -r requirements.txt`."""

    stage: str | None
    platform: str | None
    step: int
    total: int
    text: str

    @property
    def keyword(self) -> str:
        return self.text.split(None, 1)[0].upper() if self.text.strip() else ""


def parse_step_name(name: str) -> StepName | None:
    """The parts of a step vertex's name; None for BuildKit's own vertexes (`[internal] ...`)."""
    m = _STEP_NAME.match(name)
    if m is None:
        return None
    tokens = m.group("prefix").split()
    stage = None
    platform = None
    if tokens and "/" not in tokens[-1]:
        stage = tokens.pop()
    if tokens:
        platform = " ".join(tokens)
    return StepName(
        stage=stage,
        platform=platform,
        step=int(m.group("step")),
        total=int(m.group("total")),
        text=m.group("text"),
    )


@dataclass(frozen=True)
class StagePlan:
    """A stage as BuildKit numbers its steps."""

    index: int
    name: str | None  # lower-cased `AS` name
    label: str | None  # what the vertex names show: the name, `stage-<index>`, None if alone
    from_instruction: Instruction
    from_image: bool  # FROM pulls an image, and so is step 1
    steps: tuple[Instruction, ...]  # RUN, COPY, ADD, WORKDIR in order
    base: str = ""  # the FROM image after ARG expansion

    @property
    def total(self) -> int:
        return len(self.steps) + (1 if self.from_image else 0)


def plan_stages(df: Dockerfile, build_args: Mapping[str, str] | None = None) -> list[StagePlan]:
    """The stages of a Dockerfile with the steps BuildKit numbers in each (from the semantic
    model, so FROM lines see global ARGs and build args as BuildKit does)."""
    model = df.model(build_args=dict(build_args or {}))
    single = len(model.stages) == 1
    plans: list[StagePlan] = []
    for stage in model.stages:
        from_image = stage.base_stage is None and stage.base_name.lower() != "scratch"
        steps = tuple(ins for ins in stage.instructions if ins.name in STEP_KEYWORDS)
        label = None if single else stage.display_name
        plans.append(
            StagePlan(
                stage.index,
                stage.name,
                label,
                stage.from_instruction,
                from_image,
                steps,
                stage.base_name,
            )
        )
    return plans


@dataclass(frozen=True)
class StepLocation:
    stage: StagePlan
    instruction: Instruction | None  # None for an ONBUILD trigger of the base image
    line: int
    end_line: int


def locate_step(step: StepName, plans: list[StagePlan]) -> StepLocation | None:
    """The instruction a step vertex belongs to, or None when it cannot be told for sure."""
    plan = _find_stage(step, plans)
    if plan is not None and step.total == plan.total:
        found = _by_position(step, plan)
        if found is not None:
            return found
    by_text = _by_text(step, plans, plan)
    if by_text is not None:
        return by_text
    # Numbers that do not add up may still be this file's: ONBUILD triggers of the base image.
    return _by_position(step, plan) if plan is not None else None


def _by_position(step: StepName, plan: StagePlan) -> StepLocation | None:
    keyword = step.keyword
    from_ins = plan.from_instruction
    if plan.from_image and step.step == 1:
        if keyword != "FROM":
            return None
        return StepLocation(plan, from_ins, from_ins.start_line, from_ins.end_line)
    lead = 1 if plan.from_image else 0
    triggers = step.total - plan.total
    if triggers < 0:
        return None
    position = step.step - 1 - lead - triggers
    if position < 0:
        # An ONBUILD trigger of the base image: it comes from the FROM line.
        return StepLocation(plan, None, from_ins.start_line, from_ins.end_line)
    if position >= len(plan.steps):
        return None
    ins = plan.steps[position]
    if ins.name != keyword:
        return None
    return StepLocation(plan, ins, ins.start_line, ins.end_line)


def _find_stage(step: StepName, plans: list[StagePlan]) -> StagePlan | None:
    if step.stage is None:
        return plans[0] if len(plans) == 1 else None
    label = step.stage.lower()
    for plan in plans:
        # A single stage is `stage-0` in names when a RUN of it has a --mount.
        if label in (plan.label, plan.name, f"stage-{plan.index}"):
            return plan
    return None


def _by_text(
    step: StepName, plans: list[StagePlan], named: StagePlan | None
) -> StepLocation | None:
    keyword = step.keyword
    text = _normalise(step.text)
    found: list[StepLocation] = []
    for plan in plans:
        if keyword == "FROM":
            if plan.from_image and _image(step.text.split(None, 1)[-1]) == _image(plan.base):
                ins = plan.from_instruction
                found.append(StepLocation(plan, ins, ins.start_line, ins.end_line))
            continue
        for ins in plan.steps:
            if ins.name != keyword:
                continue
            written = _normalise(ins.logical)
            if text == written or text.startswith(written + " ("):  # `RUN <<EOT (first line...)`
                found.append(StepLocation(plan, ins, ins.start_line, ins.end_line))
    if not found:
        return None
    # Identical instructions are one vertex; prefer the stage and number the name gives.
    for where in found:
        if where.stage is named:
            return where
    return found[0]


def _normalise(text: str) -> str:
    words = text.split()
    if words:
        words[0] = words[0].upper()
    return " ".join(words)


def _image(ref: str) -> str:
    ref = ref.strip()
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
            break
    if "/" not in ref.split(":")[0] and ":" not in ref and "@" not in ref:
        ref += ":latest"
    return ref
