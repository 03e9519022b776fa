"""Reading compose YAML as yaml.v3 does, with positions; merging and canonical forms."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from layerwise.compose.errors import ComposeFileError
from layerwise.compose.loader import load_project
from layerwise.compose.merge import go_float, go_sprint, parse_volume
from layerwise.compose.yamlsource import YMap, parse_documents, resolve_plain


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("~", None),
        ("null", None),
        ("true", True),
        ("False", False),
        ("yes", "yes"),  # YAML 1.2: a string
        ("on", "on"),
        ("42", 42),
        ("010", 8),  # Go's ParseInt with base 0: octal
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("-7", -7),
        ("08", 8.0),  # not octal, but a float to yaml.v3
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("2001-01-01", "2001-01-01"),  # timestamps stay strings
        ("1.2.3", "1.2.3"),
        ("3.11", 3.11),
    ],
)
def test_plain_scalars_resolve_like_yaml_v3(text: str, value: object) -> None:
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


def test_special_floats() -> None:
    assert resolve_plain(".inf") == math.inf
    assert resolve_plain("-.Inf") == -math.inf
    assert math.isnan(resolve_plain(".nan"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (-2.5, "-2.5"),
        (1234567.0, "1.234567e+06"),
    ],
)
def test_go_float_formatting(value: float, text: str) -> None:
    assert go_float(value) == text


def test_go_sprint() -> None:
    assert go_sprint(True) == "true"
    assert go_sprint(8) == "8"
    assert go_sprint("s") == "s"


def test_positions_merge_keys_and_tags() -> None:
    text = (
        "x-base: &base\n"
        "  image: one\n"
        "  restart: always\n"
        "services:\n"
        "  web:\n"
        "    <<: *base\n"
        "    image: two\n"
        "    build: !reset null\n"
        "    ports: !override [80]\n"
    )
    [document] = parse_documents(text, "c.yaml")
    web = document.value["services"]["web"]
    assert isinstance(web, YMap)
    assert web["image"] == "two"  # explicit keys win over merged ones
    assert web["restart"] == "always"
    assert "build" not in web
    assert web.where("image") is not None and web.where("image").line == 7
    assert web.where("restart").line == 3  # where the merged value was written
    assert ("services", "web", "build") in document.reset_paths
    assert ("services", "web", "ports") in document.reset_paths


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: [1\nb: 2\n", "invalid YAML", 2),
        ("a: 1\na: 2\n", "already defined at line 1", 2),
        ("1: x\n", "non-string key", 1),
        ("a: *missing\n", "invalid YAML", 1),
    ],
)
def test_yaml_errors_have_a_location(text: str, message: str, line: int) -> None:
    with pytest.raises(ComposeFileError) as info:
        parse_documents(text, "c.yaml")
    assert message in info.value.message
    assert info.value.location is not None
    assert (info.value.location.path, info.value.location.line) == ("c.yaml", line)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (".:/app", {"type": "bind", "source": ".", "target": "/app"}),
        (
            "./src:/app/src:ro",
            {"type": "bind", "source": "./src", "target": "/app/src", "read_only": True},
        ),
        ("data:/data", {"type": "volume", "source": "data", "target": "/data"}),
        ("/cache", {"type": "volume", "target": "/cache"}),
        ("C:\\src:/app", {"type": "bind", "source": "C:\\src", "target": "/app"}),
        ("~/x:/x:z", {"type": "bind", "source": "~/x", "target": "/x"}),
    ],
)
def test_parse_volume(spec: str, expected: dict[str, object]) -> None:
    volume = parse_volume(spec)
    for key, value in expected.items():
        assert volume[key] == value


def test_parse_volume_errors() -> None:
    with pytest.raises(ValueError, match="too many colons"):
        parse_volume("src:dst:ro:extra")
    with pytest.raises(ValueError, match="empty section"):
        parse_volume("src::dst")


def write(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_merge_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    command: [a, b]\n"
        "    environment: {A: '1', B: '2'}\n"
        "    volumes: ['./x:/x', 'data:/data']\n"
        "    ports: ['80:80']\n"
        "volumes: {data: {}}\n",
    )
    write(
        tmp_path,
        "compose.override.yaml",
        "services:\n"
        "  web:\n"
        "    build: {target: dev}\n"
        "    command: [c]\n"
        "    environment: [B=3, C=4]\n"
        "    volumes: ['./y:/x']\n"
        "    ports: ['81:81']\n",
    )
    project = load_project(tmp_path, env={})
    web = project.services["web"].config
    assert dict(web["build"]) == {"context": str(tmp_path), "target": "dev"}
    assert list(web["command"]) == ["c"]  # replaced, not appended
    assert list(web["environment"]) == ["A=1", "B=3", "C=4"]
    assert [(v["source"], v["target"]) for v in web["volumes"]] == [
        (str(tmp_path / "y"), "/x"),
        ("data", "/data"),
    ]
    assert list(web["ports"]) == ["80:80", "81:81"]
    # positions survive the merge: the replaced mount points into the override file
    location = project.services["web"].volumes.where(0)
    assert location is not None and location.path == str(tmp_path / "compose.override.yaml")


def test_profiles_and_services_without_build(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  a: {build: .}\n  b: {build: ., profiles: [x]}\n  c: {image: redis}\n",
    )
    assert sorted(load_project(tmp_path, env={}).services) == ["a", "c"]
    assert sorted(load_project(tmp_path, env={}, profiles=["x"]).services) == ["a", "b", "c"]
    assert sorted(load_project(tmp_path, env={"COMPOSE_PROFILES": "*"}).services) == [
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services:\n  a:\n    build: .\n    depends_on: [b]\n", "undefined service 'b'"),
        ("services:\n  a: {}\n", "neither an image nor a build context"),
        (
            "services:\n  a:\n"
            "    build: {context: ., dockerfile: D, dockerfile_inline: 'FROM x'}\n",
            "mutually exclusive",
        ),
        ("services:\n  a:\n    image: x\n    volumes: ['named:/x']\n", "undefined volume named"),
        ("services:\n  a:\n    image: x\n    healthcheck: {retries: many}\n", "cannot convert"),
    ],
)
def test_project_consistency_errors(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "compose.yaml", text)
    with pytest.raises(ComposeFileError, match=message):
        load_project(tmp_path, env={})
