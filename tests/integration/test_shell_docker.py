"""Claims of layerwise.shell checked against a real engine and real Debian packages.

One container per claim family (kept small for CI):
* the Debian bookworm `-dev` -> runtime table agrees with `apt-cache depends` in python:3.11-slim;
* what `analyze` flags as bash-only really fails or behaves differently under the image's
  /bin/sh (dash), and the POSIX controls behave the same.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from conftest import DockerEngine
from layerwise import parse_dockerfile
from layerwise.shell import analyze, analyze_run
from layerwise.shell.debian import BUILD_ONLY, RUNTIME

pytestmark = pytest.mark.docker

_DEPS_SCRIPT = r"""
set -e
apt-get update -qq >/dev/null 2>&1
echo "== direct"
apt-cache depends --important $DEVS 2>/dev/null
devdeps() {
  apt-cache depends --important "$@" 2>/dev/null \
    | sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: <\{0,1\}\([^ >]*dev[^ >]*\)>\{0,1\}$/\2/p' \
    | sort -u
}
hop1=$(devdeps $DEVS)
hop2=$(devdeps $hop1)
echo "== hop"
apt-cache depends --important $hop1 $hop2 2>/dev/null
echo "== names"
apt-cache pkgnames
"""


def _depends_blocks(text: str) -> dict[str, set[str]]:
    """`apt-cache depends` output: a package name at column 0, then its dependency lines."""
    out: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = out.setdefault(line.strip().strip("<>"), set())
            continue
        m = re.match(r"^\s*\|?(?:Pre)?Depends: <?([^ >]+)>?$", line)
        if m and current is not None:
            current.add(m.group(1))
    return out


def test_debian_runtime_table_matches_bookworm(docker: DockerEngine) -> None:
    devs = sorted(RUNTIME)
    proc = docker.run(
        "run", "--rm", "--network", "host", "-e", "DEVS=" + " ".join(devs),
        "python:3.11-slim", "sh", "-c", _DEPS_SCRIPT,
        timeout=600,
    )  # fmt: skip
    _, _, rest = proc.stdout.partition("== direct\n")
    direct_text, _, rest = rest.partition("== hop\n")
    hop_text, _, names_text = rest.partition("== names\n")
    direct = _depends_blocks(direct_text)
    hop = _depends_blocks(hop_text)
    available = set(names_text.split())
    # the engine really answered: bookworm has tens of thousands of packages
    assert len(available) > 30000, proc.stderr[-2000:]
    assert set(devs) <= set(direct), sorted(set(devs) - set(direct))
    runtimes = {r for rs in RUNTIME.values() for r in rs}
    assert not (runtimes - available), sorted(runtimes - available)
    # build tools that are real packages in bookworm (libc-dev and golang are virtual there)
    assert not (BUILD_ONLY - available - {"libc-dev", "golang"}), sorted(BUILD_ONLY - available)
    wrong = {}
    for dev, runtime in RUNTIME.items():
        # through at most two more headers packages (default-libmysqlclient-dev ->
        # libmariadb-dev-compat -> libmariadb-dev -> libmariadb3)
        closure = set(direct[dev])
        for _ in range(2):
            closure |= {d for dep in closure for d in hop.get(dep, set())}
        if not set(runtime) <= closure:
            wrong[dev] = (runtime, sorted(closure))
    assert not wrong, wrong


# (snippet, what bash prints): /bin/sh must fail or print something else
BASH_ONLY = [
    ("[[ -n x ]] && echo OK", "OK"),
    ("cat <(echo OK)", "OK"),
    ("read v <<< OK; echo $v", "OK"),
    ("x=$'O\\x4b'; echo \"$x\"", "OK"),
    ("echo 'echo OK' > /tmp/s; source /tmp/s", "OK"),
    ("{ echo X; } &> /dev/null; echo OK", "OK"),
    ("echo OK |& cat", "OK"),
    ("set -o pipefail && echo OK", "OK"),
    ("x=Ox; echo ${x/x/K}", "OK"),
    ("x=(O K); echo ${x[0]}${x[1]}", "OK"),
    ("function f { echo OK; }; f", "OK"),
    ("echo {O,K}", "O K"),
    ("[ a == a ] && echo OK", "OK"),
    ("echo -e 'O\\x4b'", "OK"),
    ('[ -n "$RANDOM" ] && echo OK', "OK"),
    ("declare x=OK; echo $x", "OK"),
    ("pushd / >/dev/null && echo OK", "OK"),
    ("let x=1 && echo OK", "OK"),
    ("for ((i=0;i<1;i++)); do echo OK; done", "OK"),
    ("((1)) && echo OK", "OK"),
]
POSIX = [
    ("echo ${x:-OK}", "OK"),
    ("x=abc.txt; echo ${x%%.*} ${#x}", "abc 7"),
    ("echo $((1+1))", "2"),
    ("[ a = a ] && echo OK", "OK"),
    ("f() { echo OK; }; f", "OK"),
    ("cat <<EOF\nOK\nEOF", "OK"),
    ("set -eu; echo OK | cat", "OK"),
    ("x=$(echo O)`echo K`; echo $x", "OK"),
    ("case a in a) echo OK;; esac", "OK"),
    ("echo 'a b' \"c\"", "a b c"),
]


def _run_both(docker: DockerEngine, snippets: list[str]) -> dict[tuple[str, int], str]:
    lines = []
    for i, s in enumerate(snippets):
        b64 = base64.b64encode(s.encode()).decode()
        for sh in ("sh", "bash"):
            lines.append(
                f's=$(echo {b64} | base64 -d); o=$({sh} -c "$s" 2>/dev/null); '
                f'echo "R {sh} {i} $(printf %s "$o" | base64 -w0)"'
            )
    proc = docker.run(
        "run", "--rm", "--network", "none", "debian:bookworm-slim", "bash", "-c", "\n".join(lines)
    )  # fmt: skip
    out: dict[tuple[str, int], str] = {}
    for line in proc.stdout.splitlines():
        m = re.fullmatch(r"R (sh|bash) (\d+) ?(\S*)", line)
        if m:
            out[(m.group(1), int(m.group(2)))] = base64.b64decode(m.group(3)).decode().strip()
    return out


def test_bash_features_fail_under_debian_sh(docker: DockerEngine) -> None:
    snippets = [s for s, _ in BASH_ONLY] + [s for s, _ in POSIX]
    results = _run_both(docker, snippets)
    assert len(results) == 2 * len(snippets)
    for i, (snippet, expected) in enumerate(BASH_ONLY):
        assert results[("bash", i)] == expected, snippet
        assert results[("sh", i)] != expected, f"/bin/sh runs {snippet!r} like bash"
        assert analyze(snippet).needs_bash, f"not flagged: {snippet!r}"
        assert not analyze(snippet, shell=("/bin/bash", "-c")).needs_bash
    for j, (snippet, expected) in enumerate(POSIX, len(BASH_ONLY)):
        assert results[("bash", j)] == expected, snippet
        assert results[("sh", j)] == expected, snippet
        assert not analyze(snippet).needs_bash, f"wrongly flagged: {snippet!r}"


_HEREDOC_DOCKERFILE = """\
FROM debian:bookworm-slim
RUN <<EOF
echo "alone $0" >> /out
EOF
RUN <<EOF
#!/bin/sh
echo "shebang $0" >> /out
EOF
RUN cat <<EOF >> /out && echo "complex $0" >> /out
body line
EOF
SHELL ["/bin/bash", "-c"]
RUN <<EOF
echo "shell $0" >> /out
EOF
"""


def test_run_heredoc_semantics_match_buildkit(docker: DockerEngine, tmp_path: Path) -> None:
    """What analyze_run assumes about `RUN <<EOF`: a lone heredoc body runs in the stage's SHELL
    (`$0` is the shell), a `#!` body is executed as a file, and anything else reaches the
    shell as command line plus heredoc (the shell feeds the body to `cat`)."""
    (tmp_path / "Dockerfile").write_text(_HEREDOC_DOCKERFILE)
    tag = "layerwise-test-shell-heredoc:1"
    docker.run("buildx", "build", "--load", "--network", "host", "-q", "-t", tag, str(tmp_path))
    try:
        out = docker.run("run", "--rm", "--network", "none", tag, "cat", "/out").stdout
    finally:
        docker.run("rmi", "-f", tag, check=False)
    assert out.splitlines() == [
        "alone /bin/sh",
        "shebang /dev/pipes/EOF",
        "body line",
        "complex /bin/sh",
        "shell /bin/bash",
    ]
    df = parse_dockerfile(_HEREDOC_DOCKERFILE)
    runs = [i for i in df.instructions if i.name == "RUN"]
    alone = analyze_run(runs[0])
    shebang = analyze_run(runs[1])
    complex_ = analyze_run(runs[2])
    shell = analyze_run(runs[3], shell=("/bin/bash", "-c"))
    assert alone is not None and alone.script.text == 'echo "alone $0" >> /out\n'
    assert shebang is not None and shebang.script.shell == ("/bin/sh",)
    assert complex_ is not None and [c.name for c in complex_.script.commands] == ["cat", "echo"]
    assert complex_.script.commands[0].stdin == "body line\n"
    assert shell is not None and shell.script.shell == ("/bin/bash", "-c")
