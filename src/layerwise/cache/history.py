"""Replaying git history through the cache model: what every commit would have rebuilt.

    report = replay_history("path/to/repo", commits=200)
    report.variants[0].hit_rate          # reused steps / steps, over the replayed commits

One `git log --raw` process reads the last N commits (first parents, each with the files it
changed), one `git ls-tree` the tree before them, and one `git cat-file --batch` every version of
the Dockerfile and of its ignore file; nothing runs per commit. The build before the first
replayed commit is the starting cache (BuildKit's cache keeps every earlier build, so a revert is
a cache hit). Each commit is then one build: the context as committed (plus the checkout's
`.git`, unless ignored), the Dockerfile and ignore file as they were at that commit.

With `compare`, a second Dockerfile (e.g. the output of `layerwise optimize`, which has no history)
is replayed over the same commits, with its own ignore file when it has one.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.cache.gittree import GIT_ENTRY, GitContext
from layerwise.cache.keys import DOCKER_BUILTIN, BuildKeys, Features
from layerwise.cache.plan import BuildPlan, plan_build
from layerwise.cache.predict import Simulator, first_rebuilt
from layerwise.context.ignore import IgnorePatternError, PatternMatcher, parse_ignore
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.errors import InputError, LayerwiseError

_TIMEOUT = 600.0


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    time: int
    author: str
    subject: str
    # (path, new mode, new blob); mode and blob None: deleted
    changes: tuple[tuple[str, str | None, str | None], ...]


@dataclass
class StepStats:
    """How often one step (a stage and an instruction) ran again over the replayed commits."""

    stage: str
    ident: str
    line: int
    keyword: str
    text: str
    builds: int = 0
    rebuilt: int = 0
    uncertain: int = 0
    seconds: float | None = None  # its duration in the bench run, when timings were given

    @property
    def invalidation_rate(self) -> float:
        return self.rebuilt / self.builds if self.builds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "line": self.line,
            "keyword": self.keyword,
            "text": self.text,
            "builds": self.builds,
            "rebuilt": self.rebuilt,
            "uncertain": self.uncertain,
            "invalidation_rate": round(self.invalidation_rate, 4),
            "seconds": self.seconds,
        }


@dataclass
class CommitResult:
    commit: Commit
    context_changes: int  # files changed inside the context
    dockerfile_changed: bool
    ignore_changed: bool
    steps: int
    rebuilt: int
    cost: float  # seconds of rebuilt steps with timings, else the number of rebuilt steps
    rebuilt_steps: list[tuple[str, int, str]]  # (stage, line, keyword)
    cause: str  # why the first rebuilt step runs again
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "sha": self.commit.sha,
            "subject": self.commit.subject,
            "author": self.commit.author,
            "time": self.commit.time,
            "context_changes": self.context_changes,
            "dockerfile_changed": self.dockerfile_changed,
            "ignore_changed": self.ignore_changed,
            "steps": self.steps,
            "rebuilt": self.rebuilt,
            "cost": round(self.cost, 3),
            "rebuilt_steps": [
                {"stage": s, "line": line, "keyword": k} for s, line, k in self.rebuilt_steps
            ],
            "cause": self.cause,
            "error": self.error,
        }


@dataclass
class VariantResult:
    """One Dockerfile replayed over the commits."""

    label: str
    dockerfile: str
    commits: list[CommitResult] = field(default_factory=list)
    steps: list[StepStats] = field(default_factory=list)
    timed: bool = False

    @property
    def built(self) -> list[CommitResult]:
        return [c for c in self.commits if c.error is None]

    @property
    def hit_rate(self) -> float | None:
        total = sum(c.steps for c in self.built)
        if not total:
            return None
        return 1 - sum(c.rebuilt for c in self.built) / total

    @property
    def weighted_hit_rate(self) -> float | None:
        """Reused step time / step time (durations from a bench run), None without timings."""
        if not self.timed:
            return None
        total = rebuilt = 0.0
        for stats in self.steps:
            if stats.seconds is None:
                continue
            total += stats.seconds * stats.builds
            rebuilt += stats.seconds * stats.rebuilt
        return 1 - rebuilt / total if total else None

    @property
    def rebuild_seconds(self) -> float | None:
        if not self.timed:
            return None
        return sum(c.cost for c in self.built)

    def costliest(self, n: int = 10) -> list[CommitResult]:
        ranked = sorted(self.built, key=lambda c: (-c.cost, -c.rebuilt))
        return [c for c in ranked[:n] if c.rebuilt]

    def to_json(self, top: int = 10) -> dict[str, Any]:
        hit = self.hit_rate
        weighted = self.weighted_hit_rate
        return {
            "label": self.label,
            "dockerfile": self.dockerfile,
            "commits": len(self.commits),
            "failed_builds": len(self.commits) - len(self.built),
            "hit_rate": None if hit is None else round(hit, 4),
            "weighted_hit_rate": None if weighted is None else round(weighted, 4),
            "rebuild_seconds": self.rebuild_seconds,
            "steps": [s.to_json() for s in self.steps],
            "costliest": [c.to_json() for c in self.costliest(top)],
            "per_commit": [
                {"sha": c.commit.sha, "rebuilt": c.rebuilt, "steps": c.steps, "cost": c.cost}
                for c in self.commits
            ],
        }


@dataclass
class HistoryReport:
    repository: Path
    context: str  # relative to the repository ("" for its root)
    commits: int
    variants: list[VariantResult]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_json(self, top: int = 10) -> dict[str, Any]:
        return {
            "repository": str(self.repository),
            "context": self.context or ".",
            "commits": self.commits,
            "variants": [v.to_json(top) for v in self.variants],
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


# -- git -------------------------------------------------------------------------------------


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            timeout=_TIMEOUT,
        )
    except FileNotFoundError:
        raise InputError("git is not installed (the history replay reads the repository)") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} did not finish in {_TIMEOUT:g}s") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}")
    return proc.stdout


def repository_of(directory: Path) -> tuple[Path, str]:
    """The repository's top directory and `directory` relative to it ("" at the top)."""
    try:
        out = _git(directory, "rev-parse", "--show-toplevel", "--show-prefix")
    except InputError as exc:
        raise InputError(
            f"{directory}: not inside a git repository (--history replays its commits): {exc}"
        ) from None
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    top = Path(lines[0])
    prefix = lines[1].rstrip("/") if len(lines) > 1 else ""
    return top, prefix


