"""The git history replay: git trees kept up to date one commit at a time, and what each commit
rebuilds."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from examples_support import git
from layerwise.cache.files import SourceSpec, WorkingTree
from layerwise.cache.gittree import GitContext
from layerwise.cache.history import load_timings, read_blobs, read_log, replay_history
from layerwise.context.ignore import PatternMatcher
from layerwise.errors import InputError

PATHS = ["a.txt", "src/app.py", "src/lib/x.py", "src/lib/y.txt", "docs/d.md", "req.txt", "b/c/d"]
SPECS = [
    SourceSpec((".",)),
    SourceSpec(("src",)),
    SourceSpec(("src/app.py",)),
    SourceSpec(("src/*.py",)),
    SourceSpec(("*.txt",)),
    SourceSpec(("src",), excludes=("lib/*.txt",)),
    SourceSpec(("src/lib",), mount=True),
    SourceSpec(("a.txt", "req.txt")),
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PATHS), st.sampled_from(["100644", "100755", None]), st.integers(0, 3)
        ),
        max_size=25,
    ),
    st.sampled_from([None, ["docs"], ["src/lib", "!src/lib/x.py"], ["*.txt"]]),
)
def test_incremental_digests_equal_a_fresh_load(
    changes: list[tuple[str, str | None, int]], ignore: list[str] | None
) -> None:
    """Applying changes one by one gives the digests a context loaded at the end would have."""
    matcher = PatternMatcher.from_patterns(ignore) if ignore else None
    live = GitContext(matcher)
    live.load([("a.txt", "100644", "blob0")])
    for spec in SPECS:
        live.digest(spec)  # tracked from now on
    state = {"a.txt": ("100644", "blob0")}
    for path, mode, n in changes:
        blob = f"blob{n}"
        live.apply(path, mode, blob if mode else None)
        if mode:
            state[path] = (mode, blob)
        else:
            state.pop(path, None)
    fresh = GitContext(matcher)
    fresh.load([(p, m, b) for p, (m, b) in state.items()])
    for spec in SPECS:
        assert live.digest(spec) == fresh.digest(spec), spec


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(PATHS), min_size=1), st.sampled_from(SPECS))
def test_git_selection_equals_the_context_engine(
    tmp_path_factory: pytest.TempPathFactory, present: set[str], spec: SourceSpec
) -> None:
    """For trees without symlinks, the git replay selects exactly the files the context engine
    resolves for the same COPY or bind mount (BuildKit's rules)."""
    root = tmp_path_factory.mktemp("ctx")
    for p in present:
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        if not (root / p).is_dir():
            (root / p).write_text(p)
    files = {p for p in present if (root / p).is_file()}
    tree = WorkingTree.open(root)
    if tree.digest(spec).error:
        return  # BuildKit fails on this source here; nothing to compare
    expected = {p for p in tree.members(spec) if p in files}
    ctx = GitContext()
    ctx.load([(p, "100644", "b") for p in files])
    got = set(ctx.members(spec))
    assert got == expected


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "docs").mkdir()
    (repo / "requirements.txt").write_text("flask\n")
    (repo / "src" / "app.py").write_text("print(1)\n")
    (repo / "docs" / "guide.md").write_text("guide\n")
    (repo / ".dockerignore").write_text(".git\ndocs\n")
    (repo / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY src/ src/\n"
    )
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")
    return repo


def _commit(repo: Path, message: str, files: dict[str, str] | None = None) -> None:
    for name, text in (files or {}).items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)


def test_replay_counts_rebuilds_per_commit(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, "code", {"src/app.py": "print(2)\n"})
    _commit(repo, "docs only", {"docs/guide.md": "more\n"})
    _commit(repo, "deps", {"requirements.txt": "flask\ngunicorn\n"})
    _commit(repo, "revert deps", {"requirements.txt": "flask\n"})
    _commit(repo, "empty")
    _commit(repo, "dockerfile comment", {"Dockerfile": (repo / "Dockerfile").read_text() + "# c\n"})
    _commit(repo, "ignore src", {".dockerignore": ".git\ndocs\nsrc/app.py\n"})
    report = replay_history(repo, commits=50)
    v = report.variants[0]
    by_subject = {c.commit.subject: c for c in v.commits}
    assert v.commits[0].commit.subject == "code"  # the first commit is the start
    assert by_subject["code"].rebuilt == 1 and by_subject["code"].rebuilt_steps == [
        ("stage-0", 5, "COPY")
    ]
    assert by_subject["code"].cause == "src/app.py changes"
    assert by_subject["docs only"].rebuilt == 0
    assert by_subject["deps"].rebuilt == 3
    assert by_subject["revert deps"].rebuilt == 0  # BuildKit still has that state
    assert by_subject["empty"].rebuilt == 0
    assert by_subject["dockerfile comment"].rebuilt == 0  # the Dockerfile is not copied
    assert by_subject["dockerfile comment"].dockerfile_changed
    ignore = by_subject["ignore src"]
    assert ignore.ignore_changed and ignore.rebuilt == 1
    assert v.hit_rate == pytest.approx(1 - 5 / 28)
    stats = {s.line: s for s in v.steps}
    assert stats[5].rebuilt == 3 and stats[5].builds == 7  # code, deps (after it), ignore
    data = report.to_json()
    assert data["variants"][0]["hit_rate"] == round(1 - 5 / 28, 4)
    assert data["variants"][0]["costliest"][0]["subject"] == "deps"


