"""Which steps a build would run again, and why.

    from layerwise.cache import predict_changes
    prediction = predict_changes("examples/flask-pip", changed=["app.py"])
    for step in prediction.steps:
        print(step.line, step.keyword, "REBUILT" if step.rebuilt else "cached", step.reason)

`predict_changes` compares the context as it is (assumed built, so its steps are in the cache) with
the same context after the given paths change. `Simulator` follows a sequence of states (each one
"built" after it is predicted), which is what the history replay and the tests against BuildKit
do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.cache.digest import h
from layerwise.cache.files import ContextFiles, WorkingTree, clean_source, diff_members
from layerwise.cache.keys import (
    DOCKER_BUILTIN,
    BaseImage,
    BuildKeys,
    CacheStore,
    Dep,
    Features,
    StepKeys,
    evaluate,
)
from layerwise.cache.plan import BuildPlan, plan_build
from layerwise.dockerfile.parser import read_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import InputError

MAX_NAMED_FILES = 3


@dataclass
class StepPrediction:
    """One step: rebuilt or not, how sure, and why."""

    stage_index: int
    stage: str  # display name
    line: int
    end_line: int
    keyword: str
    text: str
    number: int  # BuildKit's step number in the stage (`[stage 3/7]`)
    total: int
    trigger: bool
    rebuilt: bool
    certain: bool
    reason: str
    keys: StepKeys = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "keyword": self.keyword,
            "rebuilt": self.rebuilt,
            "reason": self.reason,
            "certain": self.certain,
            "text": self.text,
            "step": self.number,
            "trigger": self.trigger,
        }


@dataclass
class StagePrediction:
    index: int
    name: str
    steps: list[StepPrediction]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass
class Prediction:
    """The steps of one build, each predicted cached or rebuilt."""

    stages: list[StagePrediction]
    build: BuildKeys = field(repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[StepPrediction]:
        return [s for st in self.stages for s in st.steps]

    @property
    def rebuilt(self) -> list[StepPrediction]:
        return [s for s in self.steps if s.rebuilt]

    def to_json(self) -> dict[str, Any]:
        steps = self.steps
        return {
            "stages": [st.to_json() for st in self.stages],
            "summary": {
                "steps": len(steps),
                "rebuilt": sum(1 for s in steps if s.rebuilt),
                "uncertain": sum(1 for s in steps if not s.certain),
            },
            "notes": list(self.notes),
        }


def explain_build(
    build: BuildKeys,
    previous: BuildKeys | None,
    files: ContextFiles,
    previous_files: ContextFiles | None,
    changed_paths: Sequence[str] | None = None,
) -> Prediction:
    """Turn evaluated keys into predictions with reasons, comparing with the previous build
    (`changed_paths`, when known, names the context files that changed)."""
    prev_steps: dict[tuple[str, str], StepKeys] = {}
    if previous is not None:
        for sk in previous.steps:
            prev_steps[_identity(sk)] = sk
    by_keys: dict[int, StepPrediction] = {}
    stages: list[StagePrediction] = []
    for planned_stage in build.plan.stages:
        stages.append(
            StagePrediction(planned_stage.stage.index, planned_stage.stage.display_name, [])
        )
    stage_of = {st.index: st for st in stages}
    context = _Explainer(files, previous_files, changed_paths)
    for sk in build.steps:
        ps = sk.planned
        prev = prev_steps.get(_identity(sk))
        rebuilt = not sk.cached
        reason = context.reason(sk, prev, by_keys, previous is not None)
        pred = StepPrediction(
            ps.stage.index,
            ps.stage_label,
            ps.line,
            ps.end_line,
            ps.keyword,
            ps.text,
            ps.number,
            ps.total,
            ps.trigger,
            rebuilt,
            sk.certain,
            reason,
            sk,
        )
        by_keys[id(sk)] = pred
        stage_of[ps.stage.index].steps.append(pred)
    return Prediction(stages, build)


def first_rebuilt(
    build: BuildKeys,
    previous: BuildKeys | None,
    files: ContextFiles,
    previous_files: ContextFiles | None,
    changed_paths: Sequence[str] | None = None,
) -> tuple[StepKeys, str] | None:
    """The first step that runs again and why (cheaper than explaining every step)."""
    for sk in build.steps:
        if sk.cached or (sk.planned.keyword == "FROM" and previous is None):
            continue
        prev = None
        if previous is not None:
            ident = _identity(sk)
            prev = next((p for p in previous.steps if _identity(p) == ident), None)
        explainer = _Explainer(files, previous_files, changed_paths)
        return sk, explainer.reason(sk, prev, {}, previous is not None)
    return None


def _identity(sk: StepKeys) -> tuple[str, str]:
    ps = sk.planned
    return (ps.stage.name or f"#{ps.stage.index}", ps.ident)


class _Explainer:
    def __init__(
        self,
        files: ContextFiles,
        previous_files: ContextFiles | None,
        changed_paths: Sequence[str] | None,
    ) -> None:
        self.files = files
        self.previous_files = previous_files
        self.changed_paths = changed_paths

    def reason(
        self,
        sk: StepKeys,
        prev: StepKeys | None,
        done: Mapping[int, StepPrediction],
        had_previous: bool,
    ) -> str:
        if sk.cached:
            return self.cached_reason(sk)
        if sk.error:
            return f"the build fails here: {sk.error}"
        ps = sk.planned
        if ps.keyword == "FROM":
            return "base image changed" if prev is not None else "base image not built before"
        if prev is None:
            return "new or changed instruction" if had_previous else "not built before"
        own = self.own_changes(sk, prev)
        suffix = ""
        if not sk.certain:
            suffix = " (unless the steps that ran again reproduce the same files)"
        if own:
            return "; ".join(own) + suffix
        parent = sk.parent
        if parent is not None and not parent.cached:
            cause = done.get(id(parent))
            where = f"line {parent.planned.line}" if cause else "the previous step"
            return f"follows {where} ({parent.planned.keyword}), which is rebuilt{suffix}"
        for dep in sk.deps:
            if dep.name == "root":
                return "the files it starts from changed (BuildKit < 0.16 keys a RUN with a " \
                    "secret or ssh mount on them)" + suffix  # fmt: skip
        return "not in the cache" + suffix

    def cached_reason(self, sk: StepKeys) -> str:
        if sk.via == "guess":
            dep = next((d for d in sk.deps if d.relaxed), None)
            what = dep.describe if dep else "its inputs"
            return f"probably cached: {what} likely unchanged although steps before ran again"
        if sk.via == "content":
            dep = next((d for d in sk.deps if d.input_rebuilt and d.name != "parent"), None)
            if dep is not None:
                return f"cached: {dep.describe} unchanged"
        return ""

    def own_changes(self, sk: StepKeys, prev: StepKeys) -> list[str]:
        out: list[str] = []
        parts, before = sk.parts, prev.parts
        if parts.get("op") != before.get("op"):
            out.append("instruction changed")
        if parts.get("workdir") != before.get("workdir"):
            out.append("working directory changed")
        if parts.get("user") != before.get("user"):
            out.append("user changed")
        if parts.get("env") != before.get("env"):
            out.append(_env_change(sk, prev))
        prev_deps = {d.name: d for d in prev.deps}
        for dep in sk.deps:
            if dep.name == "parent":
                continue
            old = prev_deps.get(dep.name)
            if old is None or old.alternatives == dep.alternatives:
                continue
            if dep.name.startswith("stage:"):
                if old.relaxed is not None and dep.relaxed == old.relaxed:
                    continue  # only re-run steps differ: not a change of its own
                out.append(f"{dep.describe} changed")
            elif dep.name == "root":
                if old.relaxed is not None and dep.relaxed == old.relaxed:
                    continue
                out.append("the files it starts from changed")
            elif dep.spec is not None:
                out.append(self.files_changed(dep, old))
        return out

    def files_changed(self, dep: Dep, old: Dep) -> str:
        assert dep.spec is not None
        kind = "bind-mounted " if dep.name.startswith("mount:") else ""
        paths: list[str]
        if self.changed_paths is not None:
            spec = dep.spec
            before = self.previous_files
            paths = [
                p
                for p in self.changed_paths
                if self.files.selects(spec, p) or (before is not None and before.selects(spec, p))
            ]
        elif self.previous_files is not None:
            paths = diff_members(
                self.previous_files.members(dep.spec), self.files.members(dep.spec)
            )
        else:
            paths = []
        if not paths:
            return f"{kind}files changed ({dep.describe})"
        shown = ", ".join(paths[:MAX_NAMED_FILES])
        more = len(paths) - MAX_NAMED_FILES
        if more > 0:
            shown += f" and {more} more"
        verb = "changes" if len(paths) == 1 else "change"
        return f"{kind}{shown} {verb}" if kind else f"{shown} {verb}"


def _env_change(sk: StepKeys, prev: StepKeys) -> str:
    names = sorted(k for k in set(sk.env) | set(prev.env) if sk.env.get(k) != prev.env.get(k))
    if not names:
        return "base image environment changed"
    args = [n for n in names if n in sk.args or n in prev.args]
    envs = [n for n in names if n not in args]
    bits = []
    if args:
        bits.append(f"build arg {', '.join(args)} changed")
    if envs:
        bits.append(f"ENV {', '.join(envs)} changed")
    return "; ".join(bits)


class Simulator:
    """Follows a sequence of builds of one project: each state is predicted against the cache of
    the states before it, then recorded as built."""

    def __init__(self, features: Features = DOCKER_BUILTIN) -> None:
        self.store = CacheStore()
        self.features = features
        self.previous: BuildKeys | None = None
        self.previous_files: ContextFiles | None = None

    def evaluate(
        self,
        plan: BuildPlan,
        files: ContextFiles,
        bases: Mapping[str, BaseImage] | None = None,
    ) -> BuildKeys:
        """Keys and cache hits of one build, without explanations."""
        return evaluate(plan, files, self.store, bases, self.features)

    def predict(
        self,
        plan: BuildPlan,
        files: ContextFiles,
        bases: Mapping[str, BaseImage] | None = None,
        changed_paths: Sequence[str] | None = None,
        *,
        record: bool = True,
    ) -> Prediction:
        build = evaluate(plan, files, self.store, bases, self.features)
        prediction = explain_build(build, self.previous, files, self.previous_files, changed_paths)
        if record:
            self.record(build, files)
        return prediction

    def record(self, build: BuildKeys, files: ContextFiles) -> None:
        self.store.record(build)
        self.previous = build
        self.previous_files = files


def load_plan(
    dockerfile: str | Path | Dockerfile,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
) -> BuildPlan:
    """Parse a Dockerfile (unless given parsed) and plan the build of `target`."""
    df = dockerfile if isinstance(dockerfile, Dockerfile) else read_dockerfile(dockerfile)
    if target is not None and df.model(dict(build_args or {}), target).stage_named(target) is None:
        raise InputError(f"target stage {target!r} is not defined in {df.path}")
    return plan_build(df, build_args, target, platform)


def find_dockerfile(context: Path, dockerfile: str | Path | None) -> Path:
    if dockerfile is not None:
        path = Path(dockerfile)
        if not path.is_file():
            raise InputError(f"{path}: no such Dockerfile")
        return path
    for name in ("Dockerfile", "dockerfile", "Containerfile"):
        if (context / name).is_file():
            return context / name
    raise InputError(f"{context}: no Dockerfile (pass one with -f)")


def predict_changes(
    context: str | Path,
    dockerfile: str | Path | None = None,
    changed: Iterable[str] = (),
    *,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    new_build_args: Mapping[str, str] | None = None,
    changed_bases: Iterable[str] = (),
    features: Features = DOCKER_BUILTIN,
) -> Prediction:
    """Which steps rebuild when `changed` paths change (relative to the context, or paths that
    exist from the current directory), when `new_build_args` replace build args, and when the
    images named in `changed_bases` change, starting from a cache that holds the build of the
    context as it is now."""
    root = Path(context)
    if not root.is_dir():
        raise InputError(f"{context}: build context is not a directory")
    df_path = find_dockerfile(root, dockerfile)
    before_plan = load_plan(df_path, build_args, target, platform)
    after_args = {**(build_args or {}), **(new_build_args or {})}
    after_plan = load_plan(df_path, after_args, target, platform) if new_build_args else before_plan
    rel_changed, notes = _context_paths(root, changed)
    before_files = WorkingTree.open(root, df_path, content=False)
    after_files = WorkingTree.open(root, df_path, content=False, changed=rel_changed)
    sim = Simulator(features)
    sim.predict(before_plan, before_files)
    bases = {ref: BaseImage(ref, h("changed", ref)) for ref in changed_bases}
    unknown = [ref for ref in bases if ref not in {st.stage.base_name for st in after_plan.stages}]
    for ref in unknown:
        notes.append(f"no built stage is FROM {ref}")
    prediction = sim.predict(after_plan, after_files, bases, rel_changed, record=False)
    ignored = [p for p in rel_changed if _is_excluded(after_files, p)]
    for p in ignored:
        notes.append(f"{p}: excluded by .dockerignore, never sent to BuildKit")
    prediction.notes.extend(notes)
    return prediction


def _is_excluded(files: WorkingTree, path: str) -> bool:
    from layerwise.cache.files import _excluded

    matcher = files.ignore.matcher
    return bool(matcher.patterns) and _excluded(matcher, path)


def _context_paths(root: Path, paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """Paths as a user gives them (relative to the current directory or to the context, or
    absolute) made relative to the context; a path that exists nowhere is a new file in the
    context."""
    real_root = root.resolve()
    out: list[str] = []
    notes: list[str] = []
    for raw in paths:
        p = Path(raw)
        candidates = [p] if p.is_absolute() else [Path.cwd() / p, root / p]
        chosen = next((c for c in candidates if c.exists() or c.is_symlink()), candidates[-1])
        try:
            rel = (chosen.parent.resolve() / chosen.name).relative_to(real_root).as_posix()
        except ValueError:
            notes.append(f"{raw}: outside the build context, never sent to BuildKit")
            continue
        out.append(clean_source(rel))
    return out, notes
