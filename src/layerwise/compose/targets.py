"""The builds of a compose project as the other commands use them: one resolver for `lint`,
`context`, `optimize`, `cache`, `bench` and `deps`.

    from layerwise.compose.targets import resolve_builds
    builds = resolve_builds(".", services=["api"])   # -f files, --service filter
    for build in builds.builds:                      # one per context + Dockerfile
        build.services, build.context, build.dockerfile, build.dockerfile_inline
        for variant in build.variants:               # one per target + build args
            variant.services, variant.target, variant.args, variant.network
    build, variant = builds.one("bench")             # exactly one thing to build, or InputError

A Dockerfile that several services build is one build listing them; when they build it with
different targets or build arguments, each combination is a variant (lint reads every variant,
optimize rewrites the file for the first). Remote contexts are left out with a note: layerwise
reads local files only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layerwise.compose.loader import build_targets, find_compose_files, load_project
from layerwise.compose.model import BuildTarget, ComposeProject
from layerwise.errors import InputError

if TYPE_CHECKING:
    from layerwise.context.project import BuildContext
    from layerwise.dockerfile.model import Model
    from layerwise.dockerfile.syntax import Dockerfile

DOCKERFILE_NAMES = ("Dockerfile", "Containerfile", "dockerfile", "containerfile")


@dataclass(frozen=True)
class BuildVariant:
    """The services that build one Dockerfile with the same target and build arguments."""

    services: tuple[str, ...]
    target: str | None
    args: dict[str, str]
    network: str | None

    @property
    def target_label(self) -> str:
        return self.target or "(the last stage)"


@dataclass(frozen=True)
class ServiceBuild:
    """One local build of a compose project: a context directory and a Dockerfile (a file, or
    the text of `dockerfile_inline`), with the services that build it."""

    context: Path
    dockerfile: Path | None
    dockerfile_inline: str | None
    variants: tuple[BuildVariant, ...]

    @property
    def services(self) -> list[str]:
        return sorted(s for v in self.variants for s in v.services)

    @property
    def primary(self) -> BuildVariant:
        """The variant of the first service (by name): what a single-result command uses."""
        return self.variants[0]

    @property
    def target(self) -> str | None:
        return self.primary.target

    @property
    def args(self) -> dict[str, str]:
        return self.primary.args

    @property
    def network(self) -> str | None:
        return self.primary.network

    @property
    def label(self) -> str:
        names = self.services
        return f"service{'s' if len(names) > 1 else ''} {', '.join(names)}"

    @property
    def note(self) -> str | None:
        """Said when the services build the file differently and a command can take one way."""
        if len(self.variants) < 2:
            return None
        stages = sorted({v.target_label for v in self.variants})
        how = f"targets {', '.join(stages)}" if len(stages) > 1 else "different build arguments"
        first = self.primary
        return (
            f"built with {how}: taken as service {first.services[0]} builds it "
            f"(target {first.target_label})"
        )

    def read(self, path_label: str | None = None) -> Dockerfile:
        """The Dockerfile parsed (the file, or the inline text under a label naming the
        service). Raises InputError / DockerfileSyntaxError as the parser does."""
        from layerwise.dockerfile.parser import parse_dockerfile, read_dockerfile

        if self.dockerfile is not None:
            return read_dockerfile(path_label or self.dockerfile)
        assert self.dockerfile_inline is not None
        label = path_label or f"<dockerfile_inline of {self.services[0]}>"
        return parse_dockerfile(self.dockerfile_inline, label)

    def build_context(
        self, variant: BuildVariant | None = None, model: Model | None = None
    ) -> BuildContext:
        """The build context as BuildKit sees it for this variant (default: the primary): the
        ignore file it picks and the steps of the target's stages (read through `model`, a
        model of this Dockerfile for the variant, when given)."""
        from layerwise.context.ignore import load_ignore
        from layerwise.context.project import BuildContext
        from layerwise.context.walk import resolve_root

        variant = variant or self.primary
        if self.dockerfile is not None:
            if model is not None:
                return BuildContext.load(self.context, self.dockerfile, model=model)
            return BuildContext.load(
                self.context, self.dockerfile, build_args=variant.args, target=variant.target
            )
        if model is None:
            model = self.read().model(build_args=dict(variant.args), target=variant.target)
            if variant.target is not None and model.stage_named(variant.target) is None:
                raise InputError(
                    f"target stage {variant.target!r} is not defined in the inline Dockerfile "
                    f"of service {variant.services[0]}"
                )
        return BuildContext(
            resolve_root(self.context), None, load_ignore(self.context, None), model
        )

    def check(self) -> None:
        """InputError naming the services when the context or the Dockerfile is missing (as
        `docker compose build` would fail)."""
        if not self.context.is_dir():
            raise InputError(f"{self.label}: build context {self.context} is not a directory")
        if self.dockerfile is not None and not self.dockerfile.is_file():
            raise InputError(f"{self.label}: Dockerfile {self.dockerfile} does not exist")

    def overridden(self, args: Mapping[str, str], target: str | None) -> ServiceBuild:
        """The build with command-line --build-arg values added to (and winning over) every
        service's, and --target (when given) replacing theirs."""
        if not args and target is None:
            return self
        variants = tuple(
            dataclasses.replace(v, args={**v.args, **args}, target=target or v.target)
            for v in self.variants
        )
        return dataclasses.replace(self, variants=variants)

    def to_json(self) -> dict[str, Any]:
        """Where the build is, without build argument values (they may hold secrets)."""
        return {
            "services": self.services,
            "context": str(self.context),
            "dockerfile": str(self.dockerfile) if self.dockerfile is not None else None,
            "dockerfile_inline": self.dockerfile_inline is not None,
            "targets": [v.target for v in self.variants],
        }


