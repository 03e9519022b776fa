"""Serve the API with waitress on $PORT."""

import os

from waitress import serve

from poetry_app.api import create_app

if __name__ == "__main__":
    serve(create_app(), host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
