"""The model says which stages BuildKit builds for a target; a real build must agree."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from conftest import DockerEngine
from layerwise import parse_dockerfile

DOCKERFILE = """\
FROM debian:bookworm-slim AS base
RUN echo base-{token} > /base

FROM base AS builder
RUN echo builder-{token} > /built

FROM debian:bookworm-slim AS unreachable
RUN echo unreachable-{token} > /nope

FROM debian:bookworm-slim AS helper
RUN echo helper-{token} > /helper

FROM base AS final
COPY --from=builder /built /built
RUN --mount=type=bind,from=helper,source=/helper,target=/h cat /h > /copied
"""

# Only RUN steps: each echoes a fresh token, so no other build can share them. FROM steps of
# the same image have one digest in every build, and BuildKit shows a merged vertex under the
# name another concurrent build gave it.
_STAGE = re.compile(r"^\[(?P<stage>[a-z0-9_.-]+) \d+/\d+\] RUN ")


def _events(stream: str) -> list[dict[str, object]]:
    """The JSON objects of a rawjson progress stream (buildx prints them pretty, back to back)."""
    decoder = json.JSONDecoder()
    events, pos = [], 0
    while True:
        start = stream.find("{", pos)
        if start < 0:
            return events
        try:
            obj, pos = decoder.raw_decode(stream, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        if isinstance(obj, dict):
            events.append(obj)


def _stages_run(rawjson: str) -> set[str]:
    """Stages whose RUN steps BuildKit ran (vertex names are `[stage N/M] RUN ...`)."""
    stages = set()
    for event in _events(rawjson):
        vertexes = event.get("vertexes")
        for vertex in vertexes if isinstance(vertexes, list) else []:
            m = _STAGE.match(vertex.get("name", ""))
            if m:
                stages.add(m.group("stage"))
    return stages


@pytest.mark.docker
@pytest.mark.parametrize(
    ("target", "expected"),
    [(None, {"base", "builder", "helper", "final"}), ("builder", {"base", "builder"})],
)
def test_built_stages_match_buildkit(
    docker: DockerEngine, tmp_path: Path, target: str | None, expected: set[str]
) -> None:
    token = uuid.uuid4().hex  # a fresh token: nothing can come from the cache
    text = DOCKERFILE.format(token=token)
    (tmp_path / "Dockerfile").write_text(text)
    model = parse_dockerfile(text).model(target=target)
    predicted = {st.display_name for st in model.built_stages}
    assert predicted == expected

    args = ["buildx", "build", "--progress=rawjson", "--network=host", "--output=type=cacheonly"]
    if target:
        args += ["--target", target]
    res = docker.run(*args, str(tmp_path), check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    ran = _stages_run(res.stderr)
    assert ran == predicted, f"BuildKit ran {sorted(ran)}; log tail:\n{res.stderr[-3000:]}"
