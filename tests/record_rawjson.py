"""Record real `docker buildx build --progress=rawjson` streams for the driver's unit tests.

    .venv/bin/python tests/record_rawjson.py [/usr/bin/docker]

Writes `tests/fixtures/rawjson/<case>.rawjson` (the stream exactly as buildx wrote it on stderr)
and `<case>.meta.json` (exit status, the Dockerfile it built). Contexts live in
`tests/fixtures/rawjson/contexts/` or are example apps. Images are built untagged and removed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "rawjson"
CONTEXTS = FIXTURES / "contexts"
EXAMPLES = HERE.parent / "examples"


def record(docker: str, name: str, context: Path, *extra: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        iid = Path(tmp) / "iid"
        cmd = [docker, "buildx", "build", "--progress=rawjson", "--network", "host"]
        cmd += ["--iidfile", str(iid), *extra, str(context)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        (FIXTURES / f"{name}.rawjson").write_text(proc.stderr)
        dockerfile = context / "Dockerfile"
        if dockerfile.is_relative_to(HERE.parent):
            label = str(dockerfile.relative_to(HERE.parent))
        else:  # a temporary copy of an example
            label = f"examples/{context.name}/Dockerfile"
        meta = {
            "returncode": proc.returncode,
            "dockerfile": label,
            "args": list(extra),
        }
        (FIXTURES / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        if iid.is_file():
            subprocess.run([docker, "image", "rm", iid.read_text().strip()], capture_output=True)
    print(f"{name}: exit {proc.returncode}, {len(proc.stderr)} bytes")


def main() -> None:
    docker = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/docker"
    FIXTURES.mkdir(parents=True, exist_ok=True)
    record(docker, "multistage-cold", CONTEXTS / "multistage", "--no-cache")
    record(docker, "multistage-warm", CONTEXTS / "multistage")
    record(docker, "failing", CONTEXTS / "failing")
    record(docker, "syntax-error", CONTEXTS / "syntax-error")
    record(docker, "missing-file", CONTEXTS / "missing-file")
    # A naive example: a cold build, then a rebuild after a source edit on a copy of the app.
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "flask-pip"
        shutil.copytree(EXAMPLES / "flask-pip", app)
        record(docker, "flask-pip-cold", app, "--no-cache")
        with (app / "app.py").open("a") as fh:
            # unique, so that no earlier recording left this exact content in the cache
            fh.write(f"\n# edited {uuid.uuid4()}\n")
        record(docker, "flask-pip-code-change", app)


if __name__ == "__main__":
    main()
