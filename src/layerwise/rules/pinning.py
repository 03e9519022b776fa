"""LW5xx: reproducibility and pinning.

A build is reproducible when running it again next month gives the same image: the base image,
the system packages and the application's dependencies are each fixed to a version (better: a
digest, a lock file). Seed 001 and 003 tie this to caching too: a dependency layer keyed on a
manifest or lock file is rebuilt exactly when the dependencies change, not when an index moves.

The package rules follow hadolint's DL30xx pinning checks (same commands, same idea of a pin) so
a team switching tools keeps its findings; where layerwise deliberately differs, the rule's
rationale says why.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from layerwise.dockerfile.lex import Lexer, LexError
from layerwise.dockerfile.model import Stage, Step
from layerwise.rules.base import Edit, Example, Finding, LintContext, Rule, Severity, register
from layerwise.rules.security import run_scripts, stage_chain
from layerwise.shell.packages import Package, PackageOp
from layerwise.shell.run import RunScript
from layerwise.shell.syntax import Command, ShellWord

# -- base images ----------------------------------------------------------------------------------


@register
class BaseImageTag(Rule):
    id = "LW501"
    name = "base-image-tag"
    title = "Base image without a tag, or tagged `latest`"
    severity = Severity.WARNING
    rationale = (
        "`FROM python` and `FROM python:latest` mean whatever the registry calls latest on the "
        "day of the build: a new major version of Python or Debian arrives unannounced, the "
        "image changes under an unchanged Dockerfile, and the layer cache of every machine "
        "holds a different base. A release tag (`python:3.11-slim`, as in every seed) makes the "
        "base a deliberate choice that shows up in review when it changes. An ARG default that "
        "leaves the image untagged is reported too (hadolint skips any `$` image)."
    )
    hadolint = ("DL3006", "DL3007")
    bad = Example("FROM python:latest\nRUN true\n")
    good = Example("FROM python:3.11-slim\nRUN true\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            ref = stage.image
            if ref is None or stage.base_stage is not None or ref.digest:
                continue
            word = stage.from_instruction.words[0]
            if "$" in word.value and _has_unknown_vars(word.value, ctx):
                continue
            if ref.tag is None:
                yield self.finding(
                    ctx,
                    word.span,
                    f"Base image {ref.familiar_name!r} has no tag, so it is whatever `latest` "
                    "is at build time: pin a release tag (e.g. "
                    f"`{ref.familiar_name}:<version>`)",
                    covers=("DL3006",),
                )
            elif ref.tag == "latest":
                yield self.finding(
                    ctx,
                    word.span,
                    f"Base image {ref.familiar_name!r} uses the `latest` tag, which moves: pin a "
                    "release tag",
                    covers=("DL3007",),
                )


@register
class BaseImageDigest(Rule):
    id = "LW502"
    name = "base-image-digest"
    title = "Base image tag is not pinned to a digest"
    severity = Severity.INFO
    rationale = (
        "A tag such as `python:3.11-slim` is moved by its publisher for every patch release and "
        "security rebuild, so two builds of the same commit can start from different bases. "
        "`python:3.11-slim@sha256:...` fixes the exact bytes while keeping the tag readable; "
        "tools like Dependabot or Renovate then update the digest in reviewed commits. "
        "Informational: many teams prefer to take base-image security fixes automatically."
    )
    bad = Example("FROM python:3.11-slim\nRUN true\n")
    good = Example(
        "FROM python:3.11-slim@sha256:"
        "7959ed6f7e35f8b1aaa06d1d8259d4ee25aa85a086d5c125480c333183f9deeb\nRUN true\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            ref = stage.image
            if ref is None or stage.base_stage is not None or ref.digest:
                continue
            if ref.tag is None or ref.tag == "latest":
                continue  # LW501 already asks for a tag first
            word = stage.from_instruction.words[0]
            if "$" in word.value and _has_unknown_vars(word.value, ctx):
                continue
            yield self.finding(
                ctx,
                word.span,
                f"Base image {ref.familiar_name}:{ref.tag} is not pinned to a digest: add "
                "`@sha256:<digest>` for a reproducible base",
            )


def _has_unknown_vars(text: str, ctx: LintContext) -> bool:
    """Does a FROM word use a variable that no global ARG gives a value?"""
    env = {k: v for k, v in ctx.model.global_args.items() if v is not None}
    try:
        res = Lexer(ctx.dockerfile.escape).process_word(text, env)
    except LexError:
        return True
    return bool(res.unmatched)


# -- packages named in RUN ------------------------------------------------------------------------


class _PinRule(Rule):
    """Shared shape of the "pin versions in <manager>" rules: which package arguments of a
    command the rule looks at, and whether one argument's text names a version."""

    example: ClassVar[str]  # how a pinned package is written, for the message

    def candidates(self, op: PackageOp) -> list[Package] | None:
        """The package arguments to check (None: the command is not this rule's)."""
        raise NotImplementedError

    def pinned(self, raw: str, op: PackageOp) -> bool:
        raise NotImplementedError

    def covers_for(self, op: PackageOp) -> tuple[str, ...]:
        return self.hadolint

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for op in rs.script.package_ops:
                if op.command.in_function:
                    continue
                packages = self.candidates(op)
                if not packages:
                    continue
                bad: list[str] = []
                for p in packages:
                    bad += unpinned_texts(p, rs.script.env, functools.partial(self.pinned, op=op))
                if not bad:
                    continue
                names = ", ".join(_shown(b) for b in bad[:6])
                more = f" and {len(bad) - 6} more" if len(bad) > 6 else ""
                yield self.finding(
                    ctx,
                    rs.command_span(op.command),
                    f"`{op.manager} {op.subcommand}` installs unpinned packages: {names}{more} "
                    f"(pin them, e.g. `{self.example}`)",
                    covers=self.covers_for(op),
                )


def _shown(raw: str) -> str:
    return raw if len(raw) <= 60 else raw[:57] + "..."


