"""What the LW4xx/LW5xx rules say about Docker, checked against the real engine.

Four small builds (one needs Debian's package mirror, one PyPI's file host):
* `apt-get install` without `-y` aborts in a build; the LW514 fix makes it install;
* secrets in ENV are in the image config, ARG values used by a RUN in the history, a file
  copied then deleted stays in a layer, a secret mount leaves nothing; the USER of a stage is
  inherited by `FROM <stage>` and no USER means root (LW401, LW402, LW403);
* `ADD --checksum` makes BuildKit verify a download (LW407);
* useradd's lastlog/faillog growth (LW409) on this Debian release.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DockerEngine
from layerwise import parse_dockerfile
from layerwise.context.project import BuildContext
from layerwise.fixes import fix_dockerfile
from layerwise.rules import lint

pytestmark = pytest.mark.docker


@pytest.fixture
def tag(docker: DockerEngine) -> Iterator[str]:
    """A unique image name; every tag made from it is removed afterwards."""
    name = f"layerwise-test-lw45-{uuid.uuid4().hex[:10]}"
    yield name
    out = docker.run("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name, check=False)
    for ref in out.stdout.split():
        docker.run("image", "rm", "-f", ref, check=False)


def build(
    docker: DockerEngine, directory: Path, tag: str, *args: str, check: bool = True
) -> tuple[int, str]:
    proc = docker.run(
        "buildx", "build", "--network", "host", "--progress", "plain", "--load",
        "-t", tag, *args, str(directory),
        check=False, timeout=900,
    )  # fmt: skip
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.returncode, proc.stderr


def rules_found(text: str, directory: Path | None = None) -> dict[str, list[int]]:
    df = parse_dockerfile(text, "Dockerfile")
    bc = BuildContext.load(directory, directory / "Dockerfile") if directory else None
    out: dict[str, list[int]] = {}
    for f in lint(df, select=["LW4", "LW5"], build_context=bc).findings:
        out.setdefault(f.rule, []).append(f.line)
    return out


def test_apt_get_without_yes_aborts_and_the_fix_installs(
    docker: DockerEngine, tmp_path: Path, tag: str
) -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update -qq\n"
        "RUN apt-get install --no-install-recommends curl\n"
    )
    assert rules_found(text)["LW514"] == [3]
    (tmp_path / "Dockerfile").write_text(text)
    code, log = build(docker, tmp_path, f"{tag}:bad", check=False)
    assert code != 0
    assert "Do you want to continue? [Y/n] Abort." in log

    fixed = fix_dockerfile(parse_dockerfile(text, "Dockerfile"), select=["LW514"]).text
    assert "apt-get install -y --no-install-recommends curl" in fixed
    (tmp_path / "Dockerfile").write_text(fixed)
    build(docker, tmp_path, f"{tag}:fixed")
    version = docker.run("run", "--rm", f"{tag}:fixed", "curl", "--version").stdout
    assert re.match(r"curl \d+\.\d+", version), version
    assert "LW514" not in rules_found(fixed)


SECRETS_DOCKERFILE = """\
FROM debian:bookworm-slim AS base
RUN useradd --uid 10001 app
USER app

FROM base AS inherits
RUN id -u

