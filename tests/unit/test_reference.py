"""Image references parsed and normalised like Docker's reference package."""

from __future__ import annotations

import pytest

from layerwise.dockerfile.reference import ReferenceError, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest", "familiar", "effective"),
    [
        ("python", "docker.io", "library/python", None, None, "python", "latest"),
        (
            "python:3.11-slim",
            "docker.io",
            "library/python",
            "3.11-slim",
            None,
            "python",
            "3.11-slim",
        ),
        ("myorg/app:1", "docker.io", "myorg/app", "1", None, "myorg/app", "1"),
        (
            "ghcr.io/astral-sh/uv:0.5",
            "ghcr.io",
            "astral-sh/uv",
            "0.5",
            None,
            "ghcr.io/astral-sh/uv",
            "0.5",
        ),
        ("localhost/app", "localhost", "app", None, None, "localhost/app", "latest"),
        ("localhost:5000/a/b", "localhost:5000", "a/b", None, None, "localhost:5000/a/b", "latest"),
        (f"python@{DIGEST}", "docker.io", "library/python", None, DIGEST, "python", None),
        (f"python:3.11@{DIGEST}", "docker.io", "library/python", "3.11", DIGEST, "python", "3.11"),
        (
            "index.docker.io/library/debian",
            "docker.io",
            "library/debian",
            None,
            None,
            "debian",
            "latest",
        ),
        ("a.b.c/x__y/z-q:t.1", "a.b.c", "x__y/z-q", "t.1", None, "a.b.c/x__y/z-q", "t.1"),
    ],
)
def test_parse(
    text: str,
    registry: str,
    repository: str,
    tag: str | None,
    digest: str | None,
    familiar: str,
    effective: str | None,
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.familiar_name == familiar
    assert ref.effective_tag == effective


@pytest.mark.parametrize(
    "text", ["", "Python", "a//b", "a:b:c", "-a", "a@sha256:123", ":tag", "a/"]
)
def test_invalid(text: str) -> None:
    with pytest.raises(ReferenceError):
        parse_reference(text)


def test_uppercase_message_names_the_problem() -> None:
    with pytest.raises(ReferenceError, match="must be lowercase"):
        parse_reference("Python:3")


def test_with_tag() -> None:
    assert (
        parse_reference("localhost:5000/py:3.11").with_tag("3.11-slim")
        == "localhost:5000/py:3.11-slim"
    )
    assert parse_reference("python").with_tag("3.12-slim") == "python:3.12-slim"
