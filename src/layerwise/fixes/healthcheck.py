"""HEALTHCHECK on request: Docker asks the app itself whether it is healthy.

Only added when the user names the path to call (`layerwise optimize --healthcheck /health`):
a wrong guess would mark a working container unhealthy. The check uses Python's urllib, which
every Python image has (slim images have no curl), and reads the port from `$PORT` when the
image sets it, so it follows the port the app is started on:

    HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\
        CMD python3 -c "import urllib.request; urllib.request.urlopen(
            'http://127.0.0.1:${PORT:-8000}/health', timeout=4)" || exit 1   (one line)

`urlopen` raises on connection errors and on HTTP 4xx/5xx answers, so the check fails unless the
app answers with a success.
"""

from __future__ import annotations

import re

from layerwise.dockerfile.model import Stage
from layerwise.errors import InputError
from layerwise.fixes import text as tx
from layerwise.fixes.text import NotApplicable
from layerwise.rules.base import Fix, LintContext

OPTIONS = "--interval=30s --timeout=5s --start-period=10s --retries=3"
_PATH = re.compile(r"/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*")


def check_path(path: str) -> str:
    """The HTTP path to call, validated (InputError says what is wrong)."""
    if not _PATH.fullmatch(path) or "'" in path or '"' in path or "$" in path or "`" in path:
        raise InputError(
            f"--healthcheck {path!r}: expected an HTTP path such as /health (starting with /, "
            "without quotes, spaces or $)"
        )
    return path


def healthcheck_fix(ctx: LintContext, path: str, *, port: str | None = None) -> Fix | None:
    return split_healthcheck(ctx, path, port=port)[0]


def split_healthcheck(
    ctx: LintContext, path: str, *, port: str | None = None
) -> tuple[Fix | None, str | None]:
    """(fix, None) or (None, why not)."""
    path = check_path(path)
    stage = ctx.model.target
    if stage is None:
        return None, "no stage to build"
    if _inherited(ctx, stage, "HEALTHCHECK"):
        return None, "the image already has a HEALTHCHECK"
    try:
        where = _port(stage, port)
    except NotApplicable as exc:
        return None, str(exc)
    if not _is_python(ctx, stage):
        return None, "the check uses Python's urllib and the image is not a Python image"
    style = tx.style_of(ctx.dockerfile)
    url = f"http://127.0.0.1:{where}{path}"
    command = f"python3 -c \"import urllib.request; urllib.request.urlopen('{url}', timeout=4)\""
    line = (
        f"{style.keyword('HEALTHCHECK')} {OPTIONS} {style.escape}{style.newline}"
        f"{style.indent}{style.keyword('CMD')} {command} || exit 1"
    )
    anchor = next((s for s in stage.steps if s.name in ("CMD", "ENTRYPOINT")), None)
    if anchor is not None:
        edit = tx.insert_before(ctx.dockerfile, anchor.instruction, style.lines([line]))
    else:
        last = stage.steps[-1].instruction if stage.steps else stage.from_instruction
        try:
            edit = tx.insert_after(ctx.dockerfile, last, style.lines([line]))
        except NotApplicable as exc:
            return None, str(exc)
    return Fix((edit,), "unsafe", f"HEALTHCHECK calling {path} with urllib"), None


def _port(stage: Stage, port: str | None) -> str:
    if port:
        if not port.isdigit():
            raise InputError(f"port {port!r}: expected a number")
        return port
    env = stage.steps[-1].env if stage.steps else stage.env
    exposed = [w.split("/", 1)[0] for s in stage.steps if s.name == "EXPOSE" for w in s.expanded]
    if "PORT" in env:
        default = env["PORT"] if env["PORT"].isdigit() else (exposed[0] if exposed else "")
        return "${PORT:-" + default + "}" if default.isdigit() else "${PORT}"
    if exposed and exposed[0].isdigit():
        return exposed[0]
    raise NotApplicable("the port is unknown: no EXPOSE and no PORT variable (name one)")


def _inherited(ctx: LintContext, stage: Stage, name: str) -> bool:
    st: Stage | None = stage
    while st is not None:
        if st.last(name) is not None:
            return True
        st = ctx.model.stages[st.base_stage] if st.base_stage is not None else None
    return False


def _is_python(ctx: LintContext, stage: Stage) -> bool:
    st: Stage | None = stage
    while st is not None:
        if st.image is not None and st.image.base_name == "python":
            return True
        if any("/opt/venv" in s.instruction.source for s in st.steps):
            return True
        st = ctx.model.stages[st.base_stage] if st.base_stage is not None else None
    return False
