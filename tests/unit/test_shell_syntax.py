"""Splitting shell scripts into commands: layerwise.shell.analyze."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerwise.shell import analyze


def argvs(script: str, **kw: object) -> list[list[str]]:
    return [c.argv for c in analyze(script, **kw).commands]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo a", [["echo", "a"]]),
        ("a && b || c; d", [["a"], ["b"], ["c"], ["d"]]),
        ("a\nb\n\nc", [["a"], ["b"], ["c"]]),
        ("a | b | c", [["a"], ["b"], ["c"]]),
        ("(cd /x && make)", [["cd", "/x"], ["make"]]),
        ("{ a; b; } | c", [["a"], ["b"], ["c"]]),
        (
            "if [ -f x ]; then a; elif b; then c; else d; fi",
            [["[", "-f", "x", "]"], ["a"], ["b"], ["c"], ["d"]],
        ),
        ("for i in 1 2; do echo $i; done", [["echo", "$i"]]),
        ('while read l; do echo "$l"; done < f', [["read", "l"], ["echo", "$l"]]),
        ("case $x in a) one;; *) two three;; esac", [["one"], ["two", "three"]]),
        ("! grep -q x f", [["grep", "-q", "x", "f"]]),
        ("a & b", [["a"], ["b"]]),
        ("echo $(cat f) `id -u`", [["cat", "f"], ["id", "-u"], ["echo", "$(cat f)", "`id -u`"]]),
        ("X=$(uname -m) && echo $X", [["uname", "-m"], ["echo", "$X"]]),
        ("diff <(a) <(b)", [["a"], ["b"], ["diff", "<(a)", "<(b)"]]),
        ("f() { a; }; f", [["a"], ["f"]]),
        ("export A=1 B", [["export", "A=1", "B"]]),
        ("set -eux; true", [["set", "-eux"], ["true"]]),
        ("# only a comment", []),
        ("", []),
        ("a # trailing comment", [["a"]]),
    ],
)
def test_commands_in_execution_order(script: str, expected: list[list[str]]) -> None:
    assert argvs(script) == expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo 'a b' \"c d\" e\\ f", ["echo", "a b", "c d", "e f"]),
        ('echo "a\\"b\\$c\\\\d\\x"', ["echo", 'a"b$c\\d\\x']),
        ('echo "$HOME/x" ${A:-b} $B', ["echo", "$HOME/x", "${A:-b}", "$B"]),
        ("echo a'b'\"c\"d", ["echo", "abcd"]),
        ("echo $'a\\tb\\n'", ["echo", "a\tb\n"]),
        ("echo '' \"\"", ["echo", "", ""]),
        ("echo *.whl ~/x {a,b}", ["echo", "*.whl", "~/x", "{a,b}"]),
        ('echo héllo "wörld"', ["echo", "héllo", "wörld"]),
        ("apt-get install -y \\\n  a \\\n  b", ["apt-get", "install", "-y", "a", "b"]),
    ],
)
def test_quote_removal_keeps_expansions_as_written(script: str, expected: list[str]) -> None:
    assert argvs(script) == [expected]


def test_dynamic_words_are_marked() -> None:
    (cmd,) = analyze('pip install "$PKG" x${V} plain').commands
    assert [w.dynamic for w in cmd.words] == [False, False, True, True, False]


@pytest.mark.parametrize(
    ("script", "argv", "wrappers", "assignments"),
    [
        ("sudo apt-get update", ["apt-get", "update"], ("sudo",), {}),
        ("sudo -E -u root pip install x", ["pip", "install", "x"], ("sudo",), {}),
        (
            "sudo DEBIAN_FRONTEND=noninteractive apt-get install x",
            ["apt-get", "install", "x"],
            ("sudo",),
            {"DEBIAN_FRONTEND": "noninteractive"},
        ),
        ("env -i A=1 B=2 make", ["make"], ("env",), {"A": "1", "B": "2"}),
        ("A=1 env B=2 make", ["make"], ("env",), {"A": "1", "B": "2"}),
        ("exec gunicorn app", ["gunicorn", "app"], ("exec",), {}),
        ("nice -n 10 ionice -c3 make", ["make"], ("nice", "ionice"), {}),
        ("timeout -s KILL 30 curl x", ["curl", "x"], ("timeout",), {}),
        ("xargs -r -n1 apt-get install -y", ["apt-get", "install", "-y"], ("xargs",), {}),
        ("command -p ls", ["ls"], ("command",), {}),
        ("gosu app python x.py", ["python", "x.py"], ("gosu",), {}),
        ("nohup time make", ["make"], ("nohup", "time"), {}),
    ],
)
def test_wrappers_are_looked_through(
    script: str, argv: list[str], wrappers: tuple[str, ...], assignments: dict[str, str]
) -> None:
    (cmd,) = analyze(script).commands
    assert cmd.argv == argv
    assert cmd.wrappers == wrappers
    assert cmd.assignments == assignments
    assert cmd.start == 0 and cmd.end == len(script)


@pytest.mark.parametrize("script", ["env", "command -v pip", "sudo", "xargs", "timeout 10"])
def test_wrappers_without_a_command_stay_themselves(script: str) -> None:
    (cmd,) = analyze(script).commands
    assert cmd.argv == script.split()
    assert cmd.wrappers == ()


@pytest.mark.parametrize(
    ("script", "expected", "label"),
    [
        (
            "sh -c 'apt-get update && apt-get install -y x'",
            [["apt-get", "update"], ["apt-get", "install", "-y", "x"]],
            "sh -c",
        ),
        ('bash -ec "pip install \\"a b\\" c"', [["pip", "install", "a b", "c"]], "bash -c"),
        ("/bin/bash -o pipefail -c 'curl x | tar x'", [["curl", "x"], ["tar", "x"]], "bash -c"),
        ("eval 'pip install y'", [["pip", "install", "y"]], "eval"),
        ("eval pip install y", [["pip", "install", "y"]], "eval"),
        ("su app -c 'npm ci'", [["npm", "ci"]], "su -c"),
        ("busybox sh -c 'apk add x'", [["apk", "add", "x"]], "busybox -c"),
        ("sudo sh -c 'echo a > /etc/x'", [["echo", "a"]], "sh -c"),
    ],
)
def test_nested_scripts_are_analyzed(script: str, expected: list[list[str]], label: str) -> None:
    result = analyze(script)
    assert [c.argv for c in result.commands] == expected
    assert all(c.depth == 1 and c.wrappers[-1] == label for c in result.commands)


def test_nested_offsets_point_into_the_outer_script() -> None:
    script = "echo start; sh -c 'apt-get install -y \"lib pq\"' && echo end"
    result = analyze(script)
    inner = result.commands[1]
    assert inner.source == 'apt-get install -y "lib pq"'
    assert script[inner.start : inner.end] == inner.source
    word = inner.words[3]
    assert word.value == "lib pq"
    assert script[word.start : word.end] == '"lib pq"'


def test_nested_double_quoted_offsets_skip_escapes() -> None:
    script = 'bash -c "pip install \\"x==1\\" y"'
    (cmd,) = analyze(script).commands
    assert cmd.argv == ["pip", "install", "x==1", "y"]
    assert script[cmd.words[3].start : cmd.words[3].end] == "y"


def test_dynamic_sh_c_is_kept_as_one_command() -> None:
    (cmd,) = analyze('sh -c "$SCRIPT"').commands
    assert cmd.argv == ["sh", "-c", "$SCRIPT"]


def test_sh_running_a_file_is_not_unwrapped() -> None:
    (cmd,) = analyze("sh ./install.sh --prefix /x").commands
    assert cmd.name == "sh"


def test_shell_reading_a_heredoc_runs_it() -> None:
    script = "bash <<'EOF'\nset -euo pipefail\npip install z | tee log\nEOF\n"
    result = analyze(script)
    assert [c.argv for c in result.commands] == [
        ["set", "-euo", "pipefail"],
        ["pip", "install", "z"],
        ["tee", "log"],
    ]
    pip = result.commands[1]
    assert pip.pipefail and pip.shell == "bash"
    assert script[pip.start : pip.end] == "pip install z"


def test_heredoc_content_is_stdin_of_other_commands() -> None:
    script = "cat <<EOF > /etc/app.conf\nkey=$V\nEOF\necho done"
    result = analyze(script)
    cat, echo = result.commands
    assert cat.argv == ["cat"]
    assert cat.stdin == "key=$V\n"
    assert [r.op for r in cat.redirects] == ["<<", ">"]
    assert echo.argv == ["echo", "done"]


def test_heredoc_followed_by_operators() -> None:
    result = analyze("cat <<EOF | sh && echo done\nx\nEOF")
    cat, sh, echo = result.commands
    assert cat.pipe_to == sh.index and sh.pipe_from == cat.index
    assert sh.connector == "&&"
    assert echo.argv == ["echo", "done"]


@pytest.mark.parametrize(
    ("script", "connectors"),
    [
        ("a && b || c; d & e", ["&&", "||", ";", "&", None]),
        ("a | b |& c", ["|", "|&", None]),
        ("a\nb", ["\n", None]),
        ("{ a; b; } && c", [";", "&&", None]),
    ],
)
def test_connectors(script: str, connectors: list[str | None]) -> None:
    assert [c.connector for c in analyze(script).commands] == connectors


def test_context_flags() -> None:
    result = analyze("a && b || c; if d; then e; fi; ! f; (g); while h; do i; done")
    by = {c.name: c for c in result.commands}
    assert by["a"].condition and not by["a"].conditional
    assert by["b"].condition and not by["b"].conditional
    assert by["c"].conditional and not by["c"].condition
    assert by["d"].condition and by["e"].conditional
    assert by["f"].negated
    assert by["g"].subshell
    assert by["h"].condition and by["i"].conditional
    assert by["a"].background is False


def test_pipes_link_commands() -> None:
    result = analyze("curl -fsSL x | tar -xz -C /opt && ls")
    curl, tar, ls = result.commands
    assert curl.pipe_to == tar.index and tar.pipe_from == curl.index
    assert curl.pipe_from is None and tar.pipe_to is None and not ls.piped


@pytest.mark.parametrize(
    ("shell", "script", "pipefail"),
    [
        (("/bin/sh", "-c"), "a | b", [False, False]),
        (("/bin/bash", "-o", "pipefail", "-c"), "a | b", [True, True]),
        (("/bin/sh", "-c"), "set -o pipefail; a | b", [False, True, True]),
        (("/bin/sh", "-c"), "set -euxo pipefail; a | b", [False, True, True]),
        (("/bin/sh", "-c"), "a | b; set -o pipefail", [False, False, False]),
        (("/bin/sh", "-c"), "set -o pipefail; bash -c 'a | b'", [False, False, False]),
    ],
)
def test_pipefail_tracking(shell: tuple[str, ...], script: str, pipefail: list[bool]) -> None:
    assert [c.pipefail for c in analyze(script, shell=shell).commands] == pipefail


def test_offsets_cover_the_whole_command() -> None:
    script = "A=1 apt-get install -y x >/dev/null 2>&1 && rm -rf /var/lib/apt/lists/*"
    first, second = analyze(script).commands
    assert first.source == "A=1 apt-get install -y x >/dev/null 2>&1"
    assert first.assignments == {"A": "1"}
    assert [(r.op, r.fd, r.target) for r in first.redirects] == [
        (">", None, "/dev/null"),
        (">&", "2", "1"),
    ]
    assert second.source == "rm -rf /var/lib/apt/lists/*"
    for cmd in (first, second):
        for w in cmd.words:
            assert script[w.start : w.end] == w.text


def test_offsets_are_characters_not_bytes() -> None:
    script = "echo 'ünïcödé' && pip install x"
    _, pip = analyze(script).commands
    assert script[pip.start : pip.end] == "pip install x"


@pytest.mark.parametrize(
    ("script", "kinds"),
    [
        ("[[ -f x ]] && a", ["[["]),
        ("diff <(a) <(b)", ["process substitution", "process substitution"]),
        ("cat <<< 'x'", ["here-string"]),
        ("echo $'a'", ["$'...'"]),
        ("source /etc/profile", ["source"]),
        ("a &> /dev/null", ["&>"]),
        ("a |& b", ["|&"]),
        ("set -o pipefail", ["set -o pipefail"]),
        ("echo ${x//a/b} ${y:1:2} ${z^^}", ["${...} operator"] * 3),
        ("x=(a b)", ["array"]),
        ("function f { :; }", ["function keyword"]),
        ("echo {a,b}.txt", ["brace expansion"]),
        ("[ a == b ]", ["== in ["]),
        ("echo -e 'a\\tb'", ["echo -e"]),
        ("echo $RANDOM", ["bash variable"]),
        ("echo ${x:-a} ${#y} ${z%%.*} $((1+2)) [ a = b ]", []),
    ],
)
def test_bash_features(script: str, kinds: list[str]) -> None:
    result = analyze(script)
    assert [f.kind for f in result.features] == kinds
    assert result.needs_bash == bool(kinds)
    for f in result.features:
        assert script[f.start : f.end] == f.text


def test_bash_features_under_bash_are_fine() -> None:
    result = analyze("[[ -f x ]]", shell=("/bin/bash", "-c"))
    assert result.features and not result.bash_features and not result.needs_bash
    nested = analyze("bash -c '[[ -f x ]]'")
    assert nested.features and not nested.needs_bash


@pytest.mark.parametrize(
    "shell", [("powershell", "-Command"), ("cmd", "/S", "/C"), ("pwsh.exe", "-c")]
)
def test_non_posix_shell_gives_no_commands(shell: tuple[str, ...]) -> None:
    result = analyze("Write-Host hi", shell=shell)
    assert result.commands == []
    assert result.parse_error is not None and "not a POSIX shell" in result.parse_error


@pytest.mark.parametrize(
    ("script", "found"),
    [
        ("apt-get install foo; if then fi", ["apt-get"]),
        ("echo 'unterminated && pip install x", []),
        ("pip install a && (", ["pip"]),
        ("apt-get update && apt-get install -y x && )", ["apt-get", "apt-get"]),
    ],
)
def test_syntax_errors_are_reported_and_commands_recovered(script: str, found: list[str]) -> None:
    result = analyze(script)
    assert result.parse_error is not None and "line 1" in result.parse_error
    names = [c.name for c in result.commands]
    for name in found:
        assert name in names


def test_deep_nesting_falls_back_to_the_tokenizer() -> None:
    script = "(" * 3000 + "pip install x" + ")" * 3000
    result = analyze(script)
    assert result.parse_error is not None


def test_fallback_tokenizer_splits_on_operators() -> None:
    from layerwise.shell.syntax import Script, _fallback_commands, _State

    state = _State(Script("", ("sh",), [], None, [], {}))
    _fallback_commands(state, 'a \'b c\' && d "e\\"f" | g; h')
    assert [c.argv for c in state.script.commands] == [["a", "b c"], ["d", 'e"f'], ["g"], ["h"]]
    assert [c.connector for c in state.script.commands] == ["&&", "|", ";", None]


def test_named_and_iteration() -> None:
    result = analyze("pip install a; /usr/bin/pip3 install b; echo")
    assert [c.name for c in result.named("pip", "pip3")] == ["pip", "pip3"]
    assert len(result) == 3 and [c.index for c in result] == [0, 1, 2]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_never_raises(text: str) -> None:
    result = analyze(text)
    for cmd in result.commands:
        assert 0 <= cmd.start <= cmd.end <= len(text)
        for w in cmd.words:
            assert 0 <= w.start <= w.end <= len(text)
    result.package_ops  # noqa: B018
    facts = result.facts
    facts.download_pipes  # noqa: B018
    facts.user_ops  # noqa: B018
    facts.world_writable_chmods  # noqa: B018


_SHELLISH = st.lists(
    st.sampled_from(
        [
            "a",
            "b",
            "'x y'",
            '"$V"',
            "&&",
            "||",
            ";",
            "|",
            "\n",
            "(",
            ")",
            "{",
            "}",
            "<<EOF",
            "EOF",
            "$(",
            "`",
            "sh",
            "-c",
            "if",
            "then",
            "fi",
            "\\",
            "#",
            "=",
            "X=1",
            "apt-get",
            "install",
            "pip",
            "sudo",
            "env",
            "'",
            '"',
        ]
    ),
    max_size=40,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_SHELLISH)
def test_shell_like_soup_never_raises(text: str) -> None:
    result = analyze(text)
    assert all(0 <= c.start <= c.end <= len(text) for c in result.commands)
    result.package_ops  # noqa: B018


def test_heredoc_redirection_before_the_command_name() -> None:
    script = "<<EOT bash\n  set -ex\n  apt-get install -y git\nEOT"
    result = analyze(script)
    assert result.parse_error is None
    assert [c.argv for c in result.commands] == [
        ["set", "-ex"],
        ["apt-get", "install", "-y", "git"],
    ]
    install = result.commands[1]
    assert script[install.start : install.end] == "apt-get install -y git"
    assert install.wrappers == ("bash <<",)


def test_non_ascii_input_does_not_crash_the_parser() -> None:
    """tree-sitter 0.26 + tree-sitter-bash 0.25 segfault on some non-ASCII input (found by the
    property test above). analyze parses an ASCII copy; run it in a child process so that a
    regression shows up as a failure, not as a dead test run."""
    import subprocess
    import sys

    crashers = [
        "<\x18ó\U0010fc71ör{\U000662ad_\x86\x1b\x0f.",
        "2\U000b6460Æ$\U000d0d13Ë\U000d00c8\U0002cd3bBÂw{\U000ca49d\x07^",
    ]
    code = (
        "import sys\nfrom layerwise.shell import analyze\n"
        f"for text in {crashers!r}:\n"
        "    for _ in range(300):\n"
        "        analyze(text)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-500:]
    result = analyze("echo 'ünï' && pip install x")
    assert [c.argv for c in result.commands] == [["echo", "ünï"], ["pip", "install", "x"]]


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        (("/bin/bash", "-o", "pipefail", "-c"), True),
        (("/bin/bash", "-eo", "pipefail", "-c"), True),
        (("/bin/bash", "-euxo", "pipefail", "-c"), True),
        (("/bin/bash", "-opipefail", "-c"), True),
        (("/bin/bash", "-e", "-c"), False),
        (("/bin/bash", "-o", "errexit", "-c"), False),
        (("/bin/bash", "--posix", "-c"), False),
    ],
)
def test_shell_options_turn_on_pipefail(shell: tuple[str, ...], expected: bool) -> None:
    script = analyze("curl -s x | tar xz", shell=shell)
    assert script.commands[0].pipefail is expected
