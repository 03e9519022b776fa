"""The structural (unsafe) transforms, and applying them to a whole file.

Each transform belongs to the rule whose finding it fixes: that rule's `check` calls the
transform to build the finding's unsafe fix, so `layerwise fix --unsafe` applies it through the
fix engine with suppressions and rule selection honoured. `apply_structural` runs the transforms
whose rule is not registered (yet) directly, in a fixed order (manifest-first, then the
multi-stage split, then the non-root user), re-parsing after each, so `layerwise optimize
--unsafe` does the whole job either way; a transform whose rule is registered is left to the
rule.
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
from layerwise.fixes.text import ensure_syntax_directive, uses_buildkit_syntax
from layerwise.rules.base import Fix, LintContext, registry


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
    include_registered: bool = False,
    options: Options | None = None,
) -> StructuralResult:
    """Apply the structural transforms whose rule is not registered (all of them with
    `include_registered`), each on the result of the one before."""
    from layerwise import rules as _families  # noqa: F401 - registers the rule families

    config = config or Config()
    options = options or Options()
    result = StructuralResult(df.text)
    current = df
    for transform in transforms:
        if not selected(transform.rule, config, select, ignore, df.path):
            continue
        if transform.rule in registry() and not include_registered:
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
    """What `layerwise fix` does: the rules' fixes, and with `unsafe` the structural transforms
    whose rule is not registered, then the safe fixes again for what they wrote. The structural
    changes are listed in `FixResult.structural` (rule, description), the ones that do not
    apply in `FixResult.structural_skipped` (transform, why)."""
    original = df
    pre: StructuralResult | None = None
    if unsafe and options is not None and options.writable:
        # Directories the app writes are only known from the caller: the non-root transform
        # runs first with them (the root-user rule then has nothing left to fix).
        pre = apply_structural(
            df,
            build_context=build_context,
            config=config,
            select=select,
            ignore=ignore,
            transforms=[NON_ROOT],
            include_registered=True,
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
    if not unsafe:
        return result
    current = parse_dockerfile(result.text, df.path)
    structural = apply_structural(
        current,
        build_context=build_context,
        config=config,
        select=select,
        ignore=ignore,
        options=options,
    )
    result.structural_skipped.extend(structural.skipped)
    if not structural.applied:
        _explain_remaining(result, df.path, build_context, config, options)
        return result
    result.structural.extend((a.rule, a.description) for a in structural.applied)
    again = fix_dockerfile(
        parse_dockerfile(structural.text, df.path),
        unsafe=unsafe,
        config=config,
        select=select,
        ignore=ignore,
        build_context=build_context,
    )
    result.text = again.text
    result.applied.extend(again.applied)
    result.rejected.extend(again.rejected)
    result.remaining = again.remaining
    result.rounds += again.rounds
    result.notes.extend(n for n in again.notes if n not in result.notes)
    final = parse_dockerfile(result.text, df.path)
    if not uses_buildkit_syntax(original) and uses_buildkit_syntax(final):
        edits = ensure_syntax_directive(final)
        if edits:
            result.text = apply_edits(result.text, edits)
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
    for transform in TRANSFORMS:
        if transform.rule not in still or transform.rule not in registry():
            continue
        if any(name == transform.name for name, _ in result.structural_skipped):
            continue
        ctx = LintContext(
            parse_dockerfile(result.text, path),
            config=config or Config(),
            build_context=build_context,
        )
        fix, why = transform.attempt(ctx, options or Options())
        if fix is None and why:
            result.structural_skipped.append((transform.name, why))
