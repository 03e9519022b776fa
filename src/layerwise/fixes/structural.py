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
from layerwise.fixes.engine import apply_edits
from layerwise.fixes.manifest import split_manifest_first
from layerwise.fixes.multistage import split_multistage
from layerwise.fixes.nonroot import split_nonroot
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
