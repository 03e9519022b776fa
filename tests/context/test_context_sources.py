"""COPY/ADD source resolution: unit cases, and the same cases against real BuildKit builds."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sources_fixture import FAILING_SOURCES, OK_SOURCES, write_fixture

from conftest import DockerEngine
from layerwise.context.ignore import IgnorePatternError, load_ignore
from layerwise.context.sources import CopyResult, resolve_copy, resolve_mount
from layerwise.context.walk import ContextSnapshot, transfer_paths, walk_context

Layout = dict[str, tuple[str, str | None]]


@pytest.fixture
def snapshot(tmp_path: Path) -> ContextSnapshot:
    ctx = write_fixture(tmp_path / "ctx")
    return walk_context(ctx, load_ignore(ctx))


def layout(snapshot: ContextSnapshot, result: CopyResult) -> Layout:
    """Where each copied entry lands below a destination directory (`COPY ... /dest/`)."""
    out: Layout = {}
    for source in result.sources:
        for match in source.matches:
            if match.kind != "dir":
                entry = snapshot.entries[match.resolved]
                out[match.path.rsplit("/", 1)[-1]] = (entry.kind, entry.target)
                continue
            prefix = match.resolved + "/" if match.resolved else ""
            for path in match.reads:
                if path.startswith(prefix) and path != match.resolved:
                    entry = snapshot.entries[path]
                    out[path[len(prefix) :]] = (entry.kind, entry.target)
    return out


def reads(snapshot: ContextSnapshot, *sources: str, **kw: object) -> set[str]:
    result = resolve_copy(snapshot, sources, **kw)  # type: ignore[arg-type]
    assert result.ok, result.errors
    return result.reads


def test_plain_file_and_directory(snapshot: ContextSnapshot) -> None:
    assert reads(snapshot, "a.txt") == {"a.txt"}
    assert (
        reads(snapshot, "src/")
        == reads(snapshot, "./src")
        == {
            "src",
            "src/main.py",
            "src/util.py",
            "src/data.json",
            "src/pkg",
            "src/pkg/mod.py",
            "src/up",
        }
    )


def test_dockerignore_removes_files_inside_a_copied_directory(snapshot: ContextSnapshot) -> None:
    assert reads(snapshot, "partly") == {"partly", "partly/keep.txt"}
    assert "src/pkg/__pycache__/mod.cpython-311.pyc" not in reads(snapshot, ".")


def test_wildcards_are_go_filepath_match(snapshot: ContextSnapshot) -> None:
    assert reads(snapshot, "*.txt") == {"a.txt", "x.txt", "x.txt/inner"}
    assert reads(snapshot, "src/**/*.py") == {"src/pkg/mod.py"}  # ** is just * *
    assert reads(snapshot, "a[^x]b") == {"azb", "a/b"}  # a class matches "/"
    assert reads(snapshot, "[[]x].md") == {"[x].md"}
    # A backslash escapes the wildcard, so this is a plain name, which does not exist.
    assert not resolve_copy(snapshot, ["\\[x].md"]).ok


def test_symlinks_are_followed_inside_the_context(snapshot: ContextSnapshot) -> None:
    assert reads(snapshot, "abslink") == {"abslink", "d/e", "d/e/f"}
    assert reads(snapshot, "flink") == {"flink", "a.txt"}
    assert reads(snapshot, "../a.txt") == {"a.txt"}


def test_wildcard_matching_nothing_is_not_an_error(snapshot: ContextSnapshot) -> None:
    result = resolve_copy(snapshot, ["nomatch*"])
    assert result.ok
    assert result.sources[0].matched_nothing


def test_missing_sources_are_errors_not_exceptions(snapshot: ContextSnapshot) -> None:
    result = resolve_copy(snapshot, ["a.txt", "missing.txt", "ignored/secret.txt", "nodir/*.txt"])
    assert not result.ok
    assert [s.error for s in result.sources] == [
        None,
        '"/missing.txt": not found',
        '"/ignored/secret.txt": not found (excluded by .dockerignore:1: ignored)',
        '"/nodir": not found',
    ]
    assert result.sources[2].excluded_by == ".dockerignore:1: ignored"
    assert result.reads == {"a.txt"}
    assert resolve_copy(snapshot, ["dangling"]).errors == ('dangling: "/dangling": not found',)
    # The link is sent, its target is not: following it fails.
    assert not resolve_copy(snapshot, ["to-ignored"]).ok


def test_exclude_patterns_are_relative_to_each_copied_directory(snapshot: ContextSnapshot) -> None:
    assert reads(snapshot, "src", excludes=["*.py"]) == {
        "src",
        "src/data.json",
        "src/pkg",
        "src/pkg/mod.py",
        "src/up",
    }
    assert reads(snapshot, "src", excludes=["**/*.py", "pkg"]) == {
        "src",
        "src/data.json",
        "src/up",
    }
    # An exception re-includes; the excluded directory is still searched for it.
    assert reads(snapshot, "src", excludes=["pkg", "!pkg/mod.py"]) >= {"src/pkg/mod.py"}
    # A file named directly is copied even if an exclude pattern matches its name (fsutil only
    # matches paths below the copied source).
    assert reads(snapshot, "a.txt", excludes=["*.txt"]) == {"a.txt"}
    with pytest.raises(IgnorePatternError, match="--exclude"):
        resolve_copy(snapshot, ["src"], excludes=["["])


def test_parents_turns_the_source_into_an_include_pattern(snapshot: ContextSnapshot) -> None:
    got = resolve_copy(snapshot, ["src/*.py", "d/./e/f"], parents=True)
    assert got.ok
    # "src/*.py" copies from the root with the include pattern; "d/./e/f" from d (the pivot).
    assert got.reads == {"src", "src/main.py", "src/util.py", "d", "d/e", "d/e/f"}
    missing = resolve_copy(snapshot, ["src/nothere.py"], parents=True)
    assert missing.errors == ('src/nothere.py: "/src/nothere.py": not found',)
    assert resolve_copy(snapshot, ["src/*.nothing"], parents=True).ok


def test_bind_mount_reads_everything_below_its_source(snapshot: ContextSnapshot) -> None:
    assert resolve_mount(snapshot, "d").reads == {"d", "d/e", "d/e/f"}
    assert resolve_mount(snapshot).reads == set(snapshot.entries)
    assert not resolve_mount(snapshot, "missing").ok


def test_symlink_loop_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "l1").symlink_to("l2")
    (tmp_path / "l2").symlink_to("l1")
    snap = walk_context(tmp_path)
    result = resolve_copy(snap, ["l1"])
    assert not result.ok
    assert "too many levels of symbolic links" in result.errors[0]


def test_transfer_includes_what_sources_need(tmp_path: Path) -> None:
    """BuildKit sends only the paths COPY names (plus symlink targets): resolving against that
    smaller transfer must give the same reads as against the whole context."""
    ctx = write_fixture(tmp_path / "ctx")
    ignore = load_ignore(ctx)
    full = walk_context(ctx, ignore)
    for sources in OK_SOURCES:
        paths = transfer_paths(sources)
        sent = walk_context(ctx, ignore, paths)
        assert resolve_copy(sent, sources).reads == resolve_copy(full, sources).reads, sources
    assert transfer_paths(["a", "./b/../c", "/d"]) == ["a", "c", "d"]
    assert transfer_paths(["a", "."]) is None


def exported(root: Path) -> Layout:
    out: Layout = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                out[rel] = ("symlink", str(full.readlink()))
            elif stat.S_ISDIR(mode):
                out[rel] = ("dir", None)
            else:
                out[rel] = ("file", None)
    return out


def _quote(src: str) -> str:
    return src.replace("\\", "\\\\")


@pytest.mark.docker
def test_sources_match_buildkit(docker: DockerEngine, tmp_path: Path) -> None:
    ctx = write_fixture(tmp_path / "ctx")
    snap = walk_context(ctx, load_ignore(ctx))
    dockerfile = tmp_path / "Dockerfile"
    lines = ["FROM scratch"]
    for i, sources in enumerate(OK_SOURCES):
        words = ", ".join(f'"{_quote(s)}"' for s in [*sources, f"/t{i}/"])
        lines.append(f"COPY [{words}]")
    dockerfile.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = docker.run(
        "buildx", "build", "--network", "host", "--no-cache", "-q", "-f", str(dockerfile),
        "--output", f"type=local,dest={out}", str(ctx),
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    failures = []
    for i, sources in enumerate(OK_SOURCES):
        got = exported(out / f"t{i}") if (out / f"t{i}").exists() else {}
        resolved = resolve_copy(snap, sources)
        assert resolved.ok, resolved.errors
        want = layout(snap, resolved)
        if got != want:
            failures.append(f"COPY {sources}: BuildKit {got} != layerwise {want}")
    assert not failures, "\n".join(failures)


@pytest.mark.docker
@pytest.mark.parametrize("source", FAILING_SOURCES)
def test_failing_sources_fail_in_buildkit(
    docker: DockerEngine, tmp_path: Path, source: str
) -> None:
    ctx = write_fixture(tmp_path / "ctx")
    snap = walk_context(ctx, load_ignore(ctx))
    assert not resolve_copy(snap, [source]).ok
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f'FROM scratch\nCOPY ["{source}", "/t/"]\n')
    result = docker.run(
        "buildx", "build", "--network", "host", "-q", "-f", str(dockerfile),
        "--output", f"type=local,dest={tmp_path / 'out'}", str(ctx),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "not found" in result.stderr or "no such file" in result.stderr
