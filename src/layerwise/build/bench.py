"""`layerwise bench`: time the builds that matter, on private copies of the context.

    from layerwise.build.bench import measure
    report = measure("Dockerfile", "Dockerfile.optimized", ".", repeat=3)
    report.ratio("code_change")        # optimized seconds / original seconds

Four scenarios, each repeated and reported as the median:

* `cold`: nothing of this project cached (`--no-cache`; base images are already present and
  their pull is not counted);
* `no_change`: the same build again;
* `code_change`: after a harmless edit (a comment) to a source file the image uses;
* `deps_change`: after a harmless edit to the dependency manifest.

Every Dockerfile gets its own copy of the context (exactly the files its `.dockerignore` lets
through, plus the Dockerfile and the ignore file), so edits never touch the user's files and two
Dockerfiles never share an edit. With several Dockerfiles the builds are interleaved (A, B, A, B)
so that a machine getting slower or faster affects both alike. Each build is tagged; the tags and
the copies are removed at the end, also on Ctrl-C or a failing build.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layerwise.build.docker import Engine, find_engine, remove_images
from layerwise.build.driver import build
from layerwise.build.rawjson import Vertex
from layerwise.build.result import BuildError, BuildResult, StepResult
from layerwise.context.ignore import DOCKERIGNORE, ignore_file_for, load_ignore, parse_ignore
from layerwise.context.walk import walk_context
from layerwise.errors import InputError

SCENARIOS = ("cold", "no_change", "code_change", "deps_change")
SCENARIO_TITLES = {
    "cold": "cold build",
    "no_change": "no-change rebuild",
    "code_change": "code-change rebuild",
    "deps_change": "dependency-change rebuild",
}
# Dependency manifests, most telling first: editing one should rerun the dependency install.
MANIFESTS = (
    "requirements.txt",
    "requirements.in",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile",
    "Pipfile.lock",
    "setup.py",
    "setup.cfg",
    "environment.yml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "Cargo.toml",
    "Cargo.lock",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "pom.xml",
    "build.gradle",
)
CODE_SUFFIXES = (".py", ".js", ".ts", ".mjs", ".go", ".rb", ".rs", ".java", ".kt", ".php", ".cs")
_HASH_COMMENT = {
    ".py", ".txt", ".in", ".toml", ".lock", ".cfg", ".yml", ".yaml", ".rb", ".sh", ".r", ".ini",
}  # fmt: skip
_SLASH_COMMENT = {".js", ".ts", ".mjs", ".go", ".rs", ".java", ".kt", ".php", ".cs", ".gradle"}
_HASH_NAMES = {"Pipfile", "Gemfile", "Dockerfile", "Makefile"}
_SKIP_DIRS = ("test", "tests", "docs", "doc", "examples")

if TYPE_CHECKING:
    from layerwise.context.project import BuildContext

ProgressCallback = Callable[["BuildEvent"], None]


@dataclass(frozen=True)
class Variant:
    """One Dockerfile to measure: a file, or text (e.g. `optimize` output not yet written), with
    the ignore file it goes with (None: the context's own)."""

    label: str
    dockerfile: Path | None = None
    text: str | None = None
    dockerignore: str | None = None

    @classmethod
    def from_path(cls, path: str | Path, label: str | None = None) -> Variant:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: no such Dockerfile")
        return cls(label or p.name, p)

    def read(self) -> str:
        if self.text is not None:
            return self.text
        assert self.dockerfile is not None
        try:
            with self.dockerfile.open(encoding="utf-8", errors="surrogateescape", newline="") as f:
                return f.read()
        except OSError as exc:
            raise InputError(f"{self.dockerfile}: cannot read: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class BenchOptions:
    """How to build: passed through to `docker buildx build`."""

    repeat: int = 1
    scenarios: tuple[str, ...] = SCENARIOS
    builder: str | None = None
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    network: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None
    target: str | None = None
    docker: str | None = None
    code_file: str | None = None  # context-relative; default: chosen from what the image reads
    deps_file: str | None = None
    strip_syntax_directive: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class BuildEvent:
    """Progress: a build starting (`vertex` None), a step changing, or a build done."""

    variant: str
    scenario: str
    repetition: int
    index: int  # builds started so far, this one included
    total: int
    vertex: Vertex | None = None
    result: BuildResult | None = None


@dataclass
class StepTiming:
    stage: str | None
    line: int | None
    keyword: str | None
    text: str
    seconds: float  # median over the repetitions
    cached: bool  # cached in every repetition

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "line": self.line,
            "keyword": self.keyword,
            "text": self.text,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
        }


@dataclass
class ScenarioResult:
    name: str
    runs: list[float] = field(default_factory=list)  # wall seconds of each build
    results: list[BuildResult] = field(default_factory=list, repr=False)
    edited: str | None = None

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs) if self.runs else 0.0

    @property
    def steps(self) -> list[StepTiming]:
        return _median_steps(self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "runs": [round(r, 3) for r in self.runs],
            "edited": self.edited,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass
class VariantResult:
    label: str
    path: str
    scenarios: dict[str, ScenarioResult] = field(default_factory=dict)
    image_bytes: int | None = None
    layers: int | None = None
    context_bytes: int | None = None  # transferred for the first cold build, as BuildKit says
    context_size: int | None = None  # bytes of the files the build sends (its context walk)
    skipped: dict[str, str] = field(default_factory=dict)  # scenario -> why

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "path": self.path,
            "scenarios": {k: v.to_json() for k, v in self.scenarios.items()},
            "image_bytes": self.image_bytes,
            "layers": self.layers,
            "context_bytes": self.context_bytes,
            "context_size": self.context_size,
            "skipped": dict(self.skipped),
        }


