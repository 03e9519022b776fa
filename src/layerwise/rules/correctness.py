"""LW0xx: what BuildKit refuses, and the syntax-level build checks Docker itself runs.

These rules mirror Docker's own build checks (`docker build --check`) so a lint run tells the
user what the engine will warn about or refuse, before a slow build does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import ClassVar

from layerwise.dockerfile.model import KNOWN_INSTRUCTIONS, ModelError, platform_args
from layerwise.dockerfile.reference import ReferenceError, parse_reference
from layerwise.dockerfile.syntax import Span
from layerwise.rules.base import Edit, Example, Finding, LintContext, Rule, Severity, register

RESERVED_STAGE_NAMES = frozenset(("scratch", "context"))


@register
class BuildKitError(Rule):
    id = "LW001"
    name = "buildkit-error"
    title = "BuildKit would refuse this instruction"
    severity = Severity.ERROR
    rationale = (
        "BuildKit checks each instruction when it turns the Dockerfile into a build graph: "
        "unknown flags, wrong argument counts, malformed mounts, an unknown target stage. "
        "Such a file parses, but every build fails at that line; finding it before a slow CI "
        "build saves the whole round trip."
    )
    hadolint = ("DL3061", "DL3043", "DL3022", "DL3023")
    bad = Example("FROM python:3.11-slim\nCOPY --chmod=644 --owner=app app.py /app/\n")
    good = Example("FROM python:3.11-slim\nCOPY --chmod=644 --chown=app app.py /app/\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for error in ctx.model.errors:
            at = error.span or (error.instruction.span if error.instruction else Span(0, 0))
            covers: tuple[str, ...] = ()
            if error.message == "no build stage in current context":
                covers = ("DL3061",)
            elif "ONBUILD" in error.message:
                covers = ("DL3043",)
            elif (code := _copy_from_code(error)) is not None:
                covers = (code,)
            yield self.finding(ctx, at, error.message, covers=covers)


@register
class StageNameCasing(Rule):
    id = "LW002"
    name = "stage-name-casing"
    title = "Stage names should be lower case"
    severity = Severity.WARNING
    rationale = (
        "BuildKit lowercases stage names, so `FROM x AS Builder` is found as `builder` by "
        "`--from` but `FROM Builder` later refers to an image, not the stage. Lower case names "
        "avoid that trap (Docker's StageNameCasing check)."
    )
    buildkit = ("StageNameCasing",)
    bad = Example("FROM python:3.11-slim AS BuilderBase\nRUN true\n")
    good = Example("FROM python:3.11-slim AS builder-base\nRUN true\n")
    fixed = "FROM python:3.11-slim AS builderbase\nRUN true\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        renames: dict[str, str] = {}
        for stage in ctx.model.stages:
            ins = stage.from_instruction
            if len(ins.words) == 3 and ins.words[2].value != ins.words[2].value.lower():
                renames[ins.words[2].value] = ins.words[2].value.lower()
        for stage in ctx.model.stages:
            ins = stage.from_instruction
            if len(ins.words) != 3 or ins.words[2].value not in renames:
                continue
            word = ins.words[2]
            # Renaming the definition is enough: references already resolve case-insensitively,
            # except `FROM <name>`, which must be the exact lower-case name.
            edits = [Edit.replace(word.span, word.value.lower())]
            for other in ctx.model.stages:
                base = other.from_instruction.words[0] if other.from_instruction.words else None
                if base is not None and base.value in renames:
                    edits.append(Edit.replace(base.span, renames[base.value]))
            yield self.finding(
                ctx,
                word.span,
                f"Stage name {word.value!r} should be lowercase",
                fix=self.make_fix(edits, f"rename stage to {word.value.lower()!r}"),
            )


@register
class FromAsCasing(Rule):
    id = "LW003"
    name = "from-as-casing"
    title = "The AS keyword should match the casing of FROM"
    severity = Severity.STYLE
    rationale = (
        "Mixed casing (`FROM image as name`) makes stage declarations harder to scan for; "
        "Docker's FromAsCasing check asks for one casing."
    )
    buildkit = ("FromAsCasing",)
    bad = Example("FROM python:3.11-slim as build\nRUN true\n")
    good = Example("FROM python:3.11-slim AS build\nRUN true\n")
    fixed = "FROM python:3.11-slim AS build\nRUN true\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            ins = stage.from_instruction
            if len(ins.words) != 3:
                continue
            kw, as_word = ins.keyword, ins.words[1]
            upper, lower = kw == kw.upper(), kw == kw.lower()
            if (upper and as_word.value != as_word.value.upper()) or (
                lower and as_word.value != as_word.value.lower()
            ):
                want = as_word.value.upper() if upper else as_word.value.lower()
                yield self.finding(
                    ctx,
                    as_word.span,
                    f"'{as_word.value}' keyword casing does not match '{kw}'",
                    fix=self.make_fix([Edit.replace(as_word.span, want)], f"write {want!r}"),
                )


@register
class DuplicateStageName(Rule):
    id = "LW004"
    name = "duplicate-stage-name"
    title = "Stage names must be unique"
    severity = Severity.ERROR
    rationale = (
        "With two stages of the same name, `--from` and `--target` silently pick one of them "
        "(BuildKit keeps the last). Docker's DuplicateStageName check."
    )
    hadolint = ("DL3024",)
    buildkit = ("DuplicateStageName",)
    bad = Example("FROM python:3.11 AS build\nRUN true\nFROM python:3.11-slim AS build\nRUN true\n")
    good = Example("FROM python:3.11 AS build\nRUN true\nFROM python:3.11-slim AS run\nRUN true\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        seen: set[str] = set()
        for stage in ctx.model.stages:
            if stage.name is None:
                continue
            if stage.name in seen:
                ins = stage.from_instruction
                yield self.finding(ctx, ins.words[2].span, f"Duplicate stage name {stage.name!r}")
            seen.add(stage.name)


@register
class ReservedStageName(Rule):
    id = "LW005"
    name = "reserved-stage-name"
    title = "Reserved words cannot be stage names"
    severity = Severity.ERROR
    rationale = (
        "`scratch` and `context` have special meanings to BuildKit; a stage with such a name "
        "cannot be referred to as intended. Docker's ReservedStageName check."
    )
    hadolint = ("DL3063",)
    buildkit = ("ReservedStageName",)
    bad = Example("FROM python:3.11-slim AS scratch\nRUN true\n")
    good = Example("FROM python:3.11-slim AS base\nRUN true\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            if stage.name in RESERVED_STAGE_NAMES:
                ins = stage.from_instruction
                yield self.finding(
                    ctx, ins.words[2].span, f"{stage.name!r} is reserved and should not be used"
                )


@register
class ConsistentInstructionCasing(Rule):
    id = "LW006"
    name = "consistent-instruction-casing"
    title = "Instructions should use one casing"
    severity = Severity.STYLE
    rationale = (
        "A Dockerfile whose keywords mix upper and lower case is harder to read and review. "
        "Docker's ConsistentInstructionCasing check; the fix writes each keyword in the casing "
        "most of the file uses."
    )
    buildkit = ("ConsistentInstructionCasing",)
    bad = Example('FROM python:3.11-slim\nRun echo hello\nCMD ["python"]\n')
    good = Example('FROM python:3.11-slim\nRUN echo hello\nCMD ["python"]\n')
    fixed = 'FROM python:3.11-slim\nRUN echo hello\nCMD ["python"]\n'
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        keywords = [ins for ins in ctx.dockerfile.walk() if ins.name in KNOWN_INSTRUCTIONS]
        upper = sum(1 for i in keywords if i.keyword == i.keyword.upper())
        lower = sum(1 for i in keywords if i.keyword == i.keyword.lower())
        use_upper = upper >= lower
        for ins in keywords:
            want = ins.keyword.upper() if use_upper else ins.keyword.lower()
            if ins.keyword != want:
                yield self.finding(
                    ctx,
                    ins.keyword_span,
                    f"Command '{ins.keyword}' should match the case of the command majority "
                    f"({'uppercase' if use_upper else 'lowercase'})",
                    fix=self.make_fix([Edit.replace(ins.keyword_span, want)], f"write {want}"),
                )


@register
class LegacyKeyValueFormat(Rule):
    id = "LW007"
    name = "legacy-key-value-format"
    title = "Use `key=value` in ENV and LABEL"
    severity = Severity.WARNING
    rationale = (
        "`ENV key value` takes everything after the first space as the value, so "
        "`ENV A 1 B 2` sets A to `1 B 2`. The `key=value` form is unambiguous and lets one "
        "instruction set several variables (one layer of metadata instead of many). Docker's "
        "LegacyKeyValueFormat check."
    )
    buildkit = ("LegacyKeyValueFormat",)
    bad = Example("FROM python:3.11-slim\nENV PYTHONUNBUFFERED 1\n")
    good = Example("FROM python:3.11-slim\nENV PYTHONUNBUFFERED=1\n")
    fixed = "FROM python:3.11-slim\nENV PYTHONUNBUFFERED=1\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.walk():
            if ins.name not in ("ENV", "LABEL"):
                continue
            for kv in ins.pairs:
                if not kv.legacy:
                    continue
                value = kv.value
                # The legacy value is literal text up to the end of the line; keep its meaning by
                # quoting it when it has spaces or quotes the new form would read differently.
                if any(ch in value for ch in " \t'\"\\") or value == "":
                    value = json.dumps(value)
                yield self.finding(
                    ctx,
                    kv.span,
                    f'"{ins.name} key=value" should be used instead of legacy "{ins.name} key '
                    'value" format',
                    fix=self.make_fix(
                        [Edit.replace(kv.span, f"{kv.key}={value}")], "write key=value"
                    ),
                )


@register
class MaintainerDeprecated(Rule):
    id = "LW008"
    name = "maintainer-deprecated"
    title = "MAINTAINER is deprecated; use a label"
    severity = Severity.WARNING
    rationale = (
        "MAINTAINER has been deprecated since Docker 1.13; the OCI annotation "
        "`org.opencontainers.image.authors` is what registries and scanners read."
    )
    hadolint = ("DL4000",)
    buildkit = ("MaintainerDeprecated",)
    bad = Example("FROM python:3.11-slim\nMAINTAINER Jane Doe <jane@example.com>\n")
    good = Example(
        'FROM python:3.11-slim\nLABEL org.opencontainers.image.authors="jane@example.com"\n'
    )
    fixed = (
        "FROM python:3.11-slim\n"
        'LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"\n'
    )
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.instructions:
            if ins.name != "MAINTAINER" or not ins.arguments:
                continue
            label = f"LABEL org.opencontainers.image.authors={json.dumps(ins.arguments[0])}"
            end = ins.args_span.end
            fix = self.make_fix([Edit(ins.keyword_span.start, end, label)], "write a LABEL")
            yield self.finding(ctx, ins, "MAINTAINER is deprecated", fix=fix)


@register
class MultipleInstructionsDisallowed(Rule):
    id = "LW009"
    name = "multiple-instructions-disallowed"
    title = "Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage counts"
    severity = Severity.WARNING
    rationale = (
        "A stage keeps only its last CMD, ENTRYPOINT and HEALTHCHECK; earlier ones are dead "
        "code that misleads a reader about how the container starts. Docker's "
        "MultipleInstructionsDisallowed check."
    )
    hadolint = ("DL4003", "DL4004", "DL3012")
    buildkit = ("MultipleInstructionsDisallowed",)
    bad = Example('FROM python:3.11-slim\nCMD ["python", "a.py"]\nCMD ["python", "b.py"]\n')
    good = Example('FROM python:3.11-slim\nCMD ["python", "b.py"]\n')

    CODES: ClassVar[dict[str, str]] = {
        "CMD": "DL4003",
        "ENTRYPOINT": "DL4004",
        "HEALTHCHECK": "DL3012",
    }

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            for name, code in self.CODES.items():
                steps = [s for s in stage.steps if s.name == name]
                for step in steps[:-1]:
                    yield self.finding(
                        ctx,
                        step.instruction,
                        f"Multiple {name} instructions should not be used in the same stage "
                        f"because only the last one will be used (line {steps[-1].line})",
                        covers=(code, "MultipleInstructionsDisallowed"),
                    )


@register
class UndefinedArgInFrom(Rule):
    id = "LW010"
    name = "undefined-arg-in-from"
    title = "FROM uses an ARG that is not declared before it"
    severity = Severity.WARNING
    rationale = (
        "Only ARGs declared before the first FROM (and the automatic platform ARGs) can be used "
        "in FROM lines; any other variable expands to nothing, silently changing the base image. "
        "Docker's UndefinedArgInFrom check."
    )
    buildkit = ("UndefinedArgInFrom",)
    bad = Example("FROM python:${PYTHON_VERSION}-slim\nRUN true\n")
    good = Example("ARG PYTHON_VERSION=3.11\nFROM python:${PYTHON_VERSION}-slim\nRUN true\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        declared = set(ctx.model.global_args) | set(platform_args(None, ""))
        for stage in ctx.model.stages:
            ins = stage.from_instruction
            texts = [w.value for w in ins.words[:1]]
            flag = ins.flag("platform")
            if flag is not None and flag.value:
                texts.append(flag.value)
            for text in texts:
                for name in sorted(_referenced(text, ctx) - declared):
                    yield self.finding(ctx, ins, f"FROM argument '{name}' is not declared")


@register
class InvalidDefaultArgInFrom(Rule):
    id = "LW011"
    name = "invalid-default-arg-in-from"
    title = "A global ARG's default gives an empty or invalid base image"
    severity = Severity.WARNING
    rationale = (
        "`ARG TAG` without a default followed by `FROM python:${TAG}` builds only when every "
        "caller passes `--build-arg TAG=...`; without it the reference is invalid. A default "
        "keeps plain `docker build` working. Docker's InvalidDefaultArgInFrom check."
    )
    buildkit = ("InvalidDefaultArgInFrom",)
    bad = Example("ARG TAG\nFROM python:${TAG}\nRUN true\n")
    good = Example("ARG TAG=3.11-slim\nFROM python:${TAG}\nRUN true\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        from layerwise.dockerfile.lex import Lexer, LexError

        env = dict(platform_args(None, "").items())
        for ins in ctx.model.meta_args:
            for word in ins.arguments:
                key, sep, value = word.partition("=")
                if sep:
                    env[key] = value
        lexer = Lexer(ctx.dockerfile.escape)
        names = {st.name for st in ctx.model.stages if st.name}
        for stage in ctx.model.stages:
            ins = stage.from_instruction
            if not ins.words or "$" not in ins.words[0].value:
                continue
            try:
                base = lexer.process_word(ins.words[0].value, env).result
            except LexError:
                continue
            if base == "scratch" or base in names:
                continue
            try:
                if not base:
                    raise ReferenceError("empty")
                parse_reference(base)
            except ReferenceError:
                yield self.finding(
                    ctx,
                    ins,
                    f"Default value for ARG {ins.words[0].value} results in empty or invalid "
                    "base image name",
                )


@register
class RedundantTargetPlatform(Rule):
    id = "LW012"
    name = "redundant-target-platform"
    title = "`FROM --platform=$TARGETPLATFORM` is the default"
    severity = Severity.STYLE
    rationale = (
        "Stages are built for the target platform anyway; the flag adds noise and suggests a "
        "cross-compilation setup that is not there. Docker's RedundantTargetPlatform check."
    )
    hadolint = ("DL3065",)
    buildkit = ("RedundantTargetPlatform",)
    bad = Example("FROM --platform=$TARGETPLATFORM python:3.11-slim\nRUN true\n")
    good = Example("FROM python:3.11-slim\nRUN true\n")
    fixed = "FROM python:3.11-slim\nRUN true\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            flag = stage.from_instruction.flag("platform")
            if flag is None or flag.value not in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
                continue
            text = ctx.text
            end = flag.span.end
            while end < len(text) and text[end] in " \t":
                end += 1
            yield self.finding(
                ctx,
                flag.span,
                "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is "
                "the default behavior",
                fix=self.make_fix([Edit(flag.span.start, end, "")], "remove --platform"),
            )


@register
class FromPlatformFlagConstDisallowed(Rule):
    id = "LW013"
    name = "from-platform-flag-const"
    title = "FROM --platform should not be a constant"
    severity = Severity.WARNING
    rationale = (
        "A fixed `--platform=linux/amd64` forces emulation on other machines and breaks "
        "multi-platform builds; use `$BUILDPLATFORM` for build stages or leave it out. "
        "Docker's FromPlatformFlagConstDisallowed check."
    )
    hadolint = ("DL3029",)
    buildkit = ("FromPlatformFlagConstDisallowed",)
    bad = Example("FROM --platform=linux/amd64 python:3.11-slim AS build\nRUN true\n")
    good = Example("FROM --platform=$BUILDPLATFORM python:3.11-slim AS build\nRUN true\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.model.stages:
            flag = stage.from_instruction.flag("platform")
            if flag is None or not flag.value or "$" in flag.value:
                continue
            # Docker allows a constant when the stage's name contains its OS or architecture
            # (`FROM --platform=linux/amd64 ... AS build_amd64`).
            os_name, _, rest = flag.value.partition("/")
            arch = rest.split("/", 1)[0]
            if stage.name and any(part and part in stage.name for part in (os_name, arch)):
                continue
            yield self.finding(
                ctx, flag.span, f"FROM --platform flag should not use constant value {flag.value!r}"
            )


@register
class JsonWithTrailingText(Rule):
    id = "LW014"
    name = "json-with-trailing-text"
    title = "Text after a JSON array makes the form depend on the Docker version"
    severity = Severity.WARNING
    rationale = (
        '`CMD ["app"] # comment` is exec form for BuildKit before 0.15 but a shell-form '
        "command (that fails) for later versions, because comments are only comments at the "
        "start of a line. Move the comment to its own line."
    )
    bad = Example('FROM python:3.11-slim\nCMD ["python", "app.py"] # start the app\n')
    good = Example('FROM python:3.11-slim\n# start the app\nCMD ["python", "app.py"]\n')

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        decoder = json.JSONDecoder()
        for ins in ctx.dockerfile.walk():
            if (
                ins.json
                or not ins.arguments
                or ins.name
                not in (
                    "RUN",
                    "CMD",
                    "ENTRYPOINT",
                    "SHELL",
                    "COPY",
                    "ADD",
                    "VOLUME",
                    "HEALTHCHECK",
                )
            ):
                continue
            text = ins.args_text.strip()
            if ins.name == "HEALTHCHECK":
                text = text.split(None, 1)[-1] if " " in text else ""
            if not text.startswith("["):
                continue
            try:
                _, end = decoder.raw_decode(text)
            except ValueError:
                continue
            if text[end:].strip():
                yield self.finding(
                    ctx,
                    ins,
                    f"{ins.name} has text after its JSON array: current BuildKit runs it as a "
                    "shell command, older versions as exec form",
                )


@register
class NoEmptyContinuation(Rule):
    id = "LW015"
    name = "no-empty-continuation"
    title = "Empty lines inside a line continuation"
    severity = Severity.WARNING
    rationale = (
        "BuildKit skips empty lines inside a continued instruction but warns that they will "
        "become errors; they also hide where an instruction really ends. Docker's "
        "NoEmptyContinuation check."
    )
    buildkit = ("NoEmptyContinuation",)
    bad = Example(
        "FROM python:3.11-slim\nRUN apt-get update && \\\n\n    apt-get install -y curl\n"
    )
    good = Example("FROM python:3.11-slim\nRUN apt-get update && \\\n    apt-get install -y curl\n")
    fixed = "FROM python:3.11-slim\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        df = ctx.dockerfile
        for ins in df.instructions:
            if ins.start_line == ins.end_line:
                continue
            body_start = min((h.span.start for h in ins.heredocs), default=ins.span.end)
            edits = []
            for line in range(ins.start_line + 1, ins.end_line + 1):
                start = df.line_starts[line - 1]
                if start >= body_start:
                    break
                if df.line_text(line).strip():
                    continue
                end = df.line_starts[line] if line < len(df.line_starts) else len(df.text)
                edits.append(Edit(start, end, ""))
            if edits:
                yield self.finding(
                    ctx,
                    ins,
                    "Empty continuation line found",
                    fix=self.make_fix(edits, "remove the empty lines"),
                )


def _copy_from_code(error: ModelError) -> str | None:
    """hadolint's code for a bad `COPY --from`: DL3022 for a stage that does not exist yet
    (by name or index, its own index included), DL3023 for the stage's own name."""
    ins = error.instruction
    if ins is None or ins.name != "COPY":
        return None
    if error.message.startswith(("cannot copy from stage", "invalid stage index")):
        return "DL3022"
    if "cannot refer to its own stage" in error.message:
        flag = ins.flag("from")
        by_index = flag is not None and (flag.value or "").lstrip("-").isdigit()
        return "DL3022" if by_index else "DL3023"
    return None


def _referenced(text: str, ctx: LintContext) -> set[str]:
    from layerwise.dockerfile.lex import Lexer, LexError

    try:
        return Lexer(ctx.dockerfile.escape).process_word(text, {}).unmatched
    except LexError:
        return set()
