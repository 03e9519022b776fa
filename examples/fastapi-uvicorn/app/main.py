"""An inventory API: FastAPI app served by uvicorn."""

from __future__ import annotations

import platform

from fastapi import FastAPI, HTTPException

from app.models import Item

app = FastAPI(title="inventory")
ITEMS: dict[str, Item] = {}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "app": "fastapi-uvicorn", "python": platform.python_version()}


@app.put("/items/{name}")
def put_item(name: str, item: Item) -> Item:
    if item.name != name:
        raise HTTPException(status_code=400, detail="name in path and body differ")
    ITEMS[name] = item
    return item


@app.get("/items/{name}")
def get_item(name: str) -> Item:
    if name not in ITEMS:
        raise HTTPException(status_code=404, detail="no such item")
    return ITEMS[name]
