"""Interpolation as compose-go's template package does it (cases checked against Compose v2 by
the differential fixtures interp-*; these pin the edge cases without Docker)."""

from __future__ import annotations

import pytest

from layerwise.compose.interpolate import InvalidTemplate, MissingRequired, substitute

ENV = {"SET": "value", "EMPTY": "", "B": "bee", "NESTED": "${SET}"}


def lookup(name: str) -> str | None:
    return ENV.get(name)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain", "plain"),
        ("$SET", "value"),
        ("${SET}", "value"),
        ("$set", ""),  # names are case-sensitive, lookups of unset names give ""
        ("${UNSET}", ""),
        ("${UNSET:-default}", "default"),
        ("${EMPTY:-default}", "default"),
        ("${EMPTY-default}", ""),
        ("${UNSET-default}", "default"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("${SET?err}", "value"),
        ("${EMPTY?err}", ""),
        ("$$SET", "$SET"),
        ("$${SET}", "${SET}"),
        ("cost $ 5", "cost $ 5"),
        ("trailing $", "trailing $"),
        ("$1", "$1"),
        ("${UNSET:-${B}}", "bee"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${SET}${SET:-x}${B-y}", "valuevaluebee"),
        ("${UNSET:-{x}}", "{x}"),
        ("${UNSET:-a}}", "a}"),
        ("${UNSET:-x:-y}", "x:-y"),
        ("${UNSET-x:?y}", "x:?y"),
        ("pre-$SET-post", "pre-value-post"),
        ("$SET_suffix", ""),  # the name runs on: SET_suffix is unset
        ("${NESTED}", "${SET}"),  # values are not interpolated again
    ],
)
def test_substitute(template: str, expected: str) -> None:
    assert substitute(template, lookup) == expected


@pytest.mark.parametrize(
    "template", ["${}", "${ SET}", "${SET NAME}", "${1X}", "${SET:x}", "${A:-x"]
)
def test_invalid_templates(template: str) -> None:
    with pytest.raises(InvalidTemplate):
        substitute(template, lookup)


def test_required_variables() -> None:
    with pytest.raises(MissingRequired) as info:
        substitute("${UNSET?set it first}", lookup)
    assert str(info.value) == "required variable UNSET is missing a value: set it first"
    with pytest.raises(MissingRequired) as info:
        substitute("${EMPTY:?}", lookup)
    assert str(info.value) == "required variable EMPTY is missing a value"
