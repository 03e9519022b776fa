"""The cache model on contexts in temporary directories: what rebuilds after which change, and why.

These mirror the claims the integration tests check against BuildKit (tests/integration/
test_cache_buildkit.py), so that a regression shows up without an engine too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from layerwise.cache import (
    BaseImage,
    Features,
    Simulator,
    WorkingTree,
    load_plan,
    plan_build,
    predict_changes,
)
from layerwise.cache.files import SourceSpec
from layerwise.dockerfile.parser import parse_dockerfile


def _ctx(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> Path:
    for name, text in {**files, "Dockerfile": dockerfile}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


class Seq:
    """Predict state after state, as the BuildKit tests do, without building."""

    def __init__(self, root: Path, features: Features | None = None) -> None:
        self.root = root
        self.sim = Simulator(features or Features())

    def run(self, build_args: dict[str, str] | None = None, target: str | None = None, **bases):  # type: ignore[no-untyped-def]
        plan = load_plan(self.root / "Dockerfile", build_args, target)
        files = WorkingTree.open(self.root, self.root / "Dockerfile")
        images = {ref: BaseImage(ref, layers) for ref, layers in bases.get("bases", {}).items()}
        return self.sim.predict(plan, files, images)


def rebuilt(prediction) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(s.line, s.keyword) for s in prediction.steps if s.rebuilt]


def at(prediction, line: int):  # type: ignore[no-untyped-def]
    """The step at a line (the last one there: ONBUILD triggers share their FROM's line)."""
    return [s for s in prediction.steps if s.line == line][-1]


NAIVE = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
SPLIT = (
    "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install -r requirements.txt\nCOPY app.py .\nRUN python -m compileall .\n"
)


def test_first_build_rebuilds_everything_and_second_nothing(tmp_path: Path) -> None:
    seq = Seq(_ctx(tmp_path, NAIVE, {"app.py": "x\n", "requirements.txt": "flask\n"}))
    first = seq.run()
    assert all(s.rebuilt for s in first.steps)
    assert {s.reason for s in first.steps} <= {"not built before", "base image not built before"}
    assert rebuilt(seq.run()) == []


def test_content_and_mode_count_not_mtime(tmp_path: Path) -> None:
    root = _ctx(tmp_path, SPLIT, {"app.py": "x\n", "requirements.txt": "flask\n"})
    seq = Seq(root)
    seq.run()
    os.utime(root / "app.py", (1, 1))
    assert rebuilt(seq.run()) == []
    (root / "app.py").chmod(0o755)
    assert rebuilt(seq.run()) == [(5, "COPY"), (6, "RUN")]
    (root / "app.py").write_text("y\n")
    p = seq.run()
    assert rebuilt(p) == [(5, "COPY"), (6, "RUN")]
    assert at(p, 5).reason == "app.py changes"
    assert at(p, 6).reason == "follows line 5 (COPY), which is rebuilt"


def test_manifest_first_keeps_install_cached_and_revert_hits_cache(tmp_path: Path) -> None:
    root = _ctx(tmp_path, SPLIT, {"app.py": "x\n", "requirements.txt": "flask\n"})
    seq = Seq(root)
    seq.run()
    (root / "requirements.txt").write_text("flask\ngunicorn\n")
    assert rebuilt(seq.run()) == [(3, "COPY"), (4, "RUN"), (5, "COPY"), (6, "RUN")]
    (root / "requirements.txt").write_text("flask\n")  # back to a state BuildKit has
    assert rebuilt(seq.run()) == []


def test_dockerignore_excluded_files_never_count(tmp_path: Path) -> None:
    root = _ctx(
        tmp_path, NAIVE, {"app.py": "x\n", "requirements.txt": "r\n", ".dockerignore": "logs\n"}
    )
    (root / "logs").mkdir()
    (root / "logs" / "a.log").write_text("1\n")
    seq = Seq(root)
    seq.run()
    (root / "logs" / "a.log").write_text("2\n")
    (root / "logs" / "b.log").write_text("new\n")
    assert rebuilt(seq.run()) == []


def test_comment_in_dockerfile_rebuilds_copy_dot_only_when_copied(tmp_path: Path) -> None:
    root = _ctx(tmp_path, NAIVE, {"app.py": "x\n", "requirements.txt": "r\n"})
    seq = Seq(root)
    seq.run()
    (root / "Dockerfile").write_text("# comment\n" + NAIVE)
    p = seq.run()
    assert rebuilt(p) == [(4, "COPY"), (5, "RUN")]
    assert at(p, 4).reason == "Dockerfile changes"
    (root / ".dockerignore").write_text("Dockerfile\n.dockerignore\n")
    seq.run()
    (root / "Dockerfile").write_text("# another\n" + NAIVE)
    assert rebuilt(seq.run()) == []


ARGS = """\
FROM python:3.11-slim
RUN echo before
ARG V=1
COPY a.txt /a.txt
RUN echo unused
ARG W
RUN echo "$W"
FROM scratch
COPY --from=0 /a.txt /copy
"""


def test_build_arg_reaches_every_run_after_its_arg(tmp_path: Path) -> None:
    root = _ctx(tmp_path, ARGS, {"a.txt": "a\n"})
    seq = Seq(root)
    seq.run()
    p = seq.run({"V": "2"})
    assert rebuilt(p) == [(5, "RUN"), (7, "RUN")]
    assert at(p, 5).reason == "build arg V changed"
    copy = p.steps[-1]
    assert not copy.rebuilt and copy.certain and "unchanged" in copy.reason
    assert rebuilt(seq.run({"V": "2", "W": "x"})) == [(7, "RUN")]
    assert rebuilt(seq.run({"V": "2", "W": "x", "UNDECLARED": "1"})) == []


def test_env_and_workdir_and_user_are_in_run_keys(tmp_path: Path) -> None:
    base = "FROM python:3.11-slim\nENV A=1\nUSER root\nWORKDIR /w\nRUN echo hi\n"
    root = _ctx(tmp_path, base, {})
    seq = Seq(root)
    seq.run()
    (root / "Dockerfile").write_text(base.replace("A=1", "A=2"))
    p = seq.run()
    assert rebuilt(p) == [(5, "RUN")] and at(p, 5).reason == "ENV A changed"
    (root / "Dockerfile").write_text(base.replace("A=1", "A=2").replace("USER root", "USER x"))
    p = seq.run()
    assert rebuilt(p) == [(4, "WORKDIR"), (5, "RUN")]
    assert at(p, 4).reason == "user changed"


MOUNTS = """\
FROM python:3.11-slim
COPY a.txt /a.txt
RUN --mount=type=bind,source=m.txt,target=/m cp /m /copy
RUN --mount=type=cache,target=/root/.cache echo cache
RUN --mount=type=secret,id=token echo secret
RUN --mount=type=tmpfs,target=/t echo tmpfs
"""


def test_bind_mount_by_content_other_mounts_not_at_all(tmp_path: Path) -> None:
    root = _ctx(tmp_path, MOUNTS, {"a.txt": "a\n", "m.txt": "m\n"})
    seq = Seq(root)
    seq.run()
    (root / "m.txt").write_text("m2\n")
    p = seq.run()
    assert rebuilt(p) == [(3, "RUN"), (4, "RUN"), (5, "RUN"), (6, "RUN")]
    assert at(p, 3).reason == "bind-mounted m.txt changes"


def test_secret_mount_run_keyed_on_files_before_it(tmp_path: Path) -> None:
    """BuildKit < 0.16: the RUN with a secret mount is found by the content of the files it starts
    from. A changed COPY before it: certainly rebuilt; only a RUN re-run for an ENV value the
    secret step does not see: uncertain (rebuilt, unless that RUN wrote the same files)."""
    text = (
        "FROM python:3.11-slim\nENV X=1\nCOPY a.txt /a.txt\nRUN echo $X > /x\nENV X=2\n"
        "RUN --mount=type=secret,id=s echo s\n"
    )
    root = _ctx(tmp_path, text, {"a.txt": "a\n"})
    seq = Seq(root)
    seq.run()
    (root / "Dockerfile").write_text(text.replace("ENV X=1", "ENV X=3"))
    p = seq.run()
    secret = at(p, 6)
    assert at(p, 4).rebuilt and at(p, 4).certain
    assert secret.rebuilt and not secret.certain
    (root / "a.txt").write_text("b\n")
    p = seq.run()
    assert at(p, 6).rebuilt and at(p, 6).certain
    # a builder without the quirk: keyed on the previous step like any RUN
    seq2 = Seq(root, Features(secret_mount_content=False))
    seq2.run()
    (root / "Dockerfile").write_text(text.replace("ENV X=1", "ENV X=4"))
    p = seq2.run()
    assert at(p, 6).rebuilt and at(p, 6).certain


LINK = "FROM python:3.11-slim\nARG P=1\nRUN echo $P\nCOPY --link a.txt /a.txt\nRUN echo after\n"


@pytest.mark.parametrize(("merge_op", "copy_rebuilt"), [(False, True), (True, False)])
def test_copy_link_depends_on_the_builder(
    tmp_path: Path, merge_op: bool, copy_rebuilt: bool
) -> None:
    root = _ctx(tmp_path, LINK, {"a.txt": "a\n"})
    seq = Seq(root, Features(merge_op=merge_op))
    seq.run()
    p = seq.run({"P": "2"})
    assert at(p, 4).rebuilt is copy_rebuilt
    assert at(p, 5).rebuilt  # the step after it sees a different filesystem either way


def test_base_image_layers_decide(tmp_path: Path) -> None:
    root = _ctx(tmp_path, SPLIT, {"app.py": "x\n", "requirements.txt": "r\n"})
    seq = Seq(root)
    seq.run(bases={"python:3.11-slim": "layers-1"})
    assert rebuilt(seq.run(bases={"python:3.11-slim": "layers-1"})) == []
    p = seq.run(bases={"python:3.11-slim": "layers-2"})
    assert len(rebuilt(p)) == 6 and at(p, 1).reason == "base image changed"


def test_base_image_env_reaches_runs_only(tmp_path: Path) -> None:
    root = _ctx(tmp_path, SPLIT, {"app.py": "x\n", "requirements.txt": "r\n"})
    sim = Simulator()
    plan = load_plan(root / "Dockerfile")
    files = WorkingTree.open(root)
    sim.predict(plan, files, {"python:3.11-slim": BaseImage("python:3.11-slim", "L", ("A=1",))})
    p = sim.predict(plan, files, {"python:3.11-slim": BaseImage("python:3.11-slim", "L", ("A=2",))})
    assert [(s.line, s.rebuilt) for s in p.steps] == [
        (1, False), (2, False), (3, False), (4, True), (5, True), (6, True),
    ]  # fmt: skip
    assert at(p, 4).reason == "base image environment changed"


ONBUILD = """\
FROM python:3.11-slim AS base
ONBUILD COPY c.txt /c.txt
ONBUILD RUN echo trigger
FROM base AS child
RUN echo child
"""


def test_onbuild_triggers_run_first_in_the_child_stage(tmp_path: Path) -> None:
    root = _ctx(tmp_path, ONBUILD, {"c.txt": "c\n"})
    plan = plan_build(parse_dockerfile((root / "Dockerfile").read_text()))
    child = plan.stages[-1]
    assert [(s.keyword, s.number, s.total, s.line, s.trigger) for s in child.steps] == [
        ("COPY", 1, 1, 4, True),
        ("RUN", 2, 1, 4, True),
        ("RUN", 3, 1, 5, False),
    ]
    seq = Seq(root)
    seq.run()
    (root / "c.txt").write_text("c2\n")
    p = seq.run()
    assert [(s.stage, s.keyword, s.rebuilt) for s in p.steps if s.stage == "child"] == [
        ("child", "COPY", True),
        ("child", "RUN", True),
        ("child", "RUN", True),
    ]


def test_unbuilt_stage_reads_nothing(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim AS base\nCOPY a.txt .\nFROM base AS test\nCOPY t.txt .\n"
        "FROM base AS prod\nRUN echo prod\n"
    )
    root = _ctx(tmp_path, text, {"a.txt": "a\n", "t.txt": "t\n"})
    seq = Seq(root)
    first = seq.run(target="prod")
    assert {s.stage for s in first.steps} == {"base", "prod"}
    (root / "t.txt").write_text("t2\n")
    assert rebuilt(seq.run(target="prod")) == []
    assert rebuilt(seq.run(target="test")) == [(4, "COPY")]


def test_step_numbers_match_buildkit_vertex_names(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim AS a\nWORKDIR /\nWORKDIR /x\nRUN echo\n"
        "FROM scratch\nCOPY --from=a /x /x\n"
    )
    plan = plan_build(parse_dockerfile(text))
    assert [(s.stage_label, s.keyword, s.number, s.total, s.layer) for s in plan.steps] == [
        ("a", "FROM", 1, 4, True),
        ("a", "WORKDIR", 2, 4, False),
        ("a", "WORKDIR", 3, 4, True),
        ("a", "RUN", 4, 4, True),
        ("stage-1", "COPY", 1, 1, True),
    ]


def test_single_file_sources_are_digested_without_their_name(tmp_path: Path) -> None:
    root = _ctx(tmp_path, NAIVE, {"a/x.txt": "same\n", "b/x.txt": "same\n", "c/y.txt": "same\n"})
    files = WorkingTree.open(root)
    ax = files.digest(SourceSpec(("a/x.txt",)))
    assert ax == files.digest(SourceSpec(("b/x.txt",)))  # BuildKit: same checksum
    assert ax == files.digest(SourceSpec(("c/y.txt",)))
    assert files.digest(SourceSpec(("a",))) == files.digest(SourceSpec(("b",)))
    assert files.digest(SourceSpec(("a",))) != files.digest(SourceSpec(("c",)))  # names inside
    missing = files.digest(SourceSpec(("nope.txt",)))
    assert missing.error is not None and "not found" in missing.error


def test_predict_changes_with_paths_args_and_bases(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nARG V=1\nCOPY requirements.txt .\n"
    text += "RUN pip install -r r\nCOPY src/ src/\n"
    root = _ctx(
        tmp_path,
        text,
        {
            "requirements.txt": "r\n",
            "src/app.py": "x\n",
            "docs/a.md": "d\n",
            ".dockerignore": "docs\n",
        },
    )
    p = predict_changes(root, changed=[str(root / "src" / "app.py")])
    assert rebuilt(p) == [(5, "COPY")] and at(p, 5).reason == "src/app.py changes"
    p = predict_changes(root, changed=["src/new_module.py"])  # a file that does not exist yet
    assert rebuilt(p) == [(5, "COPY")] and "src/new_module.py" in at(p, 5).reason
    p = predict_changes(root, changed=["docs/a.md"])
    assert rebuilt(p) == [] and any("excluded by .dockerignore" in n for n in p.notes)
    p = predict_changes(root, changed=["/elsewhere/file.txt"])
    assert rebuilt(p) == [] and any("outside the build context" in n for n in p.notes)
    p = predict_changes(root, new_build_args={"V": "2"})
    assert rebuilt(p) == [(4, "RUN"), (5, "COPY")]
    p = predict_changes(root, changed_bases=["python:3.11-slim"])
    assert len(rebuilt(p)) == 4
    assert p.to_json()["stages"][0]["steps"][0] == {
        "line": 1,
        "keyword": "FROM",
        "rebuilt": True,
        "reason": "base image changed",
        "certain": True,
        "text": "FROM python:3.11-slim",
        "step": 1,
        "trigger": False,
    }


def test_copy_from_a_rebuilt_stage(tmp_path: Path) -> None:
    text = """\
FROM python:3.11-slim AS builder
COPY requirements.txt .
RUN pip install --prefix=/install -r requirements.txt
COPY . /src
RUN echo built > /built.txt
FROM python:3.11-slim
COPY --from=builder /install /usr/local
COPY --from=builder /src/app.py /app/app.py
"""
    root = _ctx(tmp_path, text, {"requirements.txt": "r\n", "app.py": "a\n", "other.py": "o\n"})
    seq = Seq(root)
    seq.run()
    # code change: `echo built` reran, which does not name /install: probably cached; app.py
    # is a file a COPY put there: certainly the same
    (root / "other.py").write_text("o2\n")
    p = seq.run()
    by_line = {s.line: s for s in p.steps}
    assert not by_line[7].rebuilt and not by_line[7].certain
    assert not by_line[8].rebuilt
    # dependency change: the install itself reran with a new requirements file: certain
    (root / "requirements.txt").write_text("r2\n")
    p = seq.run()
    by_line = {s.line: s for s in p.steps}
    assert by_line[7].rebuilt and by_line[7].certain