class _Unknown(dict[str, str]):
    """Variables in scope; any other variable reads as `0`, a stand-in for "some version" (so
    `curl=$CURL_VERSION` with the value unknown still counts as a pin, as in hadolint)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "0"


_SHELL_LEXER = Lexer("\\")


def unpinned_texts(p: Package, env: Mapping[str, str], pinned: Callable[[str], bool]) -> list[str]:
    """The unpinned packages one argument stands for. A word with variables is expanded with
    the ENV/ARG values in scope (an unquoted `$PACKAGES` is split into words, as the shell
    does); a variable with no known value is taken to be a version where one is written
    (`curl=$V`) and reported as written otherwise (`$BUILD_DEPS`)."""
    word = p.word
    if word is None or not word.dynamic:
        return [] if pinned(p.raw) else [p.raw]
    text = word.value
    if "$(" in text or "`" in text:
        return []  # a command substitution: its output is not known
    try:
        known = _SHELL_LEXER.process_word(text, env)
        if not known.unmatched:
            pieces = known.result.split() if not word.text.startswith('"') else [known.result]
            return [piece for piece in pieces if not pinned(piece)]
        guessed = _SHELL_LEXER.process_word(text, _Unknown(env)).result
    except LexError:
        return []
    return [] if pinned(guessed) else [text]


@register
class AptPin(_PinRule):
    id = "LW503"
    name = "apt-pin"
    title = "Pin versions in apt-get install"
    severity = Severity.WARNING
    rationale = (
        "`apt-get install curl` installs whatever version the mirror has that day, so the same "
        "Dockerfile builds different images and a cached layer on one machine differs from a "
        "fresh build on another. `curl=7.88.1-10+deb12u5` (or a target release such as "
        "`curl/bookworm-backports`) makes the version explicit. Trade-off: Debian mirrors drop "
        "superseded versions, so exact pins need updating; with a digest-pinned base image they "
        "give a fully reproducible layer. Unlike hadolint, commands run through `sudo` and "
        "`apt install` are checked too."
    )
    hadolint = ("DL3008",)
    example: ClassVar[str] = "apt-get install <package>=<version>"
    bad = Example("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n")
    good = Example(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u5\n"
    )

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager not in ("apt-get", "apt", "aptitude") or op.subcommand != "install":
            return None
        return op.packages

    def pinned(self, raw: str, op: PackageOp) -> bool:
        return "=" in raw or "/" in raw or raw.endswith(".deb")

    def covers_for(self, op: PackageOp) -> tuple[str, ...]:
        return self.hadolint if op.manager == "apt-get" else ()


@register
class PipPin(_PinRule):
    id = "LW504"
    name = "pip-pin"
    title = "Pin versions in pip install"
    severity = Severity.WARNING
    rationale = (
        "`pip install flask` resolves to the newest release at build time: a rebuild months "
        "later can pull a new major version and break the application with no change in the "
        "repository. Pin (`flask==3.0.3`) or, better, install from a requirements or lock file "
        "(seed 001, 003: `COPY requirements.txt` then `pip install -r`), which also keys the "
        "dependency layer's cache on that file. A command that reads a requirements or "
        "constraints file, or installs the project itself (`.`), is left to LW511 (the file's "
        "pins), as hadolint does. `uv pip install` and `pipx install` are checked too; a VCS "
        "URL counts as pinned only with an `@ref` after the repository path (hadolint accepts "
        "any `@`, including the one in `git@github.com`)."
    )
    hadolint = ("DL3013",)
    example: ClassVar[str] = "pip install flask==<version>"
    bad = Example("FROM python:3.11-slim\nRUN pip install --no-cache-dir flask\n")
    good = Example("FROM python:3.11-slim\nRUN pip install --no-cache-dir flask==3.0.3\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.action != "install":
            return None
        if op.manager == "uv" and not op.subcommand.startswith("pip"):
            return None
        if op.manager not in ("pip", "pipx", "uv"):
            return None
        if op.requirements or op.constraints or "." in op.command.args:
            return None
        return op.packages

    def pinned(self, raw: str, op: PackageOp) -> bool:
        return python_pinned(raw)

    def covers_for(self, op: PackageOp) -> tuple[str, ...]:
        return self.hadolint if op.manager in ("pip", "pipx") else ()


_VCS_PREFIX = re.compile(r"^(?:git|hg|svn|bzr)(?:\+[a-z-]+)?(?::|$)|^git@")
_PY_VERSION_OPS = ("==", ">=", "<=", "!=", "~=", ">", "<")


def python_pinned(raw: str) -> bool:
    """Whether a pip requirement argument names a version: a specifier, a VCS URL with an
    `@ref`, a URL, or a local file or directory."""
    if _VCS_PREFIX.match(raw):
        return _vcs_ref(raw) is not None
    if re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.I) or " @ " in raw or "@ " in raw:
        return True
    if raw.startswith((".", "/", "~")) or "/" in raw or raw.endswith((".whl", ".tar.gz", ".zip")):
        return True
    return any(op in raw for op in _PY_VERSION_OPS)


def _vcs_ref(raw: str) -> str | None:
    """The `@ref` of a pip VCS URL (`git+https://host/org/repo@v1.2#egg=x`), None without."""
    url = raw.split("#", 1)[0]
    if "://" in url:
        url = url.split("://", 1)[1]
        url = url.split("/", 1)[1] if "/" in url else ""  # drop the host (and any user@)
    elif url.startswith("git@"):
        url = url.split(":", 1)[1] if ":" in url else ""
    if "@" not in url:
        return None
    ref = url.rsplit("@", 1)[1]
    return ref or None


@register
class NpmPin(_PinRule):
    id = "LW505"
    name = "npm-pin"
    title = "Pin versions in npm install"
    severity = Severity.WARNING
    rationale = (
        "`npm install -g typescript` takes the newest release at build time. Name a version "
        "(`typescript@5.4.5`), a git commit (`#<sha>`) or a tarball, or install the project's "
        "dependencies from its lock file with `npm ci`. Unlike hadolint, `@latest` and `@next` "
        "count as unpinned: they are moving tags, not versions. `yarn add` and `pnpm add` are "
        "checked too."
    )
    hadolint = ("DL3016",)
    example: ClassVar[str] = "npm install <package>@<version>"
    bad = Example("FROM node:20-slim\nRUN npm install -g typescript\n")
    good = Example("FROM node:20-slim\nRUN npm install -g typescript@5.4.5\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager == "npm":
            if op.subcommand not in ("install", "i", "add"):
                return None
        elif op.manager in ("yarn", "pnpm"):
            if op.action not in ("add", "install"):
                return None
        else:
            return None
        return op.packages

    def pinned(self, raw: str, op: PackageOp) -> bool:
        return npm_pinned(raw)

    def covers_for(self, op: PackageOp) -> tuple[str, ...]:
        return self.hadolint if op.manager == "npm" and op.subcommand == "install" else ()


def npm_pinned(raw: str) -> bool:
    """Whether an npm package argument names a version, a commit, a tarball or a folder."""
    if raw.endswith((".tar", ".tgz", ".tar.gz")) or raw.startswith(
        ("/", "./", "../", "~/", "file:", "http:", "https:")
    ):
        return True
    if raw.startswith(("git:", "git+", "github:", "gitlab:", "bitbucket:")) or (
        re.fullmatch(r"[\w-][\w.-]*/[\w.-]+(?:#\S*)?", raw) is not None
    ):
        return "#" in raw
    body = raw[1:] if raw.startswith("@") else raw
    _, at, version = body.partition("@")
    return bool(at) and version not in ("latest", "next", "*", "")


@register
class ApkPin(_PinRule):
    id = "LW506"
    name = "apk-pin"
    title = "Pin versions in apk add"
    severity = Severity.WARNING
    rationale = (
        "`apk add curl` installs the repository's current version. `curl=8.5.0-r0`, or a "
        "constraint such as `curl~8.5`, fixes it; with a tagged Alpine base the `~` form keeps "
        "security updates within one release. A repository tag alone (`curl@edge`) is not a "
        "version."
    )
    hadolint = ("DL3018",)
    example: ClassVar[str] = "apk add <package>=<version>"
    bad = Example("FROM alpine:3.19\nRUN apk add --no-cache curl\n")
    good = Example("FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager != "apk" or op.subcommand != "add":
            return None
        return op.packages

    def pinned(self, raw: str, op: PackageOp) -> bool:
        return any(c in raw for c in "=~<>") or raw.endswith(".apk")


@register
class GemPin(_PinRule):
    id = "LW507"
    name = "gem-pin"
    title = "Pin versions in gem install"
    severity = Severity.WARNING
    rationale = (
        "`gem install bundler` takes the newest release; `gem install bundler:2.5.10` or "
        "`--version 2.5.10` fixes it. Application gems belong in a Gemfile.lock installed with "
        "`bundle install` in deployment mode."
    )
    hadolint = ("DL3028",)
    example: ClassVar[str] = "gem install <gem>:<version>"
    bad = Example("FROM ruby:3.3-slim\nRUN gem install bundler\n")
    good = Example("FROM ruby:3.3-slim\nRUN gem install bundler:2.5.10\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager != "gem" or op.subcommand not in ("install", "i"):
            return None
        if op.values("--version"):
            return []
        gems = _gem_arguments(op.command)
        return [p for p in op.packages if p.word is not None and p.word in gems]

    def pinned(self, raw: str, op: PackageOp) -> bool:
        return ":" in raw or _kind_is_file(raw)


def _kind_is_file(raw: str) -> bool:
    return raw.endswith(".gem") or raw.startswith(("/", "./", "../"))


# gem install's options that take no value (any other option is taken to consume the next word,
# as hadolint does: `--use-system-libraries true`)
_GEM_BOOLEAN = frozenset(
    {
        "--no-document", "-N", "--no-ri", "--no-rdoc", "--document", "--user-install",
        "--no-user-install", "--env-shebang", "-E", "--no-env-shebang", "--force", "-f",
        "--no-force", "--local", "-l", "--remote", "-r", "--both", "-b", "--conservative",
        "--minimal-deps", "--ignore-dependencies", "--development", "--development-all",
        "--prerelease", "--pre", "--no-prerelease", "--wrappers", "-w", "--no-wrappers",
        "--default", "--explain", "--lock", "--no-lock", "--suggestions", "--no-suggestions",
        "--quiet", "-q", "--verbose", "-V", "--silent", "--no-verbose", "--backtrace", "--debug",
        "--clear-sources", "--post-install-message", "--no-post-install-message", "--vendor",
        "--format-executable", "--no-format-executable",
    }
)  # fmt: skip


def _gem_arguments(cmd: Command) -> set[ShellWord]:
    """The words of `gem install` that name gems: before `--` (the rest goes to the
    extension build), and not the value of an option."""
    out: set[ShellWord] = set()
    skip = False
    for w in cmd.words[2:]:
        if w.value == "--":
            break
        if skip:
            skip = False
            continue
        if w.value.startswith("-"):
            skip = "=" not in w.value and w.value not in _GEM_BOOLEAN
            continue
        out.add(w)
    return out


_RPM_VERSION_PART = re.compile(r"[A-Za-z0-9.~^_:+]+")


def rpm_pinned(raw: str) -> bool:
    """An RPM package argument names a version: `httpd-2.4.24`, `httpd-2.4.24-1.el9`, a `.rpm`
    file, or a comparison (`httpd >= 2.4`)."""
    if raw.endswith(".rpm") or any(op in raw for op in ("=", "<", ">")):
        return True
    parts = raw.split("-")
    if len(parts) < 2:
        return False
    rest = parts[1:]
    return all(_RPM_VERSION_PART.fullmatch(p) for p in rest) and any(p[:1].isdigit() for p in rest)


@register
class RpmPin(_PinRule):
    id = "LW508"
    name = "rpm-pin"
    title = "Pin versions in yum and dnf install"
    severity = Severity.WARNING
    rationale = (
        "`dnf install httpd` installs the repository's current build. Write "
        "`httpd-2.4.57` (name-version[-release]) to fix it, and `module:stream` for modules. "
        "Package groups (`@development`) cannot be pinned and are not reported."
    )
    hadolint = ("DL3033", "DL3041")
    example: ClassVar[str] = "dnf install -y <package>-<version>"
    bad = Example("FROM rockylinux:9\nRUN dnf install -y httpd && dnf clean all\n")
    good = Example("FROM rockylinux:9\nRUN dnf install -y httpd-2.4.57 && dnf clean all\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager not in ("yum", "dnf", "dnf5", "microdnf", "tdnf") or op.action != "install":
            return None
        if op.subcommand not in ("install", "in", "module install"):
            return None
        return [p for p in op.packages if p.kind != "group" and not p.raw.startswith("@")]

    def pinned(self, raw: str, op: PackageOp) -> bool:
        if op.subcommand.startswith("module"):
            return ":" in raw
        return rpm_pinned(raw)

    def covers_for(self, op: PackageOp) -> tuple[str, ...]:
        if op.manager == "yum":
            return ("DL3033",)
        if op.manager in ("dnf", "microdnf"):
            return ("DL3041",)
        return ()


@register
class ZypperPin(_PinRule):
    id = "LW509"
    name = "zypper-pin"
    title = "Pin versions in zypper install"
    severity = Severity.WARNING
    rationale = (
        "`zypper install httpd` installs the repository's current version; zypper takes a "
        "version as `httpd=2.4.58` or a range (`httpd>=2.4`)."
    )
    hadolint = ("DL3037",)
    example: ClassVar[str] = "zypper install -y <package>=<version>"
    bad = Example("FROM opensuse/leap:15.5\nRUN zypper install -y httpd && zypper clean\n")
    good = Example("FROM opensuse/leap:15.5\nRUN zypper install -y httpd=2.4.58 && zypper clean\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager != "zypper" or op.subcommand not in ("install", "in"):
            return None
        return op.packages

    def pinned(self, raw: str, op: PackageOp) -> bool:
        return any(c in raw for c in "=<>") or raw.endswith(".rpm")


@register
class GoPin(_PinRule):
    id = "LW510"
    name = "go-pin"
    title = "Pin versions in go install"
    severity = Severity.WARNING
    rationale = (
        "`go install example.com/tool@latest` (or without a version, in GOPATH mode) builds "
        "whatever the module's newest release is. `@v1.2.3` or a commit fixes it; local "
        "packages (`.`, `./cmd/app`) come from the context and are fine. `go run` of a remote "
        "package is checked too; unlike hadolint, `go run main.go` (a local file) is not "
        "reported."
    )
    hadolint = ("DL3062",)
    example: ClassVar[str] = "go install <package>@<version>"
    bad = Example("FROM golang:1.22\nRUN go install golang.org/x/tools/gopls@latest\n")
    good = Example("FROM golang:1.22\nRUN go install golang.org/x/tools/gopls@v0.15.3\n")

    def candidates(self, op: PackageOp) -> list[Package] | None:
        if op.manager != "go":
            return None
        if op.subcommand in ("install", "get"):
            return op.packages
        if op.subcommand == "run":
            return _go_run_package(op)
        return None

    def pinned(self, raw: str, op: PackageOp) -> bool:
        if raw == "." or raw.startswith(("/", ".")):
            return True
        _, at, version = raw.partition("@")
        return bool(at) and version not in ("latest", "none", "upgrade", "patch", "")


def _go_run_package(op: PackageOp) -> list[Package]:
    """The package `go run` builds, when it is a remote module path (`host.tld/...`)."""
    seen_run = False
    for w in op.command.words[1:]:
        if not seen_run:
            seen_run = w.value == "run"
            continue
        if w.value.startswith("-"):
            continue
        first = w.value.split("/", 1)[0]
        if "." in first and "/" in w.value and not w.value.endswith(".go"):
            return [Package(w.value.split("@", 1)[0], None, None, w.value, "name", w)]
        return []
    return []


# -- requirements files read by pip -r (needs the build context) ---------------------------------


@dataclass(frozen=True)
class Requirement:
    """One requirement line of a requirements file, as pip reads it."""

    name: str
    spec: str  # the specifier as written ("" when none)
    file: str  # context-relative path of the file it is in
    line: int
    pinned: bool  # exactly one version (`==1.2.3`, `===1.2.3`), a file, a URL or a VCS ref
    loose: bool  # has a specifier, but it allows several versions (`>=1.2`, `~=1.2`, `==1.*`)


@dataclass
class RequirementsFile:
    """A requirements file and the files it includes (`-r`) or constrains with (`-c`)."""

    path: str  # context-relative
    requirements: list[Requirement]
    constraints: dict[str, Requirement]  # name -> pin from a `-c` file
    hashes: bool  # `--hash` options or `--require-hashes`: pip checks every file
    missing: list[str]  # included files that are not in the context

    def unpinned(self) -> list[Requirement]:
        """Requirements that pip resolves to a version chosen at build time."""
        out = []
        for req in self.requirements:
            if req.pinned:
                continue
            constraint = self.constraints.get(req.name)
            if constraint is not None and constraint.pinned:
                continue
            out.append(req)
        return out


_OPTION_WITH_VALUE = re.compile(
    r"^(?:-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--no-binary|"
    r"--only-binary|--prefer-binary|--use-feature|--config-settings|--global-option|"
    r"--pre|--no-index)\b"
)


def read_requirements(
    read_text: Callable[[str], str | None], path: str, _seen: frozenset[str] = frozenset()
) -> RequirementsFile:
    """Parse a pip requirements file found at context-relative `path`, following `-r` and
    `-c` (relative to the including file, as pip resolves them). `read_text(path)` returns a
    context file's text or None when the context has no such file."""
    result = RequirementsFile(path, [], {}, False, [])
    text = read_text(path)
    if text is None:
        result.missing.append(path)
        return result
    seen = _seen | {path}
    base = path.rsplit("/", 1)[0] if "/" in path else ""
    for number, line in _logical_lines(text):
        stripped = line.strip()
        if not stripped:
            continue
        if "--hash" in stripped or stripped.startswith("--require-hashes"):
            result.hashes = True
        nested = _nested(stripped)
        if nested is not None:
            kind, target = nested
            if target.startswith(("http://", "https://")):
                continue
            target_path = _join(base, target)
            if target_path in seen:
                continue
            sub = read_requirements(read_text, target_path, seen)
            result.missing += sub.missing
            result.hashes = result.hashes or sub.hashes
            if kind == "r":
                result.requirements += sub.requirements
                result.constraints.update(sub.constraints)
            else:
                for req in sub.requirements:
                    result.constraints.setdefault(req.name, req)
            continue
        if stripped.startswith("-"):
            if stripped.startswith(("-e", "--editable")):
                target = stripped.split(None, 1)[1] if " " in stripped else stripped[2:]
                target = target.lstrip("=").strip()
                if target.startswith(("git+", "hg+", "svn+", "bzr+")) and _vcs_ref(target) is None:
                    result.requirements.append(
                        Requirement(target, "", path, number, pinned=False, loose=False)
                    )
            continue  # options: index URLs, --hash continuation, --pre ...
        parsed = _parse_requirement(stripped, path, number)
        if parsed is not None:
            result.requirements.append(parsed)
    return result


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with `\\` continuations joined and comments removed, with their first line."""
    buf = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        yield start, buf
        buf = ""
    if buf:
        yield start, buf


def _nested(line: str) -> tuple[str, str] | None:
    m = re.match(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=-r)|(?<=-c))(\S+)", line)
    if m is None:
        return None
    kind = "r" if m.group(1) in ("-r", "--requirement") else "c"
    return kind, m.group(2)


def _join(base: str, target: str) -> str:
    import posixpath

    return posixpath.normpath(posixpath.join(base, target) if base else target)


def _parse_requirement(text: str, path: str, number: int) -> Requirement | None:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PepRequirement

    spec_text = text.split(" --", 1)[0].strip()  # per-requirement options (`--hash=...`)
    if re.match(r"^(?:\.{0,2}/|~|file:)", spec_text):
        return Requirement(spec_text, "", path, number, pinned=True, loose=False)
    if re.match(r"^[a-z][a-z0-9+.-]*://", spec_text, re.I):
        return Requirement(spec_text, "", path, number, pinned=True, loose=False)
    if re.match(r"^(?:git|hg|svn|bzr)\+", spec_text):
        ref = _vcs_ref(spec_text)
        return Requirement(spec_text, "", path, number, pinned=ref is not None, loose=False)
    try:
        req = PepRequirement(spec_text)
    except InvalidRequirement:
        if spec_text.endswith((".whl", ".tar.gz", ".zip")):  # a local archive
            return Requirement(spec_text, "", path, number, pinned=True, loose=False)
        return None
    name = req.name.lower().replace("_", "-")
    if req.url:
        ref = _vcs_ref(req.url) if req.url.startswith(("git+", "hg+", "svn+", "bzr+")) else "file"
        return Requirement(name, "@ " + req.url, path, number, pinned=ref is not None, loose=False)
    specs = list(req.specifier)
    spec = str(req.specifier)
    exact = any(s.operator in ("==", "===") and "*" not in s.version for s in specs)
    return Requirement(name, spec, path, number, pinned=exact, loose=bool(specs) and not exact)


@register
class RequirementsPinned(Rule):
    id = "LW511"
    name = "requirements-pinned"
    title = "The requirements file pip installs has unpinned requirements"
    severity = Severity.WARNING
    rationale = (
        "Seed 001 and 003 install from `requirements.txt` so the dependency layer is cached "
        "until that file changes. That only makes the build reproducible if the file pins: "
        "with `flask` or `flask>=2` the layer is cached on one machine and resolves to a newer "
        "release on the next cold build (or in CI), so two builds of one commit differ. Pin "
        "every requirement (`flask==3.0.3`), for example with `pip-compile` or "
        "`uv pip compile`, or pin through a constraints file (`-c`). Nested `-r`/`-c` files "
        "are followed. Needs the build context."
    )
    needs_context = True
    bad = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n",
        files={"requirements.txt": "flask>=2\nrequests\ngunicorn==22.0.0\n"},
    )
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt constraints.txt ./\n"
        "RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt\n",
        files={
            "requirements.txt": "flask>=2\nrequests\ngunicorn==22.0.0\n",
            "constraints.txt": "flask==3.0.3\nrequests==2.32.3\n",
        },
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        files = ContextFiles.of(ctx)
        if files is None:
            return
        reported: set[tuple[int, str]] = set()
        for stage in ctx.model.stages:
            for step in stage.steps:
                if step.name != "RUN":
                    continue
                rs = ctx.run(step)
                if rs is None:
                    continue
                for op in rs.script.package_ops:
                    if op.manager not in ("pip", "uv") or op.action not in ("install", "sync"):
                        continue
                    if op.has("--require-hashes"):
                        continue  # pip refuses anything not pinned with == in this mode
                    constraints: dict[str, Requirement] = {}
                    for path in op.constraints:
                        source = context_source(ctx, stage, step, path, files.is_dir)
                        if source is not None:
                            for req in read_requirements(files.read, source).requirements:
                                constraints.setdefault(req.name, req)
                    for req_path in op.requirements:
                        source = context_source(ctx, stage, step, req_path, files.is_dir)
                        if source is None or (step.instruction.index, source) in reported:
                            continue
                        reported.add((step.instruction.index, source))
                        finding = self._check_file(ctx, rs, op, source, files.read, constraints)
                        if finding is not None:
                            yield finding

    def _check_file(
        self,
        ctx: LintContext,
        rs: RunScript,
        op: PackageOp,
        source: str,
        reader: Callable[[str], str | None],
        constraints: dict[str, Requirement],
    ) -> Finding | None:
        parsed = read_requirements(reader, source)
        if parsed.missing == [source] or parsed.hashes:
            return None  # missing: the context rules say so; hashes: pip enforces == pins
        for name, req in constraints.items():
            parsed.constraints.setdefault(name, req)
        bad = parsed.unpinned()
        if not bad:
            return None
        loose = [r for r in bad if r.loose]
        open_ = [r for r in bad if not r.loose]
        parts = []
        if open_:
            parts.append("unpinned: " + _req_list(open_))
        if loose:
            parts.append("loosely pinned: " + _req_list(loose))
        total = len(parsed.requirements)
        return self.finding(
            ctx,
            rs.command_span(op.command),
            f"{source}: {len(bad)} of {total} requirements allow a version chosen at build time "
            f"({'; '.join(parts)}): pin them with `==`, e.g. with pip-compile",
        )


def _req_list(reqs: list[Requirement]) -> str:
    shown = [f"{r.name}{r.spec if r.spec and not r.spec.startswith('@') else ''}" for r in reqs]
    text = ", ".join(shown[:5])
    return text + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")


class ContextFiles:
    """Read-only access to the files of a build context directory, never outside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    @classmethod
    def of(cls, ctx: LintContext) -> ContextFiles | None:
        root = getattr(ctx.build_context, "root", None)
        return cls(root) if root is not None else None

    def _path(self, rel: str) -> Path | None:
        path = (self.root / rel).resolve()
        try:
            path.relative_to(self.root)
        except ValueError:
            return None  # `-r ../x.txt`: outside the context, never sent
        return path

    def read(self, rel: str) -> str | None:
        path = self._path(rel)
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def is_dir(self, rel: str) -> bool:
        path = self._path(rel)
        return path is not None and path.is_dir()


