"""A feature-flag service: Flask only, although requirements.txt says otherwise."""

from __future__ import annotations

import os
import platform

from flask import Flask, abort, jsonify

app = Flask(__name__)
FLAGS = {"new-checkout": True, "dark-mode": False}


@app.get("/health")
def health():
    return jsonify(status="ok", app="unused-deps", python=platform.python_version())


@app.get("/flags/<name>")
def flag(name: str):
    if name not in FLAGS:
        abort(404)
    return jsonify(name=name, enabled=FLAGS[name])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
