"""The resolved compose project: services, their build targets, and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerwise.compose.yamlsource import Document, YList, YMap, where
from layerwise.errors import Location

REMOTE_PREFIXES = ("https://", "http://", "git://", "ssh://", "github.com/", "git@")


def is_remote_context(context: str) -> bool:
    """A Git or HTTP(S) context, or a builder-specific one (`docker-image://`, `service:`)."""
    return "://" in context or context.startswith((*REMOTE_PREFIXES, "service:"))


@dataclass(frozen=True)
class BuildTarget:
    """What `docker compose build` builds for one service.

    `context` is an absolute path (or a remote context as written); `dockerfile` is the
    absolute path of the Dockerfile for a local context (as written for a remote one) and None
    when the Dockerfile is given inline; `args` are the build arguments after interpolation and
    after the ones without a value were taken from the environment (or dropped), as Compose
    passes them to the builder.
    """

    service: str
    context: str
    dockerfile: str | None
    dockerfile_inline: str | None
    target: str | None
    args: dict[str, str]
    network: str | None
    image: str
    cache_from: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    location: Location | None = None

    @property
    def is_remote(self) -> bool:
        return is_remote_context(self.context)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.service,
            "context": self.context,
            "dockerfile": self.dockerfile,
            "dockerfile_inline": self.dockerfile_inline,
            "target": self.target,
            "args": dict(sorted(self.args.items())) if self.args else None,
            "network": self.network,
            "image": self.image,
            "cache_from": list(self.cache_from),
            "secrets": list(self.secrets),
        }


@dataclass
class Service:
    """One service of the resolved model; `config` is its merged, canonical mapping."""

    name: str
    config: YMap
    location: Location | None

    @property
    def build(self) -> YMap | None:
        build = self.config.get("build")
        return build if isinstance(build, YMap) else None

    @property
    def profiles(self) -> list[str]:
        return [str(p) for p in self.config.get("profiles") or []]

    @property
    def volumes(self) -> YList:
        volumes = self.config.get("volumes")
        return volumes if isinstance(volumes, YList) else YList()

    @property
    def watch(self) -> YList:
        develop = self.config.get("develop")
        watch = develop.get("watch") if isinstance(develop, dict) else None
        return watch if isinstance(watch, YList) else YList()

    def where(self, key: str) -> Location | None:
        return where(self.config, key) or self.location


@dataclass
class ComposeSource:
    """One compose file as read: its text and its documents before interpolation."""

    path: Path
    text: str
    documents: list[Document]


@dataclass
class ComposeProject:
    """A compose project resolved as Docker Compose v2 resolves it."""

    name: str
    working_dir: Path
    files: list[Path]
    sources: list[ComposeSource]
    env_files: list[Path]
    profiles: list[str]
    model: YMap
    services: dict[str, Service] = field(default_factory=dict)
    disabled_services: dict[str, Service] = field(default_factory=dict)
    # The variables interpolation saw (the process environment plus .env): never print them.
    environment: dict[str, str] = field(default_factory=dict, repr=False)
