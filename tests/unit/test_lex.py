"""BuildKit's shell-word lexer: expansion modifiers, quotes, escapes, errors."""

from __future__ import annotations

import pytest

from layerwise.dockerfile.lex import Lexer, LexError

ENV = {"A": "alpha", "EMPTY": "", "PATHV": "/usr/local/bin:/usr/bin", "F": "file.tar.gz"}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$A", "alpha"),
        ("${A}", "alpha"),
        ("x${A}y", "xalphay"),
        ("$UNSET", ""),
        ("${UNSET:-dflt}", "dflt"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${UNSET-dflt}", "dflt"),
        ("${A:+set}", "set"),
        ("${EMPTY:+set}", ""),
        ("${EMPTY+set}", "set"),
        ("${UNSET+set}", ""),
        ("${F%.*}", "file.tar"),
        ("${F%%.*}", "file"),
        ("${F#*.}", "tar.gz"),
        ("${F##*.}", "gz"),
        ("${PATHV/usr/opt}", "/opt/local/bin:/usr/bin"),
        ("${PATHV//usr/opt}", "/opt/local/bin:/opt/bin"),
        ("'$A'", "$A"),
        ('"$A b"', "alpha b"),
        ("\\$A", "$A"),
        ('"a\\"b"', 'a"b'),
        ('"a\\nb"', "a\\nb"),  # backslash stays unless it escapes $ ` " or itself
        ("$", "$"),
        ("a$", "a$"),
        ("${A:-${UNSET:-deep}}", "alpha"),
        ("${UNSET:-${A}}", "alpha"),
        ("$1x", "x"),
    ],
)
def test_process_word(word: str, expected: str) -> None:
    assert Lexer().process_word(word, ENV).result == expected


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${", "missing '}'"),
        ("${A:-x", "missing '}'"),
        ("${A", "unsupported modifier"),  # BuildKit reads EOF as the modifier
        ("${}", "bad substitution"),
        ("${:a}", "bad substitution"),
        ("'open", "matching single-quote"),
        ('"open', "matching double-quote"),
        ("${UNSET?must be set}", "UNSET: must be set"),
        ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
        ("${A:#x}", "unsupported modifier (:#)"),
        ("${A!x}", "unsupported modifier (!)"),
    ],
)
def test_errors(word: str, message: str) -> None:
    with pytest.raises(LexError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Lexer().process_word(word, ENV)


def test_words_split_after_expansion_but_not_inside_quotes() -> None:
    env = {"V": "one two"}
    assert Lexer().process_words('$V "three four" five', env) == [
        "one",
        "two",
        "three four",
        "five",
    ]


def test_matched_and_unmatched_variables_are_reported() -> None:
    res = Lexer().process_word("$A ${NOPE} ${EMPTY:-x}", ENV)
    assert res.matched == {"A", "EMPTY"}
    assert res.unmatched == {"NOPE"}


def test_skip_unset_keeps_references() -> None:
    lx = Lexer(skip_unset_env=True)
    assert lx.process_word("$NOPE ${NOPE} ${NOPE:-x}", {}).result == "$NOPE ${NOPE} ${NOPE:-x}"


def test_backtick_escape() -> None:
    assert Lexer("`").process_word("`$A \\n", ENV).result == "$A \\n"


def test_raw_quotes_keep_quotes() -> None:
    assert Lexer(raw_quotes=True).process_words("'a b' c", {}) == ["'a b'", "c"]


def test_empty_quotes_make_no_word() -> None:
    # BuildKit only emits a word whose buffer is not empty: `''` alone is no word at all.
    assert Lexer().process_words("''", {}) == []
    assert Lexer().process_words("a '' b", {}) == ["a", "b"]
    assert Lexer().process_words("a''b", {}) == ["ab"]


def test_heredoc_with_empty_quoted_name_is_not_a_heredoc() -> None:
    from layerwise import parse_dockerfile

    assert parse_dockerfile("FROM a\nRUN <<''\n").instructions[1].heredocs == ()
