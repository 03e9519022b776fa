"""Declared dependencies from every manifest kind, with where each was written."""

from __future__ import annotations

from pathlib import Path

import pytest
from deps_support import write

from layerwise.deps.manifests import (
    logical_lines,
    parse_requirement,
    read_pipfile,
    read_pyproject,
    read_requirements,
)
from layerwise.errors import InputError


def test_logical_lines_drop_comments_and_join_continuations() -> None:
    text = "# top\nflask==3.0 # web\nrequests \\\n  >=2.31\n\n   \npandas#not a comment\n"
    assert list(logical_lines(text)) == [
        (2, "flask==3.0"),
        (3, "requests   >=2.31"),
        (7, "pandas#not a comment"),
    ]


@pytest.mark.parametrize(
    ("line", "name", "spec", "extras", "url"),
    [
        ("Flask==3.0.3", "Flask", "==3.0.3", (), None),
        ("uvicorn[standard]>=0.30 ; python_version >= '3.8'", "uvicorn", ">=0.30", ("standard",),
         None),
        ("pkg @ https://example.invalid/pkg-1.0.tar.gz", "pkg", "", (),
         "https://example.invalid/pkg-1.0.tar.gz"),
        ("git+https://example.invalid/org/lib.git@v1#egg=my-lib", "my-lib", "", (),
         "git+https://example.invalid/org/lib.git@v1#egg=my-lib"),
        ("./wheels/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl", "numpy", "", (),
         "./wheels/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl"),
        ("requests==2.32.3 --hash=sha256:abc --hash=sha256:def", "requests", "==2.32.3", (),
         None),
    ],
)  # fmt: skip
def test_parse_requirement(
    line: str, name: str, spec: str, extras: tuple[str, ...], url: str | None
) -> None:
    d = parse_requirement(line, "r.txt", 1, "main")
    assert d is not None
    assert (d.name, d.specifier, d.extras, d.url) == (name, spec, extras, url)


def test_marker_is_kept_and_evaluated() -> None:
    d = parse_requirement("tomli ; python_version < '3.11'", "r.txt", 1, "main")
    assert d is not None and d.marker == 'python_version < "3.11"'
    assert not d.marker_applies({"python_version": "3.11"})
    assert d.marker_applies({"python_version": "3.10"})


def test_local_directory_names_nothing() -> None:
    assert parse_requirement(".", "r.txt", 1, "main") is None
    assert parse_requirement("-e ./lib", "r.txt", 1, "main") is None


def test_requirements_chain_follows_r_and_c(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "-r reqs/base.txt\n--requirement=reqs/web.txt\n-c constraints.txt\n"
            "--index-url https://example.invalid/simple\nrich\n",
            "reqs/base.txt": "packaging==24.1\n-r ../requirements.txt\n",  # a cycle back
            "reqs/web.txt": "flask\n-e git+https://example.invalid/x.git#egg=xlib\n",
            "constraints.txt": "urllib3<3\n-r more-constraints.txt\n",
            "more-constraints.txt": "idna<4\n",
        },
    )
    chain = read_requirements(tmp_path, "requirements.txt")
    assert [f.rel for f in chain.files] == ["requirements.txt", "reqs/base.txt", "reqs/web.txt"]
    assert [f.rel for f in chain.constraint_files] == ["constraints.txt", "more-constraints.txt"]
    names = [(d.name, d.source, d.line) for d in chain.requirements]
    assert names == [
        ("rich", "requirements.txt", 5),
        ("packaging", "reqs/base.txt", 1),
        ("flask", "reqs/web.txt", 1),
        ("xlib", "reqs/web.txt", 2),
    ]
    assert chain.requirements[3].editable
    assert chain.errors == []


def test_missing_include_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "-r nope.txt\nflask\n"})
    chain = read_requirements(tmp_path, "requirements.txt")
    assert chain.errors == ["nope.txt: no such requirements file"]
    assert [d.name for d in chain.requirements] == ["flask"]


PEP621 = """\
[project]
name = "svc"
dependencies = [
    "fastapi>=0.110",
    "uvicorn[standard]",
]

[project.optional-dependencies]
reports = ["pandas==2.2.2"]

[project.scripts]
svc = "svc.cli:main"
serve = "waitress:serve"

[dependency-groups]
dev = ["pytest>=8"]
lint = ["ruff"]

[tool.uv]
dev-dependencies = ["mypy"]
"""


def test_pep621_groups_lines_and_entry_points(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PEP621})
    pm = read_pyproject(tmp_path, tmp_path / "pyproject.toml")
    got = [(d.name, d.group, d.line, d.optional) for d in pm.dependencies]
    assert got == [
        ("fastapi", "main", 4, False),
        ("uvicorn", "main", 5, False),
        ("pandas", "reports", 9, True),
        ("pytest", "dev", 16, False),
        ("ruff", "lint", 17, True),
        ("mypy", "dev", 20, False),
    ]
    assert ("console_scripts", "serve", "waitress:serve") in pm.entry_points
    assert pm.name == "svc" and "uv" in pm.tools
    assert pm.default_groups("uv") == {"main", "dev"}
    assert pm.dependencies[2].declared_in == "pyproject.toml:9 [reports]"


POETRY = """\
[tool.poetry]
name = "poetry-svc"
version = "1.0.0"

[tool.poetry.dependencies]
python = "^3.11"
Flask = "3.0.3"
requests = {version = "^2.32", extras = ["socks"]}
boto3 = {version = "*", optional = true}

[tool.poetry.dev-dependencies]
black = "^24"

[tool.poetry.group.test.dependencies]
pytest = "^8"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
mkdocs = "*"

[tool.poetry.scripts]
svc = "poetry_svc.main:run"
"""


def test_poetry_groups(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": POETRY})
    pm = read_pyproject(tmp_path, tmp_path / "pyproject.toml")
    assert pm.kind == "poetry"
    got = [(d.name, d.specifier, d.extras, d.group, d.line) for d in pm.dependencies]
    assert got == [
        ("Flask", "==3.0.3", (), "main", 7),
        ("requests", "^2.32", ("socks",), "main", 8),
        ("boto3", "", (), "main", 9),
        ("black", "^24", (), "dev", 12),
        ("pytest", "^8", (), "test", 15),
        ("mkdocs", "", (), "docs", 21),
    ]
    assert pm.dependencies[2].optional
    assert pm.default_groups("poetry") == {"main", "dev", "test"}
    assert pm.entry_points == [("console_scripts", "svc", "poetry_svc.main:run")]


def test_pipfile(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Pipfile": '[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n\n'
            '[packages]\ndjango = "==4.2.16"\ncelery = {version = ">=5", extras = ["redis"]}\n\n'
            '[dev-packages]\npytest = "*"\n'
        },
    )
    pm = read_pipfile(tmp_path, tmp_path / "Pipfile")
    got = [(d.name, d.specifier, d.extras, d.group, d.line) for d in pm.dependencies]
    assert got == [
        ("django", "==4.2.16", (), "main", 6),
        ("celery", ">=5", ("redis",), "main", 7),
        ("pytest", "", (), "dev", 10),
    ]


def test_invalid_toml_is_one_line_with_location(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[project]\ndependencies = [\n"})
    with pytest.raises(InputError) as exc:
        read_pyproject(tmp_path, tmp_path / "pyproject.toml")
    text = str(exc.value)
    assert text.startswith("pyproject.toml:") and "invalid TOML" in text and "\n" not in text
