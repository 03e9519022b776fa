"""CI gates on an image report, like dive's `--ci` rules plus two of layerwise's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layerwise.image.analysis import ImageReport
from layerwise.image.units import human_size


@dataclass(frozen=True)
class Gates:
    min_efficiency: float | None = None  # dive's lowestEfficiency
    max_wasted_bytes: int | None = None  # dive's highestWastedBytes
    max_wasted_percent: float | None = None  # dive's highestUserWastedPercent (a ratio, 0..1)
    fail_on_build_tools: bool = False
    fail_on_secrets: bool = False

    @property
    def any(self) -> bool:
        return (
            self.min_efficiency is not None
            or self.max_wasted_bytes is not None
            or self.max_wasted_percent is not None
            or self.fail_on_build_tools
            or self.fail_on_secrets
        )


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message}


def evaluate_gates(report: ImageReport, gates: Gates) -> list[GateResult]:
    results = []
    if gates.min_efficiency is not None:
        ok = report.efficiency >= gates.min_efficiency
        results.append(
            GateResult(
                "min-efficiency",
                ok,
                f"efficiency {report.efficiency:.2%} "
                f"{'≥' if ok else '<'} {gates.min_efficiency:.2%}",
            )
        )
    if gates.max_wasted_bytes is not None:
        ok = report.wasted_bytes <= gates.max_wasted_bytes
        results.append(
            GateResult(
                "max-wasted-bytes",
                ok,
                f"wasted {human_size(report.wasted_bytes)} "
                f"{'≤' if ok else '>'} {human_size(gates.max_wasted_bytes)}",
            )
        )
    if gates.max_wasted_percent is not None:
        ok = report.wasted_percent <= gates.max_wasted_percent
        results.append(
            GateResult(
                "max-wasted-percent",
                ok,
                f"wasted {report.wasted_percent:.2%} of the bytes above the base layer "
                f"{'≤' if ok else '>'} {gates.max_wasted_percent:.2%}",
            )
        )
    if gates.fail_on_build_tools:
        tools = report.build_tools
        names = ", ".join(f.id.partition(":")[2] or f.kind for f in tools[:6])
        results.append(
            GateResult(
                "build-tools",
                not tools,
                f"build tools in the image: {names}" if tools else "no build tools in the image",
            )
        )
    if gates.fail_on_secrets:
        secrets = report.secrets
        where = ", ".join(f"{f.path} ({f.title})" for f in secrets[:5])
        results.append(
            GateResult(
                "secrets",
                not secrets,
                f"secrets in the image: {where}" if secrets else "no secrets found in the image",
            )
        )
    return results
