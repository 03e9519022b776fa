"""Seeded random build contexts and .dockerignore files, for differential tests against BuildKit.

Each tree mixes nested directories, empty directories, dotfiles, names with spaces and with
characters that are special in patterns, symlinks (to files, to directories, dangling) and a
fifo; each ignore file mixes plain names, paths, `*`, `?`, `**`, character classes, exceptions
that reach into excluded directories, comments, blank lines, stray spaces, leading `/` and `./`.
The same seed always gives the same tree, so a failure reproduces from its case number.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

NAMES = [
    "src",
    "app",
    "docs",
    "build",
    "node_modules",
    "lib",
    "test",
    "tests",
    "data",
    "cache",
    ".git",
    ".venv",
    ".hidden",
    "__pycache__",
    "a",
    "b",
    "ab",
    "abc",
    "x y",
    "with space",
    "dir.d",
    "v1.2",
    "name[1]",
    "q?mark",
    "star*",
    "Upper",
    "é",
]
FILES = [
    "main.py",
    "util.py",
    "mod.pyc",
    "README.md",
    "notes.txt",
    "a.txt",
    "b.txt",
    "ab.txt",
    ".env",
    ".gitkeep",
    "file",
    "x",
    "data.json",
    "app.log",
    "my file.txt",
    "weird*name",
    "q?",
    "[x].md",
    "back\\slash",
    "café.py",
    "Makefile",
    "id_rsa",
]
EXTS = ["py", "pyc", "txt", "md", "json", "log"]


@dataclass
class Tree:
    """A generated context: its paths (relative, with a trailing / for dirs) and ignore lines."""

    seed: int
    dirs: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    fifos: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)

    def write(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        for d in self.dirs:
            (root / d).mkdir(parents=True, exist_ok=True)
        rng = random.Random(self.seed * 7 + 1)
        for f in self.files:
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            (root / f).write_bytes(os.urandom(rng.randint(0, 64)))
        for link, target in self.links.items():
            (root / link).parent.mkdir(parents=True, exist_ok=True)
            (root / link).symlink_to(target)
        for fifo in self.fifos:
            os.mkfifo(root / fifo)
        if self.ignore:
            (root / ".dockerignore").write_text("".join(line + "\n" for line in self.ignore))


def _pick_dir_name(rng: random.Random) -> str:
    return rng.choice(NAMES)


def generate(seed: int) -> Tree:
    rng = random.Random(seed)
    tree = Tree(seed)
    taken: set[str] = set()

    def add_dir(prefix: str, depth: int) -> None:
        for _ in range(rng.randint(0, 4 if depth < 3 else 2)):
            name = _pick_dir_name(rng)
            path = prefix + name
            if path in taken:
                continue
            taken.add(path)
            tree.dirs.append(path)
            if depth < 4 and rng.random() < 0.7:
                add_dir(path + "/", depth + 1)
        for _ in range(rng.randint(0, 5)):
            name = rng.choice(FILES)
            if rng.random() < 0.3:
                name = (
                    f"{rng.choice(['f', 'g', 'test_', 'x'])}{rng.randint(0, 9)}.{rng.choice(EXTS)}"
                )
            path = prefix + name
            if path in taken:
                continue
            taken.add(path)
            tree.files.append(path)

    add_dir("", 0)
    parents = [""] + [d + "/" for d in tree.dirs]
    if rng.random() < 0.6 and tree.files:
        link = rng.choice(parents) + "link" + str(rng.randint(0, 9))
        if link not in taken:
            taken.add(link)
            start = str(Path(link).parent)
            tree.links[link] = os.path.relpath(rng.choice(tree.files), start)
    if rng.random() < 0.3 and tree.dirs:
        link = rng.choice(parents) + "dirlink"
        if link not in taken:
            taken.add(link)
            tree.links[link] = "/" + rng.choice(tree.dirs)
    if rng.random() < 0.3:
        link = rng.choice(parents) + "dangling"
        if link not in taken:
            taken.add(link)
            tree.links[link] = "does/not/exist"
    if rng.random() < 0.15:
        fifo = rng.choice(parents) + "pipe"
        if fifo not in taken:
            taken.add(fifo)
            tree.fifos.append(fifo)
    tree.ignore = _ignore_lines(rng, tree)
    return tree


def _escape(name: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in name)


def _ignore_lines(rng: random.Random, tree: Tree) -> list[str]:
    paths = tree.dirs + tree.files + list(tree.links)
    lines: list[str] = []
    for _ in range(rng.randint(0, 8)):
        kind = rng.randrange(24)
        path = rng.choice(paths) if paths else "x"
        base = path.rsplit("/", 1)[-1]
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        ext = rng.choice(EXTS)
        if kind == 0:
            line = _escape(path)
        elif kind == 1:
            line = "**/" + _escape(base)
        elif kind == 2:
            line = f"*.{ext}"
        elif kind == 3:
            line = f"**/*.{ext}"
        elif kind == 4:
            line = (_escape(parent) + "/*") if parent else "*"
        elif kind == 5:
            line = "!" + _escape(path)
        elif kind == 6:
            line = f"!**/*.{ext}"
        elif kind == 7:
            line = "[a-c]*"
        elif kind == 8:
            line = "?" + _escape(base[1:]) if len(base) > 1 else "?"
        elif kind == 9:
            line = (_escape(parent) + "/**") if parent else "**"
        elif kind == 10:
            line = "/" + _escape(path)
        elif kind == 11:
            line = "./" + _escape(path) + "/"
        elif kind == 12:
            line = "# comment " + path
        elif kind == 13:
            line = "  " + _escape(base) + "   "
        elif kind == 14:
            line = "!" + (_escape(parent) + "/" if parent else "") + "[!a-m]*"
        elif kind == 15:
            line = "**/" + _escape(base) + "/**"
        elif kind == 16:
            line = ""
        elif kind == 17 and parent:
            # Exclude a directory, then re-include something inside it: the walker must look
            # inside an excluded directory when an exception could re-include something.
            lines.append(_escape(parent))
            line = "!" + _escape(path)
        elif kind == 18 and parent:
            lines.append(_escape(parent) + "/**")
            line = f"!{_escape(parent)}/**/*.{ext}"
        elif kind == 19:
            lines.append("*")
            line = "!" + _escape(path.split("/")[0])
        elif kind == 20:
            line = "**" + _escape(base[-2:])  # suffix match: also matches "xab" for "**ab"
        elif kind == 21:
            line = "[^a-m]*"  # a negated class (which, in Docker, also matches "/")
        elif kind == 22:
            line = _escape(path.split("/")[0]) + "*/" + _escape(base[:1]) + "*"
        else:
            line = rng.choice(["**", "!**", "*/", "!*/*", "a**", "**/", "./**/x"])
        lines.append(line)
    return lines
