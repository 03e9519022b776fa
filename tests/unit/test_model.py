"""The semantic model: stages, stage graph, reachability, ARG/ENV scopes, reads, BuildKit errors."""

from __future__ import annotations

from layerwise import parse_dockerfile
from layerwise.dockerfile.model import Model, build_model


def model(text: str, **kw: object) -> Model:
    return build_model(parse_dockerfile(text, "Dockerfile"), **kw)  # type: ignore[arg-type]


MULTI = """\
ARG PY=3.11
FROM python:${PY} AS build
RUN pip wheel -w /w .
FROM python:${PY}-slim AS test
RUN pytest
FROM debian AS unused
RUN echo never
FROM python:${PY}-slim
COPY --from=build /w /w
RUN --mount=type=bind,from=test,target=/t true
"""


def test_stages_and_bases() -> None:
    m = model(MULTI)
    assert [(s.index, s.name, s.base_name) for s in m.stages] == [
        (0, "build", "python:3.11"),
        (1, "test", "python:3.11-slim"),
        (2, "unused", "debian"),
        (3, None, "python:3.11-slim"),
    ]
    img = m.stages[0].image
    assert img is not None and img.repository == "library/python" and img.tag == "3.11"
    assert m.global_args == {"PY": "3.11"}


def test_reachability_skips_unused_stages() -> None:
    m = model(MULTI)
    assert m.built == [0, 1, 3]
    assert m.target is not None and m.target.index == 3
    assert [(a, b) for a, b, _ in m.edges()] == [(0, 3), (1, 3)]


def test_target_selects_stages() -> None:
    assert model(MULTI, target="test").built == [1]
    assert model(MULTI, target="BUILD").built == [0]
    m = model(MULTI, target="nope")
    assert any("could not be found" in e.message for e in m.errors)


def test_build_args_override_global_args() -> None:
    m = model(MULTI, build_args={"PY": "3.12"})
    assert m.stages[0].base_name == "python:3.12"


def test_from_stage_and_inheritance() -> None:
    m = model("FROM alpine AS base\nARG V=1\nENV E=$V\nWORKDIR /app\nFROM base\nRUN echo\n")
    child = m.stages[1]
    assert child.base_stage == 0 and child.image is None
    step = child.steps[0]
    assert step.env == {"V": "1", "E": "1"}
    assert step.workdir == "/app"
    assert m.built == [0, 1]


def test_from_stage_lookup_is_exact_and_backward_only() -> None:
    m = model("FROM base\nFROM alpine AS base\n")
    assert m.stages[0].base_stage is None  # a later stage is not a base: it is an image named base
    assert m.stages[0].image is not None


def test_arg_scoping() -> None:
    m = model(
        "ARG G=global\nARG ONLY\nFROM alpine\nRUN echo $G\nARG G\nARG L=local-$G\nENV X=${L}\n"
    )
    steps = m.stages[0].steps
    assert "G" not in steps[0].env  # global ARGs are not in scope until re-declared
    assert steps[1].args == {"G": "global"}
    assert steps[2].env["L"] == "local-global"
    assert steps[3].env["X"] == "local-global"


def test_build_arg_wins_over_default_in_stage() -> None:
    m = model("FROM alpine\nARG V=1\nENV E=$V\n", build_args={"V": "2"})
    assert m.stages[0].steps[1].env["E"] == "2"


def test_platform_args_are_global() -> None:
    m = model("FROM --platform=$BUILDPLATFORM alpine\nARG TARGETARCH\nRUN echo\n")
    assert m.stages[0].platform and m.stages[0].platform.startswith("linux/")
    assert m.stages[0].steps[1].env["TARGETARCH"]


def test_env_expansion_and_unmatched_variables() -> None:
    m = model("FROM alpine\nENV A=1 B=${A}2\nWORKDIR $HOME/app\nENV P=$PATH:/x C=${A}3\n")
    steps = m.stages[0].steps
    # Pairs of one ENV see the environment before it (checked against Docker in
    # tests/integration/test_runtime_rules_docker.py): B does not see A.
    assert steps[0].env == {"A": "1", "B": "2"}
    assert steps[2].env["C"] == "13"
    assert steps[1].workdir == "/app"
    assert steps[1].unmatched == {"HOME"}
    assert steps[2].unmatched == {"PATH"}


def test_workdir_is_resolved_relative_to_the_previous_one() -> None:
    m = model("FROM alpine\nWORKDIR /a\nWORKDIR b\nWORKDIR ../c\nRUN x\n")
    assert m.stages[0].steps[-1].workdir == "/a/c"
    assert m.stages[0].steps[0].produces_layer