@dataclass
class BenchReport:
    context: Path
    variants: list[VariantResult]
    repeat: int
    wall_seconds: float = 0.0
    build_seconds: float = 0.0  # wall time of the `buildx build` processes themselves
    code_file: str | None = None
    deps_file: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def overhead(self) -> float:
        """Share of the wall time spent outside the builds (copies, edits, inspections)."""
        if self.wall_seconds <= 0:
            return 0.0
        return max(0.0, self.wall_seconds - self.build_seconds) / self.wall_seconds

    def ratio(self, scenario: str, index: int = 1) -> float | None:
        """Seconds of variant `index` over the first variant's, for a scenario."""
        if len(self.variants) <= index:
            return None
        a = self.variants[0].scenarios.get(scenario)
        b = self.variants[index].scenarios.get(scenario)
        if a is None or b is None or not a.runs or not b.runs or a.seconds <= 0:
            return None
        return b.seconds / a.seconds

    def ratios(self, index: int = 1) -> dict[str, float | None]:
        out: dict[str, float | None] = {s: self.ratio(s, index) for s in SCENARIOS}
        if len(self.variants) > index:
            a, b = self.variants[0], self.variants[index]
            out["image_bytes"] = _div(b.image_bytes, a.image_bytes)
            out["layers"] = _div(b.layers, a.layers)
            out["context_bytes"] = _div(b.context_bytes, a.context_bytes)
            out["context_size"] = _div(b.context_size, a.context_size)
        return out

    def to_json(self) -> dict[str, Any]:
        ratios = {k: None if v is None else round(v, 4) for k, v in self.ratios().items()}
        return {
            "context": str(self.context),
            "repeat": self.repeat,
            "code_file": self.code_file,
            "deps_file": self.deps_file,
            "dockerfiles": [v.to_json() for v in self.variants],
            "ratios": ratios if len(self.variants) > 1 else {},
            "wall_seconds": round(self.wall_seconds, 3),
            "build_seconds": round(self.build_seconds, 3),
            "overhead": round(self.overhead, 4),
            "notes": list(self.notes),
        }


def _div(a: int | None, b: int | None) -> float | None:
    if a is None or not b:
        return None
    return a / b


def _median_steps(results: Sequence[BuildResult]) -> list[StepTiming]:
    """Per step (by stage and line, else by name) the median duration over the builds."""
    if not results:
        return []
    order: list[tuple[object, ...]] = []
    found: dict[tuple[object, ...], list[StepResult]] = {}
    for result in results:
        for step in result.steps:
            key: tuple[object, ...] = (
                (step.stage_index, step.line, step.keyword)
                if step.line is not None
                else (step.name,)
            )
            if key not in found:
                found[key] = []
                order.append(key)
            found[key].append(step)
    out = []
    for key in order:
        steps = found[key]
        first = steps[0]
        text = first.name.split("] ", 1)[-1] if "] " in first.name else first.name
        stage = first.stage
        if stage is None and first.stage_index is not None:
            stage = f"stage-{first.stage_index}"  # as the cache model names an unnamed stage
        out.append(
            StepTiming(
                stage,
                first.line,
                first.keyword,
                text,
                statistics.median(s.seconds for s in steps),
                all(s.cached for s in steps),
            )
        )
    return out


