"""Comparing the cache model's predictions with what a real BuildKit reports, build by build.

    seq = BuildKitSequence(engine, context, bases)
    seq.build("baseline")
    (context / "app.py").write_text(...)
    seq.build("source file")
    print(seq.summary())             # agreement over every compared step

Every state is predicted first (against the model's cache of the states before it), then built
with `docker buildx build --progress=rawjson`; each step BuildKit reports is matched with its
prediction by stage and step number (`[stage 3/7]`). FROM vertexes are not compared: BuildKit
reports an image FROM as cached in some builds and not in others, whatever changed (seen on the
engine), so their flag says nothing about the cache.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from conftest import DockerEngine
from layerwise.build import Engine, StepResult, build, parse_step_name
from layerwise.cache import BaseImage, Simulator, WorkingTree, load_plan
from layerwise.cache.digest import h
from layerwise.cache.plan import BuildPlan
from layerwise.cache.predict import Prediction, StepPrediction


def image_fingerprint(docker: DockerEngine | Engine, ref: str) -> BaseImage:
    """What the model needs to know about a local image: its layers and inherited config."""
    proc = docker.run("image", "inspect", "--format", "{{json .}}", ref)
    data = json.loads(proc.stdout)
    config = data.get("Config") or {}
    return BaseImage(
        ref,
        h(*((data.get("RootFS") or {}).get("Layers") or ())),
        tuple(config.get("Env") or ()),
        config.get("User") or "",
        config.get("WorkingDir") or "",
    )


def make_base(docker: DockerEngine, workdir: Path, parent: str, tag: str, extra: str = "") -> str:
    """A base image of our own (`parent` + a unique layer), so that no other build on the engine
    has any of the steps built on it in its cache."""
    ctx = workdir / f"base-{uuid.uuid4().hex[:8]}"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {parent}\nRUN echo {uuid.uuid4().hex} > /etc/layerwise-nonce\n{extra}\n"
    )
    docker.run("buildx", "build", "--network", "host", "--load", "--tag", tag, str(ctx))
    return tag


@dataclass
class Comparison:
    label: str
    prediction: StepPrediction
    actual: StepResult

    @property
    def agrees(self) -> bool:
        return self.prediction.rebuilt == (not self.actual.cached)

    def __str__(self) -> str:
        p, a = self.prediction, self.actual
        verdict = "rebuilt" if p.rebuilt else "cached"
        sure = "" if p.certain else " (uncertain)"
        return (
            f"[{self.label}] {p.stage} line {p.line} {p.keyword}: predicted {verdict}{sure} "
            f"({p.reason or 'unchanged'}), BuildKit {'CACHED' if a.cached else 'ran it'}"
        )


@dataclass
class BuildKitSequence:
    """One project built state after state, each build compared with its prediction."""

    engine: Engine
    context: Path
    bases: dict[str, BaseImage]
    dockerfile: Path | None = None
    target: str | None = None
    sim: Simulator = field(default_factory=Simulator)
    comparisons: list[Comparison] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    builds: int = 0
    images: list[str] = field(default_factory=list)

    def build(
        self,
        label: str,
        *,
        build_args: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> tuple[Prediction, list[StepResult]]:
        dockerfile = self.dockerfile or self.context / "Dockerfile"
        plan = load_plan(dockerfile, build_args, self.target)
        files = WorkingTree.open(self.context, dockerfile)
        prediction = self.sim.predict(plan, files, self.bases)
        result = build(
            self.context,
            dockerfile,
            target=self.target,
            build_args=build_args,
            network="host",
            docker=self.engine,
            image_info=False,
            extra_args=extra_args,
        )
        self.builds += 1
        if result.image_id:
            self.images.append(result.image_id)
        self.compare(label, plan, prediction, result.steps)
        return prediction, result.steps

    def compare(
        self, label: str, plan: BuildPlan, prediction: Prediction, steps: list[StepResult]
    ) -> None:
        model = plan.model
        single = len(model.stages) == 1
        by_label = {st.display_name: st.index for st in model.stages}
        predicted = {(p.stage_index, p.number): p for p in prediction.steps}
        matched: set[tuple[int, int]] = set()
        for actual in steps:
            name = parse_step_name(actual.name)
            if name is None or name.keyword == "FROM":
                continue
            if name.stage is None:
                index = 0 if single else None
            else:
                index = by_label.get(name.stage.lower())
            pred = predicted.get((index, name.step)) if index is not None else None
            if pred is None:
                self.unmatched.append(f"[{label}] BuildKit step without prediction: {actual.name}")
                continue
            matched.add((pred.stage_index, pred.number))
            self.comparisons.append(Comparison(label, pred, actual))
        compared_keys = {
            k for c in self.comparisons if c.label == label for k in c.prediction.keys.keys
        }
        for key, pred in predicted.items():
            if key in matched or pred.keyword == "FROM":
                continue
            # BuildKit shows identical steps of two stages once: the same cache key.
            if not (pred.keys.keys & compared_keys):
                self.unmatched.append(f"[{label}] predicted step BuildKit did not report: {pred}")

    @property
    def disagreements(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.agrees]

    def summary(self) -> str:
        total = len(self.comparisons)
        agreed = total - len(self.disagreements)
        uncertain = [c for c in self.comparisons if not c.prediction.certain]
        rebuilt = sum(1 for c in self.comparisons if not c.actual.cached)
        text = (
            f"{self.context.name}: {self.builds} builds, {total} steps compared "
            f"({rebuilt} ran, {total - rebuilt} cached), agreement {agreed}/{total} = "
            f"{100 * agreed / total if total else 0:.1f} %"
        )
        if uncertain:
            right = sum(1 for c in uncertain if c.agrees)
            text += f"; {len(uncertain)} uncertain predictions, {right} right"
        return text
