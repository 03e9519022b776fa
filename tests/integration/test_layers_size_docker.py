"""What the LW1xx/LW2xx rules claim about Docker, BuildKit, apt and pip, checked with a real
engine (CI runs these):

* pip leaves its cache in the layer unless `--no-cache-dir`, PIP_NO_CACHE_DIR (any value, even
  0: LW103's "misleading" message) or a cache mount;
* `apt-get update` leaves its lists in the layer (LW203);
* `--no-install-recommends curl` installs no CA certificates, and the LW202 table of packages
  that get them only through a recommendation matches bookworm's metadata;
* a file deleted in a later RUN still costs its size in the image (LW204);
* an ARG declared before a RUN makes that RUN miss the cache when the value changes, even when
  the RUN does not use it (LW105);
* a Dockerfile fixed by the safe fixes of these rules still builds, and still has the CA
  certificates that `--no-install-recommends` would have dropped (LW202 names them).

All facts that need no second build come from one multi-stage build exported to a directory.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from conftest import DockerEngine
from layerwise import parse_dockerfile
from layerwise.build import build
from layerwise.fixes import fix_dockerfile
from layerwise.rules.size import CERTIFICATES_VIA_RECOMMENDS

pytestmark = pytest.mark.docker

# pip's HTTP cache depends on the index's cache headers (a proxy may strip them); its wheel cache
# does not: a wheel built from a named sdist is always cached. So the pip facts install a sdist.
_FACTS = """\
FROM python:3.11-slim AS sdist
RUN mkdir -p /src/demo-1.0/demo && touch /src/demo-1.0/demo/__init__.py \\
    && printf 'from setuptools import setup\\nsetup(name="demo", version="1.0", \\
packages=["demo"])\\n' > /src/demo-1.0/setup.py \\
    && printf 'Metadata-Version: 1.0\\nName: demo\\nVersion: 1.0\\n' > /src/demo-1.0/PKG-INFO \\
    && tar -C /src -czf /src/demo-1.0.tar.gz demo-1.0

FROM sdist AS pip-default
RUN pip install --quiet --disable-pip-version-check /src/demo-1.0.tar.gz
RUN mkdir /out && (test -n "$(ls -A /root/.cache/pip 2>/dev/null)" && echo yes || echo no) \\
    > /out/pip-default

FROM sdist AS pip-no-cache-dir
RUN pip install --quiet --disable-pip-version-check --no-cache-dir /src/demo-1.0.tar.gz
RUN mkdir /out && (test -n "$(ls -A /root/.cache/pip 2>/dev/null)" && echo yes || echo no) \\
    > /out/pip-no-cache-dir

FROM sdist AS pip-env-zero
RUN PIP_NO_CACHE_DIR=0 pip install --quiet --disable-pip-version-check /src/demo-1.0.tar.gz
RUN mkdir /out && (test -n "$(ls -A /root/.cache/pip 2>/dev/null)" && echo yes || echo no) \\
    > /out/pip-env-zero

FROM sdist AS pip-cache-mount
RUN --mount=type=cache,target=/root/.cache/pip \\
    pip install --quiet --disable-pip-version-check /src/demo-1.0.tar.gz
RUN mkdir /out && (test -n "$(ls -A /root/.cache/pip 2>/dev/null)" && echo yes || echo no) \\
    > /out/pip-cache-mount

FROM debian:bookworm-slim AS apt
ARG PACKAGES
RUN apt-get update -qq
RUN mkdir /out && find /var/lib/apt/lists -type f -name '*Packages*' | wc -l > /out/lists-kept
RUN apt-get install -s curl > /out/curl-recommends \\
    && apt-get install -s --no-install-recommends curl > /out/curl-no-recommends \\
    && for p in $PACKAGES; do \\
      echo "== $p"; \\
      apt-cache depends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \\
        "$p" $(apt-cache depends --important "$p" | sed -n 's/^ *Depends: \\([^< ]*\\)$/\\1/p'); \\
    done > /out/recommends-table