def context_source(
    ctx: LintContext,
    stage: Stage,
    step: Step,
    container_path: str,
    is_dir: Callable[[str], bool] | None = None,
) -> str | None:
    """The context-relative path of the file a step reads at `container_path` (relative to
    the step's WORKDIR), when a COPY/ADD from the context (in this stage or the stages it is
    built FROM) or a bind mount of this RUN put it there; None when it came from elsewhere.
    `is_dir(context_path)` tells directory sources from file sources when the context is
    known; without it a source is taken as a file."""
    import posixpath

    target = posixpath.normpath(posixpath.join(step.workdir, container_path))
    for read in step.reads:
        if read.kind == "context" and read.via == "mount" and read.mount_target:
            mount = posixpath.normpath(posixpath.join(step.workdir, read.mount_target))
            src = posixpath.normpath(read.sources[0].lstrip("/") or ".") if read.sources else "."
            if target == mount:
                return src
            rel = _relative_under(target, mount)
            if rel is not None:
                return rel if src == "." else posixpath.join(src, rel)
    for st in reversed(stage_chain(ctx.model, stage)):
        steps = st.steps[: st.steps.index(step)] if st is stage else st.steps
        for earlier in reversed(steps):
            if earlier.name not in ("COPY", "ADD") or len(earlier.expanded) < 2:
                continue
            found = _copied_to(earlier, target, is_dir or (lambda _p: False))
            if found is not None:
                return found or None
    return None


