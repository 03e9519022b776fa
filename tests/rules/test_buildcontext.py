"""LW3xx: build-context rules on real directories (the context engine does the walking)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from layerwise import parse_dockerfile
from layerwise.context.project import BuildContext
from layerwise.rules import lint


def _findings(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> list[tuple[str, int]]:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    df = parse_dockerfile(dockerfile, str(tmp_path / "Dockerfile"))
    context = BuildContext.load(tmp_path, tmp_path / "Dockerfile")
    result = lint(df, select=["LW3"], build_context=context)
    return [(f.rule, f.line) for f in result.findings]


def test_copy_of_an_ignored_file_and_a_missing_one(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        "FROM scratch\nCOPY secret.txt /\nCOPY nope.txt /\nCOPY *.md /\n",
        {".dockerignore": "secret.txt\n", "secret.txt": "x\n", "a.py": ""},
    )
    assert ("LW304", 2) in found
    assert ("LW305", 3) in found  # missing: the build fails
    assert ("LW305", 4) in found  # a wildcard matching nothing copies nothing
    assert ("LW305", 2) not in found  # an ignored file is LW304's, reported once


def test_unbuilt_stage_sources_are_not_errors(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        "FROM scratch AS unused\nCOPY nope.txt /\nFROM scratch\nCOPY a.py /\n",
        {".dockerignore": "*.log\n", "a.py": ""},
    )
    assert found == []


def test_junk_named_explicitly_is_wanted(tmp_path: Path) -> None:
    files = {".dockerignore": "*.md\n", "app.py": "", "logs/app.log": "x\n"}
    assert _findings(tmp_path, "FROM scratch\nCOPY logs/app.log /\n", files) == []
    assert _findings(tmp_path, "FROM scratch\nCOPY . /\n", files) == [("LW302", 2)]


def test_secret_in_context_but_not_copied(tmp_path: Path) -> None:
    files = {
        ".dockerignore": "*.md\n",
        "app.py": "",
        "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    }
    assert _findings(tmp_path, "FROM scratch\nCOPY app.py /\n", files) == [("LW303", 1)]
    # Copied into the image: a security rule's business, not reported twice here.
    assert ("LW303", 1) not in _findings(tmp_path, "FROM scratch\nCOPY . /\n", files)


def test_add_for_local_files_spares_archives_urls_and_checksums(tmp_path: Path) -> None:
    text = (
        "FROM scratch\nADD a.tar.gz /\nADD https://example.com/x /x\nADD --checksum=sha256:"
        + "0" * 64
        + " https://example.com/y /y\nADD *.tgz /\nADD app.py /\n"
    )
    found = [(f.rule, f.line) for f in lint(parse_dockerfile(text), select=["LW306"]).findings]
    assert found == [("LW306", 6)]


def test_secret_values_never_appear_in_output(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n")
    (tmp_path / "app.py").write_text("")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    res = run_cli("lint", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert "wJalrXUtnFEMI" not in res.out + res.err
    rules = {f["rule"] for f in json.loads(res.out)}
    assert {"LW301", "LW303"} <= rules


def test_no_context_flag_skips_context_rules(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY nope /\n")
    with_ctx = json.loads(run_cli("lint", str(tmp_path), "--format", "json").out)
    without = json.loads(run_cli("lint", str(tmp_path), "--format", "json", "--no-context").out)
    assert "LW305" in {f["rule"] for f in with_ctx}
    assert not {f["rule"] for f in without} & {"LW301", "LW305"}
