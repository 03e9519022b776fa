"""The structural (unsafe) transforms, and applying them to a whole file.

Each transform belongs to the rule whose finding it fixes (manifest-first: LW101, multi-stage:
LW201, non-root: LW401): that rule's `check` calls the transform to build the finding's unsafe
fix, so `layerwise fix --unsafe` applies it through the fix engine with suppressions and rule
selection honoured. `apply_structural` runs given transforms directly, re-parsing after each:
`fix_all` uses it for the non-root user when the caller names the directories the app writes,
which no rule can know. `fix_all` also says why a transform did not apply where its rule still
reports the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from layerwise.config import Config
from layerwise.context.project import BuildContext
from layerwise.dockerfile.parser import parse_dockerfile
from layerwise.dockerfile.syntax import Dockerfile
from layerwise.errors import DockerfileSyntaxError
from layerwise.fixes.engine import FixResult, apply_edits, fix_dockerfile
from layerwise.fixes.manifest import split_manifest_first
from layerwise.fixes.multistage import split_multistage
from layerwise.fixes.nonroot import split_nonroot
from layerwise.rules.base import Fix, LintContext


@dataclass(frozen=True)
class Options:
    writable: tuple[str, ...] = ()  # directories the app writes (non-root)


Attempt = Callable[[LintContext, Options], tuple[Fix | None, str | None]]


@dataclass(frozen=True)
class Transform:
    name: str
    rule: str  # the rule whose finding this fixes
    attempt: Attempt
    repeat: bool = False  # may apply more than once (one split per stage)


def _manifest(ctx: LintContext, options: Options) -> tuple[Fix | None, str | None]:
    r = split_manifest_first(ctx)
    return r.fix, r.reason


def _multistage(ctx: LintContext, options: Options) -> tuple[Fix | None, str | None]:
    r = split_multistage(ctx)
    return r.fix, r.reason


def _nonroot(ctx: LintContext, options: Options) -> tuple[Fix | None, str | None]:
    r = split_nonroot(ctx, writable=options.writable)
    return r.fix, r.reason


MANIFEST_FIRST = Transform("manifest-first", "LW101", _manifest, repeat=True)
MULTI_STAGE = Transform("multi-stage", "LW201", _multistage)
NON_ROOT = Transform("non-root", "LW401", _nonroot)
TRANSFORMS: tuple[Transform, ...] = (MANIFEST_FIRST, MULTI_STAGE, NON_ROOT)


@dataclass
class Applied:
    name: str
    rule: str
    description: str


@dataclass
class StructuralResult:
    text: str
    applied: list[Applied] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (transform, why not)


def selected(
    rule: str, config: Config, select: Sequence[str], ignore: Sequence[str], path: str | None
) -> bool:
    if select and not any(rule.startswith(s.upper()) for s in select):
        return False
    if any(rule.startswith(i.upper()) for i in ignore):
        return False
    return config.enabled(rule, path)


def apply_structural(
    df: Dockerfile,
    *,
    build_context: BuildContext | None = None,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    transforms: Sequence[Transform] = TRANSFORMS,
    options: Options | None = None,
) -> StructuralResult:
    """Apply the transforms (whose rule is selected), each on the result of the one before."""
    config = config or Config()
    options = options or Options()
    result = StructuralResult(df.text)
    current = df
    for transform in transforms:
        if not selected(transform.rule, config, select, ignore, df.path):
            continue
        for _ in range(8 if transform.repeat else 1):
            ctx = LintContext(current, config=config, build_context=build_context)
            fix, why = transform.attempt(ctx, options)
            if fix is None:
                done = any(a.name == transform.name for a in result.applied)
                if why and not done:
                    result.skipped.append((transform.name, why))
                break
            text = apply_edits(current.text, fix.edits)
            try:
                current = parse_dockerfile(text, df.path)
            except DockerfileSyntaxError as exc:
                result.skipped.append((transform.name, f"the result would not parse: {exc}"))
                break
            result.text = text
            result.applied.append(Applied(transform.name, transform.rule, fix.description))
    return result


def fix_all(
    df: Dockerfile,
    *,
    unsafe: bool = False,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    build_context: BuildContext | None = None,
    options: Options | None = None,
) -> FixResult:
    """What `layerwise fix` and `optimize` do: the rules' fixes (with `unsafe`, the structural
    ones too). Directories the app writes (`options.writable`) are only known from the caller:
    the non-root transform then runs first with them, and what it did is listed in
    `FixResult.structural` (rule, description). With `unsafe`, `FixResult.structural_skipped`
    says (transform, why) for each structural fix whose rule still reports the file."""
    original = df
    pre: StructuralResult | None = None
    if unsafe and options is not None and options.writable:
        pre = apply_structural(
            df,
            build_context=build_context,
            config=config,
            select=select,
            ignore=ignore,
            transforms=[NON_ROOT],
            options=options,
        )
        if pre.applied:
            df = parse_dockerfile(pre.text, df.path)
    result = fix_dockerfile(
        df,
        unsafe=unsafe,
        config=config,
        select=select,
        ignore=ignore,
        build_context=build_context,
    )
    if pre is not None and pre.applied:
        result.original = original.text
        result.structural.extend((a.rule, a.description) for a in pre.applied)
    if unsafe:
        _explain_remaining(result, df.path, build_context, config, options)
    return result


def _explain_remaining(
    result: FixResult,
    path: str | None,
    build_context: BuildContext | None,
    config: Config | None,
    options: Options | None,
) -> None:
    """Say why a structural fix did not apply where its rule still reports the file: the
    rule only offers the fix when the rewrite is safe, and the user should learn why not."""
    still = {f.rule for f in result.remaining}
    transforms = [t for t in TRANSFORMS if t.rule in still]
    if not transforms:
        return
    ctx = LintContext(
        parse_dockerfile(result.text, path), config=config or Config(), build_context=build_context
    )
    for transform in transforms:
        if any(name == transform.name for name, _ in result.structural_skipped):
            continue
        fix, why = transform.attempt(ctx, options or Options())
        if fix is None and why:
            result.structural_skipped.append((transform.name, why))
