"""The semantic model of a Dockerfile (stages, stage graph, scopes). Built in the next step."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from layerwise.dockerfile.syntax import Dockerfile


class Model:
    pass


def build_model(
    df: Dockerfile, build_args: dict[str, str] | None = None, target: str | None = None
) -> Model:
    raise NotImplementedError