def _copied_to(step: Step, target: str, is_dir: Callable[[str], bool]) -> str | None:
    """The context path this COPY/ADD put at `target`; '' when it put something from another
    stage, an image or a URL there (hiding older copies); None when it did not touch it."""
    import fnmatch
    import posixpath

    from_context = any(r.kind == "context" for r in step.reads)
    *sources, dest = step.expanded
    dest_abs = posixpath.normpath(posixpath.join(step.workdir, dest))
    for src in sources:
        if not from_context:
            if target == dest_abs or _relative_under(target, dest_abs) is not None:
                return ""
            continue
        clean = posixpath.normpath(src.lstrip("/") or ".")
        rel = _relative_under(target, dest_abs)
        if any(c in clean for c in "*?["):
            if posixpath.dirname(target) == dest_abs and fnmatch.fnmatchcase(
                posixpath.basename(target), posixpath.basename(clean)
            ):
                return posixpath.normpath(
                    posixpath.join(posixpath.dirname(clean), posixpath.basename(target))
                )
            continue
        if clean == ".":
            if rel is not None:
                return rel
            continue
        # a file lands at dest itself, or inside dest when dest is a directory
        lands = target in (dest_abs, posixpath.join(dest_abs, posixpath.basename(clean)))
        if lands and not is_dir(clean):
            return clean
        if rel is not None and is_dir(clean):
            return posixpath.join(clean, rel)
    return None


