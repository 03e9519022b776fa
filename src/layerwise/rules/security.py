"""LW4xx: security.

What an attacker gets when the application is compromised (root in the container, writable
directories), what a pulled image gives away (secrets in ENV, ARG or copied files), and what a
build trusts without checking (scripts piped from the network, remote files without a
checksum). Seed 002 §6 (non-root user, directories created before switching user) is the
pattern these rules serve first.

`runtime_user(ctx)` describes who the final image runs as and what the Dockerfile already does
about it (the users it creates, the directories its RUN steps make or chown): the non-root fix
reads it to plan the rewrite.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from layerwise.dockerfile.lex import Lexer, LexError
from layerwise.dockerfile.model import Model, Stage, Step
from layerwise.rules.base import Edit, Example, Finding, LintContext, Rule, Severity, register
from layerwise.shell.facts import PathOp, UserOp
from layerwise.shell.run import RunScript

# -- who the image runs as ------------------------------------------------------------------------


def run_scripts(ctx: LintContext) -> Iterator[tuple[Step, RunScript]]:
    """Every RUN of every stage (ONBUILD RUN triggers included), with its parsed script."""
    for step in ctx.model.steps():
        if step.name not in ("RUN", "ONBUILD"):
            continue
        rs = ctx.run(step)
        if rs is not None:
            yield step, rs


def is_root_user(user: str) -> bool:
    """`USER root`, `USER 0`, with or without a group (`root:root`, `0:0`)."""
    name = user.split(":", 1)[0].strip()
    return name in ("root", "0")


def stage_chain(model: Model, stage: Stage) -> list[Stage]:
    """A stage and the stages it is built FROM (`FROM builder`), base first."""
    chain = [stage]
    seen = {stage.index}
    while chain[0].base_stage is not None and chain[0].base_stage not in seen:
        base = model.stages[chain[0].base_stage]
        seen.add(base.index)
        chain.insert(0, base)
    return chain


def last_user_step(model: Model, stage: Stage) -> Step | None:
    """The USER instruction in effect at the end of a stage: its own last USER, or the one it
    inherits from the stage it is built FROM. None when the Dockerfile never sets one (the
    base image's user applies: root for almost every public image)."""
    for st in reversed(stage_chain(model, stage)):
        step = st.last("USER")
        if step is not None:
            return step
    return None


@dataclass(frozen=True)
class WrittenPath:
    """A directory a RUN step of the final image creates (`mkdir`) or hands to a user
    (`chown`), as an absolute path, with the step that does it."""

    path: str
    how: str  # "mkdir" or "chown"
    owner: str | None  # the owner given to chown (None for mkdir)
    step: Step


@dataclass(frozen=True)
class RuntimeUser:
    """Who the final image runs as, and what the Dockerfile already does about users.

    `user_step`/`user` are the USER in effect (None: never set, so the base image's user,
    normally root). `workdir` is the final WORKDIR. `created_users` are the useradd/adduser
    calls of the final stage and the stages it is built FROM; `written_paths` the directories
    those stages create or chown, which an application running as another user may need to
    write (seed 002 §6: create them before `USER`)."""

    stage: Stage
    user_step: Step | None
    user: str | None
    workdir: str
    created_users: tuple[UserOp, ...]
    written_paths: tuple[WrittenPath, ...]

    @property
    def runs_as_root(self) -> bool:
        return self.user is None or is_root_user(self.user)

    @property
    def inherited(self) -> bool:
        """The USER comes from a stage the final one is built FROM."""
        return self.user_step is not None and self.user_step.stage_index != self.stage.index


def runtime_user(ctx: LintContext) -> RuntimeUser | None:
    """Who the target stage runs as (None for a Dockerfile without stages)."""
    stage = ctx.model.target
    if stage is None:
        return None
    step = last_user_step(ctx.model, stage)
    users: list[UserOp] = []
    written: list[WrittenPath] = []
    for st in stage_chain(ctx.model, stage):
        for s in st.steps:
            if s.name != "RUN":
                continue
            rs = ctx.run(s)
            if rs is None:
                continue
            facts = rs.script.facts
            users.extend(facts.user_ops)
            written.extend(_written(facts.mkdirs, "mkdir", s))
            written.extend(_written(facts.chowns, "chown", s))
    return RuntimeUser(
        stage=stage,
        user_step=step,
        user=_user_value(step),
        workdir=stage.workdir,
        created_users=tuple(users),
        written_paths=tuple(written),
    )


def _user_value(step: Step | None) -> str | None:
    if step is None:
        return None
    return step.expanded[0] if step.expanded else (step.instruction.arguments or ("",))[0]


def _written(ops: list[PathOp], how: str, step: Step) -> list[WrittenPath]:
    out = []
    for op in ops:
        for path in op.paths:
            if "$" in path:
                continue
            full = posixpath.normpath(posixpath.join(step.workdir, path))
            out.append(WrittenPath(full, how, op.value if how == "chown" else None, step))
    return out


# Base images known to run as a non-root user by default (the tag says so).
_NONROOT_TAG = re.compile(r"(?:^|[-_.])(?:nonroot|non-root|rootless)(?:$|[-_.])")


@register
class RootUser(Rule):
    id = "LW401"
    name = "root-user"
    title = "The image runs as root"
    severity = Severity.WARNING
    rationale = (
        "Seed 002 §6: a process running as root in the container is root on everything the "
        "container can reach (mounted volumes, the kernel's attack surface); if the "
        "application is compromised, so is all of that. Create a user and switch to it "
        "(`RUN useradd --system --uid 10001 app` then `USER app`), after creating the "
        "directories the application writes. Reported when the final stage never sets USER "
        "(the base image's user, root for almost every public image, applies; tags marked "
        "`nonroot` are trusted) and, as hadolint's DL3002, for any stage whose last USER is "
        "root (building that stage, or FROM it, gives a root image)."
    )
    hadolint = ("DL3002",)
    bad = Example('FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n')
    good = Example(
        "FROM python:3.11-slim\nRUN useradd --system --uid 10001 app\nWORKDIR /app\n"
        'COPY . .\nUSER 10001\nCMD ["python", "app.py"]\n'
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        model = ctx.model
        for stage in model.stages:
            step = stage.last("USER")
            if step is None:
                continue
            user = _user_value(step) or ""
            if is_root_user(user):
                final = stage is model.target
                where = "the image" if final else f"stage {stage.display_name!r}"
                yield self.finding(
                    ctx,
                    step.instruction,
                    f"Last USER of {where} is {user!r}: "
                    + (
                        "the container runs as root; switch to an unprivileged user at the end"
                        if final
                        else "an image built from this stage runs as root"
                    ),
                    covers=("DL3002",),
                )
        info = runtime_user(ctx)
        if info is None or info.user_step is not None:
            return
        stage = info.stage
        if _base_is_nonroot(model, stage):
            return
        yield self.finding(
            ctx,
            stage.from_instruction,
            "The final stage never sets USER, so the container runs as the base image's user "
            "(root): create an unprivileged user and add `USER` before CMD",
            covers=(),
        )


def _base_is_nonroot(model: Model, stage: Stage) -> bool:
    root = stage_chain(model, stage)[0]
    image = root.image
    return image is not None and image.tag is not None and bool(_NONROOT_TAG.search(image.tag))


# -- secrets in ARG and ENV -----------------------------------------------------------------------

# Docker's SecretsUsedInArgOrEnv: a secret word as a whole `_`-separated part of the name,
# unless the name also says it is public, a file path or a version.
_DOCKER_SECRET = re.compile(
    r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)"
    r"(?:_|$)"
)
_DOCKER_ALLOW = re.compile(r"(?i)(?:_|^)(?:public|file|version)(?:_|$)")
# hadolint's DL3064: well-known variable names, and substrings of the name (layerwise: at the end
# of a word, see `_ends_word`).
_HADOLINT_NAMES = frozenset(
    {
        "ACCESS_TOKEN", "APPLICATION_KEY", "APP_SECRET", "AUTH_TOKEN", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "BITTREX_API_KEY", "BITTREX_API_SECRET", "CF_PASSWORD",
        "CF_USERNAME", "CIRCLE_TOKEN", "CI_DEPLOY_PASSWORD", "CI_DEPLOY_USER", "DOCKERHUB_PASSWORD",
        "DOCKER_EMAIL", "DOCKER_PASSWORD", "DOCKER_USERNAME", "FACEBOOK_ACCESS_TOKEN",
        "FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET", "FIREBASE_API_TOKEN", "FIREBASE_TOKEN",
        "FOSSA_API_KEY", "GH_ENTERPRISE_TOKEN", "GH_TOKEN", "GITHUB_ENTERPRISE_TOKEN",
        "GITHUB_TOKEN", "HEROKU_API_KEY", "HEROKU_API_USER", "NPM_AUTH_TOKEN", "NPM_TOKEN",
        "OKTA_AUTHN_GROUPID", "OKTA_CLIENT_ORGURL", "OKTA_CLIENT_TOKEN", "OKTA_OAUTH2_CLIENTID",
        "OKTA_OAUTH2_CLIENTSECRET", "OPENAI_API_KEY", "OS_PASSWORD", "OS_USERNAME",
        "POSTGRES_PASSWORD", "SLACK_TOKEN", "STRIPE_API_KEY", "STRIPE_DEVICE_NAME",
        "TRAVIS_OS_NAME", "TRAVIS_SECURE_ENV_VARS", "TRAVIS_SUDO", "VAULT_CLIENT_KEY",
        "VAULT_TOKEN",
    }
)  # fmt: skip
_HADOLINT_SUBSTRINGS = ("api_key", "client_key", "password", "private", "secret", "token")
# hadolint also reports names containing "username" and a few well-known non-secrets (user
# names, an OS name, a device name): layerwise does not (a user name is not a secret).
_NOT_SECRET = re.compile(r"(?i)(?:^|_)(?:user|username|email|os_name|device_name|sudo)$")
# Names that say where a secret is, or that it is public: a path, a URL, a host, a version, a
# GPG key id used to verify downloads (`GPG_KEY` in the official images).
_WHERE_NOT_WHAT = re.compile(
    r"(?i)(?:^|_)(?:file|path|dir|url|uri|host|server|endpoint|domain|version|public)"
    r"(?:_|$)|(?:^|_)(?:gpg|pgp|gnupg)(?:_|$)"
)
# Well-known variables whose value is a file path, whatever their name says.
_PATH_VALUED = frozenset(("GOOGLE_APPLICATION_CREDENTIALS", "AWS_SHARED_CREDENTIALS_FILE"))
# Kinds, most specific first, for the message.
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"(?i)private")),
    ("password", re.compile(r"(?i)passw|pword")),
    ("API key", re.compile(r"(?i)api_?key|application_key|client_key")),
    ("token", re.compile(r"(?i)token")),
    ("access key", re.compile(r"(?i)access_key")),
    ("secret", re.compile(r"(?i)secret")),
    ("credentials", re.compile(r"(?i)credential|auth")),
    ("key", re.compile(r"(?i)key")),
)


