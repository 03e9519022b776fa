"""`greeter-server`: a tiny HTTP API on the standard library's server."""

from __future__ import annotations

import json
import platform
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import click

from greeter import __version__, greet


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/health":
            self._send(200, {"status": "ok", "app": "pip-package", "version": __version__,
                             "python": platform.python_version()})
        elif url.path == "/greet":
            name = parse_qs(url.query).get("name", [""])[0]
            self._send(200, {"greeting": greet(name)})
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", envvar="PORT", default=8000, show_default=True, type=int)
@click.option("--check", is_flag=True, help="Print the version and exit (a smoke test).")
def main(host: str, port: int, check: bool) -> None:
    """Serve the greeter API."""
    if check:
        click.echo(f"greeter {__version__} ok")
        return
    server = ThreadingHTTPServer((host, port), Handler)
    click.echo(f"greeter {__version__} listening on {host}:{port}")
    server.serve_forever()
