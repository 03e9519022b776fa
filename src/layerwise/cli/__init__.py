"""The `layerwise` command line: a thin layer over the library.

Each command lives in its own module and is imported only when it runs, so `layerwise lint`
in a pre-commit hook does not pay for the build driver or the image reader.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from layerwise import __version__
from layerwise.errors import LayerwiseError

# command name -> "module:function" (relative to layerwise.cli); one line per command.
COMMANDS: dict[str, str] = {
    "bench": "bench:bench_command",
    "cache": "cache:cache_command",
    "context": "context:context_command",
    "deps": "deps:deps_command",
    "fix": "fix:fix_command",
    "image": "image:image_command",
    "init": "init:init_command",
    "lint": "lint:lint_command",
    "optimize": "optimize:optimize_command",
    "parse": "parse:parse_command",
    "rule": "rules:rule_command",
    "rules": "rules:rules_command",
    "services": "services:services_command",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = importlib.import_module(f"layerwise.cli.{module_name}")
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="layerwise")
def cli() -> None:
    """Make container builds fast and images small, and prove it with real builds."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns user-facing errors into one line and exit status 2."""
    try:
        code = cli.main(args=argv, prog_name="layerwise", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except LayerwiseError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error.
        sys.stderr.close()
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("LAYERWISE_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in layerwise; rerun with LAYERWISE_DEBUG=1 for a traceback)",
            err=True,
        )
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)


def exit_with(code: int) -> Any:
    """Leave the command with an exit code (findings found, gate failed, ...)."""
    raise click.exceptions.Exit(code)