# -- choosing what to edit ---------------------------------------------------------------------


def read_paths(context: Path, dockerfile: Path, options: BenchOptions) -> set[str]:
    """Context files the built stages of `dockerfile` read (COPY/ADD sources, bind mounts)."""
    return {p for p in _context(context, dockerfile, options).read_paths if (context / p).is_file()}


def _context(context: Path, dockerfile: Path, options: BenchOptions) -> BuildContext:
    from layerwise.context.project import BuildContext

    return BuildContext.load(
        context, dockerfile, build_args=dict(options.build_args), target=options.target
    )


def choose_manifest(paths: set[str]) -> str | None:
    by_name: dict[str, list[str]] = {}
    for p in paths:
        by_name.setdefault(p.rsplit("/", 1)[-1], []).append(p)
    for name in MANIFESTS:
        if name in by_name:
            return min(by_name[name], key=lambda p: (p.count("/"), p))
    reqs = sorted(p for p in paths if p.rsplit("/", 1)[-1].startswith("requirements"))
    return reqs[0] if reqs else None


def choose_code_file(paths: set[str], manifest: str | None) -> str | None:
    def rank(p: str) -> tuple[int, int, int, str]:
        parts = p.split("/")
        in_tests = any(part in _SKIP_DIRS or part.startswith("test") for part in parts)
        return (int(in_tests), int(parts[-1] == "__init__.py"), len(parts), p)

    candidates = [
        p
        for p in paths
        if p.endswith(CODE_SUFFIXES) and p != manifest and not p.endswith("setup.py")
    ]
    return min(candidates, key=rank) if candidates else None


def harmless_edit(path: Path) -> None:
    """Change a file's bytes without changing what it means: a comment line in its own syntax
    (whitespace for JSON and unknown types). Written atomically, keeping the mode."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    marker = f"layerwise bench edit {uuid.uuid4().hex}"
    suffix = path.suffix.lower()
    if suffix in _HASH_COMMENT or path.name in _HASH_NAMES:
        addition = f"# {marker}\n"
    elif suffix in _SLASH_COMMENT or path.name == "go.mod":
        addition = f"// {marker}\n"
    elif suffix in (".xml", ".html"):
        addition = f"<!-- {marker} -->\n"
    elif suffix == ".css":
        addition = f"/* {marker} */\n"
    else:
        addition = "\n"  # JSON and anything else: one more line ending changes the bytes
    if text and not text.endswith("\n"):
        addition = "\n" + addition
    from layerwise.fsutil import atomic_write

    atomic_write(path, text + addition)


# -- private copies ----------------------------------------------------------------------------


@dataclass
class _Copy:
    variant: Variant
    root: Path  # the context copy
    dockerfile: Path
    result: VariantResult


def _make_copy(context: Path, dockerfile_rel: str | None, variant: Variant, dest: Path) -> _Copy:
    """Copy what the variant's build can see: the context after its ignore file."""
    text = variant.read()
    root = dest / "context"
    root.mkdir(parents=True)
    if variant.dockerignore is not None:
        _, matcher = parse_ignore(variant.dockerignore, DOCKERIGNORE)
        snapshot = walk_context(context, matcher)
    else:
        ignore = load_ignore(context, variant.dockerfile or (context / "Dockerfile"))
        snapshot = walk_context(context, ignore)
    for entry in snapshot.entries.values():
        src = context / entry.path
        dst = root / entry.path
        if entry.kind == "dir":
            dst.mkdir(parents=True, exist_ok=True)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "symlink":
            dst.symlink_to(entry.target or "")
        elif entry.kind == "file":
            shutil.copy2(src, dst)
    ignore_path = ignore_file_for(context, variant.dockerfile)
    if variant.dockerignore is not None:
        (root / DOCKERIGNORE).write_text(variant.dockerignore)
    elif ignore_path is not None and ignore_path.parent.resolve() == context.resolve():
        shutil.copy2(ignore_path, root / ignore_path.name)
    if dockerfile_rel is not None:
        dockerfile = root / dockerfile_rel
        dockerfile.parent.mkdir(parents=True, exist_ok=True)
    else:
        dockerfile = dest / "Dockerfile"
        if variant.dockerignore is None and ignore_path is not None and variant.dockerfile:
            specific = variant.dockerfile.parent / (variant.dockerfile.name + ".dockerignore")
            if specific.is_file():
                shutil.copy2(specific, dest / "Dockerfile.dockerignore")
    dockerfile.write_text(text, encoding="utf-8", errors="surrogateescape")
    path = str(variant.dockerfile) if variant.dockerfile is not None else f"<{variant.label}>"
    return _Copy(variant, root, dockerfile, VariantResult(variant.label, path))