FROM scratch
COPY --from=pip-default /out/ /
COPY --from=pip-no-cache-dir /out/ /
COPY --from=pip-env-zero /out/ /
COPY --from=pip-cache-mount /out/ /
COPY --from=apt /out/ /
"""


@pytest.fixture(scope="module")
def facts(docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    ctx = tmp_path_factory.mktemp("facts")
    (ctx / "Dockerfile").write_text(_FACTS)
    out = ctx / "out"
    docker.run(
        "buildx", "build", "--network", "host", "--progress", "quiet",
        "--build-arg", "PACKAGES=" + " ".join(sorted(CERTIFICATES_VIA_RECOMMENDS)),
        "--output", f"type=local,dest={out}", str(ctx),
        timeout=900,
    )  # fmt: skip
    return {p.name: p.read_text().strip() for p in out.iterdir()}


def test_pip_cache_is_kept_unless_disabled_or_mounted(facts: dict[str, str]) -> None:
    assert facts["pip-default"] == "yes"
    assert facts["pip-no-cache-dir"] == "no"
    # pip disables the cache for any valid boolean, 0 included (LW103's style message)
    assert facts["pip-env-zero"] == "no"
    assert facts["pip-cache-mount"] == "no"


def test_apt_lists_stay_in_the_layer(facts: dict[str, str]) -> None:
    assert int(facts["lists-kept"]) > 0


def test_no_install_recommends_drops_ca_certificates(facts: dict[str, str]) -> None:
    # apt's own plan (`-s`): with recommendations curl brings ca-certificates, without it not
    assert re.search(r"^Inst ca-certificates ", facts["curl-recommends"], re.M)
    assert re.search(r"^Inst curl ", facts["curl-no-recommends"], re.M)
    assert not re.search(r"^Inst ca-certificates ", facts["curl-no-recommends"], re.M)


def test_certificate_table_matches_bookworm(facts: dict[str, str]) -> None:
    blocks = re.split(r"^== (\S+)$", facts["recommends-table"], flags=re.M)[1:]
    table = dict(zip(blocks[::2], blocks[1::2], strict=True))
    assert set(table) == CERTIFICATES_VIA_RECOMMENDS
    for package, text in table.items():
        # ca-certificates is recommended by the package or by one of its direct dependencies
        assert re.search(r"^\s*Recommends: ca-certificates$", text, re.M), package
        # and it is not a hard dependency (otherwise LW202's fix would not need to name it)
        first = re.split(r"\n(?=\S)", text, maxsplit=1)[0]
        assert not re.search(r"^\s*Depends: ca-certificates$", first, re.M), package


def _size(docker: DockerEngine, tag: str) -> int:
    out = docker.run("image", "inspect", tag, "--format", "{{json .Size}}").stdout
    return int(json.loads(out))


def test_deleting_in_a_later_layer_saves_nothing(docker: DockerEngine, tmp_path: Path) -> None:
    nonce = uuid.uuid4().hex
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim AS same\n"
        f"RUN head -c 20000000 /dev/urandom > /big-{nonce} && rm /big-{nonce}\n"
        "FROM debian:bookworm-slim AS later\n"
        f"RUN head -c 20000000 /dev/urandom > /big-{nonce}\n"
        f"RUN rm /big-{nonce}\n"
    )
    tags = [f"layerwise-test-lw204-{t}:{nonce[:8]}" for t in ("same", "later")]
    try:
        for target, tag in zip(("same", "later"), tags, strict=True):
            docker.run("buildx", "build", "--network", "host", "--progress", "quiet", "--load",
                       "--target", target, "-t", tag, str(tmp_path), timeout=600)  # fmt: skip
        same, later = (_size(docker, t) for t in tags)
        assert later - same > 19_000_000
    finally:
        docker.run("image", "rm", "-f", *tags, check=False)


def test_an_arg_before_a_run_busts_its_cache(docker: DockerEngine, tmp_path: Path) -> None:
    nonce = uuid.uuid4().hex
    early = tmp_path / "early"
    late = tmp_path / "late"
    for d in (early, late):
        d.mkdir()
    expensive = f"RUN echo expensive-{nonce} > /expensive\n"
    (early / "Dockerfile").write_text(
        f"FROM debian:bookworm-slim\nRUN echo stable-{nonce} > /stable\nARG BUILD_DATE\n"
        + expensive
        + "LABEL built=$BUILD_DATE\n"
    )
    (late / "Dockerfile").write_text(
        f"FROM debian:bookworm-slim\nRUN echo stable-{nonce} > /stable\n"
        + expensive
        + "ARG BUILD_DATE\nLABEL built=$BUILD_DATE\n"
    )
    from layerwise.rules.layers import VolatileBeforeExpensive  # noqa: F401 (the claim's rule)

    def cached(ctx: Path, date: str) -> dict[int, bool]:
        res = build(ctx, network="host", build_args={"BUILD_DATE": date}, load=False,
                    docker=docker.binary, image_info=False)  # fmt: skip
        return {s.line: s.cached for s in res.steps if s.line is not None}

    cached(early, "1")
    second = cached(early, "2")
    assert second[2] is True  # before the ARG
    assert second[4] is False  # after it: rebuilt although it never reads BUILD_DATE
    cached(late, "1")
    second = cached(late, "2")
    assert second[2] is True and second[3] is True


def test_safely_fixed_dockerfile_builds_with_its_certificates(
    docker: DockerEngine, tmp_path: Path
) -> None:
    nonce = uuid.uuid4().hex[:8]
    naive = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update\n"
        "RUN apt-get install -y curl\n"
        # HTTPS needs the CA bundle (not every network lets a test reach a public HTTPS server
        # without a proxy's own CA, so the bundle itself is checked)
        f"RUN test -s /etc/ssl/certs/ca-certificates.crt && curl --version && echo {nonce}\n"
    )
    result = fix_dockerfile(parse_dockerfile(naive, "Dockerfile"), select=["LW1", "LW2"])
    fixed = result.text
    assert fixed != naive
    applied = {f.rule for f in result.applied}
    # the update joins the install (LW104, or LW107's merge of the two RUNs, whichever the
    # engine takes first: the same edit), the lists go, recommendations are off
    assert applied >= {"LW202", "LW203"} and applied & {"LW104", "LW107"}, applied
    assert "--no-install-recommends" in fixed and "ca-certificates" in fixed
    assert "rm -rf /var/lib/apt/lists/*" in fixed
    (tmp_path / "Dockerfile").write_text(fixed)
    build(tmp_path, network="host", load=False, docker=docker.binary, image_info=False)