def read_log(repo: Path, count: int) -> list[Commit]:
    """The last `count` commits along first parents, oldest first, with their changed files."""
    raw = _git(
        repo,
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        f"-n{count}",
        "--reverse",
        "--raw",
        "-z",
        "--no-renames",
        "--no-abbrev",
        "--format=%x01%H%x02%P%x02%ct%x02%an%x02%s",
    )
    commits: list[Commit] = []
    for chunk in raw.split(b"\x01")[1:]:
        header, _, body = chunk.partition(b"\x00")
        sha, parents, ctime, author, subject = header.decode("utf-8", "surrogateescape").split(
            "\x02", 4
        )
        fields = body.split(b"\x00")
        changes: list[tuple[str, str | None, str | None]] = []
        i = 0
        while i < len(fields):
            meta = fields[i].lstrip(b"\n")
            if not meta.startswith(b":"):
                i += 1
                continue
            path = fields[i + 1].decode("utf-8", "surrogateescape") if i + 1 < len(fields) else ""
            _, new_mode, _, new_blob, status = meta[1:].decode().split(" ", 4)
            if status.startswith("D"):
                changes.append((path, None, None))
            else:
                changes.append((path, new_mode, new_blob))
            i += 2
        first_parent = parents.split()[0] if parents.strip() else None
        commits.append(Commit(sha, first_parent, int(ctime or 0), author, subject, tuple(changes)))
    return commits


