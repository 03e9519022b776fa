"""Falcon resources for the bookmarks API."""

from __future__ import annotations

import platform

import falcon


class Health:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok", "app": "poetry-app", "python": platform.python_version()}


class Bookmarks:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.items

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.get_media(default_when_empty={})
        url = body.get("url")
        if not url:
            raise falcon.HTTPBadRequest(title="url is required")
        self.items.append({"url": url})
        resp.status = falcon.HTTP_201
        resp.media = {"url": url}


def create_app() -> falcon.App:
    app = falcon.App()
    app.add_route("/health", Health())
    app.add_route("/bookmarks", Bookmarks())
    return app
