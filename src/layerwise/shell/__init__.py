"""Understanding RUN scripts: the commands they run and what package managers do.

    from layerwise.shell import analyze, analyze_run
    script = analyze("apt-get update && apt-get install -y --no-install-recommends libpq5")
    script.commands[1].argv          # ['apt-get', 'install', '-y', ...]
    op = script.package_ops[1]       # PackageOp(manager='apt-get', action='install', ...)
    script.facts.apt_lists_removed   # False

`analyze_run(instruction, shell=..., env=...)` does the same for a Dockerfile RUN (shell form,
heredocs, exec form) and maps every offset back into the Dockerfile.
"""

from __future__ import annotations

from layerwise.shell.facts import DownloadPipe, Facts, PathOp, RemovedPath, UserOp, world_writable
from layerwise.shell.packages import Package, PackageOp, package_ops, parse_command
from layerwise.shell.run import RunScript, analyze_run, analyze_step
from layerwise.shell.syntax import BashFeature, Command, Redirect, Script, ShellWord, analyze

__all__ = [
    "BashFeature",
    "Command",
    "DownloadPipe",
    "Facts",
    "Package",
    "PackageOp",
    "PathOp",
    "Redirect",
    "RemovedPath",
    "RunScript",
    "Script",
    "ShellWord",
    "UserOp",
    "analyze",
    "analyze_run",
    "analyze_step",
    "package_ops",
    "parse_command",
    "world_writable",
]
