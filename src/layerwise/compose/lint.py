"""Lint the Dockerfiles a compose project builds, each as its services build it.

    from layerwise.compose.targets import resolve_builds
    from layerwise.compose.lint import lint_builds
    result = lint_builds(resolve_builds(".").builds)
    for found in result.findings:
        found.services, found.finding.rule, found.finding.line

A Dockerfile is read with each service's build arguments and target and against that service's
build context (its ignore file, what its COPY sources resolve to); when services build it
differently, every variant is linted and a finding they share is reported once, naming all of
them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.compose.targets import ServiceBuild
from layerwise.config import Config, find_config
from layerwise.errors import LayerwiseError
from layerwise.rules.base import Finding
from layerwise.rules.engine import lint


@dataclass(frozen=True)
class ServiceFinding:
    """A finding in a Dockerfile and the services whose build it concerns (empty: none, e.g.
    a compose-file finding, whose message names its service)."""

    finding: Finding
    services: tuple[str, ...] = ()

    def shown(self) -> Finding:
        """The finding with the services said in its message (for text, SARIF, GitHub)."""
        if not self.services:
            return self.finding
        word = "services" if len(self.services) > 1 else "service"
        message = f"{word} {', '.join(self.services)}: {self.finding.message}"
        return dataclasses.replace(self.finding, message=message)

    def to_json(self) -> dict[str, Any]:
        return {**self.finding.to_json(), "services": list(self.services)}


@dataclass
class BuildsLint:
    findings: list[ServiceFinding] = field(default_factory=list)
    sources: dict[str | None, str] = field(default_factory=dict)  # path -> text, for snippets
    errors: list[str] = field(default_factory=list)  # one line per build that could not be read


def shown_path(path: Path) -> str:
    """A path relative to the working directory when it is below it (as lint prints the
    Dockerfiles it is given)."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def lint_builds(
    builds: Sequence[ServiceBuild],
    *,
    config: Config | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    no_context: bool = False,
) -> BuildsLint:
    """Findings for every variant of every build (see the module docstring). `config` None:
    the configuration that applies to each Dockerfile (or inline Dockerfile's context)."""
    out = BuildsLint()
    merged: dict[tuple[str, str | None, int, int, str], tuple[Finding, set[str]]] = {}
    for build in builds:
        try:
            label = shown_path(build.dockerfile) if build.dockerfile is not None else None
            df = build.read(label)
            cfg = config or find_config(build.dockerfile or build.context)
            for variant in build.variants:
                model = df.model(build_args=dict(variant.args), target=variant.target)
                context = None if no_context else build.build_context(variant, model)
                result = lint(
                    df,
                    config=cfg,
                    select=select,
                    ignore=ignore,
                    build_context=context,
                    model=model,
                )
                for f in result.findings:
                    key = (f.rule, f.path, f.line, f.column, f.message)
                    merged.setdefault(key, (f, set()))[1].update(variant.services)
        except LayerwiseError as exc:
            out.errors.append(f"{exc} ({build.label})")
            continue
        out.sources[df.path] = df.text
    out.findings = [
        ServiceFinding(f, tuple(sorted(names)))
        for f, names in sorted(merged.values(), key=lambda p: p[0].sort_key())
    ]
    return out


__all__ = ["BuildsLint", "ServiceFinding", "lint_builds", "shown_path"]
