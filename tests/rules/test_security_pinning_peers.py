"""The LW4xx/LW5xx rules against hadolint: its own rule specs (peer-tests/hadolint/cases.json)
and its recorded findings on the 675-file corpus, for every DL code these families cover.

Agreement is counted per code as (file, line) pairs, a layerwise finding counted at the first
line of its instruction (hadolint reports instructions). Every disagreement is named below with
its reason: the list must stay exact, so a change that adds or removes one shows up here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.errors import LayerwiseError
from layerwise.rules import all_rules, lint

pytestmark = pytest.mark.shared

FAMILIES = ("LW4", "LW5")
CODES = sorted({c for r in all_rules() if r.id.startswith(FAMILIES) for c in r.hadolint})
_CORPUS = "yinyuanzhang__dockerfiles__data__"

# (code, file, line, who reports it) -> why the two tools differ
DIFFERENCES: dict[tuple[str, str, int, str], str] = {
    # layerwise looks through `sudo` (hadolint's command name is `sudo`); DL3004 reports sudo too
    **{
        ("DL3008", f"{_CORPUS}m__mirismr__proyectoiv17-18__Dockerfile", n, "layerwise"): "sudo"
        for n in (10, 17, 18, 19, 20, 21, 22)
    },
    ("DL3008", f"{_CORPUS}n__neonlights__technodj_2__Dockerfile", 6, "layerwise"): "sudo",
    ("DL3008", f"{_CORPUS}n__neonlights__technodj_2__Dockerfile", 18, "layerwise"): "sudo",
    ("DL3014", f"{_CORPUS}n__neonlights__technodj_2__Dockerfile", 18, "layerwise"): "sudo",
    ("DL3008", f"{_CORPUS}s__sagemath__sagemath-dev__Dockerfile", 84, "layerwise"): "sudo",
    # pip called by path (/opt/venv/bin/pip): hadolint only knows names starting with `pip`
    (
        "DL3013",
        "GoogleCloudPlatform__python-docs-samples__kubernetes_engine__django_tutorial__Dockerfile",
        26,
        "layerwise",
    ): "pip by path",
    (
        "DL3013",
        "GoogleContainerTools__distroless__examples__python3-requirements__Dockerfile",
        5,
        "layerwise",
    ): "pip by path",
    ("DL3013", "TyW-98__django-docker__Dockerfile", 21, "layerwise"): "pip by path",
    (
        "DL3013",
        f"{_CORPUS}t__t3docs__render-documentation__Dockerfile",
        40,
        "layerwise",
    ): "pip by path",
    # `pip install .[extra]` installs the local project: hadolint wants a version for it
    (
        "DL3013",
        f"{_CORPUS}g__getsentry__rigidsearch__Dockerfile",
        7,
        "hadolint",
    ): "local project with extras",
    (
        "DL3013",
        f"{_CORPUS}l__lidarr__lidarrapi.stats__Dockerfile",
        8,
        "hadolint",
    ): "local project with extras",
    # the packages come from a command substitution (a file read at build time): unknown
    ("DL3018", f"{_CORPUS}o__ovidner__blapp__Dockerfile", 16, "hadolint"): "$(...) packages",
    # `go run make.go` runs a local file: nothing to pin
    ("DL3062", "jessfraz__dockerfiles__perkeep__Dockerfile", 10, "hadolint"): "go run local file",
    # `FROM name-${ARG}` that resolves to an earlier stage: a stage, not an image
    ("DL3006", "moby__buildkit__hack__dockerfiles__archutil.Dockerfile", 74, "hadolint"): "stage",
    ("DL3006", "moby__buildkit__hack__dockerfiles__lint.Dockerfile", 29, "hadolint"): "stage",
    ("DL3006", "moby__buildkit__hack__dockerfiles__lint.Dockerfile", 62, "hadolint"): "stage",
    # `FROM $BASE` whose ARG default is untagged / `latest`: hadolint skips any `$` image
    (
        "DL3006",
        f"{_CORPUS}c__colares__octave-notebook__Dockerfile",
        3,
        "layerwise",
    ): "ARG default untagged",
    (
        "DL3007",
        f"{_CORPUS}m__minimalcompact__remotecv__Dockerfile",
        2,
        "layerwise",
    ): "ARG default latest",
    # copying a stage built FROM scratch (collected artefacts) is not a whole filesystem
    ("DL3067", "moby__buildkit__hack__dockerfiles__archutil.Dockerfile", 87, "hadolint"): "scratch",
    # the uid is an ARG with a known small default (10000): no large lastlog
    (
        "DL3046",
        "GoogleCloudPlatform__python-docs-samples__.kokoro__docker__Dockerfile",
        246,
        "hadolint",
    ): "known small uid",
    # ARG USERNAME: a user name is not a secret
    (
        "DL3064",
        "GoogleCloudPlatform__python-docs-samples__.kokoro__docker__Dockerfile",
        240,
        "hadolint",
    ): "user name",
}


def _has_from(text: str) -> bool:
    return any(line.strip().upper().startswith("FROM") for line in text.splitlines())


def test_hadolint_rule_specs(shared: Path) -> None:
    """Every case of hadolint's specs for these codes that the 2.15.1 binary agrees with."""
    cases = json.loads((shared / "peer-tests/hadolint/cases.json").read_text())
    failures = []
    checked = 0
    for case in cases:
        if case["rule"] not in CODES or not case["hadolint_2_15_1_agrees"]:
            continue
        text = case["dockerfile"]
        if not _has_from(text):
            text = "FROM scratch\n" + text
        found = lint(parse_dockerfile(text, "Dockerfile")).findings
        hit = any(case["rule"] in f.covers for f in found)
        checked += 1
        if hit != (case["expect"] == "violation"):
            failures.append((case["rule"], case["expect"], case["dockerfile"]))
    assert checked >= 420
    assert failures == []