@dataclass
class ComposeBuilds:
    """The local builds of a compose project (after a --service filter) and notes on what was
    left out."""

    project: ComposeProject
    builds: list[ServiceBuild]
    notes: list[str] = field(default_factory=list)
    targets: list[BuildTarget] = field(default_factory=list)  # every selected service's

    @property
    def services(self) -> list[str]:
        return sorted(t.service for t in self.targets)

    def dockerfiles(self) -> set[Path]:
        """The Dockerfiles the selected services build (resolved paths)."""
        return {b.dockerfile.resolve() for b in self.builds if b.dockerfile is not None}

    def one(self, command: str) -> tuple[ServiceBuild, BuildVariant]:
        """The single build a command that builds one thing takes; InputError naming the
        services when there are several (or none that is local)."""
        pairs = [(b, v) for b in self.builds for v in b.variants]
        if len(pairs) == 1:
            build, variant = pairs[0]
            build.check()
            return build, variant
        if not pairs:
            why = "; ".join(self.notes) or "no service has a build: section"
            raise InputError(f"{command}: nothing to build ({why})")
        names = ", ".join(sorted(s for _, v in pairs for s in v.services))
        raise InputError(
            f"{command} takes one build and the compose project has several (services "
            f"{names}): choose one with --service NAME"
        )


def resolve_builds(
    directory: str | Path,
    files: Sequence[str] = (),
    services: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
) -> ComposeBuilds:
    """The builds of the compose project in `directory` (its default compose files, or the
    `files` given as `-f`), with each service's context, Dockerfile, target and build arguments
    as Compose resolves them, grouped by context and Dockerfile.

    `services` narrows it to those services: an unknown name, or one without `build:`, is an
    InputError naming the services there are. Raises ComposeFileError for a compose file that
    is not valid."""
    project = load_project(directory, files=list(files) or None, env=env)
    targets = build_targets(project, list(services) or None)
    notes: list[str] = []
    groups: dict[tuple[str, str, str], list[BuildTarget]] = {}
    for t in targets:
        if t.is_remote:
            # The URL is not repeated: it may carry a token.
            notes.append(
                f"service {t.service}: a remote build context is left out "
                "(layerwise reads local contexts only)"
            )
            continue
        if t.dockerfile is not None:
            key = (t.context, "file", t.dockerfile)
        else:
            key = (t.context, "inline", t.dockerfile_inline or "")
        groups.setdefault(key, []).append(t)
    builds = [_build(group) for group in groups.values()]
    builds.sort(key=lambda b: b.services[0])
    return ComposeBuilds(project, builds, notes, targets)


def _build(targets: list[BuildTarget]) -> ServiceBuild:
    variants: dict[tuple[str | None, tuple[tuple[str, str], ...]], list[BuildTarget]] = {}
    for t in sorted(targets, key=lambda t: t.service):
        variants.setdefault((t.target, tuple(sorted(t.args.items()))), []).append(t)
    first = targets[0]
    return ServiceBuild(
        context=Path(first.context),
        dockerfile=Path(first.dockerfile) if first.dockerfile is not None else None,
        dockerfile_inline=first.dockerfile_inline,
        variants=tuple(
            BuildVariant(tuple(t.service for t in group), target, dict(args), group[0].network)
            for (target, args), group in variants.items()
        ),
    )


def is_compose_directory(directory: str | Path, dockerfile: str | Path | None = None) -> bool:
    """Whether a command given DIR means its compose project: no Dockerfile named (-f) and none
    in DIR, but compose files."""
    root = Path(directory)
    if dockerfile is not None or not root.is_dir():
        return False
    if any((root / name).is_file() for name in DOCKERFILE_NAMES):
        return False
    return bool(find_compose_files(root))


__all__ = [
    "BuildVariant",
    "ComposeBuilds",
    "ServiceBuild",
    "is_compose_directory",
    "resolve_builds",
]
