"""The lossless parser: round trip, spans, directives, continuations, heredocs, forms, errors."""

from __future__ import annotations

import pytest

from layerwise import DockerfileSyntaxError, parse_dockerfile
from layerwise.dockerfile.syntax import Directive, Instruction, Trivia


def one(text: str, index: int = 1) -> Instruction:
    return parse_dockerfile(text).instructions[index]


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\n",
        "FROM a",  # no final newline
        "\ufeffFROM a\r\nRUN x \\\r\n  y\r\n",  # BOM and CRLF
        "FROM a\n\n\n# c\n  \t\nRUN a \\\n# inside\n\n  b   \n",
        "FROM a\t \nRUN\techo hi  \t\n",
        "# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN a `\n b\n",
        'FROM a\nRUN <<EOF\nx\nEOF\nRUN <<-"A" cat <<B\n\tx\nA\ny\nB\n',
        "FROM a\nRUN x \\",  # continuation at end of file
        "FROM a\r\rRUN x\r\n",  # lone CRs are not line breaks
        "FROM a\n\\\nRUN x\n",
    ],
)
def test_round_trip_is_byte_for_byte(text: str) -> None:
    tree = parse_dockerfile(text)
    assert tree.to_text() == text
    # The items tile the text: each starts where the previous ended.
    offset = 1 if text.startswith("\ufeff") else 0
    for item in tree.items:
        assert item.span.start == offset
        offset = item.span.end
    assert offset == len(text)


def test_items_classify_trivia() -> None:
    tree = parse_dockerfile("# syntax=x/y\n# hello\n\nFROM a\n")
    kinds = [(type(i).__name__, getattr(i, "kind", None)) for i in tree.items]
    assert kinds == [
        ("Directive", "directive"),
        ("Trivia", "comment"),
        ("Trivia", "blank"),
        ("Instruction", None),
    ]
    directive = tree.items[0]
    assert isinstance(directive, Directive)
    assert (directive.name, directive.value) == ("syntax", "x/y")
    assert tree.directive("syntax") == "x/y"


def test_directives_only_at_the_top() -> None:
    assert parse_dockerfile("# hello\n# syntax=a\nFROM b\n").directive("syntax") is None
    assert parse_dockerfile("\n# syntax=a\nFROM b\n").directive("syntax") is None
    assert parse_dockerfile("#syntax = a \nFROM b\n").directive("syntax") == "a"
    # An unknown directive ends the directive section.
    assert parse_dockerfile("# foo=bar\n# escape=`\nFROM b\n").escape == "\\"


def test_duplicate_and_invalid_directives_are_errors() -> None:
    with pytest.raises(DockerfileSyntaxError, match="only one escape parser directive") as info:
        parse_dockerfile("# escape=`\n# escape=\\\nFROM a\n")
    assert info.value.line == 2
    with pytest.raises(DockerfileSyntaxError, match="invalid escape token"):
        parse_dockerfile("# escape=x\nFROM a\n")


def test_backtick_escape_changes_continuation() -> None:
    tree = parse_dockerfile("# escape=`\nFROM a\nRUN echo \\ `\n  next\n")
    run = tree.instructions[1]
    assert run.arguments == ("echo \\   next",)
    assert (run.start_line, run.end_line) == (3, 4)


def test_double_escape_is_not_a_continuation() -> None:
    tree = parse_dockerfile("FROM a\nRUN echo \\\\\nRUN two\n")
    assert [i.name for i in tree.instructions] == ["FROM", "RUN", "RUN"]


def test_comments_and_blank_lines_inside_continuation() -> None:
    tree = parse_dockerfile("FROM a\nRUN a \\\n  # comment\n\n  && b\n")
    run = tree.instructions[1]
    assert run.arguments == ("a   && b",)
    assert (run.start_line, run.end_line) == (2, 5)
    assert tree.warnings and "empty continuation line" in tree.warnings[0]


def test_prev_comments_are_attached_like_buildkit() -> None:
    tree = parse_dockerfile("FROM a\n# one\n\n# two\nRUN x\n#\n# three\nRUN y\n")
    assert tree.instructions[1].comments == ("one", "two")
    assert tree.instructions[2].comments == ("three",)  # an empty `#` resets


def test_exec_and_shell_forms() -> None:
    assert one('FROM a\nCMD ["a", "b c"]\n').arguments == ("a", "b c")
    assert one('FROM a\nCMD ["a", "b c"]\n').json is True
    assert one("FROM a\nCMD ['a']\n").json is False  # single quotes are not JSON
    assert one('FROM a\nCMD ["a"\n').json is False  # malformed JSON falls back to shell form
    assert one("FROM a\nCMD [NaN]\n").json is False  # NaN is not JSON for Go either
    with pytest.raises(DockerfileSyntaxError, match="comprised of strings only") as info:
        parse_dockerfile('FROM a\nCMD ["a", ["b"]]\n')
    assert (info.value.line, info.value.column) == (2, 5)


