"""The build driver end to end against a fake `docker` that replays recorded rawjson streams.

The fake is a small script: `buildx build` copies the Dockerfile it was given (so tests can see
what the driver passed), writes a recorded stream to stderr, writes the image id file and exits
with the recorded status; `image inspect` answers from a canned config. The real engine is
exercised by tests/integration/test_build_driver.py.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from layerwise.build import BuildError, build, find_engine
from layerwise.build.docker import candidate_binaries
from layerwise.errors import EngineError, InputError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rawjson"
REPO = FIXTURES.parents[2]

FAKE = textwrap.dedent(
    """\
    #!{python} -S
    import json, os, shutil, signal, sys, time
    from pathlib import Path

    state = Path(os.environ["FAKE_STATE"])
    args = sys.argv[1:]
    with (state / "calls").open("a") as fh:
        fh.write(json.dumps(args) + "\\n")
    mode = os.environ.get("FAKE_MODE", "ok")
    if args[:2] == ["buildx", "version"]:
        if mode == "nobuildx":
            print("docker: 'buildx' is not a docker command.", file=sys.stderr)
            sys.exit(1)
        print("github.com/docker/buildx 0.13.1 fake")
        sys.exit(0)
    if args[:1] == ["version"]:
        if mode == "down":
            print('"26.1.5"')
            print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                  "Is the docker daemon running?", file=sys.stderr)
            sys.exit(1)
        print('"26.1.5"')
        sys.exit(0)
    if args[:2] == ["buildx", "build"]:
        dockerfile = args[args.index("--file") + 1]
        shutil.copyfile(dockerfile, state / "Dockerfile.seen")
        if mode in ("hang", "stubborn"):
            def stop(signum, frame):
                (state / "interrupted").write_text(str(signum))
                if mode == "hang":
                    sys.exit(130)
            signal.signal(signal.SIGINT, stop)
            print("{{", file=sys.stderr)
            print('  "vertexes": [{{"digest": "sha256:a", "name": "[1/2] FROM x",'
                  ' "started": "2026-01-01T00:00:00Z"}}]', file=sys.stderr)
            print("}}", file=sys.stderr, flush=True)
            time.sleep(60)
            sys.exit(0)
        sys.stderr.write(Path(os.environ["FAKE_RAWJSON"]).read_text())
        code = int(os.environ.get("FAKE_RC", "0"))
        if code == 0:
            Path(args[args.index("--iidfile") + 1]).write_text("sha256:" + "ab" * 32)
        sys.exit(code)
    if args[:2] == ["image", "inspect"]:
        print(json.dumps({{"Id": args[-1], "Size": 294000000,
                          "RootFS": {{"Layers": ["l1", "l2", "l3", "l4", "l5"]}},
                          "Config": {{"Cmd": ["/bin/sh", "-c", "gunicorn"]}}}}))
        sys.exit(0)
    print("unexpected", args, file=sys.stderr)
    sys.exit(2)
    """
)


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    binary = tmp_path / "bin" / "docker"
    binary.parent.mkdir()
    binary.write_text(FAKE.format(python=sys.executable))
    binary.chmod(0o755)
    monkeypatch.setenv("FAKE_STATE", str(state))
    monkeypatch.delenv("LAYERWISE_DOCKER", raising=False)
    return binary


def calls(binary: Path) -> list[list[str]]:
    lines = (binary.parent.parent / "state" / "calls").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_successful_build_reports_steps_image_and_context(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "flask-pip-code-change.rawjson"))
    seen: list[str] = []
    result = build(
        REPO / "examples" / "flask-pip",
        tag="flask:test",
        target=None,
        build_args={"A": "1"},
        network="host",
        platform="linux/amd64",
        builder="default",
        cache_from=["type=local,src=/tmp/c"],
        cache_to=["type=inline"],
        no_cache=True,
        docker=str(fake_docker),
        progress_callback=lambda v: seen.append(v.name),
    )
    assert [(s.line, s.keyword, s.cached) for s in result.steps] == [
        (1, "FROM", False),
        (3, "WORKDIR", True),
        (5, "COPY", False),
        (7, "RUN", False),
    ]
    assert result.image_id == "sha256:" + "ab" * 32
    assert result.image_size == 294000000 and result.layers == 5
    assert result.context_bytes == 1234  # the edited app.py, sent again
    assert result.seconds > 0
    assert "[4/4] RUN pip install -r requirements.txt" in seen
    (build_call,) = [c for c in calls(fake_docker) if c[:2] == ["buildx", "build"]]
    assert build_call[2] == "--progress=rawjson"
    for expected in (
        ["--tag", "flask:test"],
        ["--build-arg", "A=1"],
        ["--network", "host"],
        ["--platform", "linux/amd64"],
        ["--builder", "default"],
        ["--cache-from", "type=local,src=/tmp/c"],
        ["--cache-to", "type=inline"],
    ):
        assert any(build_call[i : i + 2] == expected for i in range(len(build_call))), expected
    assert "--no-cache" in build_call and "--load" in build_call
    assert build_call[-1] == str(REPO / "examples" / "flask-pip")
    json.dumps(result.to_dict())  # serialisable


def test_failing_step_raises_with_line_and_log_tail(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "failing.rawjson"))
    monkeypatch.setenv("FAKE_RC", "1")
    context = FIXTURES / "contexts" / "failing"
    with pytest.raises(BuildError) as info:
        build(context, docker=str(fake_docker))
    error = info.value
    assert error.step is not None and error.step.line == 4 and error.step.keyword == "RUN"
    first = str(error).splitlines()[0]
    assert first.startswith(f"error: {context / 'Dockerfile'}:4: build failed at step [4/5] RUN")
    assert first.endswith("exit code: 3")
    assert "  | about to fail" in str(error).splitlines()
    assert error.log_tail[-1] in ("about to fail", "step 3")
    assert error.result is not None and error.result.steps[-1].started is False
    assert isinstance(error, EngineError)


def test_refused_dockerfile_reports_buildkits_line(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "syntax-error.rawjson"))
    monkeypatch.setenv("FAKE_RC", "1")
    context = FIXTURES / "contexts" / "syntax-error"
    with pytest.raises(BuildError) as info:
        build(context, docker=str(fake_docker))
    assert str(info.value) == (
        f"error: {context / 'Dockerfile'}:4: build failed: dockerfile parse error on line 4: "
        "unknown instruction: FROBNICATE"
    )


def test_missing_file_in_copy_names_the_copy(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "missing-file.rawjson"))
    monkeypatch.setenv("FAKE_RC", "1")
    with pytest.raises(BuildError) as info:
        build(FIXTURES / "contexts" / "missing-file", docker=str(fake_docker))
    assert info.value.step is not None and info.value.step.line == 4
    assert '"/missing.txt": not found' in str(info.value)


def test_syntax_directive_is_stripped_only_on_request(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "flask-pip-cold.rawjson"))
    context = tmp_path / "ctx"
    context.mkdir()
    text = "# syntax=docker/dockerfile:1\n# escape=`\nFROM python:3.11-slim\nRUN echo `\n  hi\n"
    (context / "Dockerfile").write_text(text)
    (context / "Dockerfile.dockerignore").write_text("secret\n")
    seen = tmp_path / "state" / "Dockerfile.seen"

    build(context, docker=str(fake_docker))
    assert seen.read_text() == text
    (call,) = [c for c in calls(fake_docker) if c[:2] == ["buildx", "build"]]
    assert call[call.index("--file") + 1] == str(context / "Dockerfile")

    build(context, docker=str(fake_docker), strip_syntax_directive=True)
    stripped = seen.read_text()
    assert "syntax" not in stripped
    assert stripped.splitlines() == [
        "# escape=`",
        "#",
        "FROM python:3.11-slim",
        "RUN echo `",
        "  hi",
    ]
    call = [c for c in calls(fake_docker) if c[:2] == ["buildx", "build"]][-1]
    copy = Path(call[call.index("--file") + 1])
    assert copy.name == "Dockerfile" and copy.parent != context
    assert not copy.exists()  # the temporary copy is gone after the build


def test_ctrl_c_stops_buildx_and_reraises(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MODE", "hang")

    def interrupt(vertex: object) -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        build(
            FIXTURES / "contexts" / "failing", docker=str(fake_docker), progress_callback=interrupt
        )
    assert time.monotonic() - started < 15
    marker = fake_docker.parent.parent / "state" / "interrupted"
    assert marker.read_text() == str(int(signal.SIGINT))


def test_timeout_stops_the_build(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "hang")
    with pytest.raises(EngineError, match="did not finish in 1s"):
        build(FIXTURES / "contexts" / "failing", docker=str(fake_docker), timeout=1)


def test_engine_down_is_one_clear_line(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "down")
    with pytest.raises(EngineError) as info:
        find_engine(str(fake_docker))
    message = str(info.value)
    assert "\n" not in message
    assert "engine not reachable" in message and "Is the docker daemon running?" in message


def test_missing_buildx_is_reported(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "nobuildx")
    with pytest.raises(EngineError, match="has no buildx plugin"):
        find_engine(str(fake_docker))


def test_no_docker_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERWISE_DOCKER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineError, match="no docker CLI found"):
        find_engine()
    with pytest.raises(EngineError, match="not found"):
        find_engine(str(tmp_path / "nope"))


def test_binary_order_prefers_explicit_then_env_then_path(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "docker"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\nexit 1\n")
    other.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(other.parent), str(fake_docker.parent)]))
    assert candidate_binaries() == [str(other), str(fake_docker)]
    # The first docker on PATH has no buildx: the next one is used.
    assert find_engine().binary == str(fake_docker)
    monkeypatch.setenv("LAYERWISE_DOCKER", "/env/docker")
    assert candidate_binaries() == ["/env/docker"]
    assert candidate_binaries("/given/docker") == ["/given/docker"]


def test_bad_input_is_an_input_error(fake_docker: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        build(tmp_path / "missing", docker=str(fake_docker))
    with pytest.raises(InputError, match="no such Dockerfile"):
        build(tmp_path, docker=str(fake_docker))


def test_image_info_can_be_skipped(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "flask-pip-cold.rawjson"))
    result = build(REPO / "examples" / "flask-pip", docker=str(fake_docker), image_info=False)
    assert result.image_id == "sha256:" + "ab" * 32
    assert result.image_size is None and result.layers is None
    assert not [c for c in calls(fake_docker) if c[:2] == ["image", "inspect"]]


@pytest.mark.parametrize("how", ["ctrl-c", "timeout"])
def test_a_buildx_that_ignores_sigint_is_killed(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("FAKE_MODE", "stubborn")
    monkeypatch.setattr("layerwise.build.driver._STOP_GRACE_SECONDS", 0.5)

    def interrupt(vertex: object) -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    expected: type[BaseException] = KeyboardInterrupt if how == "ctrl-c" else EngineError
    with pytest.raises(expected):
        build(
            FIXTURES / "contexts" / "failing",
            docker=str(fake_docker),
            progress_callback=interrupt if how == "ctrl-c" else None,
            timeout=None if how == "ctrl-c" else 0.5,
        )
    assert time.monotonic() - started < 10
    marker = fake_docker.parent.parent / "state" / "interrupted"
    assert marker.read_text() == str(int(signal.SIGINT))  # asked first, then killed


def test_stripping_keeps_crlf_and_works_without_other_directives(
    fake_docker: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAKE_RAWJSON", str(FIXTURES / "flask-pip-cold.rawjson"))
    (tmp_path / "Dockerfile").write_bytes(b"#syntax = docker/dockerfile:1.7\r\nFROM x\r\nRUN y\r\n")
    build(tmp_path, docker=str(fake_docker), strip_syntax_directive=True)
    seen = (tmp_path / "state" / "Dockerfile.seen").read_bytes()
    assert seen == b"#\r\nFROM x\r\nRUN y\r\n"
