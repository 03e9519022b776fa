"""LW3xx: the build context, treated as an API boundary (seed problem 4).

What the context engine (`layerwise.context`) knows about the files a build sends and reads,
turned into findings: a missing `.dockerignore`, junk and secrets swept into the image, COPY
sources that `.dockerignore` removes or that match nothing, ADD used for plain local files.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from layerwise.context.project import BuildContext, StepRead
from layerwise.dockerfile.lex import Lexer, LexError
from layerwise.rules.base import Edit, Example, Finding, LintContext, Rule, Severity, register

_ARCHIVE_SUFFIXES = (
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".tar.zst",
    ".tar.lz",
    ".tar.lzma",
    ".tlz",
    ".gz",
    ".bz2",
    ".xz",
)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def _context(ctx: LintContext) -> BuildContext:
    assert ctx.build_context is not None, "needs_context rules run only with a build context"
    return ctx.build_context


@register
class NoDockerignore(Rule):
    id = "LW301"
    name = "no-dockerignore"
    title = "The build context has no .dockerignore"
    severity = Severity.WARNING
    rationale = (
        "Without a .dockerignore, `COPY . .` sends and copies everything: the .git history, "
        "virtualenvs, caches, logs, local secrets. Each of those files is part of the COPY's "
        "cache key, so an unrelated edit rebuilds the layer and everything after it, and the "
        "context upload grows with the repository (seed problem 4: treat the context as an API "
        "boundary). `layerwise context --write-dockerignore` writes one that keeps what the "
        "Dockerfile needs."
    )
    needs_context = True
    bad = Example(
        "FROM python:3.11-slim\nCOPY . /app\n",
        files={"app.py": "print('hi')\n", ".git/HEAD": "ref: refs/heads/main\n"},
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY . /app\n",
        files={"app.py": "print('hi')\n", ".dockerignore": ".git\n", ".git/HEAD": "ref\n"},
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        bc = _context(ctx)
        if bc.ignore.path is not None or not ctx.dockerfile.instructions:
            return
        saved_files = sum(s.files for s in bc.suggestions)
        saved_bytes = sum(s.bytes for s in bc.suggestions)
        detail = (
            f"; the suggested one would leave out {_files(saved_files)} ({_size(saved_bytes)})"
            if saved_files
            else ""
        )
        first = ctx.dockerfile.instructions[0]
        yield self.finding(
            ctx,
            first.keyword_span,
            f"no .dockerignore in the build context {_shown(bc.root)}{detail} "
            "(write one with `layerwise context --write-dockerignore`)",
        )


@register
class JunkCopiedIntoImage(Rule):
    id = "LW302"
    name = "junk-copied-into-image"
    title = "A COPY brings caches, VCS history, virtualenvs or logs into the image"
    severity = Severity.WARNING
    rationale = (
        "Files like `.git`, `__pycache__`, `.venv`, test caches and logs are not part of the "
        "application, yet a broad COPY puts them in the image and in the layer's cache key: a "
        "new commit or a test run changes them and rebuilds the layer (and every layer after "
        "it) although no source changed. Exclude them in .dockerignore (seed 002 §5)."
    )
    needs_context = True
    bad = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n",
        files={
            "app.py": "print('hi')\n",
            "__pycache__/app.cpython-311.pyc": "x" * 100,
            "server.log": "log line\n",
        },
    )
    good = Example(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n",
        files={
            "app.py": "print('hi')\n",
            ".dockerignore": "**/__pycache__\n*.log\n",
            "__pycache__/app.cpython-311.pyc": "x" * 100,
            "server.log": "log line\n",
        },
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        bc = _context(ctx)
        per_read: dict[int, StepRead] = {}
        junk_by_read: dict[int, dict[str, tuple[int, int, str]]] = defaultdict(dict)
        for read in bc.built_reads:
            if read.read.via == "mount":
                continue
            paths = read.result.reads
            for junk in bc.junk:
                # Only what a broad COPY sweeps up: a path a source names explicitly is wanted.
                hits = [e for e in junk.entries if e.path in paths and not bc.is_named(e.path)]
                if not hits:
                    continue
                key = id(read)
                per_read[key] = read
                files, size, pattern = junk_by_read[key].get(junk.kind.name, (0, 0, ""))
                junk_by_read[key][junk.kind.name] = (
                    files + len(hits),
                    size + sum(e.size for e in hits),
                    pattern or junk.kind.pattern,
                )
        for key, kinds in junk_by_read.items():
            read = per_read[key]
            parts = [
                f"{name} ({_files(files)}, {_size(size)}; ignore with `{pattern}`)"
                for name, (files, size, pattern) in sorted(kinds.items())
            ]
            yield self.finding(
                ctx,
                read.step.instruction,
                f"{read.step.instruction.name} copies junk into the image: " + ", ".join(parts),
            )


@register
class SecretInContext(Rule):
    id = "LW303"
    name = "secret-in-context"
    title = "A secret-looking file in the build context is not excluded"
    severity = Severity.WARNING
    rationale = (
        "Private keys, `.env` files and cloud credentials in the context reach the builder "
        "whenever a COPY names a directory that holds them or a `COPY . .` is added later; once "
        "copied they live in a layer for good. Keep them out with .dockerignore and pass what "
        "the build needs with `RUN --mount=type=secret`. Reported by path and kind, never by "
        "value. (Secrets a COPY already brings into the image are reported by the security "
        "rules.)"
    )
    needs_context = True
    bad = Example(
        "FROM python:3.11-slim\nCOPY app.py /app/\n",
        files={"app.py": "print('hi')\n", ".env": "API_TOKEN=abc123\n"},
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY app.py /app/\n",
        files={"app.py": "print('hi')\n", ".env": "API_TOKEN=abc123\n", ".dockerignore": ".env\n"},
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        bc = _context(ctx)
        read = bc.read_paths
        first = ctx.dockerfile.instructions[0] if ctx.dockerfile.instructions else None
        if first is None:
            return
        for secret in bc.secrets:
            if secret.path in read:
                continue
            where = f":{secret.line}" if secret.line else ""
            yield self.finding(
                ctx,
                first.keyword_span,
                f"{secret.path}{where} looks like a {secret.kind} and is not excluded by "
                ".dockerignore",
            )


@register
class CopyIgnoredFile(Rule):
    id = "LW304"
    name = "copy-ignored-file"
    title = "A COPY source is excluded by .dockerignore"
    severity = Severity.ERROR
    rationale = (
        "Files that .dockerignore excludes are not sent to the builder, so a COPY that names "
        "one fails the build ('not found'). Either the ignore file or the COPY is wrong. "
        "Docker's CopyIgnoredFile check."
    )
    buildkit = ("CopyIgnoredFile",)
    needs_context = True
    bad = Example(
        "FROM python:3.11-slim\nCOPY config.ini /app/\n",
        files={"config.ini": "[a]\n", ".dockerignore": "*.ini\n"},
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY config.ini /app/\n",
        files={"config.ini": "[a]\n", ".dockerignore": "*.log\n"},
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for read in _context(ctx).step_reads:
            for source in read.result.sources:
                if source.excluded_by:
                    yield self.finding(
                        ctx,
                        read.step.instruction,
                        f"Attempting to {read.step.instruction.name.capitalize()} file "
                        f"{source.source!r} that is excluded by .dockerignore "
                        f"({source.excluded_by})",
                    )


@register
class CopySourceMissing(Rule):
    id = "LW305"
    name = "copy-source-missing"
    title = "A COPY source is not in the build context"
    severity = Severity.ERROR
    rationale = (
        "A COPY/ADD source that does not exist fails the build; a wildcard that matches nothing "
        "silently copies nothing, which usually means a renamed file the image now lacks. "
        "Found before a slow build gets to that line."
    )
    needs_context = True
    bad = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt /app/\n", files={"requirement.txt": "x\n"}
    )
    good = Example(
        "FROM python:3.11-slim\nCOPY requirements.txt /app/\n", files={"requirements.txt": "x\n"}
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for read in _context(ctx).step_reads:
            if not read.built:
                continue
            for source in read.result.sources:
                if source.excluded_by:
                    continue  # LW304
                if source.error:
                    yield self.finding(ctx, read.step.instruction, source.error)
                elif source.matched_nothing:
                    yield self.finding(
                        ctx,
                        read.step.instruction,
                        f"{source.source!r} matches no file in the build context: nothing is "
                        "copied",
                        severity=Severity.WARNING,
                    )


@register
class AddForLocalFiles(Rule):
    id = "LW306"
    name = "add-for-local-files"
    title = "Use COPY, not ADD, for local files"
    severity = Severity.WARNING
    rationale = (
        "ADD also fetches URLs and unpacks local archives, so a reader cannot tell what an ADD "
        "of a local path does without checking the file; COPY does only one thing. Keep ADD for "
        "archives to unpack and remote sources with --checksum."
    )
    hadolint = ("DL3020",)
    bad = Example("FROM python:3.11-slim\nADD app.py /app/\n")
    good = Example("FROM python:3.11-slim\nCOPY app.py /app/\nADD vendor.tar.gz /opt/\n")
    fixed = "FROM python:3.11-slim\nCOPY app.py /app/\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.walk():
            if ins.name != "ADD" or len(ins.arguments) < 2 or ins.trigger is not None:
                continue
            # Judge each source as BuildKit reads it: quotes removed, variables expanded.
            step = ctx.model.step_for(ins)
            lexer = Lexer(ctx.dockerfile.escape)
            try:
                sources = [
                    lexer.process_word(w, step.env if step else {}).result
                    for w in ins.arguments[:-1]
                ]
            except LexError:
                continue
            if any(_remote(s) or _archive(s) or "$" in s for s in sources):
                continue
            if ins.heredocs or any(
                f.name in ("checksum", "keep-git-dir", "unpack") for f in ins.flags
            ):
                continue
            keyword = "COPY" if ins.keyword.isupper() else "copy"
            yield self.finding(
                ctx,
                ins.keyword_span,
                "Use COPY instead of ADD for files and folders",
                fix=self.make_fix([Edit.replace(ins.keyword_span, keyword)], "ADD -> COPY"),
            )


def _remote(src: str) -> bool:
    lowered = src.lower()
    return "://" in lowered or lowered.startswith("git@")


def _archive(src: str) -> bool:
    name = posixpath.basename(src.rstrip("/")).lower()
    return name.endswith(_ARCHIVE_SUFFIXES) or any(c in name for c in "*?[")
