"""Bench reports: a Rich table, Markdown, and a self-contained HTML page with SVG bar charts."""

from __future__ import annotations

import html
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from layerwise.build.bench import SCENARIO_TITLES, SCENARIOS, BenchReport, VariantResult

_COLORS = ("#5b7dbd", "#e0803a", "#5aa469", "#b25da6")


def human_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _seconds(v: VariantResult, scenario: str) -> str:
    if scenario in v.skipped:
        return "skipped"
    res = v.scenarios.get(scenario)
    if res is None or not res.runs:
        return "n/a"
    return f"{res.seconds:.1f} s"


def _ratio(value: float | None) -> str:
    if value is None:
        return ""
    if value <= 0:
        return "0×"
    text = f"{value:.2f}×"
    if value < 1:
        text += f" ({1 / value:.1f}× faster)" if value > 0 else ""
    return text


def _size_ratio(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}×" + (f" ({(1 - value) * 100:.0f} % smaller)" if value < 1 else "")


def _cached(v: VariantResult, scenario: str) -> str:
    res = v.scenarios.get(scenario)
    if res is None or not res.results:
        return "n/a"
    steps = res.steps
    return f"{sum(1 for s in steps if s.cached)}/{len(steps)}"


def rows(report: BenchReport) -> list[tuple[str, list[str], str]]:
    """(what, value per Dockerfile, ratio of the second to the first) for every line of the
    summary, shared by the text and Markdown renderings."""
    out: list[tuple[str, list[str], str]] = []
    two = len(report.variants) > 1
    ratios = report.ratios() if two else {}
    for scenario in SCENARIOS:
        if not any(scenario in v.scenarios or scenario in v.skipped for v in report.variants):
            continue
        out.append(
            (
                SCENARIO_TITLES[scenario],
                [_seconds(v, scenario) for v in report.variants],
                _ratio(ratios.get(scenario)) if two else "",
            )
        )
    for scenario in ("code_change", "deps_change"):
        if any(scenario in v.scenarios for v in report.variants):
            out.append(
                (
                    f"steps cached ({SCENARIO_TITLES[scenario]})",
                    [_cached(v, scenario) for v in report.variants],
                    "",
                )
            )
    out.append(
        (
            "image size",
            [human_bytes(v.image_bytes) for v in report.variants],
            _size_ratio(ratios.get("image_bytes")) if two else "",
        )
    )
    out.append(
        (
            "layers",
            ["n/a" if v.layers is None else str(v.layers) for v in report.variants],
            "",
        )
    )
    out.append(
        (
            "build context (files sent)",
            [human_bytes(v.context_size) for v in report.variants],
            _size_ratio(ratios.get("context_size")) if two else "",
        )
    )
    out.append(
        (
            "transferred (first cold build)",
            [human_bytes(v.context_bytes) for v in report.variants],
            "",
        )
    )
    return out


def print_report(report: BenchReport, console: Console) -> None:
    table = Table(title=_title(report), title_justify="left")
    table.add_column("")
    for v in report.variants:
        table.add_column(f"{v.label}\n{v.path}", justify="right")
    if len(report.variants) > 1:
        table.add_column("ratio", justify="right")
    for what, values, ratio in rows(report):
        table.add_row(what, *values, *([ratio] if len(report.variants) > 1 else []))
    console.print(table)
    for line in _footer(report):
        console.print(line)


def _title(report: BenchReport) -> str:
    runs = "median of " + str(report.repeat) + " runs" if report.repeat > 1 else "one run each"
    return f"layerwise bench: {report.context} ({runs})"


def _footer(report: BenchReport) -> list[str]:
    out = []
    if report.code_file or report.deps_file:
        out.append(
            f"edited: {report.code_file or '-'} (code change), "
            f"{report.deps_file or '-'} (dependency change), with a comment line"
        )
    out.append(
        f"wall time {report.wall_seconds:.1f} s, of which builds {report.build_seconds:.1f} s "
        f"(bench overhead {report.overhead * 100:.1f} %)"
    )
    out.extend(f"note: {n}" for n in report.notes)
    return out