FROM debian:bookworm-slim AS final
ARG NPM_TOKEN
RUN echo "token has ${#NPM_TOKEN} characters"
ENV API_PASSWORD=from-env
COPY .env /app/.env
RUN rm /app/.env
RUN --mount=type=secret,id=tok test -s /run/secrets/tok && wc -c < /run/secrets/tok
"""


def _layer_files(docker: DockerEngine, image: str, directory: Path) -> set[str]:
    """Every path in every layer of an image (from `docker save`)."""
    archive = directory / "image.tar"
    docker.run("image", "save", "-o", str(archive), image)
    names: set[str] = set()
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            data = outer.extractfile(member)
            assert data is not None
            try:
                with tarfile.open(fileobj=io.BytesIO(data.read())) as layer:
                    names |= set(layer.getnames())
            except tarfile.TarError:
                continue  # a config or manifest file, not a layer
    archive.unlink()
    return names


def test_secrets_users_and_what_an_image_keeps(
    docker: DockerEngine, tmp_path: Path, tag: str
) -> None:
    (tmp_path / "Dockerfile").write_text(SECRETS_DOCKERFILE)
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://u:p@db/app\n")
    found = rules_found(SECRETS_DOCKERFILE, tmp_path)
    assert found["LW402"] == [9, 11]  # ARG NPM_TOKEN, ENV API_PASSWORD
    assert found["LW403"] == [12]  # COPY .env
    assert found["LW401"] == [8]  # the final stage never sets USER

    # a USER is inherited through FROM <stage>
    build(docker, tmp_path, f"{tag}:inherits", "--target", "inherits")
    inspect = docker.run("image", "inspect", f"{tag}:inherits").stdout
    assert json.loads(inspect)[0]["Config"]["User"] == "app"

    build(
        docker, tmp_path, f"{tag}:final", "--target", "final",
        "--build-arg", "NPM_TOKEN=tok-123456", "--secret", "id=tok,env=LW_TEST_SECRET",
    )  # fmt: skip
    # (the secret's source variable is set for the build below)
    config = json.loads(docker.run("image", "inspect", f"{tag}:final").stdout)[0]["Config"]
    assert "API_PASSWORD=from-env" in config["Env"]  # ENV: readable by anyone who pulls
    assert config["User"] == ""  # no USER: the container runs as root
    uid = docker.run("run", "--rm", "--network", "host", f"{tag}:final", "id", "-u").stdout
    assert uid.strip() == "0"
    history = docker.run("image", "history", "--no-trunc", f"{tag}:final").stdout
    assert "NPM_TOKEN=tok-123456" in history  # ARG used by a RUN: in the history
    assert "mounted-value" not in history  # the secret mount's value is nowhere
    files = _layer_files(docker, f"{tag}:final", tmp_path)
    assert "app/.env" in files  # deleted by a later RUN, still in the COPY's layer
    assert not any(name.startswith("run/secrets") and name != "run/secrets" for name in files)


@pytest.fixture(autouse=True)
def _secret_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LW_TEST_SECRET", "mounted-value")


def _pypi_file(docker: DockerEngine) -> tuple[str, str]:
    """A small file on PyPI's file host and its sha256, as PyPI's index lists it."""
    script = (
        "import urllib.request, re\n"
        "html = urllib.request.urlopen('https://pypi.org/simple/six/', timeout=60).read()\n"
        'm = re.search(rb\'href="(https://[^"#]+six-1\\.16\\.0-py2\\.py3-none-any\\.whl)'
        "#sha256=([0-9a-f]{64})', html)\n"
        "print(m.group(1).decode(), m.group(2).decode())\n"
    )
    proc = docker.run(
        "run", "--rm", "--network", "host", "python:3.11-slim", "python3", "-c", script,
        check=False, timeout=120,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"PyPI's index is not reachable from a container: {proc.stderr[-500:]}")
    url, digest = proc.stdout.split()
    return url, digest


def test_add_checksum_is_verified(docker: DockerEngine, tmp_path: Path, tag: str) -> None:
    url, digest = _pypi_file(docker)
    unchecked = f"FROM scratch\nADD {url} /six.whl\n"
    assert rules_found(unchecked)["LW407"] == [2]
    checked = f"FROM scratch\nADD --checksum=sha256:{digest} {url} /six.whl\n"
    assert "LW407" not in rules_found(checked)
    (tmp_path / "Dockerfile").write_text(checked)
    build(docker, tmp_path, f"{tag}:ok")
    wrong = checked.replace(digest, "0" * 64)
    (tmp_path / "Dockerfile").write_text(wrong)
    code, log = build(docker, tmp_path, f"{tag}:wrong", check=False)
    assert code != 0
    assert "digest mismatch" in log or "checksum" in log.lower(), log[-2000:]


def test_useradd_lastlog_on_debian_bookworm(docker: DockerEngine, tmp_path: Path, tag: str) -> None:
    """LW409's growth needs a useradd that writes a record for a new uid. Debian 12's shadow
    (4.13) does not: with or without -l the layer stays small. The fix (-l) is harmless."""
    text = "FROM debian:bookworm-slim\nRUN useradd -u 1000000 big\nRUN useradd -l -u 1000001 b\n"
    assert rules_found(text)["LW409"] == [2]
    (tmp_path / "Dockerfile").write_text(text)
    build(docker, tmp_path, f"{tag}:users")
    sizes = docker.run(
        "image", "history", "--human=false", "--format", "{{.Size}}", f"{tag}:users"
    ).stdout.split()
    without_l, with_l = int(sizes[1]), int(sizes[0])
    assert with_l < 100_000
    assert without_l < 100_000, "this useradd writes lastlog records: LW409's claim applies"