def test_git_directory_changes_with_every_commit_unless_ignored(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\n")
    (repo / ".dockerignore").write_text("docs\n")
    _commit(repo, "naive")
    _commit(repo, "empty 1")
    _commit(repo, "empty 2")
    v = replay_history(repo, commits=2).variants[0]
    assert [c.rebuilt for c in v.commits] == [1, 1]
    assert v.commits[0].cause == ".git/HEAD changes"


def test_compare_replays_another_dockerfile_with_its_own_ignore_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
    )
    _commit(repo, "naive")
    for i in range(4):
        _commit(repo, f"code {i}", {"src/app.py": f"print({i + 10})\n"})
    other = tmp_path / "Dockerfile.optimized"
    other.write_text(
        "FROM python:3.11-slim\nCOPY requirements.txt /app/\n"
        "RUN pip install -r /app/requirements.txt\nCOPY src/ /app/src/\n"
    )
    (tmp_path / "Dockerfile.optimized.dockerignore").write_text(".git\ndocs\n")
    timings = tmp_path / "bench.json"
    timings.write_text(
        json.dumps(
            {
                "dockerfiles": [
                    {
                        "path": "Dockerfile",
                        "scenarios": {
                            "cold": {
                                "steps": [
                                    {"stage": "stage-0", "text": "COPY . /app", "seconds": 1.0},
                                    {
                                        "stage": "stage-0",
                                        "text": "RUN pip install -r /app/requirements.txt",
                                        "seconds": 30.0,
                                    },
                                ]
                            }
                        },
                    }
                ]
            }
        )
    )
    report = replay_history(repo, commits=4, compare=other, timings=timings)
    original, optimized = report.variants
    assert original.hit_rate == 0.0  # `COPY . /app` with .git: every commit reruns both steps
    assert optimized.hit_rate == pytest.approx(1 - 4 / 12)
    assert original.weighted_hit_rate == 0.0 and original.rebuild_seconds == 4 * 31.0
    assert optimized.weighted_hit_rate == 1.0  # the timed step (the install) never reran


def test_read_log_and_blobs_use_one_process_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path)
    for i in range(30):
        _commit(repo, f"c{i}", {"src/app.py": f"{i}\n", "Dockerfile": f"FROM scratch\n# {i}\n"})
    import subprocess

    calls: list[list[str]] = []
    real = subprocess.run

    def spy(cmd: list[str], *a: object, **kw: object):  # type: ignore[no-untyped-def]
        calls.append(cmd)
        return real(cmd, *a, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", spy)
    report = replay_history(repo, commits=30)
    assert len(report.variants[0].commits) == 30
    subcommands = [c[3] for c in calls]
    assert subcommands.count("log") == 1 and subcommands.count("cat-file") == 1
    assert len(calls) <= 5  # rev-parse, log, ls-tree (x2 at most), cat-file


def test_read_helpers(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, "two words subject", {"src/app.py": "x\n"})
    log = read_log(repo, 5)
    assert [c.subject for c in log] == ["initial", "two words subject"]
    assert log[1].changes == ((("src/app.py"), "100644", log[1].changes[0][2]),)
    blobs = read_blobs(repo, [log[1].changes[0][2], "0" * 40])
    assert list(blobs.values()) == [b"x\n"]


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not inside a git repository"):
        (tmp_path / "Dockerfile").write_text("FROM scratch\n")
        replay_history(tmp_path)
    with pytest.raises(InputError, match="bench"):
        bad = tmp_path / "x.json"
        bad.write_text("{}")
        load_timings(bad)


def test_cli_history_text_json_and_gate(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    rng = random.Random(1)
    for i in range(6):
        _commit(repo, f"c{i}", {"src/app.py": f"{rng.random()}\n"})
    text = run_cli("cache", str(repo), "--history", "10")
    assert text.code == 0, text.err
    assert "cache hit rate" in text.out and "COPY src/ src/" in text.out
    data = json.loads(run_cli("cache", str(repo), "--history", "10", "--format", "json").out)
    assert data["commits"] == 6 and data["variants"][0]["hit_rate"] == pytest.approx(0.75)
    assert run_cli("cache", str(repo), "--history", "10", "--fail-under", "80").code == 1
    assert run_cli("cache", str(repo), "--history", "10", "--fail-under", "70").code == 0
    bad = run_cli("cache", str(tmp_path / "nope"), "--history", "3")
    assert bad.code == 2 and bad.err.count("\n") == 1


def test_context_in_a_subdirectory(tmp_path: Path) -> None:
    repo = tmp_path / "mono"
    (repo / "svc" / "src").mkdir(parents=True)
    (repo / "other").mkdir()
    (repo / "svc" / "src" / "app.py").write_text("1\n")
    (repo / "other" / "x.py").write_text("1\n")
    (repo / "svc" / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY . /app\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")
    _commit(repo, "elsewhere", {"other/x.py": "2\n"})
    _commit(repo, "service", {"svc/src/app.py": "2\n"})
    report = replay_history(repo / "svc", commits=2)
    assert report.context == "svc"
    v = report.variants[0]
    # .git is outside the context: a commit elsewhere in the repository rebuilds nothing
    assert [(c.commit.subject, c.context_changes, c.rebuilt) for c in v.commits] == [
        ("elsewhere", 0, 0),
        ("service", 1, 1),
    ]
    assert v.commits[1].cause == "src/app.py changes"
