"""LW8xx: dependencies. What the Dockerfile installs against what the shipped code uses.

These rules read the build context (manifests and the files COPY brings in) and report at the
instruction that installs the dependency. They work without an image, so sizes are not in
their messages; `layerwise deps --image REF` (or `--build`) adds the bytes each one costs,
and `layerwise deps --fix` writes the change (a requirements split or a dev group).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import ClassVar

from layerwise.deps.analysis import (
    CUDA,
    DEV_TOOL,
    SINGLE_FILE,
    TRANSITIVE,
    UNUSED,
    DepsFinding,
    DepsReport,
    analyze_context,
)
from layerwise.dockerfile.syntax import Instruction
from layerwise.rules.base import Example, Finding, LintContext, Rule, Severity, register

_CACHE: weakref.WeakKeyDictionary[object, DepsReport] = weakref.WeakKeyDictionary()


def _report(ctx: LintContext) -> DepsReport | None:
    """The dependency analysis of the build context, computed once for all LW8xx rules."""
    build_context = ctx.build_context
    if build_context is None or getattr(build_context, "model", None) is None:
        return None
    report = _CACHE.get(build_context)
    if report is None:
        from layerwise.context.project import BuildContext

        if not isinstance(build_context, BuildContext):
            return None
        report = analyze_context(build_context)
        _CACHE[build_context] = report
    return report


def _anchor(ctx: LintContext, finding: DepsFinding, report: DepsReport) -> Instruction | None:
    if finding.instruction is not None:
        # the context's model may come from another parse of the same text: map by position
        for ins in ctx.dockerfile.instructions:
            if ins.start_line == finding.instruction.start_line:
                return ins
    for inst in report.installs:
        if inst.in_final:
            for ins in ctx.dockerfile.instructions:
                if ins.start_line == inst.line:
                    return ins
    final = ctx.final
    return final.from_instruction if final is not None else None


class _DepsRule(Rule):
    code: ClassVar[str]
    needs_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        report = _report(ctx)
        if report is None:
            return
        for f in report.findings:
            if f.code != self.id:
                continue
            at = _anchor(ctx, f, report)
            if at is None:
                continue
            where = f" ({f.path}:{f.line})" if f.path and f.line else ""
            yield self.finding(ctx, at, f.message + where)


_FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def _dockerfile(install: str) -> str:
    return (
        f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install {install}\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
    )


@register
class UnusedDependency(_DepsRule):
    id = UNUSED
    name = "unused-dependency"
    title = "A declared dependency that nothing in the image uses"
    severity = Severity.WARNING
    rationale = (
        "Every dependency installed into the image costs bytes, build time and attack surface; "
        "one that the shipped code never imports, that no command runs and that no settings "
        "string names is pure cost (a backend that carried torch and ultralytics it never "
        "imported went from 8.36 GB to 232 MB without them). The scan reads the files COPY "
        "brings into the final stage with `ast`, including importlib.import_module literals, "
        "Django settings strings, entry points and the commands of CMD/ENTRYPOINT; "
        "`layerwise deps --image` shows what each one costs."
    )
    bad = Example(
        _dockerfile("-r requirements.txt"),
        {"requirements.txt": "flask\ngunicorn\npandas\n", "app.py": _FLASK_APP},
    )
    good = Example(
        _dockerfile("-r requirements/service.txt"),
        {
            "requirements/service.txt": "flask\ngunicorn\n",
            "requirements/reports.txt": "pandas\n",
            "app.py": _FLASK_APP,
        },
    )


@register
class DevToolInImage(_DepsRule):
    id = DEV_TOOL
    name = "dev-tool-in-image"
    title = "A development or test tool is installed into the final image"
    severity = Severity.WARNING
    rationale = (
        "Test runners, formatters, linters, type checkers and notebooks (pytest, black, ruff, "
        "mypy, ipython, ...) are needed where code is written and tested, never where it runs. "
        "In the production image they only add bytes and tools an attacker can use; keep them "
        "in a development requirements file or group."
    )
    bad = Example(
        _dockerfile("-r requirements-dev.txt"),
        {
            "requirements.txt": "flask\ngunicorn\n",
            "requirements-dev.txt": "-r requirements.txt\npytest\n",
            "app.py": _FLASK_APP,
        },
    )
    good = Example(
        _dockerfile("-r requirements.txt"),
        {
            "requirements.txt": "flask\ngunicorn\n",
            "requirements-dev.txt": "-r requirements.txt\npytest\n",
            "app.py": _FLASK_APP,
        },
    )


@register
class TransitiveImport(_DepsRule):
    id = TRANSITIVE
    name = "transitive-import"
    title = "Code imports a module that no declared dependency provides"
    severity = Severity.INFO
    rationale = (
        "A module that arrives only because another dependency requires it (werkzeug through "
        "flask) can disappear or change major version in any release of that dependency; the "
        "import then fails at run time. Declare what the code imports."
    )
    bad = Example(
        _dockerfile("flask==3.0.3 gunicorn==22.0.0"),
        {"app.py": _FLASK_APP + "from werkzeug.exceptions import NotFound\n"},
    )
    good = Example(
        _dockerfile("flask==3.0.3 gunicorn==22.0.0 werkzeug==3.0.6"),
        {"app.py": _FLASK_APP + "from werkzeug.exceptions import NotFound\n"},
    )


@register
class SingleRequirementsFile(_DepsRule):
    id = SINGLE_FILE
    name = "single-requirements-file"
    title = "One requirements file serves every environment, development tools included"
    severity = Severity.INFO
    rationale = (
        "With one requirements file for development, CI and production, the production image "
        "installs the test and lint tools too. Split it: requirements.txt for what the service "
        "runs, requirements-dev.txt starting with `-r requirements.txt` for the rest "
        "(`layerwise deps --fix` writes the split)."
    )
    bad = Example(
        _dockerfile("-r requirements.txt"),
        {"requirements.txt": "flask\ngunicorn\nblack\nruff\n", "app.py": _FLASK_APP},
    )
    good = Example(
        _dockerfile("-r requirements/base.txt"),
        {
            "requirements/base.txt": "flask\ngunicorn\n",
            "requirements/dev.txt": "-r base.txt\nblack\nruff\n",
            "app.py": _FLASK_APP,
        },
    )


_TORCH_APP = "import torch\n\nprint(torch.tensor([1.0]).sum())\n"


@register
class CudaWheels(_DepsRule):
    id = CUDA
    name = "cuda-wheels"
    title = "CUDA wheels in a service that uses no GPU"
    severity = Severity.WARNING
    rationale = (
        "On Linux, torch from PyPI depends on the nvidia-* CUDA wheels (gigabytes). A service "
        "that never uses a GPU (no torch.cuda, no device='cuda', no NVIDIA runtime) needs the "
        "CPU builds, from https://download.pytorch.org/whl/cpu."
    )
    bad = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        'CMD ["python", "app.py"]\n',
        {"requirements.txt": "torch\n", "app.py": _TORCH_APP},
    )
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --index-url "
        "https://download.pytorch.org/whl/cpu -r requirements.txt\n"
        'CMD ["python", "app.py"]\n',
        {"requirements.txt": "torch\n", "app.py": _TORCH_APP},
    )
