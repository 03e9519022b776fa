"""What the build driver costs on top of the build it runs.

    .venv/bin/python benchmarks/bench_build.py [--docker /usr/bin/docker] [--repeat 15]

1. Stream reading: a long rawjson stream (recorded steps repeated to ~20 MB) read by
   `RawJsonReader`, against the peer `json.loads` of the same objects split beforehand: the
   reader's own work beyond JSON decoding.
2. Whole driver: the same warm build of an example app (every step cached, so the build itself
   is short and any overhead shows) run with `layerwise.build.build` and with a bare
   `docker buildx build --progress=rawjson` whose output is thrown away, interleaved, median of
   --repeat runs. The goal (issue 6): the driver's overhead under 5 % of the wall time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from layerwise.build import build, find_engine  # noqa: E402
from layerwise.build.docker import remove_images  # noqa: E402
from layerwise.build.rawjson import RawJsonReader  # noqa: E402

RECORDING = REPO / "tests" / "fixtures" / "rawjson" / "multistage-cold.rawjson"


def bench_reader() -> None:
    one = RECORDING.read_text()
    copies = max(1, 20_000_000 // len(one))
    text = one * copies
    lines = text.splitlines()
    chunks: list[str] = []
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        if line == "}":
            chunks.append("\n".join(buf))
            buf = []
    import json

    best_peer = best_ours = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for chunk in chunks:
            json.loads(chunk)
        best_peer = min(best_peer, time.perf_counter() - start)
        start = time.perf_counter()
        reader = RawJsonReader()
        reader.feed_lines(lines)
        reader.close()
        best_ours = min(best_ours, time.perf_counter() - start)
    mb = len(text) / 1e6
    print(f"stream reader: {mb:.1f} MB, {len(chunks)} objects")
    print(f"  json.loads only (peer): {best_peer:.3f}s  ({mb / best_peer:.0f} MB/s)")
    print(f"  RawJsonReader:          {best_ours:.3f}s  ({mb / best_ours:.0f} MB/s)")
    print(f"  ratio reader/peer: {best_ours / best_peer:.2f}")


def bench_driver(docker: str | None, repeat: int) -> None:
    engine = find_engine(docker)
    context = REPO / "examples" / "flask-pip"
    tag = f"layerwise-bench-build:{uuid.uuid4().hex[:10]}"
    try:
        build(context, tag=tag, network="host", docker=engine)  # warm the cache
        ours: list[float] = []
        lean: list[float] = []
        peer: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            iid = Path(tmp) / "iid"
            bare = [engine.binary, "buildx", "build", "--progress=rawjson", "--network", "host"]
            bare += ["--iidfile", str(iid), "--tag", tag, "--load", str(context)]
            for _ in range(repeat):
                start = time.perf_counter()
                subprocess.run(
                    bare, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
                )
                peer.append(time.perf_counter() - start)
                start = time.perf_counter()
                result = build(context, tag=tag, network="host", docker=engine)
                ours.append(time.perf_counter() - start)
                assert all(s.cached for s in result.steps if s.keyword != "FROM")
                start = time.perf_counter()
                build(context, tag=tag, network="host", docker=engine, image_info=False)
                lean.append(time.perf_counter() - start)
    finally:
        remove_images(engine, [tag])
    p, o, n = statistics.median(peer), statistics.median(ours), statistics.median(lean)
    print(f"driver on a warm build of examples/flask-pip, median of {repeat}:")
    print(f"  bare buildx (peer):                 {p:.3f}s")
    print(f"  build() with image inspect:         {o:.3f}s  ratio {o / p:.3f}")
    print(f"  build(image_info=False):            {n:.3f}s  ratio {n / p:.3f}")
    print(f"  overhead: {100 * (o - p) / o:+.1f}% / {100 * (n - p) / n:+.1f}% of wall time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker", default=None)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-docker", action="store_true")
    args = parser.parse_args()
    bench_reader()
    if not args.skip_docker:
        bench_driver(args.docker, args.repeat)


if __name__ == "__main__":
    main()
