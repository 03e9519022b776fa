"""The cache model against a real BuildKit: every prediction checked against what BuildKit reports.

Each test builds a project state after state (`docker buildx build --progress=rawjson`) and compares
the CACHED flag of every step with the model's prediction made before the build. The projects are
built on a base image made for the test (its own unique layer), so that nothing else built on
this engine can be in the cache for them.

* `test_claims_probe`: one Dockerfile whose stages each exercise one claim about BuildKit's cache,
  so that one build per change checks all of them; after the builds, the claims are asserted on
  what BuildKit itself reported.
* `test_scripted_sequence_*`: the scripted sequence of the issue on example apps (a source file,
  the dependency manifest, a file .dockerignore excludes, a comment in the Dockerfile, a build-arg
  value, a file read by a bind mount, a file read only by a stage the target does not build).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cache_support import BuildKitSequence, Comparison, image_fingerprint, make_base
from conftest import DockerEngine
from examples_support import copy_example, harmless_edit
from layerwise.build import Engine, find_engine

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine(docker: DockerEngine) -> Engine:
    return find_engine(docker.binary)


@pytest.fixture(scope="module")
def images(docker: DockerEngine) -> Iterator[list[str]]:
    """Tags and image ids made by these tests, removed at the end."""
    made: list[str] = []
    yield made
    if made:
        docker.run("image", "rm", "--force", *made, check=False)


def _one(seq: BuildKitSequence, label: str, line: int, stage: str | None = None) -> Comparison:
    found = [
        c
        for c in seq.comparisons
        if c.label == label and c.prediction.line == line and stage in (None, c.prediction.stage)
    ]
    assert len(found) == 1, (label, line, stage, [str(c) for c in seq.comparisons])
    return found[0]


def _report(seq: BuildKitSequence, capsys: pytest.CaptureFixture[str]) -> None:
    """The agreement figure, shown in the test output even when output is captured."""
    with capsys.disabled():
        print()
        print(seq.summary())
        for c in seq.comparisons:
            if not c.agrees or not c.prediction.certain:
                print("   ", c)
        for u in seq.unmatched:
            print("   ", u)


PROBE = """\
FROM {base} AS base
WORKDIR /w

