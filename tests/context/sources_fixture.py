"""A small build context with the cases that make COPY source resolution tricky."""

from __future__ import annotations

from pathlib import Path

FILES = {
    "a.txt": "a",
    "b.md": "b",
    "azb": "z",
    "a/b": "slash",
    "src/main.py": "print()",
    "src/util.py": "x",
    "src/data.json": "{}",
    "src/pkg/mod.py": "y",
    "src/pkg/__pycache__/mod.cpython-311.pyc": "junk",
    "x.txt/inner": "a dir named like a file",
    "dir with space/f g.txt": "s",
    "d/e/f": "deep",
    "ignored/secret.txt": "no",
    "partly/keep.txt": "k",
    "partly/drop.log": "d",
    "[x].md": "bracket",
}
LINKS = {
    "dlink": "d",
    "abslink": "/d/e",
    "flink": "a.txt",
    "src/up": "../b.md",
    "dangling": "nowhere",
    "to-ignored": "ignored/secret.txt",
}
DOCKERIGNORE = "ignored\npartly/*.log\n**/__pycache__\n"


def write_fixture(root: Path) -> Path:
    for name, content in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    for name, target in LINKS.items():
        (root / name).symlink_to(target)
    (root / "empty").mkdir()
    (root / ".dockerignore").write_text(DOCKERIGNORE)
    return root


# COPY sources that BuildKit accepts; each list is one COPY instruction.
OK_SOURCES: list[list[str]] = [
    ["a.txt"],
    ["*.txt"],
    ["src/"],
    ["src"],
    ["src/*.py"],
    ["*/*.py"],
    ["src/**/*.py"],
    ["s?c/m*.py"],
    ["[a-c].txt"],
    ["dlink"],
    ["abslink"],
    ["*link"],
    ["flink"],
    ["d/../a.txt"],
    ["../a.txt"],
    ["a[^x]b"],
    ["nomatch*"],
    ["a.txt", "src/", "b.md"],
    ["x.txt"],
    ["dir with space/"],
    ["partly"],
    ["empty"],
    ["[[]x].md"],
    ["src/up"],
    ["a.txt/*"],
]

# COPY sources on which BuildKit fails the build.
FAILING_SOURCES: list[str] = ["missing.txt", "ignored/secret.txt", "nodir/*.txt", "dangling"]
