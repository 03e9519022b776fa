"""Starlette routes for the URL shortener."""

from __future__ import annotations

import hashlib
import platform

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

LINKS: dict[str, str] = {}


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "app": "uv-app", "python": platform.python_version()})


async def shorten(request: Request) -> Response:
    body = await request.json()
    url = str(body.get("url", ""))
    if not url.startswith(("http://", "https://")):
        return JSONResponse({"error": "an http(s) url is required"}, status_code=400)
    code = hashlib.sha256(url.encode()).hexdigest()[:8]
    LINKS[code] = url
    return JSONResponse({"code": code}, status_code=201)


async def follow(request: Request) -> Response:
    url = LINKS.get(request.path_params["code"])
    if url is None:
        return JSONResponse({"error": "unknown code"}, status_code=404)
    return RedirectResponse(url)


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/links", shorten, methods=["POST"]),
        Route("/{code}", follow),
    ]
)