def _dockerfile_rel(context: Path, variant: Variant) -> str | None:
    """Where the Dockerfile goes in the copy: its place in the context, else beside it."""
    if variant.dockerfile is None:
        return "Dockerfile"
    try:
        return variant.dockerfile.resolve().relative_to(context.resolve()).as_posix()
    except ValueError:
        return None


# -- running -----------------------------------------------------------------------------------


def run_bench(
    context: str | Path,
    variants: Sequence[Variant],
    options: BenchOptions | None = None,
    progress: ProgressCallback | None = None,
) -> BenchReport:
    """Measure every variant in every scenario (see the module docstring)."""
    started = time.perf_counter()
    options = options or BenchOptions()
    root = Path(context)
    if not root.is_dir():
        raise InputError(f"{context}: build context is not a directory")
    if not variants:
        raise InputError("nothing to measure: no Dockerfile given")
    if options.repeat < 1:
        raise InputError("--repeat must be at least 1")
    unknown = [s for s in options.scenarios if s not in SCENARIOS]
    if unknown:
        raise InputError(f"unknown scenario {unknown[0]!r} (choose from {', '.join(SCENARIOS)})")
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise InputError("two Dockerfiles to measure have the same label")
    engine = find_engine(options.docker)
    tags: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="layerwise-bench-"))
    report = BenchReport(root.resolve(), [], options.repeat)
    try:
        copies = [
            _make_copy(root, _dockerfile_rel(root, v), v, tmp / f"v{i}")
            for i, v in enumerate(variants)
        ]
        report.variants = [c.result for c in copies]
        for c in copies:
            c.result.context_size = _context(c.root, c.dockerfile, options).transfer.total_bytes
        code_file, deps_file = _edit_files(copies, options, report)
        report.code_file, report.deps_file = code_file, deps_file
        plan = _plan(options, copies, code_file, deps_file)
        total = len(plan)
        for index, (scenario, repetition, copy) in enumerate(plan, start=1):
            edited = None
            if scenario == "code_change" and code_file:
                harmless_edit(copy.root / code_file)
                edited = code_file
            elif scenario == "deps_change" and deps_file:
                harmless_edit(copy.root / deps_file)
                edited = deps_file
            tag = f"layerwise-bench-{uuid.uuid4().hex[:12]}:{index}"
            tags.append(tag)
            first_cold = scenario == "cold" and repetition == 0
            event = BuildEvent(copy.variant.label, scenario, repetition, index, total)
            if progress is not None:
                progress(event)
            callback = None
            if progress is not None:

                def callback(vertex: Vertex, _e: BuildEvent = event) -> None:
                    progress(
                        BuildEvent(
                            _e.variant, _e.scenario, _e.repetition, _e.index, _e.total, vertex
                        )
                    )

            try:
                result = _build(copy, options, engine, tag, scenario, first_cold, callback)
            except BuildError as exc:
                # Name the user's Dockerfile, not the private copy it was built from.
                shown = str(copy.variant.dockerfile or copy.result.path)
                raise BuildError(
                    str(exc.args[0]).replace(str(copy.dockerfile), shown),
                    step=exc.step,
                    log_tail=exc.log_tail,
                    result=exc.result,
                ) from None
            report.build_seconds += result.seconds
            res = copy.result.scenarios.setdefault(scenario, ScenarioResult(scenario))
            res.runs.append(result.seconds)
            res.results.append(result)
            res.edited = edited
            if first_cold:
                copy.result.image_bytes = result.image_size
                copy.result.layers = result.layers
                copy.result.context_bytes = result.context_bytes
            if progress is not None:
                progress(
                    BuildEvent(
                        copy.variant.label, scenario, repetition, index, total, result=result
                    )
                )
    finally:
        with contextlib.suppress(Exception):
            remove_images(engine, tags)
        shutil.rmtree(tmp, ignore_errors=True)
        report.wall_seconds = time.perf_counter() - started
    return report