def test_copy_reads() -> None:
    m = model(
        "FROM alpine AS b\nFROM alpine\nARG D=src\n"
        "COPY --exclude=*.pyc --parents ${D}/ req*.txt /app/\n"
        "COPY --from=b /out /out\nCOPY --from=nginx:1 /etc/nginx /n\n"
        "ADD https://example.com/x.tgz git@github.com:o/r.git /d/\n"
        "COPY <<EOF /f\nhi\nEOF\n"
    )
    steps = m.stages[1].steps
    ctx = steps[1].reads[0]
    assert (ctx.kind, ctx.sources, ctx.excludes, ctx.parents) == (
        "context",
        ["src/", "req*.txt"],
        ["*.pyc"],
        True,
    )
    assert steps[1].expanded == ("src/", "req*.txt", "/app/")
    assert (steps[2].reads[0].kind, steps[2].reads[0].stage) == ("stage", 0)
    assert (steps[3].reads[0].kind, steps[3].reads[0].image) == ("image", "nginx:1")
    assert [r.kind for r in steps[4].reads] == ["url", "git"]
    assert [(r.kind, r.sources) for r in steps[5].reads] == [("heredoc", ["EOF"])]
    assert m.stages[1].deps == {0: steps[2].instruction}


def test_copy_from_index_and_errors() -> None:
    m = model("FROM alpine\nFROM alpine\nCOPY --from=0 /a /b\nCOPY --from=$X /a /b\n")
    assert m.stages[1].deps and 0 in m.stages[1].deps
    assert any("variable expansion is not supported for --from" in e.message for e in m.errors)
    m = model("FROM alpine AS a\nCOPY --from=a /x /y\n")
    assert any("own stage" in e.message for e in m.errors)


def test_run_mounts() -> None:
    m = model(
        "FROM alpine AS deps\nFROM alpine\nARG C=/root/.cache\n"
        "RUN --mount=type=cache,target=${C}/pip --mount=type=bind,source=req.txt,target=/r "
        "--mount=type=secret,id=tok --mount=from=deps,target=/d pip install\n"
    )
    step = m.stages[1].steps[1]
    assert [(mt.type, mt.target) for mt in step.mounts] == [
        ("cache", "/root/.cache/pip"),
        ("bind", "/r"),
        ("secret", None),
        ("bind", "/d"),
    ]
    assert step.mounts[0].readonly is False and step.mounts[1].readonly is True
    kinds = [(r.kind, r.sources, r.stage) for r in step.reads]
    assert kinds == [("context", ["req.txt"], None), ("stage", ["/"], 0)]
    assert m.built == [0, 1]


def test_mount_errors() -> None:
    m = model("FROM alpine\nRUN --mount=type=nfs,target=/x true\nRUN --mount=bogus=1 true\n")
    messages = [e.message for e in m.errors]
    assert any("unsupported mount type" in msg for msg in messages)
    assert any("unexpected key 'bogus'" in msg for msg in messages)


def test_buildkit_instruction_errors_have_locations() -> None:
    m = model(
        "FROM alpine AS 1bad\nCOPY --chmod=1 --nope x y\nWORKDIR\nSHELL bash\n"
        "HEALTHCHECK --interval=1s NONE\nFOO bar\nCOPY x\nONBUILD FROM x\n"
    )
    messages = sorted(e.message for e in m.errors)
    assert any("invalid name for build stage" in msg for msg in messages)
    assert "unknown flag: --nope" in messages
    assert "WORKDIR requires exactly one argument" in messages
    assert "SHELL requires the arguments to be in JSON form" in messages
    assert "unknown flag: --interval" in messages
    assert "unknown instruction: FOO" in messages
    assert any("COPY requires at least two arguments" in msg for msg in messages)
    assert "FROM isn't allowed as an ONBUILD trigger" in messages
    unknown = next(e for e in m.errors if e.message == "unknown flag: --nope")
    assert (unknown.location.line, unknown.location.column) == (2, 16)


def test_instructions_before_from() -> None:
    m = model("LABEL a=b\nFROM alpine\n")
    assert [e.message for e in m.errors] == ["no build stage in current context"]


def test_stage_config_after_steps() -> None:
    m = model('FROM alpine\nUSER app\nSHELL ["/bin/bash", "-c"]\nCMD ["x"]\n')
    st = m.stages[0]
    assert st.user == "app" and st.shell == ("/bin/bash", "-c")
    cmd = st.last("CMD")
    assert cmd is not None and cmd.instruction.arguments == ("x",)
