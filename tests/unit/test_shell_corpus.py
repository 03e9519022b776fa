"""Every RUN instruction of the real-world corpus: analyze never raises, finds what a person
would find, and agrees with a second shell parser (bashlex) on which programs run."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from layerwise import parse_dockerfile
from layerwise.dockerfile.syntax import Instruction
from layerwise.shell import RunScript, analyze_run

pytestmark = pytest.mark.shared


@cache
def corpus_runs(root: str) -> list[tuple[str, Instruction, RunScript]]:
    out = []
    for path in sorted((Path(root) / "corpus" / "dockerfiles").iterdir()):
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        try:
            df = parse_dockerfile(text, str(path))
        except Exception:  # the 4 negative parser fixtures
            continue
        shell: tuple[str, ...] = ("/bin/sh", "-c")
        for ins in df.instructions:
            if ins.name == "FROM":
                shell = ("/bin/sh", "-c")
            elif ins.name == "SHELL" and ins.json:
                shell = tuple(ins.arguments)
            result = analyze_run(ins, shell=shell)
            if result is not None:
                out.append((path.name, ins, result))
    return out


@pytest.fixture(scope="module")
def runs(shared: Path) -> list[tuple[str, Instruction, RunScript]]:
    return corpus_runs(str(shared))


def test_every_corpus_run_is_analyzed(runs: list[tuple[str, Instruction, RunScript]]) -> None:
    assert len(runs) > 2000
    errors = [(name, ins.start_line) for name, ins, r in runs if r.script.parse_error]
    # tree-sitter-bash rejects a few valid scripts (a redirection before the command name,
    # odd tabs before `)`) and two files use PowerShell: well under 1 %
    assert len(errors) <= 10, errors
    for name, ins, r in runs:
        facts = r.script.facts
        for prop in (
            "download_pipes",
            "user_ops",
            "world_writable_chmods",
            "removed_paths",
            "pip_installs_keeping_cache",
            "unprotected_pipes",
            "wget_without_progress",
        ):
            getattr(facts, prop)
        for cmd in r.script.commands:
            span = r.command_span(cmd)
            assert ins.span.start <= span.start <= span.end <= ins.span.end, (name, cmd)


def test_exact_offsets_point_at_the_words(runs: list[tuple[str, Instruction, RunScript]]) -> None:
    checked = 0
    for name, ins, r in runs:
        if not r.exact or (r.script.commands and r.script.commands[0].depth > 0):
            continue
        text = ins.dockerfile.text
        for cmd in r.script.commands:
            if cmd.depth:
                continue
            for w in cmd.words:
                span = r.word_span(w)
                got = text[span.start : span.end]
                # a word split by a line continuation (or a comment line inside it) in the file
                if "\n" in got:
                    continue
                assert got == w.text, (name, ins.start_line, w)
                checked += 1
    assert checked > 20000


def _ops_at(
    runs: list[tuple[str, Instruction, RunScript]], file: str, line: int
) -> list[tuple[str, str, list[str]]]:
    for name, ins, r in runs:
        if name == file and ins.start_line == line:
            return [
                (o.manager, o.action, [p.raw for p in o.packages]) for o in r.script.package_ops
            ]
    raise AssertionError(f"{file}:{line} not found")


Y = "yinyuanzhang__dockerfiles__data__"
# (file, line of the RUN): the package operations a person reads in it
SPOT_CHECKS: list[tuple[str, int, list[tuple[str, str, list[str]]]]] = [
    (
        "jessfraz__dockerfiles__audacity__Dockerfile",
        4,
        [("apt-get", "update", []), ("apt-get", "install", ["audacity"])],
    ),
    (
        Y + "e__eeacms__ubuntu__Dockerfile",
        19,
        [("apt-get", "update", []), ("apt-get", "install", ["curl"])],
    ),
    (
        "TyW-98__django-docker__Dockerfile",
        21,
        [("pip", "install", ["pip"]), ("pip", "install", []), ("pip", "install", [])],
    ),
    (
        Y + "n__nytimes__nginx-vod-module__Dockerfile",
        5,
        [
            (
                "apk",
                "install",
                [
                    "curl",
                    "build-base",
                    "openssl",
                    "openssl-dev",
                    "zlib-dev",
                    "linux-headers",
                    "pcre-dev",
                    "ffmpeg",
                    "ffmpeg-dev",
                ],
            )
        ],
    ),
    (
        "docker-library__golang__1.23__bookworm__Dockerfile",
        108,
        [
            ("apt-get", "update", []),
            ("apt-get", "install", ["g++", "gcc", "libc6-dev", "make", "pkg-config"]),
        ],
    ),
    (
        Y + "d__deepimpact__cython-pyminifier__Dockerfile",
        3,
        [
            ("apt-get", "update", []),
            ("apt-get", "install", ["python-dev"]),
            ("pip", "install", ["pyminifier", "cython"]),
        ],
    ),
    (
        Y + "s__sagemath__sagemath-dev__Dockerfile",
        84,
        [
            ("apt-get", "update", []),
            (
                "apt-get",
                "install",
                [
                    "wget",
                    "build-essential",
                    "automake",
                    "m4",
                    "dpkg-dev",
                    "python",
                    "libssl-dev",
                    "git",
                    "rdfind",
                ],
            ),
            ("apt-get", "clean", []),
        ],
    ),
    ("cbfield__flask-docker-app__Dockerfile", 14, [("pipenv", "install", [])]),
    (
        "docker__awesome-compose__flask__app__Dockerfile",
        17,
        [("apk", "update", []), ("apk", "install", ["git"])],
    ),
    ("Joel-Liju__heroku__Dockerfile", 7, [("pip", "install", ["pytest"])]),
]


@pytest.mark.parametrize(("file", "line", "expected"), SPOT_CHECKS)
def test_spot_checks(
    runs: list[tuple[str, Instruction, RunScript]],
    file: str,
    line: int,
    expected: list[tuple[str, str, list[str]]],
) -> None:
    assert _ops_at(runs, file, line) == expected


def test_spot_check_details(runs: list[tuple[str, Instruction, RunScript]]) -> None:
    def script(file: str, line: int) -> RunScript:
        return next(r for n, i, r in runs if n == file and i.start_line == line)

    r = script("jessfraz__dockerfiles__audacity__Dockerfile", 4)
    install = r.script.package_ops[1]
    assert install.yes and install.no_recommends and r.script.facts.apt_lists_removed
    r = script(Y + "m__minimalcompact__remotecv__Dockerfile", 14)
    (pip,) = r.script.package_ops
    assert pip.cache_disabled and pip.requirements == ["/app/requirements.txt"]
    assert pip.options["--trusted-host"] == ["None"]
    r = script("cbfield__flask-docker-app__Dockerfile", 14)
    (pipenv,) = r.script.package_ops
    assert pipenv.locked and pipenv.env["PIPENV_VENV_IN_PROJECT"] == "1"
    r = script("TyW-98__django-docker__Dockerfile", 21)
    dev = r.script.package_ops[2]
    assert dev.command.conditional and dev.requirements == ["/tmp/requirements.dev.txt"]
    assert [u.name for u in r.script.facts.user_ops] == ["django-user"]


def test_corpus_package_managers_are_found(runs: list[tuple[str, Instruction, RunScript]]) -> None:
    seen = {(o.manager, o.action) for _, _, r in runs for o in r.script.package_ops}
    for pair in [
        ("apt-get", "install"),
        ("apt-get", "update"),
        ("apk", "install"),
        ("pip", "install"),
        ("npm", "install"),
        ("yarn", "install"),
        ("yum", "install"),
        ("conda", "install"),
        ("poetry", "install"),
        ("pipenv", "install"),
        ("go", "install"),
        ("gem", "install"),
        ("uv", "sync"),
        ("dnf", "install"),
    ]:
        assert pair in seen, pair


# Programs that run another program: tree-sitter's side reports the wrapped one instead.
_WRAPPERS = {
    "sudo",
    "env",
    "exec",
    "nice",
    "nohup",
    "timeout",
    "xargs",
    "gosu",
    "su-exec",
    "time",
    "ionice",
    "stdbuf",
    "command",
    "eval",
    "su",
    "chroot",
    "runuser",
    "sh",
    "bash",
    "dash",
    "ash",
    "zsh",
    "busybox",
    "tini",
    "doas",
    "builtin",
    "fakeroot",
    "eatmydata",
    "retry",
    "setpriv",
    "dumb-init",
    "unbuffer",
    "catchsegv",
    "chronic",
}
_NOT_PROGRAMS = {"[", "[[", "export", "unset", "local", "declare", "readonly", "typeset"}


def test_agrees_with_bashlex_on_programs(runs: list[tuple[str, Instruction, RunScript]]) -> None:
    """bashlex (a port of bash's own grammar) and tree-sitter agree on which programs a script
    runs, for every script both parse: no command lost or invented."""
    bashlex = pytest.importorskip("bashlex")
    compared = 0
    bad = []
    for name, ins, r in runs:
        if ins.heredocs or ins.json or r.script.parse_error:
            continue
        try:
            trees = bashlex.parse(r.script.text)
        except Exception:  # bashlex rejects ~5 % of real scripts
            continue
        theirs = sorted(_bashlex_programs(bashlex, trees))
        ours = sorted(
            c.words[0].text
            for c in r.script.commands
            if c.words
            and not c.depth
            and not c.wrappers
            and c.words[0].value not in _NOT_PROGRAMS
            and c.name not in _WRAPPERS
        )
        compared += 1
        if theirs != ours:
            bad.append((name, ins.start_line, theirs, ours))
    assert compared > 1800
    assert len(bad) <= compared // 200, bad[:10]


def _bashlex_programs(bashlex: object, trees: list[object]) -> Iterator[str]:
    found: list[str] = []

    class Visitor(bashlex.ast.nodevisitor):  # type: ignore[attr-defined, name-defined, misc]
        def visitcommand(self, node: object, parts: list[object]) -> bool:
            words = [p for p in parts if getattr(p, "kind", "") == "word"]
            if words:
                text = words[0].word  # type: ignore[attr-defined]
                if text not in _NOT_PROGRAMS and text.rsplit("/", 1)[-1] not in _WRAPPERS:
                    found.append(text)
            return True

    for tree in trees:
        Visitor().visit(tree)
    yield from found