def _build(
    copy: _Copy,
    options: BenchOptions,
    engine: Engine,
    tag: str,
    scenario: str,
    first_cold: bool,
    callback: Callable[[Vertex], None] | None,
) -> BuildResult:
    return build(
        copy.root,
        copy.dockerfile,
        tag=tag,
        target=options.target,
        build_args=dict(options.build_args),
        network=options.network,
        platform=options.platform,
        builder=options.builder,
        cache_from=options.cache_from,
        cache_to=options.cache_to,
        no_cache=scenario == "cold",
        load=first_cold,
        progress_callback=callback,
        docker=engine,
        strip_syntax_directive=options.strip_syntax_directive,
        timeout=options.timeout,
        image_info=first_cold,
    )


def _edit_files(
    copies: list[_Copy], options: BenchOptions, report: BenchReport
) -> tuple[str | None, str | None]:
    wants_code = "code_change" in options.scenarios
    wants_deps = "deps_change" in options.scenarios
    if not (wants_code or wants_deps):
        return None, None
    reads = [read_paths(c.root, c.dockerfile, options) for c in copies]
    common = set.intersection(*reads) if reads else set()
    code = options.code_file
    deps = options.deps_file
    for name, value in (("--code-file", code), ("--deps-file", deps)):
        if value is not None and not all((c.root / value).is_file() for c in copies):
            raise InputError(f"{name} {value}: not a file in the build context")
    if wants_deps and deps is None:
        deps = choose_manifest(common) or choose_manifest(reads[0])
    if wants_code and code is None:
        code = choose_code_file(common, deps) or choose_code_file(reads[0], deps)
    for scenario, value, what in (
        ("code_change", code, "no source file the image reads was found (use --code-file)"),
        ("deps_change", deps, "no dependency manifest the image reads was found (--deps-file)"),
    ):
        if scenario in options.scenarios and value is None:
            for c in copies:
                c.result.skipped[scenario] = what
            report.notes.append(f"{scenario} skipped: {what}")
    return code, deps


def _plan(
    options: BenchOptions, copies: list[_Copy], code: str | None, deps: str | None
) -> list[tuple[str, int, _Copy]]:
    out = []
    for scenario in options.scenarios:
        if (scenario == "code_change" and code is None) or (
            scenario == "deps_change" and deps is None
        ):
            continue
        for repetition in range(options.repeat):
            for copy in copies:
                out.append((scenario, repetition, copy))
    return out


def measure(
    original: str | Path | Variant,
    optimized: str | Path | Variant,
    context: str | Path,
    *,
    repeat: int = 1,
    scenarios: Sequence[str] = SCENARIOS,
    options: BenchOptions | None = None,
    progress: ProgressCallback | None = None,
) -> BenchReport:
    """Before/after numbers for `optimize --measure`: both Dockerfiles built in every scenario,
    interleaved. A path is a Dockerfile on disk; a `Variant` can carry text not written yet and
    the `.dockerignore` text that goes with it. Ratios: `report.ratios()` (optimized / original).
    """
    first = original if isinstance(original, Variant) else Variant.from_path(original, "original")
    second = (
        optimized if isinstance(optimized, Variant) else Variant.from_path(optimized, "optimized")
    )
    if first.label == second.label:
        second = Variant(second.label + " (2)", second.dockerfile, second.text, second.dockerignore)
    base = options or BenchOptions()
    opts = BenchOptions(**{**base.__dict__, "repeat": repeat, "scenarios": tuple(scenarios)})
    return run_bench(context, [first, second], opts, progress)