# files: COPY keys on content and mode, never on mtime; .dockerignore'd files never count
FROM base AS files
COPY a.txt tool.sh ./
COPY dir/ dir/
RUN cat a.txt dir/* > /w/all.txt

# build args: a RUN after an ARG rebuilds when its value changes, even if unused; a COPY not
FROM base AS argtest
RUN echo before-the-arg
ARG V=1
COPY a.txt /a.txt
RUN echo does-not-read-the-arg
ARG W
RUN echo "w is $W" > /w.txt

# COPY --link whose previous step changed
FROM base AS link
ARG P=1
RUN echo "parent $P" > /p.txt
COPY --link tool.sh /tool.sh
RUN echo after-the-link > /after.txt

# a stage rebuilt with identical output for the copied file
FROM base AS producer
COPY a.txt /src/a.txt
ARG Q=1
RUN echo "q is $Q" > /q.txt
FROM scratch AS consumer
COPY --from=producer /src/a.txt /a.txt

# mounts: bind by content, cache and secret and tmpfs not at all
FROM base AS mounts
RUN --mount=type=bind,source=m.txt,target=/m.txt cp /m.txt /w/m-copy.txt
RUN --mount=type=cache,target=/cache date +%s%N > /cache/stamp
RUN --mount=type=secret,id=token,required=false test -e /run/secrets/token && echo with-secret
RUN --mount=type=tmpfs,target=/scratch echo tmpfs

# ONBUILD triggers run first in the stage built on this one
FROM base AS onbuild
ONBUILD COPY c.txt /c.txt
ONBUILD RUN echo trigger > /trigger.txt
FROM onbuild AS child
RUN echo child > /child.txt

# WORKDIR keys on the user
FROM base AS user
USER nobody
WORKDIR /home/u

# never built for the default target: what it reads does not matter
FROM base AS unused
COPY unused.txt /unused.txt

FROM base AS final
COPY --from=files /w/a.txt /1
COPY --from=argtest /a.txt /2
COPY --from=link /tool.sh /3
COPY --from=consumer /a.txt /4
COPY --from=mounts /w/m-copy.txt /5
COPY --from=child /c.txt /6
COPY --from=user /home/u /7
"""


def test_claims_probe(
    docker: DockerEngine,
    engine: Engine,
    tmp_path: Path,
    images: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    nonce = uuid.uuid4().hex[:10]
    base = make_base(docker, tmp_path, "debian:bookworm-slim", f"layerwise-test-cache-{nonce}:1")
    images.append(base)
    ctx = tmp_path / "probe"
    (ctx / "dir").mkdir(parents=True)
    # Unique content: a stage FROM scratch has no base of ours, only what it copies.
    (ctx / "a.txt").write_text(f"a {nonce}\n")
    (ctx / "tool.sh").write_text(f"#!/bin/sh\necho {nonce}\n")
    (ctx / "dir" / "x.txt").write_text("x\n")
    (ctx / "m.txt").write_text("m\n")
    (ctx / "c.txt").write_text(f"c {nonce}\n")
    (ctx / "unused.txt").write_text("u\n")
    (ctx / "ignored.txt").write_text("i\n")
    (ctx / ".dockerignore").write_text("ignored.txt\n")
    (ctx / "Dockerfile").write_text(PROBE.format(base=base))
    secret = tmp_path / "token"
    secret.write_text("one")
    with_secret = ("--secret", f"id=token,src={secret}")

    seq = BuildKitSequence(engine, ctx, {base: image_fingerprint(docker, base)})

    def build(label: str, **kw: object) -> None:
        seq.build(label, extra_args=with_secret, **kw)  # type: ignore[arg-type]
        images.extend(seq.images)
        seq.images.clear()

    build("baseline")
    build("no change")
    os.utime(ctx / "a.txt", (1_000_000, 1_000_000))
    build("mtime only")
    (ctx / "ignored.txt").write_text("changed\n")
    build("ignored file")
    secret.write_text("two")
    build("secret value")
    (ctx / "m.txt").write_text("m2\n")
    build("bind-mounted file")
    build("arg V", build_args={"V": "2"})
    build("arg W", build_args={"V": "2", "W": "set"})
    build("arg P", build_args={"V": "2", "W": "set", "P": "2"})
    build("arg Q", build_args={"V": "2", "W": "set", "P": "2", "Q": "2"})
    args = {"V": "2", "W": "set", "P": "2", "Q": "2"}
    (ctx / "tool.sh").chmod(0o755)
    build("mode", build_args=args)
    (ctx / "unused.txt").write_text("u2\n")
    build("unbuilt stage's file", build_args=args)
    (ctx / "c.txt").write_text("c2\n")
    build("file of an ONBUILD trigger", build_args=args)
    with (ctx / "Dockerfile").open("a") as fh:
        fh.write("# a comment\n")
    build("Dockerfile comment (Dockerfile not copied)", build_args=args)
    _report(seq, capsys)

    assert not seq.unmatched
    certain = [c for c in seq.comparisons if c.prediction.certain]
    assert [str(c) for c in certain if not c.agrees] == []
    assert all(c.agrees for c in seq.comparisons), "uncertain predictions were wrong"

    # What BuildKit itself reported, claim by claim.
    lines = PROBE.splitlines()

    def ran(label: str, text: str, stage: str | None = None) -> bool:
        line = next(i for i, t in enumerate(lines, 1) if t.startswith(text))
        return not _one(seq, label, line, stage).actual.cached

    for label in ("no change", "mtime only", "ignored file", "secret value"):
        assert not any(not c.actual.cached for c in seq.comparisons if c.label == label), label
    # bind mount: the RUN reading m.txt and everything after it in the stage
    assert ran("bind-mounted file", "RUN --mount=type=bind")
    assert ran("bind-mounted file", "RUN --mount=type=cache")
    # build arg: RUN before the ARG cached, COPY after it cached, unused-arg RUN rebuilt
    assert not ran("arg V", "RUN echo before-the-arg")
    assert not ran("arg V", "COPY a.txt /a.txt")
    assert ran("arg V", "RUN echo does-not-read-the-arg")
    assert not ran("arg V", "COPY --from=argtest")  # the copied file is the same: cached
    # `ARG W` without a value: in the environment only once a value is given
    assert ran("arg W", 'RUN echo "w is $W"') and not ran("arg W", "RUN echo does-not-read")
    # COPY --link after a changed step runs again with this builder (no merge op) ...
    assert ran("arg P", 'RUN echo "parent $P"') and ran("arg P", "COPY --link")
    # ... and a COPY --from of a file that came out the same stays cached
    assert not ran("arg P", "COPY --from=link")
    assert ran("arg Q", 'RUN echo "q is $Q"') and not ran("arg Q", "COPY --from=producer")
    # mode: tool.sh made executable
    assert ran("mode", "COPY a.txt tool.sh") and ran("mode", "COPY --link")
    assert not any(not c.actual.cached for c in seq.comparisons if c.label.startswith("unbuilt"))
    # ONBUILD triggers: the COPY trigger reads c.txt (reported at the FROM line of `child`)
    trig = [c for c in seq.comparisons if c.label.startswith("file of an ONBUILD")]
    assert any(c.prediction.trigger and not c.actual.cached for c in trig)
    assert not any(
        not c.actual.cached for c in seq.comparisons if c.label.startswith("Dockerfile comment")
    )


def test_base_image_changes(
    docker: DockerEngine,
    engine: Engine,
    tmp_path: Path,
    images: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A base image rebuilt with only a new LABEL keeps everything cached (BuildKit keys FROM on
    the layers), a new ENV reruns the RUN steps only, a new layer reruns everything."""
    nonce = uuid.uuid4().hex[:10]
    tag = f"layerwise-test-cachebase-{nonce}:1"
    parent = make_base(docker, tmp_path, "debian:bookworm-slim", f"{tag}-parent")
    images.append(parent)

    def rebase(extra: str) -> dict[str, object]:
        ctx = tmp_path / f"rebase-{uuid.uuid4().hex[:6]}"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(f"FROM {parent}\n{extra}\n")
        docker.run("buildx", "build", "--network", "host", "--load", "--tag", tag, str(ctx))
        return {tag: image_fingerprint(docker, tag)}

    ctx = tmp_path / "app"
    ctx.mkdir()
    (ctx / "a.txt").write_text(f"a {nonce}\n")  # the scratch stage shares nothing else
    (ctx / "Dockerfile").write_text(
        f"FROM {tag}\nWORKDIR /app\nCOPY a.txt .\nRUN cat a.txt > b.txt\n"
        "FROM scratch\nCOPY --from=0 /app/a.txt /a.txt\n"
    )
    seq = BuildKitSequence(engine, ctx, rebase("LABEL v=1"))  # type: ignore[arg-type]
    seq.build("baseline")
    seq.bases = rebase("LABEL v=2")  # type: ignore[assignment]
    seq.build("label only")
    seq.bases = rebase("LABEL v=2\nENV FOO=1")  # type: ignore[assignment]
    seq.build("env")
    seq.bases = rebase("RUN echo more > /more")  # type: ignore[assignment]
    seq.build("new layer")
    images.extend([tag, *seq.images])
    _report(seq, capsys)
    assert not seq.unmatched
    assert [str(c) for c in seq.comparisons if not c.agrees] == []
    ran = {(c.label, c.prediction.line): not c.actual.cached for c in seq.comparisons}
    assert not any(v for (label, _), v in ran.items() if label == "label only")
    assert not ran[("env", 2)] and not ran[("env", 3)] and ran[("env", 4)]
    assert ran[("new layer", 2)] and ran[("new layer", 3)] and ran[("new layer", 4)]
    assert not ran[("new layer", 6)]  # the copied file is the same: cached by content


OPTIMIZED_FASTAPI = """\
FROM {base} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

FROM base AS deps
RUN --mount=type=cache,target=/root/.cache/pip \\
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \\
    --mount=type=secret,id=netrc,target=/root/.netrc,required=false \\
    pip install --prefix=/install -r /tmp/requirements.txt

FROM base AS test
COPY tests/ tests/
RUN echo "the tests would run here"

FROM base AS runtime
COPY --from=deps /install /usr/local
ARG APP_VERSION=dev
COPY app/ app/
RUN echo "$APP_VERSION" > /app/VERSION
RUN python3 -m compileall -q app
ENV PORT=8000
CMD ["sh", "-c", "uvicorn app.main:app --host 0.0.0.0 --port $PORT"]
"""


def _scripted(seq: BuildKitSequence, ctx: Path, source: str, manifest: str, ignored: str) -> None:
    seq.build("baseline")
    seq.build("no change")
    harmless_edit(ctx / source)
    seq.build("source file")
    harmless_edit(ctx / manifest)
    seq.build("dependency manifest")
    (ctx / ignored).write_text((ctx / ignored).read_text() + "more\n")
    seq.build("file excluded by .dockerignore")
    with (ctx / "Dockerfile").open("a") as fh:
        fh.write("# a comment only\n")
    seq.build("comment in the Dockerfile")


def _naive_flask(docker: DockerEngine, engine: Engine, tmp_path: Path) -> BuildKitSequence:
    """flask-pip as shipped (`COPY . .` first): every change but the ignored file reruns the
    install, including a comment in the Dockerfile, which `COPY . .` copies too."""
    nonce = uuid.uuid4().hex[:10]
    base = make_base(docker, tmp_path, "python:3.11-slim", f"layerwise-test-cachepy-{nonce}:1")
    ctx = copy_example("flask-pip", tmp_path)
    (ctx / ".dockerignore").write_text("logs\n")
    dockerfile = ctx / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("FROM python:3.11-slim", f"FROM {base}"))
    seq = BuildKitSequence(engine, ctx, {base: image_fingerprint(docker, base)})
    seq.images.append(base)
    _scripted(seq, ctx, "app.py", "requirements.txt", "logs/dev.log")
    seq.build("build arg no stage declares", build_args={"UNDECLARED": "1"})
    return seq


def _optimized_fastapi(docker: DockerEngine, engine: Engine, tmp_path: Path) -> BuildKitSequence:
    """fastapi-uvicorn with a multi-stage Dockerfile (dependencies installed from a bind-mounted
    requirements.txt with cache and secret mounts, a test stage the target does not build)."""
    nonce = uuid.uuid4().hex[:10]
    base = make_base(docker, tmp_path, "python:3.11-slim", f"layerwise-test-cachepy-{nonce}:2")
    ctx = copy_example("fastapi-uvicorn", tmp_path)
    (ctx / ".dockerignore").write_text("docs\n.vscode\n")
    (ctx / "Dockerfile").write_text(OPTIMIZED_FASTAPI.format(base=base))
    seq = BuildKitSequence(engine, ctx, {base: image_fingerprint(docker, base)}, target="runtime")
    seq.images.append(base)
    _scripted(seq, ctx, "app/main.py", "requirements.txt", "docs/api.md")
    seq.build("build arg value", build_args={"APP_VERSION": "2"})
    harmless_edit(ctx / "tests" / "test_main.py")
    seq.build("file of a stage the target does not build", build_args={"APP_VERSION": "2"})
    return seq


def test_scripted_sequence_on_example_apps(
    docker: DockerEngine,
    engine: Engine,
    tmp_path: Path,
    images: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's sequence on two example apps, built side by side (two builds at a time)."""
    (tmp_path / "flask").mkdir()
    (tmp_path / "fastapi").mkdir()
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(_naive_flask, docker, engine, tmp_path / "flask"),
            pool.submit(_optimized_fastapi, docker, engine, tmp_path / "fastapi"),
        ]
        flask, fastapi = (f.result() for f in futures)
    images.extend([*flask.images, *fastapi.images])
    for seq in (flask, fastapi):
        _report(seq, capsys)
    total = len(flask.comparisons) + len(fastapi.comparisons)
    agreed = total - len(flask.disagreements) - len(fastapi.disagreements)
    print(
        f"scripted sequence, both apps: agreement {agreed}/{total} = {100 * agreed / total:.1f} %"
    )
    for seq in (flask, fastapi):
        assert not seq.unmatched
        assert [str(c) for c in seq.disagreements] == []

    reran = {c.label for c in flask.comparisons if not c.actual.cached}
    assert reran == {"baseline", "source file", "dependency manifest", "comment in the Dockerfile"}

    ran = {(c.label, c.prediction.line) for c in fastapi.comparisons if not c.actual.cached}
    lines = OPTIMIZED_FASTAPI.splitlines()

    def line(text: str) -> int:
        return next(i for i, t in enumerate(lines, 1) if t.startswith(text))

    # the dependency install reruns only when requirements.txt (its bind mount) changes
    install = line("RUN --mount=type=cache")
    assert ("dependency manifest", install) in ran and ("source file", install) not in ran
    # a new build-arg value reruns the RUN steps after the ARG, the one not reading it too
    assert ("build arg value", line('RUN echo "$APP_VERSION"')) in ran
    assert ("build arg value", line("RUN python3 -m compileall")) in ran
    assert ("build arg value", line("COPY app/")) not in ran  # a COPY after the ARG
    assert not any(label.startswith("file of a stage") for label, _ in ran)
    assert not any(label.startswith(("comment", "file excluded")) for label, _ in ran)
