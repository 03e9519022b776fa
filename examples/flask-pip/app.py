"""A small notes service: Flask app served by gunicorn."""

from __future__ import annotations

import os
import platform

from flask import Flask, jsonify, request

app = Flask(__name__)
NOTES: list[dict[str, str]] = []


@app.get("/health")
def health():
    return jsonify(status="ok", app="flask-pip", python=platform.python_version())


@app.get("/notes")
def list_notes():
    return jsonify(NOTES)


@app.post("/notes")
def add_note():
    text = (request.get_json(silent=True) or {}).get("text", "")
    if not text:
        return jsonify(error="text is required"), 400
    note = {"id": str(len(NOTES) + 1), "text": text}
    NOTES.append(note)
    return jsonify(note), 201


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
