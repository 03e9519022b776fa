"""The context walk without Docker: pruning, lazy parents, sizes, links, unreadable entries, and
the compiled matcher against its plain-loop specification."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerwise.context.ignore import PatternMatcher, load_ignore
from layerwise.context.walk import Entry, resolve_root, walk_context
from layerwise.errors import InputError


def make(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def test_sizes_links_and_empty_dirs(tmp_path: Path) -> None:
    make(tmp_path, {"a.txt": "12345", "d/e.txt": ""})
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to("a.txt")
    (tmp_path / "loop").symlink_to("loop")  # never followed, so never a problem
    snap = walk_context(tmp_path)
    assert snap.entries["a.txt"] == Entry("a.txt", "file", 5, None)
    assert snap.entries["link"] == Entry("link", "symlink", 0, "a.txt")
    assert snap.entries["loop"].kind == "symlink"
    assert snap.empty_dirs() == ["empty"]
    assert snap.total_files == 4 and snap.total_bytes == 5
    assert [e.path for e in snap.files()] == ["a.txt", "d/e.txt", "link", "loop"]
    assert {e.path for e in snap.under("d")} == {"d/e.txt"}


def test_hard_links_are_counted_once(tmp_path: Path) -> None:
    make(tmp_path, {"a": "x" * 100})
    os.link(tmp_path / "a", tmp_path / "b")
    snap = walk_context(tmp_path)
    assert snap.total_bytes == 100
    assert {snap.entries["a"].size, snap.entries["b"].size} == {0, 100}


def test_excluded_directory_is_sent_only_as_a_parent(tmp_path: Path) -> None:
    make(tmp_path, {"docs/keep.md": "k", "docs/drop.md": "d", "docs/sub/x": "x", "other/y": "y"})
    (tmp_path / ".dockerignore").write_text("docs\nother\n!docs/keep.md\n")
    snap = walk_context(tmp_path, load_ignore(tmp_path))
    assert set(snap.entries) == {".dockerignore", "docs", "docs/keep.md"}


def test_pruned_directories_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"node_modules/a/b": "x", "src/c": "y"})
    (tmp_path / ".dockerignore").write_text("node_modules\n!src\n")
    opened: list[str] = []
    real = os.scandir

    def spy(path: str) -> object:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(os, "scandir", spy)
    snap = walk_context(tmp_path, load_ignore(tmp_path))
    assert not any("node_modules" in p for p in opened)
    assert "src/c" in snap.entries


def test_unreadable_directory_is_reported_not_fatal_to_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(tmp_path, {"secret/x": "x", "ok/y": "y", "excl/z": "z"})
    (tmp_path / ".dockerignore").write_text("excl\n!excl/z\n")
    real = os.scandir

    def deny(path: str) -> object:
        if path.endswith(("secret", "excl")):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", deny)
    snap = walk_context(tmp_path, load_ignore(tmp_path))
    assert "ok/y" in snap.entries
    problems = {p.path: p.fatal for p in snap.problems}
    # BuildKit fails on an unreadable directory it sends, and skips one it excludes.
    assert problems == {"secret": True, "excl": False}


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"locked": "x", "open": "y"})
    (tmp_path / "locked").chmod(0)
    if os.geteuid() == 0:
        # Root reads everything; judge the permissions as an ordinary user would.
        monkeypatch.setattr(os, "geteuid", lambda: 12345)
    snap = walk_context(tmp_path)
    assert [(p.path, p.fatal) for p in snap.problems] == [("locked", True)]
    assert "locked" in snap.entries  # still sent: BuildKit fails when it opens it


def test_context_root_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        resolve_root(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        resolve_root(tmp_path / "file")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(InputError, match="symlink loop"):
        resolve_root(tmp_path / "loop")
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    assert resolve_root(tmp_path / "alias") == (tmp_path / "real").resolve()


def test_include_paths_limit_the_transfer(tmp_path: Path) -> None:
    make(tmp_path, {"req.txt": "r", "src/app.py": "a", "docs/x": "x", "lib/y": "y"})
    (tmp_path / "applink").symlink_to("lib")
    snap = walk_context(tmp_path, None, ["req.txt", "src", "applink/y"])
    assert set(snap.entries) == {"req.txt", "src", "src/app.py", "applink", "lib", "lib/y"}
    assert snap.include_paths == ["applink", "lib/y", "req.txt", "src"]
    assert set(walk_context(tmp_path, None, []).entries) == set()


SEGMENTS = ["a", "b", "ab", "x.py", "*", "**", "?", "[a-b]", "[^a]", "\\*", ".", "c d"]


@st.composite
def patterns(draw: st.DrawFn) -> list[str]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        parts = draw(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3))
        out.append(("!" if draw(st.booleans()) else "") + "/".join(parts))
    return out


@settings(max_examples=300, deadline=None)
@given(
    patterns(),
    st.lists(st.sampled_from(["a", "b", "ab", "x.py", "*", "c d", "é"]), min_size=1, max_size=4),
)
def test_compiled_matcher_equals_reference(pats: list[str], parts: list[str]) -> None:
    matcher = PatternMatcher.from_patterns(pats)
    fast = ref = None
    for i in range(len(parts)):
        path = "/".join(parts[: i + 1])
        got_fast, fast = matcher.match_with_parent(path, fast)
        got_ref, ref = matcher.match_with_parent_reference(path, ref)
        assert (got_fast, fast) == (got_ref, ref), (pats, path)
    # Starting from the middle (no parent information) checks parent directories instead.
    path = "/".join(parts)
    assert matcher.match_with_parent(path, None) == matcher.match_with_parent_reference(path, None)
