"""Text renderings of cache predictions and history replays (JSON comes from `to_json`)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from layerwise.cache.gittree import GIT_ENTRY
from layerwise.cache.history import HistoryReport, VariantResult
from layerwise.cache.predict import Prediction

_TEXT_WIDTH = 48


def _short(text: str, width: int = _TEXT_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def shown_reason(reason: str) -> str:
    return reason.replace(GIT_ENTRY, ".git")


def print_prediction(prediction: Prediction, console: Console, title: str = "") -> None:
    if title:
        console.print(Text(title, style="bold"))
    for stage in prediction.stages:
        table = Table(title=f"stage {stage.name}", title_justify="left", box=None, pad_edge=False)
        table.add_column("line", justify="right")
        table.add_column("step")
        table.add_column("prediction")
        table.add_column("why")
        for step in stage.steps:
            if step.rebuilt:
                verdict = Text("REBUILT" if step.certain else "rebuilt?", style="bold red")
            else:
                verdict = Text("cached" if step.certain else "cached?", style="green")
            table.add_row(
                str(step.line),
                _short(("(ONBUILD) " if step.trigger else "") + step.text),
                verdict,
                shown_reason(step.reason),
            )
        console.print(table)
    steps = prediction.steps
    rebuilt = sum(1 for s in steps if s.rebuilt)
    line = f"{rebuilt} of {len(steps)} steps rebuilt"
    uncertain = sum(1 for s in steps if not s.certain)
    if uncertain:
        line += f" ({uncertain} uncertain: marked with ?)"
    console.print(line)
    for note in prediction.notes:
        console.print(f"note: {note}")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def print_history(report: HistoryReport, console: Console, top: int = 10) -> None:
    where = report.context or "."
    console.print(
        Text(
            f"{report.commits} commits of {report.repository} replayed "
            f"(context {where}) in {report.seconds:.2f}s",
            style="bold",
        )
    )
    summary = Table(box=None, pad_edge=False)
    summary.add_column("")
    for v in report.variants:
        summary.add_column(f"{v.label}: {v.dockerfile}", justify="right")
    summary.add_row("cache hit rate (steps)", *(_percent(v.hit_rate) for v in report.variants))
    if any(v.timed for v in report.variants):
        summary.add_row(
            "hit rate weighted by step time",
            *(_percent(v.weighted_hit_rate) for v in report.variants),
        )
        summary.add_row(
            "seconds spent rebuilding",
            *(
                "n/a" if v.rebuild_seconds is None else f"{v.rebuild_seconds:,.1f}"
                for v in report.variants
            ),
        )
    summary.add_row(
        "steps rebuilt",
        *(f"{sum(c.rebuilt for c in v.built):,} / {sum(c.steps for c in v.built):,}"
          for v in report.variants),
    )  # fmt: skip
    summary.add_row(
        "builds that fail", *(str(len(v.commits) - len(v.built)) for v in report.variants)
    )
    console.print(summary)
    for v in report.variants:
        _print_variant(v, console, top)
    for note in report.notes:
        console.print(f"note: {note}")


def _print_variant(v: VariantResult, console: Console, top: int) -> None:
    table = Table(
        title=f"{v.label}: how often each step runs again",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    table.add_column("stage")
    table.add_column("line", justify="right")
    table.add_column("step")
    table.add_column("rebuilt", justify="right")
    table.add_column("of builds", justify="right")
    if v.timed:
        table.add_column("seconds", justify="right")
    for s in v.steps:
        row = [s.stage, str(s.line), _short(s.text), f"{s.rebuilt}", f"{s.invalidation_rate:.0%}"]
        if v.timed:
            row.append("-" if s.seconds is None else f"{s.seconds:.1f}")
        table.add_row(*row)
    console.print(table)
    costly = v.costliest(top)
    if not costly:
        return
    unit = "seconds" if v.timed else "steps"
    table = Table(
        title=f"{v.label}: the commits that cost the most", title_justify="left", box=None
    )
    table.add_column("commit")
    table.add_column(unit, justify="right")
    table.add_column("subject")
    table.add_column("first step rebuilt, and why")
    for c in costly:
        first = c.rebuilt_steps[0] if c.rebuilt_steps else None
        where = f"line {first[1]} {first[2]}: " if first else ""
        cost = f"{c.cost:.1f}" if v.timed else f"{c.rebuilt}"
        table.add_row(
            c.commit.sha[:10], cost, _short(c.commit.subject, 40), where + shown_reason(c.cause)
        )
    console.print(table)
