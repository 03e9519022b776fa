"""The .dockerignore reader and matcher against Docker's own pattern matcher cases, plus the
rules those cases do not cover (per-Dockerfile ignore files, errors with line numbers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from layerwise.context.ignore import (
    IgnorePatternError,
    PatternMatcher,
    compile_pattern,
    ignore_file_for,
    load_ignore,
    parse_ignore,
    read_ignore_text,
)


def _cases(shared: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(
        (shared / "peer-tests" / "dockerignore" / "cases.json").read_text()
    )
    return cases


@pytest.mark.shared
def test_every_peer_case(shared: Path) -> None:
    cases = _cases(shared)
    assert len(cases) >= 139
    kinds = {"matches_or_parent": 0, "error": 0, "read_ignore_file": 0}
    failures = []
    for case in cases:
        kind = case["kind"]
        kinds[kind] += 1
        where = case["source"]
        if kind == "matches_or_parent":
            got = PatternMatcher.from_patterns(case["patterns"]).matches_or_parent(case["path"])
            if got != case["match"]:
                failures.append(f"{where}: {case['patterns']} {case['path']!r} -> {got}")
        elif kind == "error":
            try:
                PatternMatcher.from_patterns(case["patterns"]).matches_or_parent(case["path"])
            except IgnorePatternError:
                continue
            failures.append(f"{where}: {case['patterns']} accepted")
        else:
            got_patterns = [line.pattern for line in read_ignore_text(case["content"])]
            if got_patterns != case["patterns"]:
                failures.append(f"{where}: read {got_patterns}")
    assert not failures, "\n".join(failures)
    assert kinds == {"matches_or_parent": 120, "error": 18, "read_ignore_file": 1}


def test_reading_rules() -> None:
    text = "\ufeff# comment\n  /foo/./bar/  \r\n #not a comment\n\n!  ./baz\n\t\n!/\n"
    lines = read_ignore_text(text)
    assert [(x.pattern, x.line) for x in lines] == [
        ("foo/bar", 2),
        ("#not a comment", 3),
        ("!baz", 5),
        ("!/", 7),
    ]


def test_go_whitespace_not_python_whitespace() -> None:
    # Go's TrimSpace keeps U+001C..U+001F (Python's strip() would remove them).
    assert read_ignore_text("\x1cfoo\n")[0].pattern == "\x1cfoo"
    assert read_ignore_text("\u00a0foo\u3000\n")[0].pattern == "foo"


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (["**x"], "ax", True),  # suffix match, not `(.*/)?x`
        (["**x"], "d/ax", True),
        (["a[^x]b"], "a/b", True),  # a Go regexp class matches "/"
        (["a?b"], "a/b", False),
        (["[!a]"], "!", True),  # `!` is not a negation in Go
        (["[!a]"], "b", False),
        (["[[:digit:]]*"], "7up", True),
        (["[[:digit:]]*"], "up", False),
        (["\\d*"], "7up", True),  # a Go regexp escape, passed through
        (["\\d*"], "d", False),
        (["[*]"], "]", True),  # `*` is rewritten even inside a class
        (["abc/**"], "abc", False),
        (["abc/**"], "abc/d", True),
        (["a.b"], "axb", False),
        (["$x"], "$x", True),
        (["/"], "a", False),
        (["."], "a", False),
        (["x\\ y"], "x y", True),
    ],
)
def test_matcher_quirks(patterns: list[str], path: str, excluded: bool) -> None:
    assert PatternMatcher.from_patterns(patterns).matches_or_parent(path) is excluded


def test_walker_mode_differs_from_matches_or_parent() -> None:
    # "a/b" then "!a": the walker's mode keeps a/b/c excluded (BuildKit does not even descend).
    m = PatternMatcher.from_patterns(["a/b", "!a"])
    assert m.matches_or_parent("a/b/c") is False
    excluded_a, info_a = m.match_with_parent("a", None)
    excluded_b, info_b = m.match_with_parent("a/b", info_a)
    excluded_c, _ = m.match_with_parent("a/b/c", info_b)
    assert (excluded_a, excluded_b, excluded_c) == (False, True, True)


@pytest.mark.parametrize(
    "pattern", ["[", "a[", "[]a]", "[-]", "[x-]", "[a-b-c]", "\\", "[^", "!", "a\\e", "[[:foo:]]"]
)
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(IgnorePatternError):
        compile_pattern(pattern)


def test_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("ok\n# fine\n\nsrc/[\n")
    with pytest.raises(IgnorePatternError) as info:
        load_ignore(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / '.dockerignore'}:4:1: error: ")
    assert "src/[" in message
    assert "\n" not in message


def test_lone_exclamation_error() -> None:
    with pytest.raises(IgnorePatternError, match='illegal exclusion pattern: "!"'):
        parse_ignore("a\n!\n", ".dockerignore")


def test_per_dockerfile_ignore_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("root\n")
    sub = tmp_path / "docker"
    sub.mkdir()
    (sub / "Dockerfile.prod").write_text("FROM scratch\n")
    (sub / "Dockerfile.prod.dockerignore").write_text("prod\n")
    assert (
        ignore_file_for(tmp_path, sub / "Dockerfile.prod") == sub / "Dockerfile.prod.dockerignore"
    )
    assert ignore_file_for(tmp_path, tmp_path / "Dockerfile") == tmp_path / ".dockerignore"
    assert load_ignore(tmp_path, sub / "Dockerfile.prod").patterns == ["prod"]
    assert load_ignore(tmp_path).patterns == ["root"]
    assert load_ignore(sub).path is None


def test_unreadable_ignore_file_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()  # a directory where the file should be
    assert load_ignore(tmp_path).path is None
