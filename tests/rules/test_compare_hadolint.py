"""scripts/compare_hadolint.py over the corpus: layerwise agrees with hadolint's recorded
findings on at least 95 % of the findings of every mapped code, or docs/hadolint.md says why
not; and the agreement table in the docs is the one the script prints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO
from hadolint_docs import agreement_table, below_target

pytestmark = pytest.mark.shared


def _script() -> ModuleType:
    path = REPO / "scripts" / "compare_hadolint.py"
    spec = importlib.util.spec_from_file_location("compare_hadolint", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def comparison(shared: Path) -> tuple[ModuleType, object]:
    script = _script()
    return script, script.compare(shared)


def test_agreement_target(comparison: tuple[ModuleType, object]) -> None:
    script, result = comparison
    print("\n" + script.render_text(result))
    below = {s.code for s in result.below_target()}
    explained = below_target()
    unexplained = sorted(below - explained)
    assert not unexplained, (
        f"codes below {script.TARGET} % agreement with hadolint and not explained in "
        f"docs/hadolint.md: {unexplained}"
    )
    stale = sorted(explained - below)
    assert not stale, f"docs/hadolint.md lists codes as below target that are not: {stale}"


def test_docs_table_is_current(comparison: tuple[ModuleType, object]) -> None:
    script, result = comparison
    assert agreement_table() == script.render_markdown(result).strip(), (
        "docs/hadolint.md is out of date: run "
        "`.venv/bin/python scripts/compare_hadolint.py --format markdown` and paste the table"
    )


def test_script_command_line(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    assert script.main(["--shared", str(shared), "--format", "json", "--code", "DL4006"]) == 0
    out = capsys.readouterr().out
    assert '"code": "DL4006"' in out
    assert script.main(["--shared", str(shared / "nowhere")]) == 2
