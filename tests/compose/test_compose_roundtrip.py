"""Round-trip editing: what is not edited stays byte for byte; writes are atomic."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conftest import REPO
from layerwise.compose.errors import ComposeFileError
from layerwise.compose.roundtrip import ComposeDocument, guess_indent

FIXTURES = REPO / "tests" / "fixtures" / "compose"
# A file whose only change is `key: null` written back as `key:` (the same value in YAML).
NULL_SPELLING = {"args-types/compose.yaml"}
MULTI_DOCUMENT = {"multi-document/compose.yaml"}
FILES = sorted(
    str(p.relative_to(FIXTURES))
    for p in FIXTURES.rglob("*")
    if p.suffix in (".yml", ".yaml") and str(p.relative_to(FIXTURES)) not in MULTI_DOCUMENT
)

SAMPLE = """\
# production stack
services:
    web:   # the app
        build:
            context: .
        volumes:
          - .:/app        # live code, dev only
          - data:/data
        ports: ["8000:8000"]
        environment:
            DEBUG: "false"
volumes:
    data: {}
"""


@pytest.mark.parametrize("name", FILES)
def test_unedited_files_round_trip(name: str) -> None:
    text = (FIXTURES / name).read_text()
    out = ComposeDocument(text, name).to_text()
    if name in NULL_SPELLING:
        assert out == text.replace(": null\n", ":\n")
    else:
        assert out == text


def test_edits_keep_comments_order_quotes_and_indentation() -> None:
    doc = ComposeDocument(SAMPLE)
    assert doc.delete(("services", "web", "volumes", 0))
    doc.set(("services", "web", "restart"), "unless-stopped")
    doc.set(("services", "web", "environment", "DEBUG"), "true")
    doc.insert(("services", "web", "develop", "watch", 0), {"action": "sync", "path": "."})
    assert doc.to_text() == (
        "# production stack\n"
        "services:\n"
        "    web:   # the app\n"
        "        build:\n"
        "            context: .\n"
        "        volumes:\n"
        "          - data:/data\n"
        '        ports: ["8000:8000"]\n'
        "        environment:\n"
        '            DEBUG: "true"\n'
        "        restart: unless-stopped\n"
        "        develop:\n"
        "            watch:\n"
        "              - action: sync\n"
        "                path: .\n"
        "volumes:\n"
        "    data: {}\n"
    )


def test_deleting_the_last_item_removes_the_key() -> None:
    doc = ComposeDocument("services:\n  web:\n    image: x\n    volumes:\n      - .:/app\n")
    doc.delete(("services", "web", "volumes", 0))
    assert doc.to_text() == "services:\n  web:\n    image: x\n"
    assert not doc.delete(("services", "nothing"))


def test_guess_indent() -> None:
    assert guess_indent(SAMPLE) == (4, 4, 2)
    assert guess_indent("a:\n  b:\n  - x\n") == (2, 2, 0)
    assert guess_indent("a: 1\n") == (2, 4, 2)


def test_write_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(SAMPLE)
    path.chmod(0o640)
    doc = ComposeDocument.read(path)
    doc.delete(("volumes",))
    doc.write()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yaml"]
    assert "volumes:\n    data" not in path.read_text()


def test_invalid_yaml_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web: [\n")
    with pytest.raises(ComposeFileError) as info:
        ComposeDocument.read(path)
    assert info.value.location is not None and info.value.location.line == 3
    with pytest.raises(ComposeFileError, match="cannot edit"):
        ComposeDocument("a: 1\n---\nb: 2\n")
