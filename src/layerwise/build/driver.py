"""Running a real BuildKit build through `docker buildx build --progress=rawjson`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from layerwise.build.docker import Engine, find_engine, inspect_image
from layerwise.build.rawjson import BuildProgress, RawJsonReader, VertexCallback
from layerwise.build.result import (
    BuildError,
    BuildResult,
    StepResult,
    context_bytes,
    steps_from_progress,
)
from layerwise.build.steps import StagePlan, plan_stages
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import DockerfileSyntaxError, EngineError, InputError, LayerwiseError

LOG_TAIL_LINES = 20
_STOP_GRACE_SECONDS = 10.0


def build(
    context: str | Path,
    dockerfile: str | Path | None = None,
    *,
    tag: str | None = None,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    network: str | None = None,
    platform: str | None = None,
    builder: str | None = None,
    cache_from: Sequence[str] = (),
    cache_to: Sequence[str] = (),
    no_cache: bool = False,
    load: bool = True,
    progress_callback: VertexCallback | None = None,
    docker: str | Engine | None = None,
    strip_syntax_directive: bool = False,
    extra_args: Sequence[str] = (),
    timeout: float | None = None,
    image_info: bool = True,
) -> BuildResult:
    """Build `context` with `dockerfile` (default `<context>/Dockerfile`) and report every step.

    Options pass straight through to `docker buildx build`. `progress_callback` is called with each
    vertex whenever BuildKit reports a change to it (for a live display). `docker` is the CLI path
    (or an `Engine` from `find_engine`); see `find_engine` for how it is found otherwise.

    `strip_syntax_directive` builds a copy of the Dockerfile without its `# syntax=` line, for
    machines that cannot pull the Dockerfile frontend image; line numbers stay the same. It is
    never done unless asked for.

    `image_info=False` skips `docker image inspect` (size and layer count stay None; the image id
    is still set): about 70 ms, which matters when the same build is timed many times.

    Raises `InputError` for a missing context or Dockerfile, `EngineError` when no engine answers,
    `BuildError` (an `EngineError`) when the build fails; Ctrl-C stops the build and re-raises
    `KeyboardInterrupt` once buildx has exited.
    """
    context_path = Path(context)
    if not context_path.is_dir():
        raise InputError(f"{context}: build context is not a directory")
    dockerfile_path = Path(dockerfile) if dockerfile is not None else context_path / "Dockerfile"
    if not dockerfile_path.is_file():
        raise InputError(f"{dockerfile_path}: no such Dockerfile")
    engine = docker if isinstance(docker, Engine) else find_engine(docker)
    text = _read_text(dockerfile_path)
    parsed = _parse(text, dockerfile_path)
    plans: list[StagePlan] = []
    if parsed is not None:
        # Steps are then reported without lines; BuildKit has the last word on the file.
        with contextlib.suppress(LayerwiseError):
            plans = plan_stages(parsed, build_args)

    with tempfile.TemporaryDirectory(prefix="layerwise-build-") as tmp:
        tmpdir = Path(tmp)
        build_file = dockerfile_path
        if strip_syntax_directive and parsed is not None and parsed.directive("syntax"):
            build_file = _without_syntax_directive(parsed, dockerfile_path, tmpdir)
        iidfile = tmpdir / "iid"
        command = [
            engine.binary,
            "buildx",
            "build",
            "--progress=rawjson",
            "--file",
            str(build_file),
            "--iidfile",
            str(iidfile),
        ]
        if builder:
            command += ["--builder", builder]
        if tag:
            command += ["--tag", tag]
        if target:
            command += ["--target", target]
        for key, value in (build_args or {}).items():
            command += ["--build-arg", f"{key}={value}"]
        if network:
            command += ["--network", network]
        if platform:
            command += ["--platform", platform]
        for ref in cache_from:
            command += ["--cache-from", ref]
        for ref in cache_to:
            command += ["--cache-to", ref]
        if no_cache:
            command.append("--no-cache")
        if load:
            command.append("--load")
        command += [*extra_args, str(context_path)]

        started = time.monotonic()
        progress, returncode = _run(command, progress_callback, timeout)
        seconds = time.monotonic() - started

        steps = steps_from_progress(progress, plans)
        result = BuildResult(
            context=context_path,
            dockerfile=dockerfile_path,
            steps=steps,
            seconds=seconds,
            tag=tag,
            context_bytes=context_bytes(progress),
            warnings=list(progress.warnings),
            vertexes=progress.ordered(),
            command=command,
        )
        if returncode != 0:
            raise _build_error(result, progress, dockerfile_path, returncode)
        image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
    if image_id and load:
        result.image_id = image_id
        if image_info:
            info = inspect_image(engine, image_id)
            result.image_id = info.id
            result.image_size = info.size
            result.layers = info.layers
    return result


def _read_text(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="surrogateescape", newline="") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _parse(text: str, path: Path) -> Dockerfile | None:
    # A file our parser refuses is still handed to BuildKit, which reports its own error.
    try:
        return parse_dockerfile(text, str(path))
    except DockerfileSyntaxError:
        return None


def _without_syntax_directive(parsed: Dockerfile, original: Path, tmpdir: Path) -> Path:
    """A copy without `# syntax=`. The directive block is kept otherwise (an `# escape=` after it
    must stay a directive), and a bare `#` line is added after the block so every instruction
    keeps its line number. An ignore file named for the Dockerfile is copied beside it."""
    lines = parsed.text.splitlines(keepends=True)
    directive_lines = {d.line for d in parsed.directives}
    syntax_lines = {d.line for d in parsed.directives if d.name == "syntax"}
    kept: list[str] = []
    last_directive = max(directive_lines)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    for number, line in enumerate(lines, start=1):
        if number not in syntax_lines:
            kept.append(line)
        if number == last_directive:
            kept.extend(["#" + newline] * len(syntax_lines))
    target = tmpdir / original.name
    with target.open("w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        fh.write("".join(kept))
    ignore = original.with_name(original.name + ".dockerignore")
    if ignore.is_file():
        shutil.copyfile(ignore, tmpdir / ignore.name)
    return target


def _run(
    command: list[str], callback: VertexCallback | None, timeout: float | None
) -> tuple[BuildProgress, int]:
    reader = RawJsonReader(callback)
    # Builders other than the docker driver attach a provenance attestation by default: an extra
    # export step that is not part of the Dockerfile's build and would skew the timings.
    env = {**os.environ, "BUILDX_NO_DEFAULT_ATTESTATIONS": "1"}
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # rawjson goes to stderr; anything on stdout is kept too
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            # Its own session: Ctrl-C reaches only us, and we stop buildx in order.
            start_new_session=True,
        )
    except OSError as exc:
        raise EngineError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
    timed_out = threading.Event()
    timer: threading.Timer | None = None
    if timeout is not None:

        def expire() -> None:
            timed_out.set()
            _interrupt(proc)
            try:
                proc.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _kill(proc)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            reader.feed_line(line)
        returncode = proc.wait()
    except BaseException:
        _stop(proc)
        raise
    finally:
        if timer is not None:
            timer.cancel()
    if timed_out.is_set():
        raise EngineError(f"build did not finish in {timeout:g}s and was stopped")
    return reader.close(), returncode


def _interrupt(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGINT)


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Cancel buildx (SIGINT makes it cancel the solve in the daemon), then kill if it hangs.

    Its output is drained meanwhile, so that buildx never blocks writing its last progress."""
    if proc.poll() is None:
        _interrupt(proc)
        stream = proc.stdout
        if stream is not None:
            threading.Thread(target=_drain, args=(stream,), daemon=True).start()
        try:
            proc.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()


