"""Non-root runtime: a system user, the directories the app writes owned by it, USER before CMD.

Seed 002 §6: running as root means a compromised app is root in the container; switching user
breaks an app that creates directories at startup (`os.makedirs('/shared-data/uploads')` ->
PermissionError), so the directories it writes are created and chowned while still root:

    RUN groupadd --system --gid 10001 app \\
        && useradd --system --uid 10001 --gid app --no-log-init --create-home app
    ...
    RUN mkdir -p /data/uploads && chown -R app:app /data/uploads
    USER 10001:10001

The user is created before the first COPY/ADD/RUN of the stage so that no source change rebuilds
it; the ownership fix and `USER` come after the last step that writes files, so everything
before still runs as root and nothing copied later undoes the chown. `USER` is numeric because
Kubernetes' `runAsNonRoot` can only verify a numeric user.

Which directories the app writes is taken from the Dockerfile (VOLUME targets, `mkdir` in the
final stage) plus any the caller names; an app that writes elsewhere (for example a SQLite file in
its source directory) must say so (`writable=`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field

from layerwise.dockerfile.model import Stage, Step
from layerwise.fixes import text as tx
from layerwise.fixes.text import NotApplicable
from layerwise.rules.base import Edit, Fix, LintContext
from layerwise.shell.facts import APT_MANAGERS

USER = "app"
UID = 10001
ROOT_USERS = frozenset({"root", "0", "0:0", "root:root", "root:0", "0:root"})
# Directories that a `mkdir` in a Dockerfile makes for the system, not for the app to write.
_SYSTEM_DIRS = (
    "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/opt/venv", "/root", "/proc", "/sys",
    "/var/lib/apt", "/var/cache", "/var/lib/dpkg", "/boot", "/dev",
)  # fmt: skip
_NO_SHELL_IMAGES = ("distroless", "chainguard/static", "scratch")
# Server images whose own entrypoint starts as root and drops privileges itself (or needs root to
# prepare its directories): a USER in the Dockerfile breaks them.
_DROPS_PRIVILEGES = frozenset(
    {"nginx", "httpd", "apache", "postgres", "postgis", "mysql", "mariadb", "mongo", "redis",
     "rabbitmq", "memcached", "elasticsearch", "cassandra", "couchdb", "influxdb", "haproxy",
     "traefik", "caddy", "wordpress", "php", "tomcat", "jenkins", "sonarqube", "nextcloud",
     "odoo", "grafana", "prometheus", "openresty", "varnish", "squid", "bind9", "vsftpd"}
)  # fmt: skip


@dataclass
class NonRootPlan:
    stage: Stage
    user: str  # the name used in chown
    user_ref: str  # what USER says
    create: bool  # the fix creates the user
    writable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NonRootSplit:
    fix: Fix | None
    reason: str | None
    plan: NonRootPlan | None = None


def effective_user(ctx: LintContext, stage: Stage | None = None) -> str | None:
    """The user the stage's image runs as: its last USER, or the one it inherits from the
    stage it is built on (None when no USER is set in the Dockerfile: root, unless the base
    image sets one)."""
    stage = stage or ctx.model.target
    seen = 0
    while stage is not None and seen <= len(ctx.model.stages):
        step = stage.last("USER")
        if step is not None:
            return step.expanded[0] if step.expanded else None
        stage = ctx.model.stages[stage.base_stage] if stage.base_stage is not None else None
        seen += 1
    return None


def runs_as_root(ctx: LintContext, stage: Stage | None = None) -> bool:
    user = effective_user(ctx, stage)
    return user is None or user in ROOT_USERS


def nonroot_fix(
    ctx: LintContext, *, writable: Sequence[str] = (), user: str = USER, uid: int = UID
) -> Fix | None:
    return split_nonroot(ctx, writable=writable, user=user, uid=uid).fix


def split_nonroot(
    ctx: LintContext, *, writable: Sequence[str] = (), user: str = USER, uid: int = UID
) -> NonRootSplit:
    """The non-root fix for the target stage, or why there is none."""
    try:
        plan, edits = _plan(ctx, writable, user, uid)
    except NotApplicable as exc:
        return NonRootSplit(None, str(exc))
    if plan is None:
        return NonRootSplit(None, "the image already runs as a non-root user")
    what = f"create user {plan.user} ({uid}), " if plan.create else ""
    dirs = f"make {', '.join(plan.writable)} writable by it, " if plan.writable else ""
    description = f"non-root: {what}{dirs}run as USER {plan.user_ref}"
    return NonRootSplit(Fix(tuple(sorted(edits)), "unsafe", description), None, plan)


def _plan(
    ctx: LintContext, writable: Sequence[str], user: str, uid: int
) -> tuple[NonRootPlan | None, list[Edit]]:
    stage = ctx.model.target
    if stage is None:
        raise NotApplicable("no stage to build")
    if not runs_as_root(ctx, stage):
        return None, []
    root = stage
    while root.base_stage is not None:
        root = ctx.model.stages[root.base_stage]
    if root.is_scratch or any(n in root.base_name for n in _NO_SHELL_IMAGES):
        raise NotApplicable(f"{root.base_name} has no shell to create a user with")
    if root.image is not None and root.image.base_name.split("-")[0] in _DROPS_PRIVILEGES:
        raise NotApplicable(
            f"{root.base_name} starts as root and drops privileges in its own entrypoint"
        )
    if not _debian_like(ctx, root, stage):
        raise NotApplicable(
            f"{root.base_name}: creating a user is only supported on images with useradd "
            "(Debian, Ubuntu, Python, ...)"
        )
    df = ctx.dockerfile
    style = tx.style_of(df)
    existing = _created_user(ctx, stage)
    plan = NonRootPlan(stage, existing or user, existing or f"{uid}:{uid}", existing is None)
    plan.writable = _writable_dirs(ctx, stage, writable)
    edits: list[Edit] = []
    layer_steps = [s for s in stage.steps if s.name in ("RUN", "COPY", "ADD")]
    if plan.create:
        create = style.run(
            [
                f"groupadd --system --gid {uid} {user}",
                f"useradd --system --uid {uid} --gid {user} --no-log-init --create-home {user}",
            ]
        )
        first = layer_steps[0] if layer_steps else None
        if first is not None:
            edits.append(tx.insert_before(df, first.instruction, style.lines([create])))
        else:
            edits.append(tx.insert_after(df, stage.from_instruction, style.lines([create])))
    lines: list[str] = []
    if plan.writable:
        paths = " ".join(tx.shell_quote(p) for p in plan.writable)
        lines.append(style.run([f"mkdir -p {paths}", f"chown -R {plan.user}:{plan.user} {paths}"]))
    lines.append(f"{style.keyword('USER')} {plan.user_ref}")
    anchor = _last_of(stage, ("RUN", "COPY", "ADD", "USER"))
    if anchor is None:
        edits.append(tx.insert_after(df, stage.from_instruction, style.lines(lines)))
    else:
        edits.append(tx.insert_after(df, anchor.instruction, style.lines(lines)))
    if len(edits) == 2 and edits[0].start == edits[1].start:
        # Both right after FROM (a stage without layer steps): one insertion, user first.
        edits = [Edit.insert(edits[0].start, edits[0].replacement + edits[1].replacement)]
    return plan, edits


def _debian_like(ctx: LintContext, root: Stage, stage: Stage) -> bool:
    ref = root.base_name.lower()
    if any(k in ref for k in ("alpine", "busybox", "windows", "nanoserver")):
        return False
    for st in (root, stage):
        for step in st.steps:
            rs = ctx.run(step) if step.name == "RUN" else None
            if rs is None:
                continue
            if any(op.manager in ("apk",) for op in rs.script.package_ops):
                return False
            if any(op.manager in APT_MANAGERS for op in rs.script.package_ops):
                return True
    return True


def _created_user(ctx: LintContext, stage: Stage) -> str | None:
    """A user the stage (or a stage it builds on) creates already."""
    st: Stage | None = stage
    while st is not None:
        for step in reversed(st.steps):
            rs = ctx.run(step) if step.name == "RUN" else None
            if rs is None:
                continue
            for op in rs.script.facts.user_ops:
                if op.kind in ("useradd", "adduser") and op.name and op.name != "root":
                    return op.name
        st = ctx.model.stages[st.base_stage] if st.base_stage is not None else None
    return None


def _writable_dirs(ctx: LintContext, stage: Stage, extra: Sequence[str]) -> list[str]:
    found: list[str] = []

    def add(path: str, workdir: str) -> None:
        if not path or "$" in path or any(ch in path for ch in "*?[{"):
            return
        absolute = posixpath.normpath(posixpath.join(workdir or "/", path))
        if absolute == "/" or any(
            absolute == d or absolute.startswith(d + "/") for d in _SYSTEM_DIRS
        ):
            return
        if absolute not in found:
            found.append(absolute)

    for step in stage.steps:
        if step.name == "VOLUME":
            for path in step.expanded:
                add(path, step.workdir)
        elif step.name == "RUN":
            rs = ctx.run(step)
            if rs is None:
                continue
            for op in rs.script.facts.mkdirs:
                for path in op.paths:
                    add(path, step.workdir)
    for path in extra:
        add(path, stage.workdir)
    return found


def _last_of(stage: Stage, names: tuple[str, ...]) -> Step | None:
    for step in reversed(stage.steps):
        if step.name in names:
            return step
    return None
