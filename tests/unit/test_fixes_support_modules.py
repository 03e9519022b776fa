"""The helpers under the structural fixes: writing text in the file's style, reading the build
context (requirement files, pyproject.toml), the syntax directive."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixes_support import make_context
from layerwise.config import Config
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.fixes.engine import apply_edits, fix_dockerfile
from layerwise.fixes.project import (
    DirectoryFiles,
    SnapshotFiles,
    project_files,
    project_metadata,
    requirement_files,
)
from layerwise.fixes.text import (
    block_start,
    copy_instruction,
    ensure_syntax_directive,
    shell_quote,
    style_of,
    uses_buildkit_syntax,
)

# -- style -----------------------------------------------------------------------------------


def test_style_follows_the_file() -> None:
    df = parse_dockerfile("from x\r\nrun a \\\r\n  && b\r\ncopy . .\r\n", "D")
    style = style_of(df)
    assert (style.newline, style.upper, style.indent, style.escape) == ("\r\n", False, "  ", "\\")
    assert style.keyword("COPY") == "copy"
    assert (
        style.run(["a"], ["--mount=type=cache,target=/c"]) == "run --mount=type=cache,target=/c a"
    )
    long = style.run(["x" * 60, "y" * 60])
    assert long == "run " + "x" * 60 + " \\\r\n  && " + "y" * 60


def test_style_defaults_and_escape_directive() -> None:
    style = style_of(parse_dockerfile("# escape=`\nFROM x\nRUN a\n", "D"))
    assert (style.newline, style.upper, style.indent, style.escape) == ("\n", True, "    ", "`")


def test_block_start_takes_the_comments_directly_above() -> None:
    text = "FROM x\n\n# one\n# two\nRUN a\n"
    df = parse_dockerfile(text, "D")
    assert text[block_start(df, df.instructions[1]) :] == "# one\n# two\nRUN a\n"
    assert block_start(df, df.instructions[0]) == 0


def test_copy_instruction_quotes_paths_that_need_it() -> None:
    style = style_of(parse_dockerfile("FROM x\n", "D"))
    assert copy_instruction(style, ["a.txt", "b/c.txt"], "./") == "COPY a.txt b/c.txt ./"
    assert copy_instruction(style, ["my file.txt"], "/app/", ["--chown=1"]) == (
        'COPY --chown=1 ["my file.txt", "/app/"]'
    )
    assert shell_quote("a b") == "'a b'"
    assert shell_quote("it's") == "'it'\"'\"'s'"
    assert shell_quote("/tmp/x.txt") == "/tmp/x.txt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM x\n", "# syntax=docker/dockerfile:1\nFROM x\n"),
        ("# a comment\nFROM x\n", "# syntax=docker/dockerfile:1\n# a comment\nFROM x\n"),
        ("# escape=`\nFROM x\n", "# escape=`\n# syntax=docker/dockerfile:1\nFROM x\n"),
        ("\ufeffFROM x\r\n", "\ufeff# syntax=docker/dockerfile:1\r\nFROM x\r\n"),
        ("# syntax=docker/dockerfile:1.7\nFROM x\n", "# syntax=docker/dockerfile:1.7\nFROM x\n"),
    ],
)
def test_syntax_directive(text: str, expected: str) -> None:
    df = parse_dockerfile(text, "D")
    out = apply_edits(text, ensure_syntax_directive(df))
    assert out == expected
    assert parse_dockerfile(out, "D").directive("syntax") is not None


def test_buildkit_syntax_detection() -> None:
    def uses(text: str) -> bool:
        return uses_buildkit_syntax(parse_dockerfile(text, "D"))

    assert uses("FROM x\nRUN --mount=type=cache,target=/c a\n")
    assert uses("FROM x\nCOPY --link . .\n")
    assert uses("FROM x\nRUN <<EOF\na\nEOF\n")
    assert uses("FROM x\nONBUILD RUN --mount=type=secret,id=a a\n")
    assert not uses("FROM x\nCOPY --chown=1 . .\nRUN a\n")


def test_fix_engine_adds_the_directive_when_a_fix_brings_buildkit_syntax(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collections.abc import Iterator

    from layerwise.rules.base import Edit, Example, Finding, LintContext, Rule, Severity

    class AddMount(Rule):
        id = "LW999"
        name = "test-add-mount"
        title = "t"
        severity = Severity.INFO
        rationale = "t"
        bad = good = Example("FROM x\n")
        fixed = "x"
        fix_safety = "safe"

        def check(self, ctx: LintContext) -> Iterator[Finding]:
            for ins in ctx.dockerfile.instructions:
                if ins.name == "RUN" and not ins.flags:
                    edit = Edit.insert(ins.keyword_span.end, " --mount=type=cache,target=/c")
                    yield self.finding(ctx, ins, "m", fix=self.make_fix([edit], "mount"))

    from layerwise.fixes import engine

    def fake_lint(df: object, **kwargs: object) -> object:
        from layerwise.rules.engine import lint

        return lint(df, rules=[AddMount()])  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "lint", fake_lint)
    result = fix_dockerfile(parse_dockerfile("FROM x\nRUN a\n", "D"), config=Config())
    assert (
        result.text == "# syntax=docker/dockerfile:1\nFROM x\nRUN --mount=type=cache,target=/c a\n"
    )
    assert result.notes and "syntax" in result.notes[0]


# -- the build context -------------------------------------------------------------------------


def test_requirement_files_follow_includes(tmp_path: Path) -> None:
    make_context(
        tmp_path,
        {
            "requirements.txt": (
                "# top\n-r base.txt\n--requirement=dev/extra.txt\n-cconstraints.txt\n"
                "flask \\\n  ==3.0 # pinned\n-i https://example.com/simple\n"
                "-r https://example.com/remote.txt\n"
            ),
            "base.txt": "-r requirements.txt\nclick\n",
            "dev/extra.txt": "-r ../base.txt\n-e ./libs/local\n",
            "constraints.txt": "click==8\n",
        },
    )
    found = requirement_files(DirectoryFiles(tmp_path), ["requirements.txt", "missing.txt"])
    assert found.files == ["requirements.txt", "base.txt", "dev/extra.txt", "constraints.txt"]
    assert found.missing == ["missing.txt"]
    assert found.local == ["./libs/local"]


@pytest.mark.parametrize(
    "line",
    ["./pkg", ".", "file:///src/x", "pkg @ file:///src/x", "dist/x-1.0-py3-none-any.whl", "-e ."],
)
def test_local_requirements_are_recognised(tmp_path: Path, line: str) -> None:
    make_context(tmp_path, {"r.txt": f"flask\n{line}\n"})
    assert requirement_files(DirectoryFiles(tmp_path), ["r.txt"]).local


def test_project_metadata(tmp_path: Path) -> None:
    make_context(
        tmp_path,
        {
            "a/pyproject.toml": '[project]\nname = "a"\ndependencies = ["x"]\n',
            "b/pyproject.toml": (
                '[project]\nname = "b"\ndynamic = ["dependencies"]\n'
                '[tool.setuptools.dynamic]\ndependencies = {file = "req.txt"}\n'
            ),
            "b/req.txt": "-r more.txt\n",
            "b/more.txt": "y\n",
            "c/setup.cfg": "[options]\ninstall_requires = x\n",
        },
    )
    files = DirectoryFiles(tmp_path)
    a = project_metadata(files, "a")
    assert (a.static, a.manifests, a.problem) == (True, ["a/pyproject.toml"], None)
    b = project_metadata(files, "b")
    assert b.requirement_files == ["b/req.txt"]
    assert b.manifests == ["b/pyproject.toml", "b/req.txt", "b/more.txt"]
    c = project_metadata(files, "c")
    assert c.problem and "setup.py/setup.cfg" in c.problem


def test_project_files_adapters(tmp_path: Path) -> None:
    make_context(tmp_path, {"kept.txt": "k", "ignored.txt": "i", "d/x": ""})
    assert project_files(None) is None
    assert isinstance(project_files(tmp_path), DirectoryFiles)
    assert isinstance(project_files(str(tmp_path)), DirectoryFiles)

    class Entry:
        def __init__(self, kind: str) -> None:
            self.kind = kind

    class Snapshot:
        def __init__(self) -> None:
            self.entries = {"kept.txt": Entry("file"), "d": Entry("dir"), "d/x": Entry("file")}

    class Context:
        root = tmp_path
        snapshot = Snapshot()

    files = project_files(Context())
    assert isinstance(files, SnapshotFiles)
    assert files.is_file("kept.txt") and files.read_text("kept.txt") == "k"
    assert not files.is_file("ignored.txt") and files.read_text("ignored.txt") is None
    assert files.is_dir("d") and files.is_dir("") and not files.is_dir("kept.txt")
    assert files.read_text("../../etc/passwd") is None
