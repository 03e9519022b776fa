"""`.env` parsing as compose-go's dotenv does it."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerwise.compose.dotenv import parse_env, read_env_files
from layerwise.compose.errors import ComposeFileError

TEXT = r"""# a comment
PLAIN=plain value
SPACED = spaced
SINGLE='single $PLAIN \n kept'
DOUBLE="tab\there $PLAIN"
export EXPORTED=yes
COMMENTED=value # gone
HASH=value#kept
EXPANDED=${PLAIN}-x
COLON: yaml style
DOLLAR=\$literal
QUOTED_DOLLAR="\$literal"
MULTI="line one
line two"
INHERITED
OCTAL="\0101"
EMPTY=
"""


def test_parse_env() -> None:
    env = parse_env(TEXT, ".env", {"INHERITED": "from the environment"}.get)
    assert env == {
        "PLAIN": "plain value",
        "SPACED": "spaced",
        "SINGLE": "single $PLAIN \\n kept",
        "DOUBLE": "tab\there plain value",
        "EXPORTED": "yes",
        "COMMENTED": "value",
        "HASH": "value#kept",
        "EXPANDED": "plain value-x",
        "COLON": "yaml style",
        "DOLLAR": "\\",  # unquoted: no escapes, and $literal is an unset variable
        "QUOTED_DOLLAR": "$literal",
        "MULTI": "line one\nline two",
        "INHERITED": "from the environment",
        "OCTAL": "A",
        "EMPTY": "",
    }


def test_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ComposeFileError) as info:
        parse_env("A=1\nB C=2\n", "x.env")
    assert info.value.location is not None and info.value.location.line == 2
    with pytest.raises(ComposeFileError, match="unterminated"):
        parse_env('A="open\n', "x.env")
    with pytest.raises(ComposeFileError, match="couldn't find env file"):
        read_env_files([tmp_path / "missing.env"], {})


def test_environment_wins_and_later_files_see_earlier(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("A=1\nB=from-a\n")
    (tmp_path / "b.env").write_text("C=${A}-${B}\nB=from-b\n")
    env = read_env_files([tmp_path / "a.env", tmp_path / "b.env"], {"A": "os"})
    assert env == {"A": "1", "B": "from-b", "C": "os-from-a"}
