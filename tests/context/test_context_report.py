"""Junk and secret detection, .dockerignore suggestions and writing, the report and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from context_trees import generate
from layerwise.context.dockerignore import escape_path, render, suggest, write_dockerignore
from layerwise.context.ignore import compile_pattern, load_ignore
from layerwise.context.project import BuildContext
from layerwise.context.report import build_report, render_text, to_json
from layerwise.context.secrets import find_secrets, scan_content
from layerwise.context.walk import walk_context
from layerwise.errors import InputError

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "context-app"
FAKE_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"


def add_junk(root: Path) -> None:
    """What a developer's checkout holds besides the sources."""
    files = {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".git/objects/ab/cdef": "x" * 300,
        "app/__pycache__/stale.cpython-311.pyc": "junk",
        ".venv/pyvenv.cfg": "home = /usr/bin\n",
        ".venv/lib/python3.11/site-packages/pkg/__init__.py": "x" * 500,
        "node_modules/left-pad/index.js": "module.exports = 1\n",
        ".pytest_cache/v/cache/nodeids": "[]",
        "server.log": "started\n",
        ".env": f"API_TOKEN={FAKE_TOKEN}\n",
        "deploy/id_rsa": FAKE_KEY,
        "config/notes.txt": f"token: {FAKE_TOKEN}\n",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(FIXTURE, root)
    add_junk(root)
    return root


def test_junk_and_secrets_are_found(app: Path) -> None:
    ctx = BuildContext.load(app)
    junk = {j.kind.name: j.roots for j in ctx.junk}
    assert junk["vcs"] == (".git",)
    assert junk["virtualenv"] == (".venv",)
    assert junk["node-modules"] == ("node_modules",)
    assert junk["python-cache"] == ("app/__pycache__",)
    assert junk["test-cache"] == (".pytest_cache",)
    assert junk["logs"] == ("server.log",)
    secrets = {(s.path, s.kind, s.by) for s in ctx.secrets}
    assert secrets == {
        (".env", "dotenv", "name"),
        ("deploy/id_rsa", "private-key", "name"),
        ("config/notes.txt", "github-token", "content"),
    }


def test_secret_values_never_appear_in_reports(app: Path) -> None:
    report = build_report(BuildContext.load(app))
    text = render_text(report)
    data = json.dumps(to_json(report))
    for output in (text, data):
        assert FAKE_TOKEN not in output
        assert "b3BlbnNzaC1rZXktdjEAAAAA" not in output
        assert "config/notes.txt" in output


def test_content_signatures() -> None:
    assert scan_content(b"x\ny\n" + FAKE_KEY.encode()) == ("private-key", 3)
    assert scan_content(b"AKIAIOSFODNN7EXAMPLE") == ("aws-access-key", 1)
    assert scan_content(b"\0binary" + FAKE_KEY.encode()) is None
    assert scan_content(b"nothing to see") is None


def test_template_names_are_not_secrets(tmp_path: Path) -> None:
    for name in (".env.example", "id_rsa.pub", "settings.env.sample"):
        (tmp_path / name).write_text("API_TOKEN=changeme\n")
    assert find_secrets(walk_context(tmp_path)) == []


@pytest.mark.parametrize(
    "name", ["plain", "a*b", "q?", "[x]", "back\\slash", "#hash", "!bang", " lead", "trail ", "é"]
)
def test_escaped_path_matches_only_itself(name: str) -> None:
    pattern = compile_pattern(escape_path(name))
    assert pattern.match(name)
    assert not pattern.match(name + "x")
    assert not pattern.match("x" + name)


def test_suggestions_for_a_broad_copy(app: Path) -> None:
    ctx = BuildContext.load(app)
    got = [(s.pattern, s.category) for s in suggest(ctx)]
    assert got == [
        ("**/.env", "secret"),  # re-included by the user's `!.env`, dropped again after it
        ("config/notes.txt", "secret"),
        ("**/id_rsa", "secret"),
        (".git", "junk"),
        (".venv", "junk"),
        ("**/node_modules", "junk"),
        ("**/__pycache__", "junk"),
        ("**/.pytest_cache", "junk"),
        ("**/*.log", "junk"),
    ]
    # With `COPY . .` every file is read: nothing is "unused".
    assert not any(c == "unused" for _, c in got)


def test_suggestions_are_exact(tmp_path: Path) -> None:
    """What each line is said to drop is what the real walk drops once the lines are written,
    on random trees with random existing .dockerignore files."""
    for seed in range(40):
        root = tmp_path / f"t{seed}"
        generate(seed).write(root)
        add_junk(root)
        (root / "Dockerfile").write_text("FROM scratch\nCOPY src* /src/\nCOPY *.txt /\n")
        ctx = BuildContext.load(root)
        before = {e.path for e in ctx.snapshot.files()}
        suggestions = suggest(ctx)
        claimed = {e.path for s in suggestions for e in s.entries}
        result = write_dockerignore(ctx)
        assert result.written == bool(suggestions)
        after_ctx = BuildContext.load(root)
        after = {e.path for e in after_ctx.snapshot.files()}
        assert before - after == claimed, seed
        assert not after_ctx.errors or {e for _, e in after_ctx.errors} == {
            e for _, e in ctx.errors
        }
        assert not after_ctx.secrets, seed
        assert suggest(after_ctx) == [], seed  # idempotent


def test_unused_files_with_a_narrow_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print()")
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "big.pdf").write_bytes(b"x" * 1000)
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY requirements.txt .\nCOPY src/ /app/src/\n"
    )
    ctx = BuildContext.load(tmp_path)
    assert [e.path for e in ctx.unused] == ["Dockerfile", "docs/big.pdf"]
    assert ctx.transfer_paths == ["requirements.txt", "src"]
    assert {e.path for e in ctx.transfer.files()} == {"requirements.txt", "src/app.py"}
    suggestions = {s.pattern: (s.files, s.bytes) for s in suggest(ctx)}
    assert suggestions["docs"] == (1, 1000)
    # A second Dockerfile that reads docs/ keeps docs/ out of a shared .dockerignore.
    (tmp_path / "Dockerfile.docs").write_text("FROM scratch\nCOPY docs /docs\n")
    ctx = BuildContext.load(tmp_path)
    assert "docs" not in {s.pattern for s in suggest(ctx)}
    assert [e.path for e in ctx.unused] == ["Dockerfile", "Dockerfile.docs", "docs/big.pdf"]