def _corpus_pairs(shared: Path) -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]]]:
    corpus = shared / "corpus"
    recorded = json.loads((corpus / "hadolint-2.x.json").read_text())
    ours: set[tuple[str, str, int]] = set()
    theirs: set[tuple[str, str, int]] = set()
    for name, found in sorted(recorded.items()):
        if any(h["code"] == "DL1000" for h in found):
            continue  # hadolint could not parse the file: nothing to compare
        text = (corpus / "dockerfiles" / name).read_bytes().decode("utf-8", errors="replace")
        try:
            df = parse_dockerfile(text, name)
        except LayerwiseError:
            continue
        starts = [(i.start_line, i.end_line) for i in df.instructions]
        for f in lint(df, select=list(FAMILIES)).findings:
            line = next((s for s, e in starts if s <= f.line <= e), f.line)
            ours |= {(c, name, line) for c in f.covers if c in CODES}
        theirs |= {(h["code"], name, h["line"]) for h in found if h["code"] in CODES}
    return ours, theirs


def test_corpus_agreement(shared: Path) -> None:
    ours, theirs = _corpus_pairs(shared)
    disagreements = {(c, f, n, "layerwise") for c, f, n in ours - theirs} | {
        (c, f, n, "hadolint") for c, f, n in theirs - ours
    }
    assert disagreements == set(DIFFERENCES)
    both = Counter(c for c, _, _ in ours & theirs)
    only = Counter(c for c, _, _, _ in disagreements)
    lines = [f"{'code':8} {'both':>5} {'differ':>6}  agreement"]
    for code in CODES:
        total = both[code] + only[code]
        rate = both[code] / total if total else 1.0
        lines.append(f"{code:8} {both[code]:5} {only[code]:6}  {100 * rate:5.1f}%")
        if total >= 20:
            # with enough findings to measure, the named differences stay under 5 %
            assert rate >= 0.95, code
    print("\n".join(lines))
