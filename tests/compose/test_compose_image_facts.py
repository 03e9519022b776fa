"""What the checks read from a service's Dockerfile, through the semantic model."""

from __future__ import annotations

from pathlib import Path

from layerwise.compose.image_facts import read_image_facts
from layerwise.compose.model import BuildTarget

DOCKERFILE = """\
ARG APP_HOME=/srv
FROM python:3.11-slim AS base
ARG APP_HOME
WORKDIR $APP_HOME
COPY requirements.txt ./
COPY src/ ./src/
HEALTHCHECK CMD ["python", "-c", "print(1)"]
FROM base AS dev
HEALTHCHECK NONE
EXPOSE 8000
COPY --from=base /srv/src /elsewhere
CMD ["flask", "run"]
FROM python:3.11-slim AS other
"""


def target(tmp_path: Path, stage: str | None, args: dict[str, str] | None = None) -> BuildTarget:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "src").mkdir(exist_ok=True)
    return BuildTarget(
        service="app",
        context=str(tmp_path),
        dockerfile=str(tmp_path / "Dockerfile"),
        dockerfile_inline=None,
        target=stage,
        args=args or {},
        network=None,
        image="x",
    )


def test_target_stage_and_its_bases(tmp_path: Path) -> None:
    facts = read_image_facts(target(tmp_path, "dev", {"APP_HOME": "/app"}))
    assert facts is not None
    assert facts.healthcheck is False  # HEALTHCHECK NONE in dev overrides base's
    assert facts.exposes == ["8000"]
    assert facts.workdir == "/app"
    assert [(c.sources, c.destination) for c in facts.copies] == [
        (("requirements.txt",), "/app/"),
        (("src/",), "/app/src/"),
    ]
    assert facts.copies[1].landing("src/app.py", tmp_path) == "/app/src/app.py"
    assert facts.copies[0].landing("requirements.txt", tmp_path) == "/app/requirements.txt"
    assert facts.command == "flask run"


def test_base_stage_and_defaults(tmp_path: Path) -> None:
    facts = read_image_facts(target(tmp_path, "base"))
    assert facts is not None and facts.healthcheck is True and facts.workdir == "/srv"
    last = read_image_facts(target(tmp_path, None))
    assert last is not None and last.healthcheck is None and last.copies == []


def test_unreadable_cases(tmp_path: Path) -> None:
    assert read_image_facts(target(tmp_path, "missing-stage")) is None
    remote = BuildTarget(
        "app", "https://github.com/x/y.git", "Dockerfile", None, None, {}, None, "x"
    )
    assert read_image_facts(remote) is None
    inline = BuildTarget(
        "app", str(tmp_path), None, "FROM scratch\nCOPY a /a\n", None, {}, None, "x"
    )
    facts = read_image_facts(inline)
    assert facts is not None and facts.copies[0].destination == "/a"
