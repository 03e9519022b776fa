"""`layerwise bench` on example apps: the shipped (naive) Dockerfile against an optimized one.

    .venv/bin/python benchmarks/bench_examples.py [--apps flask-pip fastapi-uvicorn] [--repeat 1]
        [--docker /usr/bin/docker] [--markdown FILE] [--html-dir DIR]

Until `layerwise fix --unsafe` writes the structural rewrites (manifest-first COPY, cache mounts,
.dockerignore), the optimized Dockerfiles here are HAND-WRITTEN, following the seeds: dependency
manifests copied and installed before the code, a pip cache mount, a .dockerignore for logs, docs,
tests and VCS data, a non-root user. Each app is measured with `layerwise bench --compare` in one
run (builds interleaved); the tables give seconds per scenario, the ratios, image size and layers.

The peer here is the builds themselves: bench's own work (copies, edits, inspections, reports)
is the wall time outside the `buildx build` processes, against the goal of under 5 % (issue 6).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise.build.bench import BenchOptions, Variant, run_bench  # noqa: E402
from layerwise.build.bench_report import html_report, markdown  # noqa: E402

IGNORE = ".git\nlogs\ndocs\ntests\nscripts\n.vscode\n.idea\n*.md\nDockerfile*\n.dockerignore\n"

HAND_OPTIMIZED = {
    "flask-pip": """\
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt base.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY app.py .
ENV PORT=8000
EXPOSE 8000
USER nobody
CMD gunicorn --bind 0.0.0.0:$PORT --workers 2 app:app
""",
    "fastapi-uvicorn": """\
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends curl \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY app/ app/
ENV PORT=8000
EXPOSE 8000
USER nobody
CMD uvicorn app.main:app --host 0.0.0.0 --port $PORT
""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", nargs="+", default=list(HAND_OPTIMIZED))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--docker")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--html-dir", type=Path, help="write one HTML report per app here")
    args = parser.parse_args()
    out: list[str] = []
    overheads = []
    for app in args.apps:
        context = REPO / "examples" / app
        with tempfile.TemporaryDirectory() as tmp:
            optimized = Path(tmp) / "Dockerfile"
            optimized.write_text(HAND_OPTIMIZED[app])
            report = run_bench(
                context,
                [
                    Variant("original", context / "Dockerfile"),
                    Variant("hand-optimized", optimized, None, IGNORE),
                ],
                BenchOptions(repeat=args.repeat, network="host", docker=args.docker),
                progress=lambda e: (
                    print(f"  {e.index}/{e.total} {e.variant} {e.scenario}", file=sys.stderr)
                    if e.vertex is None and e.result is None
                    else None
                ),
            )
        text = markdown(report).replace(str(optimized), "hand-optimized Dockerfile")
        print(f"## {app}\n\n{text}")
        out.append(f"## {app}\n\n{text}")
        overheads.append(report.overhead)
        if args.html_dir:
            args.html_dir.mkdir(parents=True, exist_ok=True)
            (args.html_dir / f"{app}.html").write_text(html_report(report))
    worst = max(overheads) if overheads else 0.0
    line = f"bench overhead beyond the builds: at most {worst * 100:.1f} % (goal: under 5 %)"
    print(line)
    if args.markdown:
        args.markdown.write_text("\n".join(out) + "\n" + line + "\n")


if __name__ == "__main__":
    main()
