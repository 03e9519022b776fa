"""`layerwise image` against dive and against the floor of merely listing the layers.

For each image tarball: the wall time of
  - dive:      dive --source docker-archive IMAGE --ci --json OUT
  - layerwise: python -m layerwise image IMAGE --format json
  - floor:     tar -xOf IMAGE <layer blobs> | tar -tvif -     (list every layer's entries)
their ratios, layerwise's peak resident memory, and whether efficiency and wasted bytes agree.

Each figure is from one run (`--repeat N`: the fastest of N). Images: a generated ~1 GB image
of random-data layers and one of 200,000 tiny files (both written here, no engine needed),
plus, when a Docker engine is reachable, the local python:3.11 image (`docker save`).
Run: .venv/bin/python benchmarks/bench_image.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    return info.tobuf(format=tarfile.PAX_FORMAT)


def write_archive(path: Path, layers: list[list[tuple[str, int | bytes]]]) -> None:
    """A `docker save`-style archive; each file is (name, random bytes of that size | content)."""
    names = []
    with path.open("wb") as out:
        for index, files in enumerate(layers):
            with tempfile.TemporaryFile() as layer:
                for name, content in files:
                    data = os.urandom(content) if isinstance(content, int) else content
                    layer.write(_header(name, len(data)))
                    layer.write(data + bytes(-len(data) % 512))
                layer.write(bytes(1024))
                size = layer.tell()
                layer.seek(0)
                blob = f"blobs/sha256/{hashlib.sha256(f'{path}{index}'.encode()).hexdigest()}"
                names.append(blob)
                out.write(_header(blob, size))
                shutil.copyfileobj(layer, out, 8 * MiB)
                out.write(bytes(-size % 512))
        config = json.dumps(
            {"rootfs": {"diff_ids": names}, "history": [{"created_by": "RUN x"}] * len(names)}
        ).encode()
        manifest = json.dumps([{"Config": "config.json", "Layers": names}]).encode()
        for name, data in (("config.json", config), ("manifest.json", manifest)):
            out.write(_header(name, len(data)))
            out.write(data + bytes(-len(data) % 512))
        out.write(bytes(1024))


def random_image(path: Path, total: int) -> None:
    per_layer = total // 4
    layers = [[(f"data/layer{i}/blob{j}", per_layer // 8) for j in range(8)] for i in range(4)]
    layers[3].append(("data/layer0/blob0", 1 * MiB))  # an overwrite, so something is wasted
    write_archive(path, layers)


def tiny_files_image(path: Path, count: int) -> None:
    layers = [[(f"site/pkg{i % 300}/mod{i}.py", b"x = 1\n") for i in range(count)]]
    layers.append([(f"site/pkg{i}/mod{i}.py", b"x = 2\n") for i in range(300)])
    write_archive(path, layers)


def layer_names(image: Path) -> list[str]:
    with tarfile.open(image) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return [str(n) for n in json.load(member)[0]["Layers"]]


def _peak_rss(pid: int) -> int:
    """The process's own high-water mark (VmHWM). Unlike ru_maxrss it starts afresh at exec,
    so the Python interpreter that forked the process is not counted."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed(cmd: list[str]) -> tuple[float, int, bytes]:
    """(seconds, peak RSS in bytes, stdout) of one run."""
    start = time.perf_counter()
    peak = 0
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            peak = max(peak, _peak_rss(proc.pid))
            time.sleep(0.005)
        elapsed = time.perf_counter() - start
        out.seek(0)
        return elapsed, peak, out.read()


def dive_binary() -> str | None:
    return shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")


def best(cmd: list[str], repeat: int) -> tuple[float, int, bytes]:
    """The fastest of `repeat` runs (a busy machine only ever makes a run slower)."""
    runs = [timed(cmd) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


def bench(image: Path, label: str, repeat: int = 1) -> dict[str, object]:
    env_python = [sys.executable, "-m", "layerwise", "image", str(image), "--format", "json"]
    os.environ["PYTHONPATH"] = str(ROOT / "src")
    names = " ".join(layer_names(image))
    floor, _, _ = best(["sh", "-c", f"tar -xOf {image} {names} | tar -tvif - > /dev/null"], repeat)
    ours, peak, out = best(env_python, repeat)
    report = json.loads(out)
    row: dict[str, object] = {
        "image": label,
        "bytes": image.stat().st_size,
        "layerwise_s": round(ours, 2),
        "floor_s": round(floor, 2),
        "layerwise/floor": round(ours / floor, 2),
        "peak_rss_mb": round(peak / MiB),
        "efficiency": report["efficiency"],
        "wasted_bytes": report["wasted_bytes"],
    }
    dive = dive_binary()
    if dive:
        with tempfile.TemporaryDirectory() as tmp:
            out_json = Path(tmp) / "dive.json"
            theirs, dive_peak, _ = best(
                [dive, "--source", "docker-archive", str(image), "--ci", "--json", str(out_json)],
                repeat,
            )
            dive_image = json.loads(out_json.read_text())["image"]
        row.update(
            {
                "dive_s": round(theirs, 2),
                "layerwise/dive": round(ours / theirs, 2),
                "dive_peak_rss_mb": round(dive_peak / MiB),
                "agree": dive_image["inefficientBytes"] == report["wasted_bytes"]
                and abs(dive_image["efficiencyScore"] - report["efficiency"]) < 1e-9
                and dive_image["sizeBytes"] == report["size"],
            }
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller images (CI smoke run)")
    parser.add_argument("--no-docker", action="store_true", help="skip the engine's images")
    parser.add_argument("--repeat", type=int, default=1, help="report the fastest of N runs")
    args = parser.parse_args()
    size = (128 if args.quick else 1024) * MiB
    count = 20_000 if args.quick else 200_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big = work / "random.tar"
        random_image(big, size)
        rows.append(bench(big, f"random data, {size // MiB} MiB in 4 layers", args.repeat))
        big.unlink()
        tiny = work / "tiny.tar"
        tiny_files_image(tiny, count)
        rows.append(bench(tiny, f"{count} tiny files", args.repeat))
        tiny.unlink()
        docker = shutil.which("docker", path="/usr/bin") or shutil.which("docker")
        if docker and not args.no_docker:
            saved = work / "python.tar"
            done = subprocess.run(
                [docker, "save", "-o", str(saved), "python:3.11"], capture_output=True
            )
            if done.returncode == 0:
                rows.append(bench(saved, "python:3.11 (docker save)", args.repeat))
    for row in rows:
        print(json.dumps(row))
    print()
    print(f"{'image':40} {'layerwise':>10} {'dive':>8} {'floor':>8} {'lw/dive':>8} "
          f"{'lw/floor':>8} {'RSS MB':>7} {'agree':>6}")  # fmt: skip
    for r in rows:
        print(
            f"{r['image']!s:40} {r['layerwise_s']!s:>10} {r.get('dive_s', '-')!s:>8} "
            f"{r['floor_s']!s:>8} {r.get('layerwise/dive', '-')!s:>8} "
            f"{r['layerwise/floor']!s:>8} {r['peak_rss_mb']!s:>7} {r.get('agree', '-')!s:>6}"
        )


if __name__ == "__main__":
    main()