def read_tree(repo: Path, rev: str, paths: Sequence[str]) -> list[tuple[str, str, str]]:
    """(path, mode, blob) of every file under `paths` at `rev`."""
    out = _git(repo, "ls-tree", "-r", "-z", "--full-tree", rev, "--", *paths)
    files = []
    for record in out.split(b"\x00"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        if kind == "blob":
            files.append((path.decode("utf-8", "surrogateescape"), mode, blob))
    return files


def read_blobs(repo: Path, blobs: Sequence[str]) -> dict[str, bytes]:
    """The content of blobs, all through one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    out = _git(repo, "cat-file", "--batch", stdin=("\n".join(wanted) + "\n").encode())
    found: dict[str, bytes] = {}
    at = 0
    for blob in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].decode().split(" ")
        at = end + 1
        if len(header) < 3 or header[1] == "missing":
            continue
        size = int(header[2])
        found[blob] = out[at : at + size]
        at += size + 1
    return found


# -- replay ----------------------------------------------------------------------------------


class _Variant:
    """One Dockerfile followed through the commits."""

    def __init__(
        self,
        label: str,
        dockerfile_repo_path: str | None,
        fixed_text: str | None,
        fixed_ignore: str | None,
        display: str,
        prefix: str,
        build_args: Mapping[str, str],
        target: str | None,
        platform: str | None,
        features: Features,
        timings: Mapping[tuple[str, str], float] | None,
    ) -> None:
        self.label = label
        self.df_path = dockerfile_repo_path  # tracked in git, or None
        self.specific_ignore = (
            f"{dockerfile_repo_path}.dockerignore" if dockerfile_repo_path else None
        )
        self.fixed_text = fixed_text
        self.fixed_ignore = fixed_ignore
        self.prefix = prefix
        self.build_args = dict(build_args)
        self.target = target
        self.platform = platform
        self.context = GitContext()
        self.sim = Simulator(features)
        self.plans: dict[str, BuildPlan | str] = {}
        self.timings = timings
        self.result = VariantResult(label, display, timed=timings is not None)
        self.stats: dict[tuple[str, str], StepStats] = {}
        self.df_blob: str | None = None
        self.ignore_blob: str | None = None
        self.ignore_error: str | None = None
        self.texts: dict[str, bytes] = {}

    def ignore_paths(self) -> tuple[str | None, str]:
        specific = self.specific_ignore
        root = f"{self.prefix}/.dockerignore" if self.prefix else ".dockerignore"
        return specific, root

    def plan(self, text: str) -> BuildPlan | str:
        found = self.plans.get(text)
        if found is None:
            try:
                df = parse_dockerfile(text, self.display_path)
                found = plan_build(df, self.build_args, self.target, self.platform)
                if self.target and not any(
                    st.stage.name == self.target.lower() for st in found.stages
                ):
                    found = f"target stage {self.target!r} is not defined"
            except LayerwiseError as exc:
                found = str(exc)
            self.plans[text] = found
        return found

    @property
    def display_path(self) -> str:
        return self.result.dockerfile

    def set_ignore(self, text: bytes | None) -> None:
        self.ignore_error = None
        if text is None:
            self.context.set_ignore(None)
            return
        try:
            _, matcher = parse_ignore(text.decode("utf-8", "surrogateescape"), ".dockerignore")
        except IgnorePatternError as exc:
            self.ignore_error = str(exc)
            matcher = PatternMatcher([])
        self.context.set_ignore(matcher)

    def build(
        self, commit: Commit | None, text: str | None, changed: list[str], flags: tuple[bool, bool]
    ) -> None:
        """Predict (and record) the build of one commit; commit None is the starting build."""
        plan = self.plan(text) if text is not None else "no Dockerfile at this commit"
        error = plan if isinstance(plan, str) else self.ignore_error
        if isinstance(plan, str):
            if commit is not None:
                self.result.commits.append(
                    CommitResult(commit, len(changed), *flags, 0, 0, 0.0, [], "", error)
                )
            return
        build = self.sim.evaluate(plan, self.context)
        if commit is not None:
            self.account(commit, build, changed, flags, error)
        self.sim.record(build, self.context)

    def account(
        self,
        commit: Commit,
        build: BuildKeys,
        changed: list[str],
        flags: tuple[bool, bool],
        error: str | None,
    ) -> None:
        steps = [s for s in build.steps if s.planned.keyword != "FROM" or not s.cached]
        rebuilt = [s for s in steps if not s.cached]
        cost = 0.0
        for s in steps:
            ps = s.planned
            key = (ps.stage_label, ps.ident)
            stats = self.stats.get(key)
            if stats is None:
                seconds = None
                if self.timings is not None:
                    seconds = self.timings.get((ps.stage_label, _normal(ps.text)))
                    if seconds is None:
                        seconds = self.timings.get((ps.stage_label, f"#{ps.line}"))
                stats = StepStats(
                    ps.stage_label, key[1], ps.line, ps.keyword, ps.text, seconds=seconds
                )
                self.stats[key] = stats
                self.result.steps.append(stats)
            stats.line, stats.text = ps.line, ps.text
            stats.builds += 1
            if not s.cached:
                stats.rebuilt += 1
                cost += stats.seconds if self.timings is not None and stats.seconds else 0.0
            if not s.certain:
                stats.uncertain += 1
        if self.timings is None:
            cost = float(len(rebuilt))
        cause = ""
        if rebuilt:
            found = first_rebuilt(build, self.sim.previous, self.context, self.context, changed)
            cause = found[1] if found else ""
        step_error = next((s.error for s in steps if s.error), None)
        self.result.commits.append(
            CommitResult(
                commit,
                len(changed),
                flags[0],
                flags[1],
                len(steps),
                len(rebuilt),
                cost,
                [(s.planned.stage_label, s.planned.line, s.planned.keyword) for s in rebuilt],
                cause,
                error or step_error,
            )
        )


def _normal(text: str) -> str:
    words = text.split()
    if words:
        words[0] = words[0].upper()
    return " ".join(words)


def load_timings(path: str | Path, dockerfile: str | None = None) -> dict[tuple[str, str], float]:
    """Step durations from `layerwise bench --format json` output: (stage, instruction) -> the
    cold build's seconds, from the entry of the Dockerfile whose path ends like `dockerfile`,
    else from every entry; also (stage, "#<line>") for steps whose text BuildKit showed
    differently (ARG values expanded)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read bench timings: {exc}") from None
    entries = data.get("dockerfiles") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: not the JSON output of `layerwise bench`")
    chosen = [
        e
        for e in entries
        if dockerfile is not None
        and isinstance(e, dict)
        and (
            str(e.get("path", "")).endswith(dockerfile)
            or str(dockerfile).endswith(str(e.get("path") or "\x00"))
        )
    ]
    out: dict[tuple[str, str], float] = {}
    # The Dockerfile's own entry; else every entry (steps written alike take alike long).
    for entry in chosen[:1] or [e for e in entries if isinstance(e, dict)]:
        cold = (entry.get("scenarios") or {}).get("cold") or {}
        for step in cold.get("steps") or []:
            text, stage = step.get("text"), step.get("stage")
            if isinstance(text, str) and isinstance(stage, str):
                seconds = float(step.get("seconds") or 0.0)
                out.setdefault((stage, _normal(text)), seconds)
                if isinstance(step.get("line"), int):
                    out.setdefault((stage, f"#{step['line']}"), seconds)
    return out


def replay_history(
    directory: str | Path,
    dockerfile: str | Path | None = None,
    commits: int = 50,
    *,
    compare: str | Path | None = None,
    compare_ignore: str | Path | None = None,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    timings: str | Path | None = None,
    features: Features = DOCKER_BUILTIN,
) -> HistoryReport:
    """Replay the last `commits` commits of the repository `directory` is in (the build context).

    `dockerfile` defaults to `Dockerfile` in the context; its content and its ignore file are read
    from each commit. `compare` replays another Dockerfile over the same commits (read from disk,
    with `compare_ignore`, else `<compare>.dockerignore`, else the history's ignore file).
    `timings` is a `layerwise bench --format json` file for the duration-weighted hit rate.
    """
    started = time.perf_counter()
    if commits < 1:
        raise InputError("--history needs a number of commits of at least 1")
    context_dir = Path(directory)
    if not context_dir.is_dir():
        raise InputError(f"{directory}: build context is not a directory")
    repo, prefix = repository_of(context_dir)
    notes: list[str] = []
    df_disk = Path(dockerfile) if dockerfile is not None else context_dir / "Dockerfile"
    if not df_disk.is_file():
        raise InputError(f"{df_disk}: no such Dockerfile (pass one with -f)")
    df_repo = _repo_path(repo, df_disk)
    variants = []
    timing_map = load_timings(timings, str(df_disk)) if timings is not None else None
    primary = _Variant(
        "original" if compare is not None else "dockerfile",
        df_repo,
        None if df_repo is not None else df_disk.read_text(),
        None,
        _shown(df_disk),
        prefix,
        build_args or {},
        target,
        platform,
        features,
        timing_map,
    )
    if df_repo is None:
        notes.append(f"{df_disk} is outside the repository: its current content is used throughout")
    variants.append(primary)
    if compare is not None:
        other = Path(compare)
        if not other.is_file():
            raise InputError(f"{other}: no such Dockerfile to compare")
        ignore_file = (
            Path(compare_ignore)
            if compare_ignore
            else other.parent / (other.name + ".dockerignore")
        )
        fixed_ignore = ignore_file.read_text() if ignore_file.is_file() else None
        if compare_ignore is not None and fixed_ignore is None:
            raise InputError(f"{compare_ignore}: no such ignore file")
        other_timings = load_timings(timings, str(other)) if timings is not None else None
        variants.append(
            _Variant(
                "compared",
                None,
                other.read_text(),
                fixed_ignore,
                _shown(other),
                prefix,
                build_args or {},
                target,
                platform,
                features,
                other_timings,
            )
        )

    log = read_log(repo, commits)
    if not log:
        raise InputError(f"{repo}: the repository has no commits")
    start_rev = log[0].parent
    replayed = log
    if start_rev is None:
        start_rev, replayed = log[0].sha, log[1:]
        notes.append("the first commit has no parent: it is the starting build, not counted")

    if primary.df_path is not None and not _ever_tracked(repo, primary.df_path, log):
        notes.append(f"{df_disk} is not committed: its current content is used for every commit")
        primary.fixed_text, primary.df_path = df_disk.read_text(), None
    watched = _watched_paths(variants)
    tree = read_tree(repo, start_rev, [prefix or ".", *sorted(watched - {prefix})])
    blobs = {b for p, _, b in tree if p in watched}
    for c in log:
        blobs.update(b for p, _, b in c.changes if p in watched and b)
    contents = read_blobs(repo, sorted(blobs))

    current: dict[str, str] = {p: b for p, _, b in tree if p in watched}
    in_context = [(p, m, b) for p, m, b in tree if _under(p, prefix)]
    for v in variants:
        v.context.load([(p[len(prefix) + 1 :] if prefix else p, m, b) for p, m, b in in_context])
        _apply_ignore(v, current, contents)
    head_entry = start_rev if not prefix else None
    for v in variants:
        if head_entry is not None and not v.context.excluded(".git"):
            v.context.apply(GIT_ENTRY, "100644", head_entry)
        v.build(None, _text(v, current, contents), [], (False, False))

    for commit in replayed:
        changed_watched = {p for p, _, _ in commit.changes if p in watched}
        ctx_changes = [(p, m, b) for p, m, b in commit.changes if _under(p, prefix)]
        for p, _, b in commit.changes:
            if p in watched:
                if b:
                    current[p] = b
                else:
                    current.pop(p, None)
        for v in variants:
            for p, m, b in ctx_changes:
                v.context.apply(p[len(prefix) + 1 :] if prefix else p, m, b)
            specific, root = v.ignore_paths()
            ignore_changed = bool(changed_watched & {x for x in (specific, root) if x})
            if v.fixed_ignore is not None:
                ignore_changed = False
            elif ignore_changed:
                _apply_ignore(v, current, contents)
            changed = [p[len(prefix) + 1 :] if prefix else p for p, _, _ in ctx_changes]
            if not prefix and not v.context.excluded(".git"):
                v.context.apply(GIT_ENTRY, "100644", commit.sha)
                changed.append(GIT_ENTRY)
            df_changed = v.df_path is not None and v.df_path in changed_watched
            v.build(commit, _text(v, current, contents), changed, (df_changed, ignore_changed))
    return HistoryReport(
        repo,
        prefix,
        len(replayed),
        [v.result for v in variants],
        time.perf_counter() - started,
        notes,
    )


def _apply_ignore(v: _Variant, current: Mapping[str, str], contents: Mapping[str, bytes]) -> None:
    if v.fixed_ignore is not None:
        v.set_ignore(v.fixed_ignore.encode())
        return
    specific, root = v.ignore_paths()
    for path in (specific, root):
        if path and path in current:
            v.set_ignore(contents.get(current[path], b""))
            return
    v.set_ignore(None)


def _text(v: _Variant, current: Mapping[str, str], contents: Mapping[str, bytes]) -> str | None:
    if v.fixed_text is not None:
        return v.fixed_text
    assert v.df_path is not None
    blob = current.get(v.df_path)
    if blob is None:
        return None
    return contents.get(blob, b"").decode("utf-8", "surrogateescape")


def _ever_tracked(repo: Path, path: str, log: Sequence[Commit]) -> bool:
    if any(p == path for c in log for p, _, _ in c.changes):
        return True
    rev = log[0].parent or log[0].sha
    return bool(read_tree(repo, rev, [path]))


def _watched_paths(variants: list[_Variant]) -> set[str]:
    out: set[str] = set()
    for v in variants:
        if v.df_path is not None:
            out.add(v.df_path)
        specific, root = v.ignore_paths()
        out.update(p for p in (specific, root) if p)
    return out


def _under(path: str, prefix: str) -> bool:
    return not prefix or path.startswith(prefix + "/")


def _repo_path(repo: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
