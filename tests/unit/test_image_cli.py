"""`layerwise image` as a user runs it: output formats, gates and exit codes, errors, memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import SRC, run_cli
from imagefixtures import Layer, docker_archive, findings_image, hand_layers


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, Path]:
    before = tmp_path / "before.tar"
    before.write_bytes(docker_archive(findings_image()))
    after = tmp_path / "after.tar"
    after.write_bytes(docker_archive(hand_layers(), user="1000"))
    return before, after


def test_json_output_has_the_documented_keys(images: tuple[Path, Path]) -> None:
    result = run_cli("image", str(images[1]), "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    for key in ("image", "size", "efficiency", "wasted_bytes", "layers", "findings", "packages"):
        assert key in doc
    for key in ("digest", "size", "command", "added", "changed", "removed", "wasted_bytes"):
        assert key in doc["layers"][0]
    assert doc["size"] == 1485 and doc["wasted_bytes"] == 270 and doc["passed"] is True


def test_text_and_markdown_output(images: tuple[Path, Path]) -> None:
    text = run_cli("image", str(images[0]))
    assert text.code == 0, text.err
    assert "Layers" in text.out and "build tool `gcc`" in text.out and "SECRETVALUE" not in text.out
    md = run_cli("image", str(images[0]), "--format", "markdown")
    assert md.code == 0 and md.out.startswith("## Image") and "| error | secret |" in md.out


def test_compare_two_images(images: tuple[Path, Path]) -> None:
    result = run_cli("image", *map(str, images), "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert {"before", "after", "comparison"} <= set(doc)
    assert "gcc-12" in doc["comparison"]["summary"]
    text = run_cli("image", *map(str, images))
    assert "gcc-12" in text.out and "Packages removed" in text.out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--min-efficiency", "0.9"], 0),
        (["--min-efficiency", "95%"], 1),
        (["--max-wasted-bytes", "1kB"], 0),
        (["--max-wasted-bytes", "100"], 1),
        (["--max-wasted-percent", "0.5"], 1),
        (["--fail-on-build-tools"], 0),
        (["--fail-on-secrets"], 0),
    ],
)
def test_gates_set_the_exit_code(images: tuple[Path, Path], args: list[str], code: int) -> None:
    result = run_cli("image", str(images[1]), *args)
    assert result.code == code, result.out + result.err
    assert ("FAIL" in result.out) == (code == 1)


def test_build_tool_and_secret_gates_fail_on_a_dirty_image(images: tuple[Path, Path]) -> None:
    for flag in ("--fail-on-build-tools", "--fail-on-secrets"):
        result = run_cli("image", str(images[0]), flag, "--format", "json")
        assert result.code == 1
        doc = json.loads(result.out)
        assert doc["passed"] is False and not doc["gates"][0]["passed"]
        assert "SECRETVALUE" not in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.tar"], "missing.tar: no such file or directory"),
        (["--min-efficiency", "abc", "X.tar"], "--min-efficiency: not a ratio"),
        (["a", "b", "c"], "give one image to analyse, or two to compare"),
        (["--max-wasted-bytes", "lots", "X.tar"], "--max-wasted-bytes: not a size"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "X.tar").write_bytes(docker_archive([Layer().file("a", 1)]))
    result = run_cli("image", *args, cwd=tmp_path)
    assert result.code == 2, result.out + result.err
    assert message in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_malformed_image_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"\x00garbage" * 200)
    result = run_cli("image", str(bad))
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.startswith("error: ") and len(result.err.strip().splitlines()) == 1


def _sparse_image(path: Path, layers: int, layer_bytes: int) -> None:
    """A `docker save`-style archive of `layers` layers of one `layer_bytes` file each, written
    as a sparse file: a gigabyte to read without a gigabyte of disk or time to write it."""

    def tar_header(name: str, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.size = size
        return info.tobuf(format=tarfile.USTAR_FORMAT)

    names = []
    with path.open("wb") as f:
        for i in range(layers):
            inner = tar_header(f"data/blob{i}", layer_bytes)
            inner_size = len(inner) + layer_bytes + (-layer_bytes % 512) + 1024
            name = f"blobs/sha256/{i:064x}"
            names.append(name)
            f.write(tar_header(name, inner_size))
            f.write(inner)
            f.seek(inner_size - len(inner), os.SEEK_CUR)  # zeros: file data and end marker
        config = json.dumps({"rootfs": {"diff_ids": names}, "history": []}).encode()
        manifest = json.dumps([{"Config": "config.json", "Layers": names}]).encode()
        for name, blob in (("config.json", config), ("manifest.json", manifest)):
            f.write(tar_header(name, len(blob)))
            f.write(blob + bytes(-len(blob) % 512))
        f.write(bytes(1024))


def test_memory_stays_bounded_on_a_1gb_image_read_from_a_pipe(tmp_path: Path) -> None:
    image = tmp_path / "big.tar"
    _sparse_image(image, layers=4, layer_bytes=256 << 20)
    assert image.stat().st_size > 1 << 30
    # VmHWM, the process's own peak: ru_maxrss would also count the pytest process it forked from.
    code = (
        "import json; from layerwise.image import analyze_image; r=analyze_image('-'); "
        "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
        "print(json.dumps([r.size, int(hwm)]))"
    )
    cat = subprocess.Popen(["cat", str(image)], stdout=subprocess.PIPE)
    out = subprocess.run(
        [sys.executable, "-c", code],
        stdin=cat.stdout,
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=300,
    ).stdout
    cat.wait()
    size, peak_kb = json.loads(out)
    assert size == 4 * (256 << 20)
    # The bound: under 300 MB resident for a 1 GB image.
    assert peak_kb * 1024 < 300 << 20, f"peak RSS {peak_kb // 1024} MB"


def test_unreachable_engine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("image", "myapp:latest", env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"})
    assert result.code == 2, result.err
    assert result.err.startswith("error: cannot read image 'myapp:latest' from the Docker engine")
    assert len(result.err.strip().splitlines()) == 1
