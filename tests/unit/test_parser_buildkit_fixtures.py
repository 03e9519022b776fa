"""BuildKit's own parser fixtures (moby/buildkit frontend/dockerfile/parser testfiles*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildkit_dump import dump
from conftest import shared_path
from layerwise import DockerfileSyntaxError, parse_dockerfile

FIXTURES = shared_path() / "peer-tests" / "dockerfile-parser"


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "surrogateescape")


def _cases(kind: str) -> list[Path]:
    folder = FIXTURES / kind
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


@pytest.mark.shared
@pytest.mark.parametrize("case", _cases("testfiles"), ids=lambda p: p.name)
def test_positive_fixture_matches_buildkit_ast_dump(shared: Path, case: Path) -> None:
    text = _read(case / "Dockerfile")
    tree = parse_dockerfile(text, str(case / "Dockerfile"))
    assert dump(tree) == _read(case / "result")
    assert tree.to_text() == text


@pytest.mark.shared
@pytest.mark.parametrize("case", _cases("testfiles-negative"), ids=lambda p: p.name)
def test_negative_fixture_is_rejected_with_a_location(shared: Path, case: Path) -> None:
    with pytest.raises(DockerfileSyntaxError) as info:
        parse_dockerfile(_read(case / "Dockerfile"), "Dockerfile")
    assert info.value.line >= 1 and info.value.column >= 1
    assert str(info.value).startswith("Dockerfile:")


@pytest.mark.shared
def test_line_numbers_fixture(shared: Path) -> None:
    tree = parse_dockerfile(_read(FIXTURES / "testfile-line" / "Dockerfile"))
    spans = [(i.start_line, i.end_line) for i in tree.instructions]
    assert spans[0][0] == 5 and spans[-1][1] == 31
    assert spans == [(5, 5), (11, 12), (17, 31)]


def test_fixture_folder_is_complete(shared: Path) -> None:
    # Guard against a silently empty parametrization.
    assert len(_cases("testfiles")) >= 30
    assert len(_cases("testfiles-negative")) == 4