def markdown(report: BenchReport) -> str:
    two = len(report.variants) > 1
    head = ["", *(f"{v.label} (`{v.path}`)" for v in report.variants)]
    if two:
        head.append("ratio")
    lines = [f"### {_title(report)}", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(head) - 1)) + "|")
    for what, values, ratio in rows(report):
        cells = [what, *values, *([ratio] if two else [])]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(_footer(report))
    return "\n".join(lines) + "\n"


# -- HTML ------------------------------------------------------------------------------------


def _bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, list[float]]]) -> str:
    """Horizontal grouped bars: one group per label, one bar per series, as inline SVG."""
    bar_h, gap, label_w, width = 16, 10, 220, 720
    plot_w = width - label_w - 90
    peak = max((v for _, values in series for v in values), default=0.0) or 1.0
    group_h = bar_h * len(series) + gap
    height = 30 + group_h * len(labels) + 24 * ((len(series) + 2) // 3)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="16" class="t">{html.escape(title)}</text>',
    ]
    y = 30
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * len(series) / 2 + 4:.0f}" '
            f'text-anchor="end" class="l">{html.escape(_clip(label, 34))}</text>'
        )
        for j, (_, values) in enumerate(series):
            value = values[i] if i < len(values) else 0.0
            w = max(1.0, plot_w * value / peak) if value > 0 else 0.0
            color = _COLORS[j % len(_COLORS)]
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{color}"><title>{html.escape(series[j][0])}: {value:.2f} s</title></rect>'
            )
            tx, ty = label_w + w + 4, y + bar_h - 5
            parts.append(f'<text x="{tx:.1f}" y="{ty}" class="v">{value:.2f} s</text>')
            y += bar_h
        y += gap
    for j, (name, _) in enumerate(series):
        lx = (j % 3) * 230
        ly = y + 14 + 24 * (j // 3)
        parts.append(
            f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" '
            f'fill="{_COLORS[j % len(_COLORS)]}"/>'
        )
        parts.append(
            f'<text x="{lx + 18}" y="{ly}" class="l">{html.escape(_clip(name, 30))}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def html_report(report: BenchReport) -> str:
    """A self-contained page: summary table, scenario bars, per-step bars (no network)."""
    two = len(report.variants) > 1
    scen = [s for s in SCENARIOS if any(s in v.scenarios for v in report.variants)]
    series = [
        (
            f"{v.label}",
            [v.scenarios[s].seconds if s in v.scenarios else 0.0 for s in scen],
        )
        for v in report.variants
    ]
    charts = [
        _bar_chart(
            "Build time per scenario (median seconds)", [SCENARIO_TITLES[s] for s in scen], series
        )
    ]
    for scenario in ("cold", "code_change"):
        for v in report.variants:
            res = v.scenarios.get(scenario)
            if res is None or not res.results:
                continue
            steps = res.steps
            labels = [
                f"{s.line or '?'}: {s.text}" + (" (cached)" if s.cached else "") for s in steps
            ]
            charts.append(
                _bar_chart(
                    f"{v.label}: time per step, {SCENARIO_TITLES[scenario]}",
                    labels,
                    [(v.label, [s.seconds for s in steps])],
                )
            )
    head = "".join(
        f"<th>{html.escape(v.label)}<br><code>{html.escape(v.path)}</code></th>"
        for v in report.variants
    )
    if two:
        head += "<th>ratio</th>"
    body = []
    for what, values, ratio in rows(report):
        cells = "".join(f"<td>{html.escape(x)}</td>" for x in values)
        if two:
            cells += f"<td>{html.escape(ratio)}</td>"
        body.append(f"<tr><th>{html.escape(what)}</th>{cells}</tr>")
    footer = "".join(f"<p>{html.escape(line)}</p>" for line in _footer(report))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(_title(report))}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th:first-child {{ text-align: left; }}
svg {{ display: block; margin: 1.5em 0; }}
svg .t {{ font: bold 14px system-ui, sans-serif; }}
svg .l, svg .v {{ font: 12px system-ui, sans-serif; fill: #333; }}
</style></head>
<body>
<h1>{html.escape(_title(report))}</h1>
<table><tr><th></th>{head}</tr>
{"".join(body)}
</table>
{"".join(charts)}
{footer}
</body></html>
"""
