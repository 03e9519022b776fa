"""Tying BuildKit's step vertexes to Dockerfile instructions."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise import parse_dockerfile, read_dockerfile
from layerwise.build.rawjson import read_rawjson
from layerwise.build.result import steps_from_progress
from layerwise.build.steps import StepName, locate_step, parse_step_name, plan_stages

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rawjson"
REPO = FIXTURES.parents[2]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("[2/5] WORKDIR /app", StepName(None, None, 2, 5, "WORKDIR /app")),
        ("[builder  6/13] RUN echo 4", StepName("builder", None, 6, 13, "RUN echo 4")),
        (
            "[stage-1 1/1] COPY --from=Builder /b /b",
            StepName("stage-1", None, 1, 1, "COPY --from=Builder /b /b"),
        ),
        (
            "[linux/arm64 builder 2/3] RUN make",
            StepName("builder", "linux/arm64", 2, 3, "RUN make"),
        ),
        ("[linux/amd64  1/3] FROM x", StepName(None, "linux/amd64", 1, 3, "FROM x")),
        ("[internal] load build context", None),
        ("exporting to image", None),
        ("[auth] library/python:pull token for registry-1.docker.io", None),
    ],
)
def test_parse_step_name(name: str, expected: StepName | None) -> None:
    assert parse_step_name(name) == expected


def test_keyword_of_a_step() -> None:
    step = parse_step_name("[3/4] copy . .")
    assert step is not None and step.keyword == "COPY"


def multistage_plans() -> list:  # type: ignore[type-arg]
    df = read_dockerfile(FIXTURES / "contexts" / "multistage" / "Dockerfile")
    return plan_stages(df)


def test_plan_numbers_steps_as_buildkit_does() -> None:
    plans = multistage_plans()
    assert [(p.label, p.name, p.from_image, p.total) for p in plans] == [
        ("builder", "builder", True, 13),  # `FROM ${BASE} AS Builder`: the ARG is expanded
        ("stage-1", None, False, 1),  # FROM scratch makes no step
        ("stage-2", None, True, 4),  # LABEL and CMD make no step
    ]


def test_plan_single_stage_has_no_label_and_stage_bases_no_from_step() -> None:
    (plan,) = plan_stages(parse_dockerfile("FROM python:3.11-slim AS app\nRUN true\n"))
    assert plan.label is None and plan.total == 2
    plans = plan_stages(parse_dockerfile("FROM alpine AS base\nFROM base\nRUN x\n"))
    assert [p.from_image for p in plans] == [True, False]


def test_build_args_decide_the_base() -> None:
    text = "ARG BASE=scratch\nFROM $BASE\nCOPY a /a\nFROM python:3.11-slim\n"
    assert plan_stages(parse_dockerfile(text))[0].from_image is False
    assert plan_stages(parse_dockerfile(text), {"BASE": "debian"})[0].from_image is True


def dockerfile_line(path: Path, line: int) -> str:
    return path.read_text().splitlines()[line - 1]


@pytest.mark.parametrize("recording", ["multistage-cold", "multistage-warm"])
def test_every_recorded_step_maps_to_its_instruction(recording: str) -> None:
    path = FIXTURES / "contexts" / "multistage" / "Dockerfile"
    steps = steps_from_progress(
        read_rawjson((FIXTURES / f"{recording}.rawjson").read_text()), multistage_plans()
    )
    assert (
        len(steps) == 17
    )  # 13 + 1 + 4, less stage-2's FROM, which is the same vertex as builder's
    for step in steps:
        assert step.line is not None, step.name
        assert step.keyword is not None
        assert dockerfile_line(path, step.line).upper().startswith(step.keyword)
    lines = {(s.stage, s.step): (s.line, s.end_line) for s in steps}
    assert lines[("builder", 4)] == (8, 10)  # continuation lines
    assert lines[("builder", 5)] == (11, 14)  # heredoc
    assert lines[("stage-1", 1)] == (25, 25)
    assert lines[("stage-2", 2)] == (28, 28)
    assert lines[("stage-2", 4)] == (30, 30)
    # Dockerfile order: stage by stage, step by step.
    assert [s.line for s in steps] == sorted(s.line for s in steps if s.line is not None)


def test_code_change_rebuild_of_a_naive_dockerfile() -> None:
    df = read_dockerfile(REPO / "examples" / "flask-pip" / "Dockerfile")
    progress = read_rawjson((FIXTURES / "flask-pip-code-change.rawjson").read_text())
    steps = steps_from_progress(progress, plan_stages(df))
    assert [(s.line, s.keyword) for s in steps] == [
        (1, "FROM"),
        (3, "WORKDIR"),
        (5, "COPY"),
        (7, "RUN"),
    ]
    by_line = {s.line: s for s in steps}
    # The edit reaches `COPY . .`, so the dependency install after it runs again.
    assert by_line[3].cached
    assert not by_line[5].cached and not by_line[7].cached
    assert by_line[7].seconds > 0.5
    assert "Successfully installed" in by_line[7].log


def test_onbuild_triggers_come_from_the_from_line() -> None:
    plans = plan_stages(parse_dockerfile("FROM myimage\nRUN a\nCOPY b /b\n"))
    # The base image has two ONBUILD triggers: BuildKit runs them right after FROM.
    trigger = locate_step(StepName(None, None, 2, 5, "RUN trigger one"), plans)
    assert trigger is not None and trigger.instruction is None and trigger.line == 1
    own = locate_step(StepName(None, None, 4, 5, "RUN a"), plans)
    assert own is not None and own.line == 2


def test_unknown_or_inconsistent_names_are_not_guessed() -> None:
    plans = plan_stages(parse_dockerfile("FROM a AS one\nRUN x\nFROM b AS two\nCOPY y /y\n"))
    assert locate_step(StepName("three", None, 1, 1, "RUN z"), plans) is None  # no such stage
    assert locate_step(StepName("two", None, 2, 2, "RUN y"), plans) is None  # keyword differs
    assert locate_step(StepName("one", None, 1, 2, "RUN z"), plans) is None  # step 1 is FROM
    assert locate_step(StepName(None, None, 2, 2, "RUN z"), plans) is None  # which stage?
    assert locate_step(StepName("two", None, 2, 1, "COPY z /z"), plans) is None  # total too small
    found = locate_step(StepName("TWO", None, 2, 2, "COPY y /y"), plans)
    assert found is not None and found.line == 4
    # A name from another build (unknown stage, other numbers) still maps when its text is ours.
    found = locate_step(StepName("three", None, 5, 9, "RUN x"), plans)
    assert found is not None and found.line == 2


def test_names_from_a_concurrent_build_are_matched_by_text() -> None:
    """BuildKit merges identical vertexes of builds running at the same time, and the merged one
    keeps the other build's name (seen here: `[1/2] FROM` in a three-step file)."""
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r r.txt\nRUN x\n"
    plans = plan_stages(parse_dockerfile(text))
    from_ = locate_step(
        StepName(None, None, 1, 2, "FROM docker.io/library/python:3.11-slim"), plans
    )
    assert from_ is not None and from_.line == 1
    workdir = locate_step(StepName(None, None, 2, 4, "WORKDIR /app"), plans)
    assert workdir is not None and workdir.line == 2
    assert locate_step(StepName(None, None, 2, 4, "WORKDIR /srv"), plans) is None
    assert locate_step(StepName("builder", None, 1, 3, "FROM debian:bookworm-slim"), plans) is None


def test_single_stage_with_a_mount_is_stage_0() -> None:
    text = "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n"
    plans = plan_stages(parse_dockerfile(text))
    name = "[stage-0 2/2] RUN --mount=type=cache,target=/root/.cache/pip pip install x"
    step = parse_step_name(name)
    assert step is not None
    found = locate_step(step, plans)
    assert found is not None and found.line == 2


def test_text_match_prefers_the_named_stage() -> None:
    text = "FROM a AS one\nWORKDIR /app\nFROM a AS two\nRUN x\nWORKDIR /app\n"
    plans = plan_stages(parse_dockerfile(text))
    found = locate_step(StepName("two", None, 9, 9, "WORKDIR /app"), plans)
    assert found is not None and found.line == 5
    heredoc = plan_stages(parse_dockerfile("FROM a\nRUN <<EOT\necho hi\nEOT\n"))
    found = locate_step(StepName(None, None, 2, 7, "RUN <<EOT (echo hi)"), heredoc)
    assert found is not None and (found.line, found.end_line) == (2, 4)
