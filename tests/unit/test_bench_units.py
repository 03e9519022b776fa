"""`layerwise bench` without an engine: what it edits, how it copies, how it reports."""

from __future__ import annotations

import json
import re
import xml.dom.minidom
from pathlib import Path

import pytest

from conftest import run_cli
from layerwise.build.bench import (
    BenchReport,
    ScenarioResult,
    Variant,
    VariantResult,
    _make_copy,
    choose_code_file,
    choose_manifest,
    harmless_edit,
    read_paths,
)
from layerwise.build.bench_report import html_report, markdown, rows
from layerwise.build.result import BuildResult, StepResult


def test_manifest_and_code_file_choice() -> None:
    paths = {"app/main.py", "app/__init__.py", "requirements.txt", "tests/test_x.py", "setup.py"}
    assert choose_manifest(paths) == "requirements.txt"
    assert choose_code_file(paths, "requirements.txt") == "app/main.py"
    assert choose_manifest({"pyproject.toml", "uv.lock"}) == "pyproject.toml"
    assert choose_manifest({"reqs/requirements-prod.txt"}) == "reqs/requirements-prod.txt"
    assert choose_manifest({"requirements-prod.txt"}) == "requirements-prod.txt"
    assert choose_code_file({"README.md"}, None) is None


@pytest.mark.parametrize(
    ("name", "text", "added"),
    [
        ("app.py", "x = 1\n", "# layerwise bench edit"),
        ("requirements.txt", "flask", "\n# layerwise bench edit"),
        ("pyproject.toml", "[project]\n", "# layerwise bench edit"),
        ("main.go", "package main\n", "// layerwise bench edit"),
        ("go.mod", "module x\n", "// layerwise bench edit"),
        ("package.json", '{"a": 1}\n', "\n"),
        ("pom.xml", "<project/>\n", "<!-- layerwise bench edit"),
    ],
)
def test_harmless_edit_uses_the_file_s_own_comments(
    tmp_path: Path, name: str, text: str, added: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o750)
    harmless_edit(path)
    new = path.read_text()
    assert new.startswith(text) and new[len(text) :].startswith(added)
    assert path.stat().st_mode & 0o777 == 0o750
    if name == "package.json":
        assert json.loads(new) == {"a": 1}
    before = new
    harmless_edit(path)
    assert path.read_text() != before  # every edit is new content


def test_copies_hold_what_the_build_sees_and_nothing_touches_the_original(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "logs").mkdir(parents=True)
    (ctx / "app.py").write_text("x\n")
    (ctx / "logs" / "big.log").write_text("log\n")
    (ctx / ".dockerignore").write_text("logs\n")
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    copy = _make_copy(ctx, "Dockerfile", Variant.from_path(ctx / "Dockerfile"), tmp_path / "c1")
    assert sorted(p.name for p in copy.root.iterdir()) == [".dockerignore", "Dockerfile", "app.py"]
    other = Variant("optimized", None, "FROM scratch\nCOPY . /\n", "# none\n")
    copy2 = _make_copy(ctx, "Dockerfile", other, tmp_path / "c2")
    assert (copy2.root / "logs" / "big.log").is_file()  # its own ignore file lets logs through
    assert (copy2.root / "Dockerfile").read_text() == other.text
    harmless_edit(copy.root / "app.py")
    assert (ctx / "app.py").read_text() == "x\n"
    assert read_paths(copy.root, copy.dockerfile, _opts()) == {"app.py"}


def _opts():  # type: ignore[no-untyped-def]
    from layerwise.build.bench import BenchOptions

    return BenchOptions()


def _result(seconds: float, cached: bool) -> BuildResult:
    steps = [
        StepResult("[1/3] FROM docker.io/library/python:3.11-slim", 1, False, 0.0, keyword="FROM"),
        StepResult(
            "[2/3] COPY . .", 3, cached, 0.05, stage_index=0, keyword="COPY", step=2, total=3
        ),
        StepResult(
            "[3/3] RUN pip install -r requirements.txt",
            4,
            cached,
            seconds,
            stage_index=0,
            keyword="RUN",
            step=3,
            total=3,
        ),
    ]
    return BuildResult(Path(), Path("Dockerfile"), steps, seconds + 0.5)


def _report() -> BenchReport:
    variants = []
    for label, factor in (("original", 1.0), ("optimized", 0.1)):
        v = VariantResult(label, f"{label}/Dockerfile", image_bytes=int(300e6 * (factor + 0.5)))
        v.layers, v.context_bytes = 7, 90_000
        for scenario, secs in (("cold", 30.0), ("no_change", 0.0), ("code_change", 30.0)):
            res = ScenarioResult(scenario)
            for s in (secs * factor, secs * factor * 1.1, secs * factor * 0.9):
                r = _result(s, cached=secs == 0.0)
                res.runs.append(r.seconds)
                res.results.append(r)
            v.scenarios[scenario] = res
        v.skipped["deps_change"] = "no dependency manifest the image reads was found"
        variants.append(v)
    return BenchReport(Path("/ctx"), variants, 3, 100.0, 97.0, "app.py", None)


def test_report_json_markdown_and_html() -> None:
    report = _report()
    data = report.to_json()
    assert set(data["dockerfiles"][0]) == {
        "label", "path", "scenarios", "image_bytes", "layers", "context_bytes", "context_size",
        "skipped",
    }  # fmt: skip
    cold = data["dockerfiles"][0]["scenarios"]["cold"]
    assert cold["seconds"] == 30.5 and len(cold["runs"]) == 3
    assert [s["text"] for s in cold["steps"]] == [
        "FROM docker.io/library/python:3.11-slim",
        "COPY . .",
        "RUN pip install -r requirements.txt",
    ]
    assert cold["steps"][2]["seconds"] == 30.0 and cold["steps"][2]["stage"] == "stage-0"
    assert data["ratios"]["code_change"] == pytest.approx(3.5 / 30.5, abs=1e-3)
    assert data["ratios"]["image_bytes"] == pytest.approx(0.6 / 1.5)
    assert data["overhead"] == 0.03
    table = {what: (values, ratio) for what, values, ratio in rows(report)}
    assert table["code-change rebuild"][0] == ["30.5 s", "3.5 s"]
    assert "faster" in table["code-change rebuild"][1]
    assert table["dependency-change rebuild"][0] == ["skipped", "skipped"]
    md = markdown(report)
    assert "| code-change rebuild | 30.5 s | 3.5 s |" in md
    page = html_report(report)
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # works offline
    assert page.count("<svg") == 5  # scenarios + per-step charts (cold, code change) x 2
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        xml.dom.minidom.parseString(svg)  # each chart is well-formed SVG


def test_bench_cli_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    res = run_cli("bench", str(tmp_path), "--docker", str(tmp_path / "no-docker"))
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1, res.err
    assert "no-docker" in res.err
    res = run_cli("bench", str(tmp_path / "missing"))
    assert res.code == 2 and "no such Dockerfile" in res.err
    res = run_cli("bench", str(tmp_path), "--compare", str(tmp_path / "nope"))
    assert res.code == 2 and "nope" in res.err