def _drain(stream: IO[str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for _ in stream:
            pass


def _build_error(
    result: BuildResult, progress: BuildProgress, dockerfile: Path, returncode: int
) -> BuildError:
    errored = [s for s in result.steps if s.error]
    # Steps running beside the failing one are cancelled with it; the cause is the other one.
    failed: StepResult | None = next(
        (s for s in errored if "canceled" not in (s.error or "")), errored[0] if errored else None
    )
    summary = _error_summary(progress.text)
    if failed is not None:
        where = f"{dockerfile}:{failed.line}" if failed.line else str(dockerfile)
        tail = _tail(failed.log)
        message = f"{where}: build failed at step {failed.name.strip()}: {failed.error}"
        return BuildError(message, step=failed, log_tail=tail, result=result)
    # No step failed: BuildKit refused the Dockerfile or the context (its text says why).
    other = next((v for v in progress.ordered() if v.error), None)
    reason = summary or (other.error if other else None) or f"buildx exited with {returncode}"
    line = _error_line(progress.text, dockerfile.name)
    where = f"{dockerfile}:{line}" if line else str(dockerfile)
    return BuildError(f"{where}: build failed: {reason}", result=result)


def _tail(log: str) -> list[str]:
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    return lines[-LOG_TAIL_LINES:]


def _error_summary(text: list[str]) -> str | None:
    for line in reversed(text):
        stripped = line.strip()
        if stripped.startswith("ERROR:"):
            message = stripped[len("ERROR:") :].strip()
            return message.removeprefix("failed to solve:").strip()
    return None


def _error_line(text: list[str], name: str) -> int | None:
    """BuildKit prints `Dockerfile:12` above the excerpt of the line it refused."""
    for line in text:
        head, sep, number = line.strip().rpartition(":")
        if sep and number.isdigit() and (head == name or head.endswith("/" + name)):
            return int(number)
    return None