def test_write_merges_and_keeps_user_lines(app: Path) -> None:
    original = (app / ".dockerignore").read_text()
    ctx = BuildContext.load(app)
    result = write_dockerignore(ctx)
    assert result.written
    text = (app / ".dockerignore").read_text()
    assert text.startswith(original)
    assert "\n# Added by `layerwise context --write-dockerignore`:\n" in text
    assert "!.env" in text  # the user's line stays...
    after = BuildContext.load(app)
    assert after.secrets == []  # ...but the secret is no longer sent
    assert after.junk == []
    assert {r.step.line: sorted(r.result.reads) for r in after.built_reads}[3] == [
        "requirements.txt"
    ]
    # The broad COPY lost exactly the junk and secrets, nothing the app needs.
    assert set(result.dropped_read) == {
        p for s in result.added for p in (e.path for e in s.entries)
    }
    assert "config/settings.toml" in after.read_paths
    again = write_dockerignore(after)
    assert not again.written and not again.added


def test_write_refuses_a_file_that_would_break_the_build(
    app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layerwise.context import dockerignore

    original = (app / ".dockerignore").read_text()
    real = dockerignore.suggest

    def bad(ctx: BuildContext) -> list[dockerignore.Suggestion]:
        out = real(ctx)
        entry = ctx.snapshot.entries["requirements.txt"]
        return [*out, dockerignore.Suggestion("requirements.txt", "oops", "junk", (entry,))]

    monkeypatch.setattr(dockerignore, "suggest", bad)
    with pytest.raises(InputError, match="the build would fail"):
        write_dockerignore(BuildContext.load(app))
    assert (app / ".dockerignore").read_text() == original


def test_render_new_file() -> None:
    assert render(None, []).startswith("# Written by")
    assert render("a\n", []) == "a\n"
    assert render("a", []) == "a\n"


def test_cli_json_shape(app: Path) -> None:
    result = run_cli("context", str(app), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    for key in ("files", "total_files", "total_bytes", "unused", "junk", "secrets", "suggestions"):
        assert key in data
    assert data["total_files"] == len(data["files"])
    assert all(set(f) == {"path", "size"} for f in data["files"])
    assert {"path": ".env", "kind": "dotenv"}.items() <= data["secrets"][0].items()
    assert all({"pattern", "files", "bytes"} <= set(s) for s in data["suggestions"])
    assert FAKE_TOKEN not in result.out


def test_cli_text_and_write(app: Path) -> None:
    result = run_cli("context", str(app), "--write-dockerignore")
    assert result.code == 0, result.err
    assert "secret-looking files" in result.out
    assert "wrote" in result.out
    result = run_cli("context", str(app), "--fail-on", "secrets", "--fail-on", "junk")
    assert result.code == 0, result.out
    assert "nothing to add" in result.out


def test_cli_fail_on(app: Path) -> None:
    assert run_cli("context", str(app), "--fail-on", "secrets").code == 1
    assert run_cli("context", str(app), "--fail-on", "unused").code == 0


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["missing-dir"], "does not exist"),
        (None, [".", "-f", "nope/Dockerfile"], "does not exist"),
        ("pattern", ["."], ".dockerignore:2:1: error: syntax error in pattern"),
        ("target", [".", "--target", "nope"], "target stage 'nope'"),
        ("syntax", ["."], "Dockerfile:2:5: error: unterminated heredoc"),
    ],
)
def test_cli_bad_input_is_one_line(
    tmp_path: Path, setup: str | None, args: list[str], message: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    if setup == "pattern":
        (tmp_path / ".dockerignore").write_text("ok\nsrc/[\n")
    elif setup == "syntax":
        (tmp_path / "Dockerfile").write_text("FROM scratch\nRUN <<EOF\nx\n")
    result = run_cli("context", *args, cwd=tmp_path)
    assert result.code == 2, (result.out, result.err)
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err


def test_cli_model_errors_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nFOO bar\nCOPY . /\n")
    result = run_cli("context", str(tmp_path))
    assert result.code == 0
    assert "Dockerfile:2:1: unknown instruction: FOO" in result.err


def test_cli_dockerfile_outside_the_context(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "a.txt").write_text("a")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /\n")
    result = run_cli("context", "ctx", "-f", "Dockerfile", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "outside the context" in result.err
    assert "BuildKit sends 1 file" in result.out


def test_cli_reports_copy_errors_and_unreadable_entries(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY missing.txt /\n")
    (tmp_path / "loop").symlink_to("loop")
    result = run_cli("context", str(tmp_path), "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["errors"][0]["message"].startswith('missing.txt: "/missing.txt": not found')
    assert run_cli("context", str(tmp_path), "--fail-on", "errors").code == 1


def test_per_dockerfile_ignore_file_is_the_one_written(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("log")
    (tmp_path / "Dockerfile.prod").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / "Dockerfile.prod.dockerignore").write_text("# prod\n")
    ctx = BuildContext.load(tmp_path, tmp_path / "Dockerfile.prod")
    result = write_dockerignore(ctx)
    assert result.path == tmp_path / "Dockerfile.prod.dockerignore"
    assert not (tmp_path / ".dockerignore").exists()
    assert load_ignore(tmp_path, tmp_path / "Dockerfile.prod").patterns == ["**/*.log"]


def test_names_that_are_not_utf8_are_printed_escaped(tmp_path: Path) -> None:
    import os

    bad = tmp_path / os.fsdecode(b"bad\xffdir")
    bad.mkdir()
    (bad / "f.log").write_text("x")
    result = run_cli("context", str(tmp_path))
    assert result.code == 0, result.err
    assert "bad\\xffdir" in result.out
    result = run_cli("context", str(tmp_path), "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["files"][0]["path"] == "bad\\xffdir/f.log"


def test_a_source_buildkit_cannot_send_is_an_error(tmp_path: Path) -> None:
    # BuildKit turns COPY sources into include patterns for the transfer; "f[" is not one
    # ("invalid includepatterns"), so the build fails before anything is sent.
    (tmp_path / "f[").write_text("x")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY f[ /\n")
    ctx = BuildContext.load(tmp_path)
    assert ctx.transfer.entries == {}
    assert [e for _, e in ctx.errors] == [
        "f[: is not a valid pattern: BuildKit cannot send the context"
    ]
