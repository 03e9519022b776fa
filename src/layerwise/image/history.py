"""Tie each layer to what made it: the image config's history (`created_by`), and with a
Dockerfile, the instruction (file and line) that wrote that history entry.

Layers and history entries pair up as dive pairs them: history entries marked `empty_layer`
made no layer; the others belong to the layers in order. Mapping history to a Dockerfile is an
alignment of the final stage's instructions (with the stages it builds on) against the history,
matching keywords and normalised text, because the history also holds the base image's entries
and some instructions leave no entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from layerwise.dockerfile.syntax import Dockerfile, Instruction

_ARGS_PREFIX = re.compile(r"^\|(\d+)\s")
_KEYWORDS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip


@dataclass(frozen=True)
class HistoryStep:
    keyword: str  # upper-case instruction keyword, "" when unknown
    text: str  # the rest, normalised


def _strip_build_args(text: str) -> str:
    # BuildKit and the classic builder prefix RUN with "|N k=v k=v" when build args are set.
    match = _ARGS_PREFIX.match(text)
    if not match:
        return text
    rest = text[match.end() :]
    for _ in range(int(match.group(1))):
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    return rest


def parse_created_by(created_by: str) -> HistoryStep:
    """Split a history entry's `created_by` into the instruction keyword and its text."""
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    text = _strip_build_args(text)
    for shell in ("/bin/sh -c #(nop) ", "/bin/sh -c #(nop)"):
        if text.startswith(shell):
            rest = text[len(shell) :].strip()
            word, _, tail = rest.partition(" ")
            return HistoryStep(word.upper(), " ".join(tail.split()))
    word, _, tail = text.partition(" ")
    if word.upper() in _KEYWORDS and word == word.upper():
        keyword, text = word, tail
        if keyword == "RUN":
            text = _strip_build_args(text.strip())
    else:
        keyword = "RUN" if text else ""
    if keyword == "RUN":
        for shell in ("/bin/sh -c ", "/bin/bash -c ", "/bin/bash -o pipefail -c "):
            if text.startswith(shell):
                text = text[len(shell) :]
                break
    return HistoryStep(keyword, " ".join(text.split()))


def layer_history(history: list[dict[str, Any]], layers: int) -> list[int | None]:
    """For each layer, the index of its history entry (None when history runs out)."""
    result: list[int | None] = []
    position = 0
    for _ in range(layers):
        while position < len(history) and history[position].get("empty_layer"):
            position += 1
        if position < len(history):
            result.append(position)
            position += 1
        else:
            result.append(None)
    return result


def command_of(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "(missing)"
    created_by = entry.get("created_by")
    if not isinstance(created_by, str):
        return "(missing)"
    step = parse_created_by(created_by)
    return f"{step.keyword} {step.text}".strip() if step.keyword else created_by.strip()


def _stage_chain(df: Dockerfile, target: str | None = None) -> list[Instruction]:
    """The instructions of the target stage and of the stages it is built FROM, in build
    order (the FROM lines themselves leave no history)."""
    model = df.model(target=target)
    stage = model.final
    chain: list[Instruction] = []
    seen: set[int] = set()
    while stage is not None and stage.index not in seen:
        seen.add(stage.index)
        chain = [step.instruction for step in stage.steps] + chain
        stage = model.stages[stage.base_stage] if stage.base_stage is not None else None
    return chain


def _instruction_text(inst: Instruction) -> str:
    if inst.name == "RUN":
        if inst.json:
            return " ".join(inst.arguments)
        command = inst.command
        return " ".join((command or "").split())
    return " ".join(" ".join(inst.arguments).split())


def _score(step: HistoryStep, inst: Instruction) -> int:
    if step.keyword != inst.name:
        return 0
    mine = _instruction_text(inst)
    if mine == step.text:
        return 4
    if mine.replace('"', "") == step.text.replace('"', "") or (
        mine and step.text and (mine in step.text or step.text in mine)
    ):
        return 3
    return 1


def map_history(
    df: Dockerfile, history: list[dict[str, Any]], target: str | None = None
) -> dict[int, Instruction]:
    """History entry index -> the Dockerfile instruction that made it (best alignment)."""
    chain = _stage_chain(df, target)
    steps = [parse_created_by(str(h.get("created_by") or "")) for h in history]
    n, m = len(steps), len(chain)
    if not n or not m:
        return {}
    # Longest weighted common subsequence, anchored nowhere: the base image's entries come first
    # and match nothing.
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            score = _score(steps[i], chain[j])
            take = score + below[j + 1] if score else 0
            row[j] = max(take, below[j], row[j + 1])
    mapping: dict[int, Instruction] = {}
    i = j = 0
    while i < n and j < m:
        # Prefer skipping history entries: the Dockerfile's steps are the last ones.
        score = _score(steps[i], chain[j])
        if best[i][j] == best[i + 1][j]:
            i += 1
        elif score and best[i][j] == score + best[i + 1][j + 1]:
            mapping[i] = chain[j]
            i += 1
            j += 1
        else:
            j += 1
    return mapping
