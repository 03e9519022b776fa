"""How fast `layerwise deps` scans a large project, against deptry on the same project.

    .venv/bin/python benchmarks/bench_deps.py [--modules 2000] [--repeat 3]

A project of N generated modules (packages of 50, each module ~60 lines with stdlib,
third-party, first-party, relative, optional and string imports, a Django-style settings
module per package) with a Dockerfile (`COPY . .`, `pip install -r requirements.txt`) is
written to a temporary directory. Measured in this run, best of N (wall time; the CPU time
of a one-process scan is printed too, as it depends less on what else the machine does):

* layerwise scan: the `ast` import scan of every shipped module (`scan_files`);
* layerwise deps: the whole static analysis (context walk, COPY resolution, manifests, scan,
  commands, findings), as `layerwise deps DIR` runs it, minus process start;
* deptry: `deptry DIR` in a subprocess (its import scan is Rust, parallel), and its in-process
  Rust scan alone when importable.

The goal: 2,000 modules in under 2 s. Ratios < 1 mean faster than deptry.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise.context.project import BuildContext  # noqa: E402
from layerwise.deps.analysis import analyze_context  # noqa: E402
from layerwise.deps.imports import scan_files  # noqa: E402

THIRD_PARTY = ["requests", "flask", "numpy", "yaml", "sqlalchemy", "redis", "celery", "boto3"]
SETTINGS = """\
INSTALLED_APPS = ["django.contrib.admin", "rest_framework", "corsheaders"]
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}
CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://r/0"}}
"""
REQUIREMENTS = "requests\nflask\nnumpy\npyyaml\nsqlalchemy\nredis\ncelery\nboto3\npandas\n"


def module_text(pkg: int, mod: int, per_pkg: int) -> str:
    third = THIRD_PARTY[(pkg + mod) % len(THIRD_PARTY)]
    sibling = f"m{(mod + 1) % per_pkg}"
    lines = [
        f'"""Module {mod} of package {pkg}: generated for the benchmark."""',
        "from __future__ import annotations",
        "import os",
        "import json",
        "from collections import defaultdict",
        f"import {third}",
        f"from . import {sibling}",
        f"from pkg{(pkg + 1) % 40}.m0 import helper as other_helper",
        "try:",
        "    import ujson",
        "except ImportError:",
        "    ujson = None",
        "",
        "",
        "def helper(value: int) -> dict[str, int]:",
        '    """Return a small mapping."""',
        "    out: dict[str, int] = defaultdict(int)",
        "    for i in range(value):",
        "        out[str(i)] += i * 2",
        "    return dict(out)",
        "",
        "",
        f"class Service{mod}:",
        '    backend = "redis.asyncio.client:Redis"',
        "",
        "    def __init__(self, name: str) -> None:",
        "        self.name = name",
        "        self.path = os.path.join('/tmp', name)",
        "",
        "    def run(self, payload: str) -> str:",
        "        data = json.loads(payload)",
        "        data['service'] = self.name",
        "        if data.get('load'):",
        "            import importlib",
        "            importlib.import_module('yaml')",
        "        return json.dumps(data)",
        "",
    ]
    for i in range(20):
        lines.append(f"def f{i}(x: int) -> int:\n    return other_helper(x + {i}).get('0', 0)\n")
    return "\n".join(lines) + "\n"


def generate(root: Path, modules: int) -> None:
    per_pkg = 50
    for n in range(modules):
        pkg, mod = divmod(n, per_pkg)
        d = root / f"pkg{pkg}"
        d.mkdir(exist_ok=True)
        (d / "__init__.py").write_text("")
        (d / f"m{mod}.py").write_text(module_text(pkg, mod, per_pkg))
    for pkg in range((modules + per_pkg - 1) // per_pkg):
        (root / f"pkg{pkg}" / "settings.py").write_text(SETTINGS)
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / "Dockerfile").write_text(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        'CMD ["gunicorn", "pkg0.m0:app"]\n'
    )


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="layerwise-bench-deps-"))
    try:
        generate(tmp, args.modules)
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*.py"))
        lines = sum(len((tmp / f).read_text().splitlines()) for f in files)
        print(f"project: {len(files)} Python files, {lines:,} lines")

        t_scan = best_of(args.repeat, lambda: scan_files(tmp, files))
        cpu = []
        for _ in range(args.repeat):
            c0 = time.process_time()
            scan_files(tmp, files, workers=1)
            cpu.append(time.process_time() - c0)
        t_full = best_of(args.repeat, lambda: analyze_context(BuildContext.load(tmp)))
        report = analyze_context(BuildContext.load(tmp))
        found = sorted((f.code, f.name) for f in report.findings)
        print(f"layerwise scan (ast):   {t_scan:7.3f} s   (one process: {min(cpu):.3f} s CPU)")
        print(f"layerwise deps (whole): {t_full:7.3f} s   findings: {found}")
        goal = "met" if t_full < 2.0 else "MISSED"
        print(f"goal: {args.modules} modules in under 2 s: {goal}")

        deptry = shutil.which("deptry", path=str(Path(sys.executable).parent))
        if deptry is None:
            print("deptry: not installed (pip install deptry) - no peer ratio")
            return

        def run_deptry() -> None:
            subprocess.run(
                [deptry, ".", "--no-ansi", "-rf", "requirements.txt"],
                cwd=tmp,
                capture_output=True,
                check=False,
            )

        t_deptry = best_of(args.repeat, run_deptry)
        print(f"deptry (CLI, process):  {t_deptry:7.3f} s")
        print(f"ratio layerwise deps / deptry CLI: {t_full / t_deptry:.2f}")
        try:
            from deptry.imports.extract import get_imported_modules_from_list_of_files

            paths = [tmp / f for f in files]
            t_rust = best_of(args.repeat, lambda: get_imported_modules_from_list_of_files(paths))
            print(f"deptry scan (Rust):     {t_rust:7.3f} s")
            print(f"ratio layerwise scan / deptry scan: {t_scan / t_rust:.2f}")
        except ImportError:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