def _relative_under(target: str, directory: str) -> str | None:
    directory = directory.rstrip("/") or "/"
    if directory == "/":
        return target.lstrip("/") or None
    if target.startswith(directory + "/"):
        return target[len(directory) + 1 :]
    return None


# -- lock files -----------------------------------------------------------------------------------

_LOCK_FILES = {"poetry": "poetry.lock", "uv": "uv.lock", "pipenv": "Pipfile.lock"}


@register
class LockFileUnused(Rule):
    id = "LW512"
    name = "lock-file-unused"
    title = "poetry, uv or pipenv install without their lock file"
    severity = Severity.WARNING
    rationale = (
        "A lock file is what makes a Poetry, uv or Pipenv install reproducible, and seed 003's "
        "dependency layer is keyed on it. `COPY pyproject.toml .` followed by `poetry install` "
        "(no `poetry.lock` copied) resolves afresh on every cold build; `uv sync` without "
        "`--locked` (or `--frozen`) and `pipenv install` without `--deploy` silently re-lock "
        "when the lock is stale instead of failing the build. Copy the lock file next to the "
        "manifest and make the install refuse a stale lock."
    )
    bad = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml ./\n"
        "RUN pip install --no-cache-dir poetry==1.8.3 && poetry install --no-root\n"
    )
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        "RUN pip install --no-cache-dir poetry==1.8.3 && poetry install --no-root\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            for step in stage.steps:
                if step.name != "RUN":
                    continue
                rs = ctx.run(step)
                if rs is None:
                    continue
                for op in rs.script.package_ops:
                    message = self._problem(ctx, stage, step, op)
                    if message is not None:
                        yield self.finding(ctx, rs.command_span(op.command), message)

    def _problem(self, ctx: LintContext, stage: Stage, step: Step, op: PackageOp) -> str | None:
        m = op.manager
        if m == "poetry" and op.action in ("install", "sync"):
            pass
        elif m == "uv" and op.subcommand == "sync":
            if not op.has("--locked", "--frozen"):
                return (
                    "`uv sync` without `--locked` re-locks when uv.lock is out of date instead "
                    "of failing: use `uv sync --locked` (or `--frozen`)"
                )
        elif m == "pipenv" and op.subcommand == "install" and not op.packages:
            if not op.has("--deploy", "--ignore-pipfile"):
                return (
                    "`pipenv install` without `--deploy` re-locks when Pipfile.lock is out of "
                    "date instead of failing: use `pipenv install --deploy` (or `pipenv sync`)"
                )
        else:
            return None
        lock = _LOCK_FILES[m]
        project = _project_dir(op, step)
        state = _lock_copied(ctx, stage, step, project, lock)
        if state is False:
            return (
                f"`{m} {op.subcommand}` runs without {lock} in the image: copy it with the "
                f"manifest (`COPY pyproject.toml {lock} ./`) so the install is the locked one"
                if m != "pipenv"
                else f"`pipenv install` runs without {lock} in the image: copy it with the "
                f"Pipfile (`COPY Pipfile {lock} ./`)"
            )
        return None