def _ends_word(name: str, lower: str, part: str) -> bool:
    """`part` occurs in the name and ends a word there (`GITHUB_TOKEN`, `apiToken`,
    `DB_PASSWORDS`), so `TOKENIZER_MODEL` is not a token. hadolint matches any substring."""
    start = lower.find(part)
    while start != -1:
        end = start + len(part)
        rest = name[end:]
        if rest[:1] == "s" or rest[:1] == "S":
            rest = rest[1:]
        if not rest or not rest[0].isalpha() or (rest[0].isupper() and not name.isupper()):
            return True
        start = lower.find(part, start + 1)
    return False


@dataclass(frozen=True)
class SecretName:
    kind: str
    hadolint: bool  # hadolint's DL3064 reports it
    docker: bool  # Docker's SecretsUsedInArgOrEnv reports it


def secret_name(name: str) -> SecretName | None:
    """Does an ARG/ENV name say it holds a secret? Which kind, and which peer reports it."""
    upper = name.upper()
    lower = name.lower()
    docker = bool(_DOCKER_SECRET.search(name)) and not _DOCKER_ALLOW.search(name)
    hadolint = upper in _HADOLINT_NAMES or any(
        _ends_word(name, lower, s) for s in _HADOLINT_SUBSTRINGS
    )
    if not (docker or hadolint) or _NOT_SECRET.search(name):
        return None
    if _WHERE_NOT_WHAT.search(name) or upper in _PATH_VALUED:
        return None  # where a secret is, or a public key: not the secret itself
    kind = next((k for k, rx in _KINDS if rx.search(name)), "secret")
    return SecretName(kind, hadolint, docker)


