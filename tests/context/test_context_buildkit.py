"""Differential tests: layerwise's context walk against what real BuildKit sends.

Each case is a seeded random tree with a random .dockerignore. Many cases go into one build, each
as a named build context (`--build-context cN=DIR`, which honours the .dockerignore in DIR), copied
with `COPY --from=cN . /cN/` and exported with `--output type=local`. The exported tree is exactly
what BuildKit received, so it must equal the entries layerwise computes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import DockerEngine
from context_trees import generate
from layerwise.context.ignore import IgnorePatternError, load_ignore
from layerwise.context.walk import walk_context

pytestmark = pytest.mark.docker

CASES = 90
BATCH = 30


def exported(root: Path) -> dict[str, tuple[str, str | None]]:
    """path -> (kind, symlink target) of everything under an exported directory."""
    out: dict[str, tuple[str, str | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                out[rel] = ("symlink", str(full.readlink()))
            elif stat.S_ISDIR(mode):
                out[rel] = ("dir", None)
            elif stat.S_ISREG(mode):
                out[rel] = ("file", None)
            else:
                out[rel] = ("other", None)
    return out


def predicted(case_dir: Path) -> dict[str, tuple[str, str | None]]:
    snapshot = walk_context(case_dir, load_ignore(case_dir))
    assert not snapshot.problems
    return {e.path: (e.kind, e.target) for e in snapshot.entries.values()}


def build_named_contexts(docker: DockerEngine, work: Path, cases: list[Path]) -> Path:
    dockerfile = work / "Dockerfile"
    lines = ["FROM scratch"] + [f"COPY --from=c{i} . /c{i}/" for i in range(len(cases))]
    dockerfile.write_text("\n".join(lines) + "\n")
    out = work / "out"
    args = ["buildx", "build", "--network", "host", "--no-cache", "-q", "-f", str(dockerfile)]
    for i, case in enumerate(cases):
        args += ["--build-context", f"c{i}={case}"]
    args += ["--output", f"type=local,dest={out}", str(work / "empty")]
    (work / "empty").mkdir()
    result = docker.run(*args, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def compare(out: Path, cases: list[Path], labels: list[str]) -> list[str]:
    failures = []
    for i, (label, case) in enumerate(zip(labels, cases, strict=True)):
        got = exported(out / f"c{i}")
        want = predicted(case)
        if got != want:
            ignore_file = case / ".dockerignore"
            ignore = ignore_file.read_text() if ignore_file.exists() else ""
            failures.append(
                f"{label}: .dockerignore={ignore!r}\n"
                f"  only BuildKit: {sorted(set(got) - set(want))}\n"
                f"  only layerwise: {sorted(set(want) - set(got))}\n"
                f"  differ: {sorted(k for k in set(got) & set(want) if got[k] != want[k])}"
            )
    return failures


@pytest.mark.parametrize("batch", range(CASES // BATCH))
def test_random_trees_match_buildkit(docker: DockerEngine, tmp_path: Path, batch: int) -> None:
    seeds = list(range(batch * BATCH, (batch + 1) * BATCH))
    cases = []
    for seed in seeds:
        case = tmp_path / f"case{seed}"
        generate(seed).write(case)
        cases.append(case)
    out = build_named_contexts(docker, tmp_path, cases)
    failures = compare(out, cases, [f"seed {seed}" for seed in seeds])
    assert not failures, "\n".join(failures)


# Patterns whose meaning in Docker differs from what a reader (or Python's fnmatch) would expect.
QUIRKS: list[tuple[str, list[str]]] = [
    ("**x\n", ["ax", "d/ax", "x", "y"]),  # suffix match: "ax" is excluded too
    ("a[^x]b\n", ["a/b", "azb", "axb"]),  # a negated class matches "/"
    ("[!a]\n", ["!", "b", "a"]),  # "!" is not a negation
    ("[[:digit:]]*\n", ["7up", "up"]),  # POSIX class, from Go's regexp
    ("\\d*\n", ["7up", "d", "dd"]),  # a Go regexp escape
    ("[*]\n", ["]", "*", "x", "[]"]),  # `*` is rewritten inside the class
    ("$x\na.b\n", ["$x", "axb", "a.b"]),
    ("a/b\n!a\n", ["a/b/c", "a/d", "e"]),  # the walker does not re-check parents
    ("*\n!src\nsrc/**/*.pyc\n", ["src/a.py", "src/p/b.pyc", "src/c.pyc", "other/x"]),
    ("*.md\n!README*.md\nREADME-secret.md\n", ["a.md", "README.md", "README-secret.md"]),
    ("docs\n!docs/README.md\n", ["docs/README.md", "docs/x.md", "docs/sub/README.md"]),
    ("x\\ y   \n  # not a comment\n", ["x y", "# not a comment", "x"]),
    ("node_modules\n!node_modules/keep/**\n", ["node_modules/a/b", "node_modules/keep/c/d"]),
    ("**\n!**/*.py\n", ["a/b/c.py", "a/d.txt", "e.py"]),
    ("/*/\n", ["a/b", "c"]),
]


def test_quirks_match_buildkit(docker: DockerEngine, tmp_path: Path) -> None:
    cases = []
    for i, (ignore, files) in enumerate(QUIRKS):
        case = tmp_path / f"quirk{i}"
        for f in files:
            (case / f).parent.mkdir(parents=True, exist_ok=True)
            (case / f).write_text(f)
        (case / ".dockerignore").write_text(ignore)
        cases.append(case)
    out = build_named_contexts(docker, tmp_path, cases)
    failures = compare(out, cases, [repr(ignore) for ignore, _ in QUIRKS])
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("pattern", ["src/[", "a\\e", "!"])
def test_invalid_patterns_fail_in_buildkit_too(
    docker: DockerEngine, tmp_path: Path, pattern: str
) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / ".dockerignore").write_text(f"ok\n{pattern}\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    with pytest.raises(IgnorePatternError) as info:
        load_ignore(tmp_path)
    assert ":2:1: error: " in str(info.value)
    for _attempt in range(3):
        result = docker.run(
            "buildx", "build", "--network", "host", "-q",
            "--output", f"type=local,dest={tmp_path / 'out'}", str(tmp_path),
            check=False,
        )  # fmt: skip
        assert result.returncode != 0
        # The session's transfer may be torn down before BuildKit reports the pattern error
        # ("context canceled", seen under load): the build failed, but ask again for its reason.
        if "context canceled" not in result.stderr:
            break
    assert "excludepatterns" in result.stderr


def test_main_context_and_per_dockerfile_ignore(docker: DockerEngine, tmp_path: Path) -> None:
    """The main build context (not a named one) with a random tree, and BuildKit's rule that
    `<Dockerfile>.dockerignore` beside the Dockerfile replaces the root `.dockerignore`."""
    ctx = tmp_path / "ctx"
    generate(4242).write(ctx)
    (ctx / "root-only").write_text("x")
    (ctx / "prod-only").write_text("x")
    (ctx / ".dockerignore").write_text("root-only\n")
    dockerfiles = ctx / "docker"
    dockerfiles.mkdir(exist_ok=True)
    plain = dockerfiles / "Dockerfile"
    prod = dockerfiles / "Dockerfile.prod"
    for df in (plain, prod):
        df.write_text("FROM scratch\nCOPY . /\n")
    (dockerfiles / "Dockerfile.prod.dockerignore").write_text("prod-only\n**/*.py\n")
    for df in (plain, prod):
        out = tmp_path / f"out-{df.name}"
        result = docker.run(
            "buildx", "build", "--network", "host", "-q", "-f", str(df),
            "--output", f"type=local,dest={out}", str(ctx),
            check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        snapshot = walk_context(ctx, load_ignore(ctx, df))
        want = {e.path: (e.kind, e.target) for e in snapshot.entries.values()}
        assert exported(out) == want
    assert "prod-only" in exported(tmp_path / "out-Dockerfile")
    assert "root-only" in exported(tmp_path / "out-Dockerfile.prod")