def _project_dir(op: PackageOp, step: Step) -> str:
    import posixpath

    for option in ("--directory", "--project", "-C"):
        values = op.values(option)
        if values:
            return posixpath.normpath(posixpath.join(step.workdir, values[-1]))
    return step.workdir


def _lock_copied(
    ctx: LintContext, stage: Stage, step: Step, project: str, lock: str
) -> bool | None:
    """Whether a lock file is in place for this step: True (copied or mounted), False (the
    stage copies the manifest but not the lock), None (cannot tell: a broad copy, another
    stage or image, or no context copy of the manifest at all)."""
    import posixpath

    target = posixpath.join(project, lock)
    for read in step.reads:
        if read.kind == "context" and read.via == "mount":
            mount = read.mount_target or ""
            if posixpath.normpath(posixpath.join(step.workdir, mount)) in (target, project):
                return True
    manifest_copied = False
    for st in stage_chain(ctx.model, stage):
        steps = st.steps[: st.steps.index(step)] if st is stage else st.steps
        for earlier in steps:
            if earlier.name not in ("COPY", "ADD") or len(earlier.expanded) < 2:
                continue
            if any(r.kind in ("stage", "image") for r in earlier.reads):
                return None  # the project may come whole from elsewhere
            *sources, _dest = earlier.expanded
            names = {posixpath.basename(s.rstrip("/")) for s in sources}
            if any(s.rstrip("/") in (".", "", "*") or not posixpath.basename(s) for s in sources):
                return None  # a broad copy: the context decides
            import fnmatch

            if any(fnmatch.fnmatch(lock, n) for n in names):
                return True
            if any(n in ("pyproject.toml", "Pipfile") for n in names):
                manifest_copied = True
            elif not any("." in n for n in names):
                return None  # a directory copy: it may hold the lock
    return False if manifest_copied else None


