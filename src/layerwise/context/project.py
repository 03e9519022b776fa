"""One build's context: the directory, the Dockerfile, the ignore file, what is sent and what
each step reads. Everything is computed on first use and kept, so a rule that only asks whether
a `.dockerignore` exists never walks the tree.

    ctx = BuildContext.load("path/to/app", "path/to/app/Dockerfile", target="runtime")
    ctx.snapshot          # the context after .dockerignore (what `COPY . /` would see)
    ctx.transfer          # what BuildKit actually sends for this Dockerfile and target
    ctx.step_reads        # per COPY/ADD/bind mount of every stage: the resolved sources
    ctx.unused            # files in the context that no step of the built stages reads
    ctx.junk, ctx.secrets # well-known junk and secret-looking files that are sent
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from layerwise.context import gopath
from layerwise.context.ignore import IgnoreFile, IgnorePatternError, ignore_file_for, load_ignore
from layerwise.context.junk import JunkFound, find_junk, is_under
from layerwise.context.secrets import Secret, find_secrets
from layerwise.context.sources import CopyResult, resolve_copy, resolve_mount
from layerwise.context.walk import (
    ContextSnapshot,
    Entry,
    resolve_root,
    transfer_paths,
    walk_context,
)
from layerwise.errors import InputError, LayerwiseError

if TYPE_CHECKING:
    from layerwise.context.dockerignore import Suggestion
    from layerwise.dockerfile.model import Model, Read, Step

DOCKERFILE_NAMES = ("Dockerfile", "dockerfile", "Containerfile")


@dataclass(frozen=True)
class StepRead:
    """One context read of one step (a COPY/ADD, or a RUN bind mount) and what it resolves to."""

    step: Step
    stage: int
    read: Read
    result: CopyResult
    built: bool  # is the stage built for the target?


class BuildContext:
    """A build context directory with its Dockerfile (optional) and ignore file."""

    def __init__(
        self,
        root: Path,
        dockerfile: Path | None,
        ignore: IgnoreFile,
        model: Model | None = None,
        snapshot: ContextSnapshot | None = None,
    ) -> None:
        self.root = root
        self.dockerfile = dockerfile
        self.ignore = ignore
        self.model = model
        self._snapshot = snapshot
        self.transfer_error: tuple[str, str] | None = None  # (source, why) if BuildKit cannot

    @classmethod
    def load(
        cls,
        directory: str | Path,
        dockerfile: str | Path | None = None,
        *,
        build_args: Mapping[str, str] | None = None,
        target: str | None = None,
        model: Model | None = None,
    ) -> BuildContext:
        """Open a context. `dockerfile` defaults to `Dockerfile` in the directory, if there is
        one; the ignore file is chosen as BuildKit chooses it. Raises InputError (one line) for
        a missing directory, a missing Dockerfile, an unknown target or an invalid pattern."""
        root = resolve_root(directory)
        df_path: Path | None
        if dockerfile is not None:
            df_path = Path(dockerfile)
            if not df_path.is_file():
                raise InputError(f"Dockerfile {str(df_path)!r} does not exist or is not a file")
        else:
            df_path = next((root / n for n in DOCKERFILE_NAMES if (root / n).is_file()), None)
        ignore = load_ignore(root, df_path)
        if model is None and df_path is not None:
            from layerwise.dockerfile.parser import read_dockerfile

            model = read_dockerfile(df_path).model(build_args=dict(build_args or {}), target=target)
            if target is not None and model.stage_named(target) is None:
                raise InputError(f"target stage {target!r} is not defined in {df_path}")
        return cls(root, df_path, ignore, model)

    def with_model(self, model: Model) -> BuildContext:
        """The same context read through another model of the same Dockerfile (e.g. the linter's,
        so that steps and instructions are the very objects the rules hold). The walk, when
        already done, is shared."""
        if model is self.model:
            return self
        return BuildContext(self.root, self.dockerfile, self.ignore, model, self._snapshot)

    @property
    def dockerfile_outside(self) -> bool:
        """Is the Dockerfile outside the context? (BuildKit accepts it; the classic builder
        refuses it.)"""
        if self.dockerfile is None:
            return False
        try:
            self.dockerfile.resolve().relative_to(self.root)
        except ValueError:
            return True
        return False

    @property
    def snapshot(self) -> ContextSnapshot:
        """Everything in the context after `.dockerignore`: what `COPY . /` would see, and what
        the classic builder (and BuildKit before 0.12) sends whatever the Dockerfile says."""
        if self._snapshot is None:
            self._snapshot = walk_context(self.root, self.ignore)
        return self._snapshot

    @cached_property
    def step_reads(self) -> list[StepRead]:
        """Every context read of every stage, resolved on the snapshot (built stages flagged)."""
        if self.model is None:
            return []
        built = set(self.model.built)
        out = []
        for stage in self.model.stages:
            for step in stage.steps:
                for read in step.reads:
                    if read.kind != "context":
                        continue
                    if read.via == "mount":
                        result = resolve_mount(
                            self.snapshot, read.sources[0] if read.sources else ""
                        )
                    else:
                        result = resolve_copy(
                            self.snapshot, read.sources, read.excludes, read.parents
                        )
                    out.append(StepRead(step, stage.index, read, result, stage.index in built))
        return out

    @property
    def built_reads(self) -> list[StepRead]:
        return [r for r in self.step_reads if r.built]

    @cached_property
    def read_paths(self) -> set[str]:
        """Context paths that some step of the built stages reads."""
        out: set[str] = set()
        for r in self.built_reads:
            out |= r.result.reads
        return out

    @cached_property
    def named_roots(self) -> list[str]:
        """The paths the built stages name directly (each source's match, after symlinks): a
        file or directory here is wanted as such, not just swept up by a broad `COPY . .`."""
        roots: list[str] = []
        for r in self.built_reads:
            for source in r.result.sources:
                for match in source.matches:
                    roots.append(match.resolved)
                    roots.append(match.path)
        return sorted(set(roots))

    def is_named(self, path: str) -> bool:
        """Does a source name this path, or something inside it? (`COPY .env .` names .env;
        `COPY . .` names none of the files it copies.)"""
        return any(root and is_under(root, path) for root in self.named_roots)

    @cached_property
    def other_dockerfile_reads(self) -> set[str] | None:
        """What the other Dockerfiles under the context directory read from it (each with its
        default target), when they use the same ignore file: a line written to a shared
        `.dockerignore` must not break their builds. None if one of them cannot be parsed."""
        from layerwise.discover import find_dockerfiles
        from layerwise.dockerfile.parser import read_dockerfile

        own = self.dockerfile.resolve() if self.dockerfile is not None else None
        out: set[str] = set()
        for path in find_dockerfiles([self.root]):
            if path.resolve() == own:
                continue
            if ignore_file_for(self.root, path) != self.ignore.path:
                continue
            try:
                model = read_dockerfile(path).model()
            except LayerwiseError:
                return None
            other = BuildContext(self.root, path, self.ignore, model, self.snapshot)
            out |= other.read_paths
        return out

    @cached_property
    def unused(self) -> list[Entry]:
        """Files (not directories) in the context that no step of the built stages reads.
        Empty when there is no Dockerfile to tell."""
        if self.model is None:
            return []
        read = self.read_paths
        return [e for e in self.snapshot.files() if e.path not in read]

    @cached_property
    def transfer_paths(self) -> list[str] | None:
        """BuildKit's FollowPaths for this build (None: the whole context is sent)."""
        if self.model is None:
            return None
        sources: list[str] = []
        for r in self.built_reads:
            sources.extend(r.read.sources if r.read.sources else ["."])
        return transfer_paths(sources)

    @cached_property
    def transfer(self) -> ContextSnapshot:
        """What BuildKit (0.12 and later) transfers for this Dockerfile and target: only the
        paths that COPY/ADD sources and bind mounts of the built stages name (the whole
        context if one of them is `.`; nothing if no step reads the context)."""
        paths = self.transfer_paths
        if paths is None:
            return self.snapshot
        try:
            return walk_context(self.root, self.ignore, paths)
        except IgnorePatternError as exc:
            # BuildKit fails the same way ("invalid includepatterns"): nothing is sent.
            self.transfer_error = (exc.pattern, "is not a valid pattern: BuildKit cannot send")
            return ContextSnapshot(self.root, {}, [], self.ignore, [])

    @cached_property
    def junk(self) -> list[JunkFound]:
        return find_junk(self.snapshot)

    @cached_property
    def secrets(self) -> list[Secret]:
        return find_secrets(self.snapshot)

    @cached_property
    def suggestions(self) -> list[Suggestion]:
        """The `.dockerignore` lines to add (see `layerwise.context.dockerignore`)."""
        from layerwise.context import dockerignore

        return dockerignore.suggest(self)

    @property
    def errors(self) -> list[tuple[StepRead, str]]:
        """Sources of built stages on which the build fails (missing, excluded, a source that
        BuildKit cannot turn into a transfer pattern, ...)."""
        out = [(r, e) for r in self.built_reads for e in r.result.errors]
        _ = self.transfer  # computing the transfer finds the sources BuildKit cannot send
        if self.transfer_error is not None:
            source, why = self.transfer_error
            for r in self.built_reads:
                if any(gopath.clean("/" + s).lstrip("/") == source for s in r.read.sources):
                    out.append((r, f"{source}: {why} the context"))
                    break
        return out
