"""Image references (`python:3.11-slim`, `ghcr.io/org/app@sha256:...`) as Docker reads them.

Follows the grammar of Docker's reference package (distribution/reference) and its
normalisation: a first path component is a registry only if it contains `.` or `:` or is
`localhost` (and is lower case); otherwise the registry is `docker.io`, and a single-component
name there lives under `library/`. A reference without tag or digest means `:latest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
LEGACY_REGISTRY = "index.docker.io"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_ANCHORED_NAME = re.compile(
    rf"(?:({_DOMAIN})/)?({_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)", re.ASCII
)


class ReferenceError(ValueError):
    """Not a valid image reference (Docker would refuse it)."""


@dataclass(frozen=True)
class ImageRef:
    raw: str
    registry: str  # "docker.io" when not given
    repository: str  # "library/python" for "python"
    tag: str | None  # as written; None when not given
    digest: str | None

    @property
    def effective_tag(self) -> str | None:
        """The tag Docker uses: as written, or `latest` when there is neither tag nor digest."""
        if self.tag is not None:
            return self.tag
        return None if self.digest else "latest"

    @property
    def familiar_name(self) -> str:
        """The short form Docker shows: `python`, `myorg/app`, `ghcr.io/org/app`."""
        if self.registry == DEFAULT_REGISTRY:
            if self.repository.startswith("library/") and self.repository.count("/") == 1:
                return self.repository[len("library/") :]
            return self.repository
        return f"{self.registry}/{self.repository}"

    @property
    def is_official(self) -> bool:
        return self.registry == DEFAULT_REGISTRY and self.repository.startswith("library/")

    @property
    def base_name(self) -> str:
        """The last path component (`python` for `docker.io/library/python`)."""
        return self.repository.rsplit("/", 1)[-1]

    def with_tag(self, tag: str) -> str:
        """The reference as written with another tag (digest dropped)."""
        name = self.raw.split("@", 1)[0]
        last = name.rsplit("/", 1)
        if ":" in last[-1]:
            name = name[: name.rfind(":")]
        return f"{name}:{tag}"

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_reference(text: str) -> ImageRef:
    """Parse and normalise an image reference, or raise ReferenceError with Docker's reason."""
    if not text:
        raise ReferenceError("repository name must have at least one component")
    m = _REFERENCE.fullmatch(text)
    if m is None:
        if _REFERENCE.fullmatch(text.lower()) is not None:
            raise ReferenceError(
                f"invalid reference format: repository name ({text}) must be lowercase"
            )
        raise ReferenceError(f"invalid reference format: {text!r}")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    registry, remainder = _split_domain(name)
    return ImageRef(text, registry, remainder, tag, digest)


def _split_domain(name: str) -> tuple[str, str]:
    slash = name.find("/")
    first = name[:slash] if slash != -1 else ""
    if slash == -1 or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        registry, remainder = DEFAULT_REGISTRY, name
    else:
        registry, remainder = first, name[slash + 1 :]
    if registry == LEGACY_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = "library/" + remainder
    return registry, remainder
