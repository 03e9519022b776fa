"""Greets people over HTTP."""

__version__ = "1.4.0"


def greet(name: str) -> str:
    name = name.strip() or "world"
    return f"Hello, {name}!"