def test_flags_keep_unknown_and_stop_at_double_dash() -> None:
    ins = one("FROM a\nCOPY --from=build --weird x --chown=1 y /z\n")
    assert [f.text for f in ins.flags] == ["--from=build", "--weird"]
    assert ins.arguments == ("x", "--chown=1", "y", "/z")
    ins = one("FROM a\nCOPY --link -- --not-a-flag /z\n")
    assert [f.text for f in ins.flags] == ["--link"]
    assert ins.arguments == ("--not-a-flag", "/z")
    quoted = one('FROM a\nRUN --mount="type=cache,target=/x y" echo\n')
    assert quoted.flags[0].text == "--mount=type=cache,target=/x y"
    assert quoted.flags[0].name == "mount"


def test_spans_point_at_tokens_across_continuations() -> None:
    text = "FROM python:3.11 AS build\nCOPY --chown=app \\\n     src/ /app/\n"
    tree = parse_dockerfile(text)
    frm, copy = tree.instructions
    assert text[frm.words[0].span.start : frm.words[0].span.end] == "python:3.11"
    name_pos = tree.position(frm.words[2].span.start)
    assert (name_pos.line, name_pos.column) == (1, 21)
    assert text[copy.flags[0].span.start : copy.flags[0].span.end] == "--chown=app"
    src = copy.words[0]
    assert text[src.span.start : src.span.end] == "src/"
    pos = tree.position(src.span.start)
    assert (pos.line, pos.column) == (3, 6)
    assert copy.args_text == "src/ /app/"


def test_positions_ignore_the_bom() -> None:
    tree = parse_dockerfile("\ufeffFROM a\n")
    pos = tree.position(tree.instructions[0].keyword_span.start)
    assert (pos.line, pos.column) == (1, 1)


def test_env_label_arg_forms() -> None:
    env = one('FROM a\nENV A=1 B="two words" C\\ D=x\n')
    assert [(p.key, p.value, p.legacy) for p in env.pairs] == [
        ("A", "1", False),
        ("B", '"two words"', False),
        ("C\\ D", "x", False),
    ]
    legacy = one("FROM a\nENV PATH /usr/bin:$PATH\n")
    assert [(p.key, p.value, p.legacy) for p in legacy.pairs] == [("PATH", "/usr/bin:$PATH", True)]
    with pytest.raises(DockerfileSyntaxError, match="ENV must have two arguments"):
        parse_dockerfile("FROM a\nENV PATH\n")
    with pytest.raises(DockerfileSyntaxError, match="can't find = in"):
        parse_dockerfile("FROM a\nENV A=1 B\n")
    assert one('FROM a\nARG A B="c d" E=\n').arguments == ("A", 'B="c d"', "E=")


def test_heredocs() -> None:
    text = "FROM a\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<-'X' /f\n\tbody\n\tX\nRUN 3<<A cat\nz\nA\n"
    tree = parse_dockerfile(text)
    run, copy, fd = tree.instructions[1:]
    assert run.heredocs[0].name == "EOF" and run.heredocs[0].content == "echo $HOME\n"
    assert run.heredocs[0].expand is True
    assert (run.start_line, run.end_line) == (2, 4)
    assert copy.heredocs[0].chomp and not copy.heredocs[0].expand
    assert copy.heredocs[0].text == "body\n"
    assert fd.heredocs[0].fd == 3
    assert tree.to_text() == text
    # JSON form cannot carry heredocs; neither can other instructions.
    assert not one('FROM a\nRUN ["<<EOF"]\nEOF\n').heredocs
    with pytest.raises(DockerfileSyntaxError, match="unterminated heredoc"):
        parse_dockerfile("FROM a\nRUN <<EOF\nnever ends\n")


def test_onbuild_wraps_an_instruction() -> None:
    ins = one("FROM a\nONBUILD RUN --mount=type=cache,target=/c make\n")
    assert ins.trigger is not None
    assert ins.trigger.name == "RUN"
    assert [f.text for f in ins.trigger.flags] == ["--mount=type=cache,target=/c"]
    assert ins.arguments == ("RUN", "make")


def test_keywords_are_case_insensitive_but_kept() -> None:
    ins = one("FROM a\nrun echo\n")
    assert ins.name == "RUN" and ins.keyword == "run"


def test_empty_and_comment_only_files_are_rejected() -> None:
    for text in ("", "\n\n", "# only\n"):
        with pytest.raises(DockerfileSyntaxError, match="file with no instructions"):
            parse_dockerfile(text)


def test_line_too_long_is_rejected() -> None:
    with pytest.raises(DockerfileSyntaxError, match="greater than max allowed size"):
        parse_dockerfile("FROM a\nRUN " + "x" * 70000 + "\n")
    parse_dockerfile("FROM a\nRUN " + "x" * 60000 + "\n")


def test_trivia_comment_text() -> None:
    tree = parse_dockerfile("FROM a\n  # hadolint ignore=DL3008\nRUN x\n")
    trivia = [i for i in tree.items if isinstance(i, Trivia)]
    assert trivia[0].comment == "hadolint ignore=DL3008"
