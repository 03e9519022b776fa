"""Go's filepath.Match and filepath.Clean, and the Go-regexp translation, on Go's own cases."""

from __future__ import annotations

import re

import pytest

from layerwise.context import goregex
from layerwise.context.gopath import BadPatternError, clean, contains_wildcards, match

# Go's path/filepath matchTests (pattern, name, matched; None = ErrBadPattern).
GO_MATCH = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("[]a]", "]", None),
    ("[-]", "-", None),
    ("[x-]", "x", None),
    ("[x-]", "-", None),
    ("[x-]", "z", None),
    ("[-x]", "x", None),
    ("[-x]", "-", None),
    ("[-x]", "a", None),
    ("\\", "a", None),
    ("[a-b-c]", "a", None),
    ("[", "a", None),
    ("[^", "a", None),
    ("[^bc", "a", None),
    ("a[", "a", None),
    ("a[", "ab", None),
    ("a[", "x", None),
    ("a/b[", "x", None),
    ("*x", "xxx", True),
]


@pytest.mark.parametrize(("pattern", "name", "want"), GO_MATCH)
def test_go_filepath_match(pattern: str, name: str, want: bool | None) -> None:
    if want is None:
        with pytest.raises(BadPatternError):
            match(pattern, name)
    else:
        assert match(pattern, name) is want


def test_a_class_can_match_a_slash() -> None:
    assert match("a[^x]b", "a/b")


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("", "."),
        ("abc", "abc"),
        ("abc/", "abc"),
        ("a//b", "a/b"),
        ("./a/./b/", "a/b"),
        ("a/../b", "b"),
        ("../a", "../a"),
        ("/../a", "/a"),
        ("a/b/../../..", ".."),
        ("/", "/"),
        ("//", "/"),
    ],
)
def test_go_filepath_clean(path: str, want: str) -> None:
    assert clean(path) == want


def test_contains_wildcards() -> None:
    assert contains_wildcards("a*") and contains_wildcards("[x]") and contains_wildcards("?")
    assert not contains_wildcards("a\\*b") and not contains_wildcards("plain")


@pytest.mark.parametrize(
    ("go", "text", "matches"),
    [
        ("^[[:alpha:]]+$", "abC", True),
        ("^[[:^alpha:]]$", "1", True),
        ("^[[:^alpha:]]$", "a", False),
        ("^\\x41\\x{42}\\103$", "ABC", True),
        ("^\\Q*.+\\E$", "*.+", True),
        ("^a\\.b$", "a.b", True),
        ("^[\\d\\s]+$", "1 2", True),
        ("^\\S$", " ", False),
        ("^(.*/)?x$", "a/b/x", True),
        ("^[^/]*$", "a/b", False),
        ("^a$", "a\n", False),  # Go's $ is the end of the text, not before a final newline
        ("^[[a]$", "[", True),
    ],
)
def test_go_regexp_translation(go: str, text: str, matches: bool) -> None:
    assert bool(re.match(goregex.translate(go), text, re.ASCII)) is matches


@pytest.mark.parametrize("go", ["\\e", "[[:nope:]]", "[b-a]", "[a", "\\8", "a\\"])
def test_go_regexp_errors(go: str) -> None:
    with pytest.raises(goregex.RegexSyntaxError):
        goregex.translate(go)


def test_unicode_classes_are_refused_clearly() -> None:
    with pytest.raises(goregex.UnsupportedRegexError):
        goregex.translate("\\pL")