@register
class SecretInArgOrEnv(Rule):
    id = "LW402"
    name = "secret-in-arg-env"
    title = "A secret passed through ARG or ENV"
    severity = Severity.WARNING
    rationale = (
        "ENV values are stored in the image configuration: anyone who can pull the image reads "
        "them with `docker inspect`. ARG values used by a RUN are recorded in the image history "
        "and in the build cache. A password, token or key passed this way leaks with the "
        "image. Mount it for the one step that needs it instead: "
        "`RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci` "
        "with `docker build --secret id=npm_token,env=NPM_TOKEN` (Compose: `build.secrets`); "
        "Dockerfile syntax 1.10 adds `env=NPM_TOKEN` to the mount (older engines refuse it). "
        "Names are judged as Docker's SecretsUsedInArgOrEnv and hadolint's DL3064 do, except "
        "that user names and paths to secret files are not secrets. Only the name is ever "
        "reported, never the value."
    )
    hadolint = ("DL3064",)
    buildkit = ("SecretsUsedInArgOrEnv",)
    bad = Example("FROM python:3.11-slim\nARG PIP_INDEX_TOKEN\nRUN echo building\n")
    good = Example(
        "FROM python:3.11-slim\n"
        "RUN --mount=type=secret,id=pip_token PIP_INDEX_TOKEN=$(cat /run/secrets/pip_token) "
        "echo building\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.instructions:
            if ins.name == "ARG":
                for word in ins.words:
                    name = word.value.split("=", 1)[0]
                    yield from self._check_name(ctx, "ARG", name, word.span)
            elif ins.name == "ENV":
                for kv in ins.pairs:
                    yield from self._check_name(ctx, "ENV", kv.key, kv.span)

    def _check_name(
        self, ctx: LintContext, what: str, name: str, span: object
    ) -> Iterator[Finding]:
        from layerwise.dockerfile.syntax import Span

        assert isinstance(span, Span)
        found = secret_name(name)
        if found is None:
            return
        covers = (("DL3064",) if found.hadolint else ()) + (
            ("SecretsUsedInArgOrEnv",) if found.docker else ()
        )
        mount = (
            f"`RUN --mount=type=secret,id={name.lower()}` reading /run/secrets/{name.lower()} "
            f"(or `env={name}` in the mount, Dockerfile syntax 1.10+)"
        )
        if what == "ENV":
            advice = (
                "its value is stored in the image configuration: give it to the container at "
                f"run time (`docker run -e`, Compose `secrets`), or to a build step with {mount}"
            )
        else:
            advice = (
                "its value is recorded in the image history and build cache: mount it for the "
                f"step that needs it, {mount}"
            )
        yield self.finding(
            ctx,
            span,
            f"{what} {name} looks like {_article(found.kind)}: {advice}",
            covers=covers,
        )


def _article(kind: str) -> str:
    if kind == "credentials":
        return kind
    return ("an " if kind[0].lower() in "aeiou" else "a ") + kind


# -- secret files copied into an image ------------------------------------------------------------


@register
class SecretFileCopied(Rule):
    id = "LW403"
    name = "secret-file-copied"
    title = "A secret file is copied into an image layer"
    severity = Severity.ERROR
    rationale = (
        "A `.env` file, a private key or a credentials file that a COPY or ADD puts in a layer "
        "stays in the image (and in every registry and cache it is pushed to), even if a later "
        "step deletes it. Seed 002 lists `.env` among the files .dockerignore must exclude. "
        "Exclude such files from the context and mount what a build step needs with "
        "`RUN --mount=type=secret`; give the running container its secrets at run time. "
        "Without the build context only explicitly named sources are checked; with it, "
        "every file a COPY really copies (after .dockerignore), by name and by content "
        "signature. Reported by path and kind, never content."
    )
    bad = Example(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY .env app.py ./\nCMD ["python", "app.py"]\n'
    )
    good = Example(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py ./\nCMD ["python", "app.py"]\n'
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        from layerwise.context.secrets import name_rule

        model = ctx.model
        final_chain = {s.index for s in stage_chain(model, model.target)} if model.target else set()
        reported: set[tuple[int, str]] = set()
        resolved = self._resolved(ctx)
        for stage in model.stages:
            for step in stage.steps:
                if step.name not in ("COPY", "ADD"):
                    continue
                secrets: list[tuple[str, str]] = []
                for read in step.reads:
                    if read.kind != "context" or read.via == "mount":
                        continue
                    for source in read.sources:
                        path = posixpath.normpath(source.lstrip("/") or ".")
                        hit = name_rule(path)
                        if hit is not None:
                            secrets.append((path, hit[0]))
                secrets += resolved.get(id(step), [])
                for path, kind in secrets:
                    key = (step.instruction.index, path)
                    if key in reported:
                        continue
                    reported.add(key)
                    in_final = stage.index in final_chain
                    yield self.finding(
                        ctx,
                        step.instruction,
                        f"{step.name} puts {path} ({kind}) into "
                        + (
                            "the image"
                            if in_final
                            else f"stage {stage.display_name!r} (its layers stay in the build "
                            "cache)"
                        )
                        + ": exclude it in .dockerignore and use `RUN --mount=type=secret`",
                        severity=None if in_final else Severity.WARNING,
                    )

    @staticmethod
    def _resolved(ctx: LintContext) -> dict[int, list[tuple[str, str]]]:
        """Secret-looking files each COPY/ADD step really copies, from the build context (its
        secret scan of the whole context is done once and shared with the context rules)."""
        bc = ctx.build_context
        step_reads = getattr(bc, "step_reads", None)
        secrets = getattr(bc, "secrets", None)
        if step_reads is None or not secrets:
            return {}
        by_path = {s.path: s.kind for s in secrets}
        out: dict[int, list[tuple[str, str]]] = {}
        for sr in step_reads:
            if sr.read.via == "mount":
                continue
            # the context engine's model is its own: match steps by instruction position
            step = _step_at(ctx.model, sr.step.instruction.index)
            if step is None:
                continue
            found = sorted(p for p in sr.result.reads if p in by_path)
            if found:
                out.setdefault(id(step), []).extend((p, by_path[p]) for p in found)
        return out


def _step_at(model: Model, index: int) -> Step | None:
    for step in model.steps():
        if step.instruction.index == index:
            return step
    return None


# -- downloads run unchecked ----------------------------------------------------------------------


@register
class CurlPipeShell(Rule):
    id = "LW404"
    name = "curl-pipe-shell"
    title = "A downloaded script is piped into a shell"
    severity = Severity.WARNING
    rationale = (
        "`curl https://example.com/install.sh | sh` runs whatever the server (or anyone in "
        "between) sends at build time, unverified and unpinned: a compromised or changed script "
        "goes straight into the image, and a failed download can still leave the build "
        "'successful'. Install from a package manager, or download a pinned version, check its "
        "published checksum (`sha256sum -c`) and then run it (or `ADD --checksum=sha256:...`)."
    )
    bad = Example("FROM debian:bookworm-slim\nRUN curl -fsSL https://example.com/install.sh | sh\n")
    good = Example(
        "FROM debian:bookworm-slim\n"
        "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d"
        " https://example.com/install-1.2.3.sh /tmp/install.sh\n"
        "RUN sh /tmp/install.sh\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for pipe in rs.script.facts.download_pipes:
                start = min(pipe.download.start, pipe.interpreter.start)
                end = max(pipe.download.end, pipe.interpreter.end)
                yield self.finding(
                    ctx,
                    rs.source_span(start, end),
                    f"`{pipe.download.name} ... | {pipe.interpreter.name}` runs a script "
                    "downloaded at build time without checking it: download a pinned version, "
                    "verify its checksum, then run it",
                )


@register
class Sudo(Rule):
    id = "LW405"
    name = "sudo"
    title = "sudo in a RUN instruction"
    severity = Severity.ERROR
    rationale = (
        "RUN already runs as the stage's USER; `sudo` adds a setuid binary to the image, "
        "behaves differently with and without a terminal (it may prompt and hang the build) "
        "and resets the environment, so PATH and proxy variables silently change. Run the "
        "step as root with `USER root` before it (and switch back after), or use `gosu`/"
        "`su-exec` in an entrypoint to drop privileges at run time."
    )
    hadolint = ("DL3004",)
    bad = Example(
        "FROM debian:bookworm-slim\nUSER app\nRUN sudo apt-get update && sudo apt-get install -y "
        "curl\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\nUSER root\nRUN apt-get update && apt-get install -y curl\n"
        "USER app\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for cmd in rs.script.facts.sudo:
                yield self.finding(
                    ctx,
                    rs.command_span(cmd),
                    "Do not use sudo in a build: run the step as root (`USER root`) and switch "
                    "back to the unprivileged user afterwards",
                )


@register
class WorldWritable(Rule):
    id = "LW406"
    name = "world-writable"
    title = "chmod makes a path writable by every user"
    severity = Severity.WARNING
    rationale = (
        "Seed 002 §6 fixes a PermissionError with `chmod 777 /shared-data/uploads`: that lets "
        "every user and process in the container (and anyone sharing the volume) replace the "
        "files, and marks the image as careless to scanners. Give the directory to the user "
        "the application runs as instead: `RUN mkdir -p /shared-data/uploads && chown app:app "
        "/shared-data/uploads` (or `COPY --chown=app:app`), before `USER app`."
    )
    bad = Example(
        "FROM python:3.11-slim\nRUN useradd --system app\n"
        "RUN mkdir -p /shared-data/uploads && chmod 777 /shared-data/uploads\nUSER app\n"
    )
    good = Example(
        "FROM python:3.11-slim\nRUN useradd --system app\n"
        "RUN mkdir -p /shared-data/uploads && chown app:app /shared-data/uploads\nUSER app\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for op in rs.script.facts.world_writable_chmods:
                if op.value is not None and _sticky(op.value):
                    continue  # 1777: a shared scratch directory like /tmp, by design
                paths = " ".join(op.paths) or "the path"
                yield self.finding(
                    ctx,
                    rs.command_span(op.command),
                    f"`chmod {op.value}` makes {paths} writable by every user: chown it to the "
                    "user the application runs as instead",
                )


@register
class RemoteAddChecksum(Rule):
    id = "LW407"
    name = "remote-add-checksum"
    title = "ADD of a remote file without --checksum"
    severity = Severity.WARNING
    rationale = (
        "`ADD https://example.com/tool.tar.gz /opt/` trusts whatever the server returns at "
        "build time: a changed or tampered file goes into the image unnoticed, and the layer is "
        "rebuilt whenever the server says the file changed. `ADD --checksum=sha256:<digest>` "
        "makes BuildKit verify the download (Dockerfile syntax 1.6 / BuildKit 0.11 or later) "
        "and fail on a mismatch."
    )
    bad = Example(
        "FROM debian:bookworm-slim\n"
        "ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini /usr/bin/tini\n"
    )
    good = Example(
        "FROM debian:bookworm-slim\n"
        "ADD --checksum=sha256:93dcc18adc78c65a028a84799ecf8ad40c936fdfc5f2a57b1acda5a8117fa82c "
        "https://github.com/krallin/tini/releases/download/v0.19.0/tini /usr/bin/tini\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for ins in ctx.dockerfile.walk():
            if ins.name != "ADD" or ins.flag("checksum") is not None or len(ins.words) < 2:
                continue
            for word in ins.words[:-1]:
                lowered = word.value.lower()
                if not lowered.startswith(("http://", "https://")):
                    continue
                if lowered.split("#", 1)[0].split("?", 1)[0].endswith(".git"):
                    continue  # a git repository: pinned by its ref, not a checksum
                yield self.finding(
                    ctx,
                    word.span,
                    f"ADD downloads {_url_shown(word.value)} without `--checksum`: add "
                    "`--checksum=sha256:<digest>` so the build verifies what it downloads",
                )


def _sticky(mode: str) -> bool:
    """Does a chmod mode set the sticky bit (`1777`, `+t`): only owners may delete or rename
    entries, as in /tmp."""
    if re.fullmatch(r"[0-7]{4}", mode):
        return int(mode[0]) & 1 == 1
    return re.search(r"[+=][rwxXs]*t", mode) is not None


def _url_shown(url: str) -> str:
    # drop any credentials and query string: they may hold tokens
    m = re.match(r"(?i)^(https?://)(?:[^/@]*@)?([^?#]*)", url)
    shown = (m.group(1) + m.group(2)) if m else url
    return shown if len(shown) <= 80 else shown[:77] + "..."


# -- users ----------------------------------------------------------------------------------------


@register
class NumericUser(Rule):
    id = "LW408"
    name = "numeric-user"
    title = "USER given as a name instead of a numeric id"
    severity = Severity.INFO
    rationale = (
        "Kubernetes' `runAsNonRoot` can only verify a numeric user: with `USER app` the kubelet "
        "refuses to start the pod, because it cannot tell from the image whether `app` is "
        "root. Other hosts (volume ownership, `docker run --user` policies) also reason in "
        "numbers. Create the user with a fixed uid and name it by number: `useradd --uid "
        "10001 app` then `USER 10001`. hadolint's DL3066."
    )
    hadolint = ("DL3066",)
    bad = Example("FROM python:3.11-slim\nRUN useradd --uid 10001 app\nUSER app\n")
    good = Example("FROM python:3.11-slim\nRUN useradd --uid 10001 app\nUSER 10001\n")

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        declared: set[str] = set()
        for ins in ctx.dockerfile.instructions:
            if ins.name == "ARG":
                declared.update(w.split("=", 1)[0] for w in ins.arguments)
                continue
            if ins.name != "USER" or not ins.arguments:
                continue
            written = ins.arguments[0]
            uid = written.split(":", 1)[0]
            if uid.isdigit() or any(f"${{{a}}}" in uid or f"${a}" in uid for a in declared):
                continue
            step = ctx.model.step_for(ins)
            value = step.expanded[0].split(":", 1)[0] if step and step.expanded else uid
            if value.isdigit():
                continue
            known = _uid_of(ctx, value)
            hint = f"USER {known}" if known else "a numeric id (e.g. USER 10001)"
            yield self.finding(
                ctx,
                ins,
                f"USER {written} names the user: use {hint} so that runAsNonRoot and hosts can "
                "verify it",
            )


def _uid_of(ctx: LintContext, name: str) -> str | None:
    """The uid the Dockerfile gives `name` with `useradd -u`/`adduser -u`, if it does."""
    for _step, rs in run_scripts(ctx):
        for op in rs.script.facts.user_ops:
            if op.kind in ("useradd", "adduser") and op.name == name and (op.uid or "").isdigit():
                return op.uid
    return None


@register
class UseraddLogInit(Rule):
    id = "LW409"
    name = "useradd-no-log-init"
    title = "useradd with a large uid without -l"
    severity = Severity.INFO
    rationale = (
        "Some useradd versions write a record for the new uid into /var/log/lastlog and "
        "/var/log/faillog, sparse files indexed by uid: with a uid such as 1000000 the record "
        "sits hundreds of megabytes into the file, and an image layer stores the file in "
        "full. `useradd -l` (`--no-log-init`) skips those records and is harmless everywhere. "
        "Informational: Debian 12's useradd (shadow 4.13) writes no record for a new uid, so "
        "the layer stays small there with or without `-l` (layerwise's integration tests "
        "check this); older shadow-utils releases do not. A uid from a variable is treated as "
        "possibly large. The fix adds `-l`."
    )
    hadolint = ("DL3046",)
    bad = Example("FROM debian:bookworm-slim\nRUN useradd -u 1000001 app\n")
    good = Example("FROM debian:bookworm-slim\nRUN useradd -l -u 1000001 app\n")
    fixed = "FROM debian:bookworm-slim\nRUN useradd -l -u 1000001 app\n"
    fix_safety = "safe"

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for op in rs.script.facts.user_ops:
                if op.kind != "useradd" or op.no_log_init or op.uid is None:
                    continue
                uid = _expand(op.uid, rs.script.env)
                if uid is not None and (not uid.isdigit() or int(uid) < 100000):
                    continue
                fix = None
                if rs.exact and op.command.words and not op.command.words[0].dynamic:
                    span = rs.word_span(op.command.words[0])
                    fix = self.make_fix([Edit.insert(span.end, " -l")], "add -l")
                yield self.finding(
                    ctx,
                    rs.command_span(op.command),
                    f"`useradd -u {op.uid}` without `-l` writes lastlog/faillog records sized "
                    "by the uid into the layer: add `-l` (--no-log-init)",
                    fix=fix,
                )


def _expand(text: str, env: dict[str, str]) -> str | None:
    """A shell word's value with the ENV/ARG values in scope; None if some are unknown."""
    if "$" not in text:
        return text
    try:
        res = Lexer("\\").process_word(text, env)
    except LexError:
        return None
    return None if res.unmatched else res.result


# -- images and stages ----------------------------------------------------------------------------


@register
class CopyWholeFilesystem(Rule):
    id = "LW410"
    name = "copy-whole-filesystem"
    title = "COPY --from of a whole filesystem onto /"
    severity = Severity.WARNING
    rationale = (
        "`COPY --from=other / /` lays another image's entire filesystem over this one: its "
        "/etc/passwd, package database, shell and libraries replace this stage's, so the "
        "result is neither image and nobody can tell from the Dockerfile what the final image "
        "contains or which user ids exist. Copy the paths you need (`COPY --from=build "
        "/opt/venv /opt/venv`). Copying a stage built FROM scratch (a stage that only collects "
        "artefacts) is the usual way to export files and is not reported."
    )
    hadolint = ("DL3067",)
    bad = Example(
        "FROM python:3.11 AS build\nRUN pip install --no-cache-dir --prefix=/install flask\n"
        "FROM python:3.11-slim\nCOPY --from=build / /\n"
    )
    good = Example(
        "FROM python:3.11 AS build\nRUN pip install --no-cache-dir --prefix=/install flask\n"
        "FROM python:3.11-slim\nCOPY --from=build /install /usr/local\n"
    )

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        model = ctx.model
        for stage in model.stages:
            for step in stage.steps:
                ins = step.instruction
                if ins.name != "COPY" or ins.flag("from") is None or len(ins.arguments) < 2:
                    continue
                *sources, dest = (a.strip("\"'") for a in ins.arguments)
                if dest != "/" or "/" not in sources:
                    continue
                read = next((r for r in step.reads if r.kind in ("stage", "image")), None)
                if read is not None and read.stage is not None:
                    root = stage_chain(model, model.stages[read.stage])[0]
                    if root.is_scratch:
                        continue
                source = (
                    read.image if read is not None and read.image else ins.flag_values("from")[-1]
                )
                yield self.finding(
                    ctx,
                    ins,
                    f"COPY --from={source} / / copies a whole filesystem over this stage: copy "
                    "only the paths you need",
                )


# -- commands that make no sense in a build -------------------------------------------------------

_POINTLESS = {
    "ssh": "an SSH session needs keys and a reachable host at build time",
    "vim": "an editor waits for a terminal the build does not have",
    "top": "an interactive monitor waits for a terminal",
    "free": "it shows the build machine's memory, which says nothing about the image",
    "ps": "the processes of a build step are gone when it ends",
    "kill": "the processes of a build step are gone when it ends",
    "shutdown": "there is no system to shut down in a build step",
    "mount": "mounts do not survive the build step (use RUN --mount)",
    "service": "a service started in a build step is stopped when the step ends",
}


@register
class PointlessCommand(Rule):
    id = "LW411"
    name = "pointless-command"
    title = "A command that makes no sense in a build step"
    severity = Severity.INFO
    rationale = (
        "Each RUN is a fresh, non-interactive process that ends with its step: a service "
        "started there does not run in the container, an editor or `top` has no terminal, "
        "`ps`/`kill` find nothing of the image, `ssh` needs keys the image must not keep. "
        "Such a command is usually a leftover from an interactive session; a service belongs "
        "in CMD or ENTRYPOINT. hadolint's DL3001 (ssh, vim, shutdown, service, ps, free, top, "
        "kill, mount)."
    )
    hadolint = ("DL3001",)
    bad = Example("FROM debian:bookworm-slim\nRUN service nginx start\n")
    good = Example('FROM debian:bookworm-slim\nCMD ["nginx", "-g", "daemon off;"]\n')

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for _step, rs in run_scripts(ctx):
            for cmd in rs.script.commands:
                why = _POINTLESS.get(cmd.name)
                if why is None or not cmd.words or cmd.words[0].dynamic:
                    continue
                yield self.finding(
                    ctx,
                    rs.command_span(cmd),
                    f"`{cmd.name}` in RUN makes no sense: {why}",
                )


__all__ = [
    "RuntimeUser",
    "SecretName",
    "WrittenPath",
    "is_root_user",
    "last_user_step",
    "run_scripts",
    "runtime_user",
    "secret_name",
    "stage_chain",
]
