#!/bin/sh
# Local development server with reload.
exec flask --app app run --debug --port "${PORT:-8000}"