# -- inline package lists -------------------------------------------------------------------------

_TOOLS = frozenset(
    {
        "pip", "setuptools", "wheel", "poetry", "poetry-core", "uv", "pipenv", "pip-tools",
        "virtualenv", "pdm", "hatch", "hatchling", "flit", "flit-core", "build", "twine",
        "cython", "pipx", "poetry-plugin-export", "supervisor", "awscli", "pre-commit",
    }
)  # fmt: skip


@register
class PipInlinePackages(Rule):
    id = "LW513"
    name = "pip-inline-packages"
    title = "Application dependencies listed inline in pip install"
    severity = Severity.INFO
    rationale = (
        "`RUN pip install flask gunicorn psycopg2-binary` hides the application's "
        "dependencies in the Dockerfile: they are not in requirements.txt or pyproject.toml, "
        "so local runs, tests and dependency-update tools do not see them, and they cannot be "
        "locked. Seeds 001 and 003 keep them in a manifest that is copied first and installed "
        "with `pip install -r`. Installers and build tools (pip, setuptools, wheel, poetry, "
        "uv, pipenv ...) are not reported, nor is a single package (usually the tool an "
        "image exists to run)."
    )
    bad = Example(
        "FROM python:3.11-slim\nRUN pip install --no-cache-dir flask==3.0.3 gunicorn==22.0.0\n"
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for op in rs.script.package_ops:
                if op.manager != "pip" or op.action != "install":
                    continue
                named = [
                    p
                    for p in op.packages
                    if p.kind == "name"
                    and not (p.word is not None and p.word.dynamic)
                    and p.name.lower().replace("_", "-") not in _TOOLS
                ]
                if len(named) < 2:
                    continue  # one package is usually a tool the image exists to run
                shown = ", ".join(p.name for p in named[:5])
                more = f" and {len(named) - 5} more" if len(named) > 5 else ""
                yield self.finding(
                    ctx,
                    rs.command_span(op.command),
                    f"pip installs {shown}{more} from an inline list: put them in "
                    "requirements.txt (or pyproject.toml) and install that file",
                )


# -- non-interactive installs ---------------------------------------------------------------------

_YES_CODES = {
    "apt-get": "DL3014",
    "yum": "DL3030",
    "zypper": "DL3034",
    "dnf": "DL3038",
    "microdnf": "DL3038",
}
_YES_SUBCOMMANDS = {
    "apt-get": ("install",),
    "apt": ("install",),
    "aptitude": ("install",),
    "yum": ("install", "groupinstall", "localinstall"),
    "dnf": ("install", "groupinstall", "localinstall"),
    "dnf5": ("install",),
    "microdnf": ("install", "groupinstall", "localinstall"),
    "tdnf": ("install",),
    "zypper": ("install", "in", "remove", "rm", "source-install", "si", "patch"),
}


@register
class AssumeYes(Rule):
    id = "LW514"
    name = "assume-yes"
    title = "Package install without the non-interactive switch"
    severity = Severity.WARNING
    rationale = (
        "A build has no terminal: `apt-get install curl` asks 'Do you want to continue?', "
        "reads end-of-file and aborts as soon as the install needs more than the named "
        "packages, which depends on the base image of the day. `-y` (zypper: `-n`) answers "
        "for it. The fix adds `-y` after the subcommand."
    )
    hadolint = ("DL3014", "DL3030", "DL3034", "DL3038")
    bad = Example("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install curl\n")
    good = Example("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n")
    fixed = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for op in rs.script.package_ops:
                if op.subcommand not in _YES_SUBCOMMANDS.get(op.manager, ()):
                    continue
                if _answers_yes(op):
                    continue
                code = _YES_CODES.get(op.manager)
                fix = None
                word = _subcommand_word(op.command, op.subcommand)
                if word is not None and rs.exact:
                    span = rs.word_span(word)
                    fix = self.make_fix([Edit.insert(span.end, " -y")], "add -y")
                yield self.finding(
                    ctx,
                    rs.command_span(op.command),
                    f"`{op.manager} {op.subcommand}` without `-y` waits for an answer the "
                    "build cannot give",
                    covers=(code,) if code else (),
                    fix=fix,
                )


def _answers_yes(op: PackageOp) -> bool:
    if op.yes:
        return True
    args = op.command.args
    if op.manager in ("apt-get", "apt", "aptitude"):
        # apt-get treats -qq (quiet level 2) as --yes
        quiet = sum(a.count("q") for a in args if re.fullmatch(r"-[a-zA-Z]*q[a-zA-Z]*", a))
        quiet += args.count("--quiet")
        return quiet >= 2 or "-q=2" in args or "--quiet=2" in args
    if op.manager == "zypper":
        return any(a in ("-n", "--non-interactive", "--no-confirm", "-y") for a in args)
    if op.manager in ("yum", "dnf", "microdnf", "dnf5", "tdnf"):
        return any(a in ("-y", "--assumeyes") or re.fullmatch(r"-[a-zA-Z]*y", a) for a in args)
    return False


def _subcommand_word(cmd: Command, subcommand: str) -> ShellWord | None:
    for w in cmd.words[1:]:
        if w.value == subcommand and not w.dynamic:
            return w
    return None


# -- apt, zypper dist-upgrade ---------------------------------------------------------------------

# `apt <x>` that `apt-get <x>` does the same way (apt's `upgrade` also installs new packages,
# `list`/`search`/`show` belong to apt-cache: those are reported without a fix).
_APT_GET_SAME = frozenset(
    {"install", "update", "remove", "purge", "autoremove", "clean", "autoclean", "build-dep"}
)


@register
class AptGetNotApt(Rule):
    id = "LW515"
    name = "apt-get-not-apt"
    title = "Use apt-get, not apt, in scripts"
    severity = Severity.WARNING
    rationale = (
        "`apt` is the interactive front end: its command-line interface is not promised to be "
        "stable and it warns so on every run ('WARNING: apt does not have a stable CLI "
        "interface'). `apt-get` (and `apt-cache` for queries) is the scripting interface with "
        "the same packages. The fix replaces `apt` with `apt-get` for the subcommands that "
        "behave the same."
    )
    hadolint = ("DL3027",)
    bad = Example("FROM debian:bookworm-slim\nRUN apt update && apt install -y curl\n")
    good = Example("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n")
    fixed = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for cmd in rs.script.commands:
                if cmd.name != "apt" or not cmd.words or cmd.words[0].dynamic:
                    continue
                sub = next((a for a in cmd.args if not a.startswith("-")), "")
                fix = None
                if sub in _APT_GET_SAME and rs.exact and cmd.words[0].value in ("apt",):
                    span = rs.word_span(cmd.words[0])
                    fix = self.make_fix([Edit.replace(span, "apt-get")], "use apt-get")
                yield self.finding(
                    ctx,
                    rs.command_span(cmd),
                    "Use `apt-get` (or `apt-cache`) instead of `apt` in a Dockerfile: apt's "
                    "interface is meant for people and may change",
                    fix=fix,
                )


@register
class ZypperDistUpgrade(Rule):
    id = "LW516"
    name = "zypper-dist-upgrade"
    title = "zypper dist-upgrade in a build"
    severity = Severity.WARNING
    rationale = (
        "`zypper dist-upgrade` moves the whole system to whatever the repositories offer at "
        "build time, possibly a new distribution release: the base image tag no longer says "
        "what the image contains. Pick a newer base image instead, or `zypper patch` for "
        "security updates."
    )
    hadolint = ("DL3035",)
    bad = Example("FROM opensuse/leap:15.5\nRUN zypper -n dist-upgrade\n")
    good = Example("FROM opensuse/leap:15.6\nRUN zypper -n patch\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for op in rs.script.package_ops:
                if op.manager == "zypper" and op.subcommand in ("dist-upgrade", "dup"):
                    yield self.finding(
                        ctx,
                        rs.command_span(op.command),
                        "Do not use `zypper dist-upgrade` in a build: it upgrades to whatever "
                        "the repositories hold; use a newer base image",
                    )


# -- registries -----------------------------------------------------------------------------------


@register
class TrustedRegistry(Rule):
    id = "LW517"
    name = "trusted-registry"
    title = "Image from a registry that is not in `trusted-registries`"
    severity = Severity.ERROR
    rationale = (
        "Teams that mirror or vet their base images keep a list of registries builds may pull "
        'from (config `trusted-registries`, e.g. `["registry.example.com", "*.gcr.io"]`; '
        "`docker.io` for Docker Hub, `*` wildcards at either end). An image from elsewhere "
        "bypasses that review. Checked for FROM, `COPY --from=<image>` and "
        "`RUN --mount=from=<image>`; only active when the list is configured."
    )
    hadolint = ("DL3026",)
    bad = Example(
        "FROM ghcr.io/example/base:1.0\nRUN true\n",
        config={"trusted-registries": ["docker.io"]},
    )
    good = Example(
        "FROM python:3.11-slim\nRUN true\n", config={"trusted-registries": ["docker.io"]}
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        allowed = list(ctx.config.trusted_registries)
        if not allowed:
            return
        from layerwise.dockerfile.reference import ReferenceError, parse_reference

        for stage in ctx.model.stages:
            image = stage.image
            if image is not None and not _registry_allowed(image.registry, allowed):
                yield self._finding(ctx, stage.from_instruction.words[0].span, image.raw)
            for ref, ins in stage.external_images:
                try:
                    image = parse_reference(ref)
                except ReferenceError:
                    continue
                if not _registry_allowed(image.registry, allowed):
                    flag = ins.flag("from")
                    at = flag.span if flag is not None and flag.value == ref else ins.span
                    yield self._finding(ctx, at, ref)

    def _finding(self, ctx: LintContext, at: object, ref: str) -> Finding:
        from layerwise.dockerfile.syntax import Span

        assert isinstance(at, Span)
        return self.finding(
            ctx, at, f"Image {ref!r} comes from a registry that is not in trusted-registries"
        )


def _registry_allowed(registry: str, allowed: list[str]) -> bool:
    candidates = {registry}
    if registry == "docker.io":
        candidates |= {"hub.docker.com", "index.docker.io", "registry-1.docker.io"}
    for pattern in allowed:
        for reg in candidates:
            if pattern == "*" or pattern == reg:
                return True
            if pattern.startswith("*") and reg.endswith(pattern[1:]):
                return True
            if pattern.endswith("*") and reg.startswith(pattern[:-1]):
                return True
    return False
