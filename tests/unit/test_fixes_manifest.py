"""The manifest-first split: which files are copied first, what moves, and when it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixes_support import applied, context, make_context
from layerwise.fixes.manifest import (
    DEPS_FILE,
    is_dependency_install,
    manifest_first_fix,
    split_manifest_first,
)

FLASK = {
    "requirements.txt": "-r base.txt\ngunicorn==22.0.0\n",
    "base.txt": "Flask==3.0.3\n",
    "app.py": "print('hi')\n",
}


def fixed(text: str, files: dict[str, str] | None, tmp_path: Path) -> str:
    ctx_dir = make_context(tmp_path / "ctx", files) if files is not None else None
    result = split_manifest_first(context(text, ctx_dir))
    assert result.fix is not None, result.reason
    out = applied(text, result.fix)
    again = split_manifest_first(context(out, ctx_dir))
    assert again.fix is None, f"not idempotent: {out}"
    return out


def reason(text: str, files: dict[str, str] | None, tmp_path: Path) -> str:
    ctx_dir = make_context(tmp_path / "ctx", files) if files is not None else None
    result = split_manifest_first(context(text, ctx_dir))
    assert result.fix is None, applied(text, result.fix)
    assert result.reason
    return result.reason


def test_pip_requirements_with_nested_include(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\n\nCOPY . .\n\n"
        "RUN pip install -r requirements.txt\n\nCMD python app.py\n"
    )
    assert fixed(text, FLASK, tmp_path) == (
        "FROM python:3.11-slim\nWORKDIR /app\n\nCOPY requirements.txt base.txt ./\n\n"
        "RUN pip install -r requirements.txt\nCOPY . .\n\nCMD python app.py\n"
    )


def test_without_context_copies_the_named_files_and_says_so(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    result = split_manifest_first(context(text))
    assert result.fix is not None
    assert "unknown without the context" in result.fix.description
    assert applied(text, result.fix) == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt ./\n"
        "RUN pip install -r requirements.txt\nCOPY . .\n"
    )


def test_nested_includes_in_subdirectories_and_constraints(tmp_path: Path) -> None:
    files = {
        "requirements/prod.txt": "-r base.txt\n-c ../constraints.txt\ngunicorn\n",
        "requirements/base.txt": "flask\n",
        "constraints.txt": "flask==3.0.3\n",
        "app.py": "",
    }
    text = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n"
    out = fixed(text, files, tmp_path)
    assert out == (
        "FROM python:3.11\nWORKDIR /app\nCOPY constraints.txt ./\n"
        "COPY requirements/prod.txt requirements/base.txt ./requirements/\n"
        "RUN pip install -r requirements/prod.txt\nCOPY . .\n"
    )


def test_copy_to_absolute_dir_then_workdir(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nCOPY . /app\nWORKDIR /app\n"
        'RUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    assert fixed(text, FLASK, tmp_path) == (
        "FROM python:3.11-slim\nCOPY requirements.txt base.txt /app/\nWORKDIR /app\n"
        'RUN pip install -r requirements.txt\nCOPY . /app\nCMD ["python", "app.py"]\n'
    )


def test_relative_destination_is_written_out_when_the_workdir_changes(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /src\nCOPY . .\nWORKDIR /src/sub\n"
        "RUN pip install -r ../requirements.txt\n"
    )
    out = fixed(text, FLASK, tmp_path)
    assert out == (
        "FROM python:3.11-slim\nWORKDIR /src\nCOPY requirements.txt base.txt ./\nWORKDIR /src/sub\n"
        "RUN pip install -r ../requirements.txt\nCOPY . /src/\n"
    )


def test_comments_move_with_the_copy_and_stay_with_the_install(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\n# the application\nCOPY . .\n"
        "# dependencies\nRUN pip install -r requirements.txt\nENV X=1\n"
    )
    assert fixed(text, FLASK, tmp_path) == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt base.txt ./\n"
        "# dependencies\nRUN pip install -r requirements.txt\n# the application\nCOPY . .\n"
        "ENV X=1\n"
    )


def test_crlf_lowercase_and_flags_are_kept(tmp_path: Path) -> None:
    text = (
        "from python:3.11-slim\r\nworkdir /app\r\ncopy --chown=app:app --chmod=644 . .\r\n"
        "run pip install -r requirements.txt\r\n"
    )
    assert fixed(text, FLASK, tmp_path) == (
        "from python:3.11-slim\r\nworkdir /app\r\n"
        "copy --chown=app:app --chmod=644 requirements.txt base.txt ./\r\n"
        "run pip install -r requirements.txt\r\ncopy --chown=app:app --chmod=644 . .\r\n"
    )


def test_install_at_end_of_file_without_newline(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt"
    out = fixed(text, FLASK, tmp_path)
    # the file still ends without a line ending
    assert out.endswith("RUN pip install -r requirements.txt\nCOPY . .")


def test_steps_in_between_that_do_not_read_the_source_move(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nENV PIP_DISABLE_PIP_VERSION_CHECK=1\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5\n"
        "RUN mkdir -p /app/logs && useradd -m app\nRUN pip install --upgrade pip\n"
        "RUN pip install -r requirements.txt\nRUN python manage.py collectstatic\n"
    )
    out = fixed(text, FLASK, tmp_path)
    assert out.index("RUN pip install -r requirements.txt") < out.index("COPY . .")
    assert out.index("COPY . .") < out.index("RUN python manage.py collectstatic")
    assert out.startswith("FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt base.txt")


@pytest.mark.parametrize(
    ("between", "why"),
    [
        ("RUN python manage.py collectstatic", "may read the source"),
        ("RUN cd /app && ls", "cd"),
        ("RUN rm -rf tests", "changes tests"),
        ("RUN chown -R app /app", "changes /app"),
        ("RUN chmod -R 777 .", "changes ."),
        ("RUN echo x > settings.py", "writes settings.py"),
        ("COPY settings.prod.py /app/settings.py", "writes into /app"),
        ("VOLUME /data", "VOLUME"),
        ("RUN --mount=type=bind,target=/src ls /src", "bind-mounts the build context"),
        ("RUN sh build.sh", "may read the source"),
    ],
)
def test_a_step_that_needs_the_source_before_the_install_stops_the_split(
    tmp_path: Path, between: str, why: str
) -> None:
    text = (
        f"FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n{between}\n"
        "RUN pip install -r requirements.txt\n"
    )
    assert why in reason(text, FLASK, tmp_path)


def test_pip_install_of_the_project_installs_dependencies_first(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
            '[project]\nname = "greeter"\nversion = "1"\ndependencies = ["click==8.1.7"]\n'
        ),
        "src/greeter/__init__.py": "",
    }
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
    out = fixed(text, files, tmp_path)
    assert out == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml ./\n"
        'RUN python3 -c \'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))'
        '["project"]; print("\\n".join(p.get("dependencies", [])))\''
        f" > {DEPS_FILE} \\\n"
        f"    && pip install --no-cache-dir -r {DEPS_FILE} \\\n    && rm {DEPS_FILE}\n"
        "COPY . .\nRUN pip install --no-cache-dir --no-deps .\n"
    )
    # the rerun installs the project from its source: not a dependency install to move again
    ctx = context(out, tmp_path / "ctx")
    last = ctx.model.stages[0].steps[-1]
    assert not is_dependency_install(ctx, last)


def test_editable_install_with_extras_and_an_old_python(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            '[project]\nname = "x"\nversion = "1"\ndependencies = ["a"]\n'
            '[project.optional-dependencies]\nweb = ["b"]\n'
        ),
    }
    text = (
        "FROM python:3.9\nWORKDIR /w\nCOPY . .\n"
        "RUN python -m pip install --index-url https://pypi.org/simple -e .[web]\n"
    )
    out = fixed(text, files, tmp_path)
    assert 'importlib.import_module("tomllib" if sys.version_info >= (3, 11)' in out
    assert 'for e in ("web",)' in out
    assert f"python -m pip install --index-url https://pypi.org/simple -r {DEPS_FILE}" in out
    assert out.endswith(
        "COPY . .\n"
        "RUN python -m pip install --index-url https://pypi.org/simple --no-deps -e .[web]\n"
    )


def test_project_with_dependencies_from_a_requirements_file(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            '[project]\nname = "x"\nversion = "1"\ndynamic = ["dependencies"]\n'
            '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.in"]}\n'
        ),
        "requirements.in": "-r common.in\nflask\n",
        "common.in": "click\n",
    }
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
    assert fixed(text, files, tmp_path) == (
        "FROM python:3.12-slim\nWORKDIR /app\n"
        "COPY pyproject.toml requirements.in common.in ./\n"
        "RUN pip install -r requirements.in\nCOPY . .\nRUN pip install --no-deps .\n"
    )


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"setup.py": "from setuptools import setup\nsetup()\n"}, "setup.py"),
        ({"pyproject.toml": "[tool.poetry]\nname='x'\n"}, "no [project] table"),
        (
            {"pyproject.toml": '[project]\nname="x"\ndynamic=["dependencies"]\n'},
            "dynamic",
        ),
        ({"pyproject.toml": '[project]\nname="x"\ndependencies=["x[extra]"]\n'}, "itself"),
        ({"pyproject.toml": "[project\n"}, "not valid TOML"),
        ({"README": ""}, "no pyproject.toml"),
    ],
)
def test_project_installs_that_cannot_be_split(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
    assert why in reason(text, files, tmp_path)


def test_project_install_without_the_context_is_not_guessed(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
    assert "pyproject.toml in the build context" in reason(text, None, tmp_path)


def test_requirements_that_install_the_project_are_not_split(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask\n-e .\n", "pyproject.toml": "[project]\nname='x'\n"}
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    assert "local path" in reason(text, files, tmp_path)


def test_missing_requirements_file_is_reported(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    assert "requirements.txt is not in the build context" in reason(text, {"a.py": ""}, tmp_path)


UV_PROJECT = {
    "pyproject.toml": (
        '[project]\nname = "svc"\nversion = "1"\ndependencies = ["starlette"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    ),
    "uv.lock": "version = 1\n",
    ".python-version": "3.11\n",
    "svc/__init__.py": "",
}


def test_uv_sync_of_a_package_installs_the_project_after_the_source(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install uv==0.4.30\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev\n"
    )
    assert fixed(text, UV_PROJECT, tmp_path) == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock .python-version ./\n"
        "RUN pip install uv==0.4.30\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --no-install-project --frozen "
        "--no-dev\nCOPY . .\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev\n"
    )


def test_uv_sync_of_a_virtual_project_needs_no_second_sync(tmp_path: Path) -> None:
    files = dict(UV_PROJECT)
    files["pyproject.toml"] = '[project]\nname = "svc"\nversion = "1"\n[tool.uv]\npackage = false\n'
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n"
    assert fixed(text, files, tmp_path) == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock .python-version ./\n"
        "RUN uv sync --locked\nCOPY . .\n"
    )


def test_uv_refusals(tmp_path: Path) -> None:
    text = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\n"
    files = dict(UV_PROJECT)
    files[".venv/bin/python"] = ""
    assert ".venv" in reason(text, files, tmp_path / "a")
    files = dict(UV_PROJECT)
    files["pyproject.toml"] += '[tool.uv.workspace]\nmembers = ["libs/*"]\n'
    assert "workspace" in reason(text, files, tmp_path / "b")
    files = dict(UV_PROJECT)
    del files["uv.lock"]
    assert "uv.lock is not in the build context" in reason(text, files, tmp_path / "c")


def test_poetry_install_and_export(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[tool.poetry]\nname='x'\n[build-system]\nrequires=['poetry-core']\n",
        "poetry.lock": "",
        "x/__init__.py": "",
    }
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install poetry && poetry config virtualenvs.create false "
        "&& poetry install --only main\n"
    )
    assert fixed(text, files, tmp_path / "a") == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        "RUN pip install poetry && poetry config virtualenvs.create false "
        "&& poetry install --no-root --only main\nCOPY . .\nRUN poetry install --only main\n"
    )
    export = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install poetry==1.8.3\n"
        "RUN poetry export --format requirements.txt --output requirements.txt\n"
        "RUN pip install -r requirements.txt\n"
    )
    out = fixed(export, files, tmp_path / "b")
    assert out.startswith(
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
    )
    assert out.endswith("RUN pip install -r requirements.txt\nCOPY . .\n")
    # an exported file that the context also has would be overwritten by the moved COPY
    files["requirements.txt"] = "stale\n"
    assert "requirements.txt" in reason(export, files, tmp_path / "c")


def test_poetry_package_mode_false_needs_no_second_install(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[tool.poetry]\nname='x'\npackage-mode = false\n",
        "poetry.lock": "",
    }
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN poetry install\n"
    assert fixed(text, files, tmp_path) == (
        "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
        "RUN poetry install\nCOPY . .\n"
    )


def test_pipenv(tmp_path: Path) -> None:
    files = {"Pipfile": "[packages]\nflask='*'\n", "Pipfile.lock": "{}", "app.py": ""}
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install pipenv && pipenv install --deploy --system\n"
    )
    assert fixed(text, files, tmp_path / "a") == (
        "FROM python:3.11\nWORKDIR /app\nCOPY Pipfile Pipfile.lock ./\n"
        "RUN pip install pipenv && pipenv install --deploy --system\nCOPY . .\n"
    )
    files["Pipfile"] += '[packages.app]\npath = "."\neditable = true\n'
    assert "installs the project" in reason(text, files, tmp_path / "b")


@pytest.mark.parametrize(
    ("install", "files", "expected"),
    [
        (
            "npm ci --omit=dev",
            {"package.json": "{}", "package-lock.json": "{}", ".npmrc": ""},
            "COPY package.json package-lock.json .npmrc ./\n",
        ),
        (
            "yarn install --frozen-lockfile",
            {"package.json": "{}", "yarn.lock": "", ".yarnrc.yml": "", ".yarn/releases/y.cjs": ""},
            "COPY package.json yarn.lock .yarnrc.yml ./\nCOPY .yarn ./.yarn/\n",
        ),
        (
            "pnpm install --frozen-lockfile",
            {"package.json": "{}", "pnpm-lock.yaml": ""},
            "COPY package.json pnpm-lock.yaml ./\n",
        ),
    ],
)
def test_node_installs(tmp_path: Path, install: str, files: dict[str, str], expected: str) -> None:
    files = {**files, "index.js": ""}
    text = f"FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN {install}\nRUN npm run build\n"
    out = fixed(text, files, tmp_path)
    assert out == (
        f"FROM node:20-slim\nWORKDIR /app\n{expected}RUN {install}\nCOPY . .\nRUN npm run build\n"
    )


def test_node_refusals(tmp_path: Path) -> None:
    files = {"package.json": "{}", "package-lock.json": "{}"}
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install express\n"
    assert "changes package.json" in reason(text, files, tmp_path / "a")
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    assert "node_modules" in reason(text, {**files, "node_modules/x/i.js": ""}, tmp_path / "b")
    assert "package-lock.json is not" in reason(text, {"package.json": "{}"}, tmp_path / "c")


def test_several_installs_move_together(tmp_path: Path) -> None:
    files = {**FLASK, "package.json": "{}", "package-lock.json": "{}"}
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        "RUN npm ci\nRUN npm run build\n"
    )
    assert fixed(text, files, tmp_path) == (
        "FROM python:3.11\nWORKDIR /app\n"
        "COPY requirements.txt base.txt package.json package-lock.json ./\n"
        "RUN pip install -r requirements.txt\nRUN npm ci\nCOPY . .\nRUN npm run build\n"
    )


def test_manifest_already_copied_only_the_broad_copy_moves(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt base.txt ./\nCOPY . .\n"
        "RUN pip install -r requirements.txt\n"
    )
    assert fixed(text, FLASK, tmp_path) == (
        "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt base.txt ./\n"
        "RUN pip install -r requirements.txt\nCOPY . .\n"
    )


def test_source_subdirectory_and_add(tmp_path: Path) -> None:
    files = {"src/requirements.txt": "flask\n", "src/app.py": ""}
    text = "FROM python:3.11\nADD src/ /srv/\nWORKDIR /srv\nRUN pip install -r requirements.txt\n"
    assert fixed(text, files, tmp_path) == (
        "FROM python:3.11\nCOPY src/requirements.txt /srv/\nWORKDIR /srv\n"
        "RUN pip install -r requirements.txt\nADD src/ /srv/\n"
    )


def test_heredoc_install(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN <<EOF\nset -e\n"
        'pip install -r requirements.txt\nEOF\nCMD ["python"]\n'
    )
    assert fixed(text, FLASK, tmp_path) == (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt base.txt ./\nRUN <<EOF\nset -e\n"
        'pip install -r requirements.txt\nEOF\nCOPY . .\nCMD ["python"]\n'
    )


def test_variables_in_the_copy(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11\nENV APP=/app\nCOPY . $APP\nWORKDIR $APP\nENV APP=/other\n"
        "RUN pip install -r requirements.txt\n"
    )
    out = fixed(text, FLASK, tmp_path)
    assert out == (
        "FROM python:3.11\nENV APP=/app\nCOPY requirements.txt base.txt /app/\nWORKDIR $APP\n"
        "ENV APP=/other\nRUN pip install -r requirements.txt\nCOPY . /app/\n"
    )


def test_split_in_a_builder_stage_and_install_selection(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11 AS build\nWORKDIR /app\nCOPY . .\n"
        "RUN pip wheel -r requirements.txt -w /w\n"
        "FROM python:3.11-slim\nCOPY --from=build /w /w\nRUN pip install /w/*.whl\n"
    )
    ctx_dir = make_context(tmp_path / "ctx", FLASK)
    ctx = context(text, ctx_dir)
    install = ctx.model.stages[0].steps[-1]
    fix = manifest_first_fix(ctx, install)
    assert fix is not None
    assert applied(text, fix).startswith(
        "FROM python:3.11 AS build\nWORKDIR /app\nCOPY requirements.txt base.txt ./\n"
        "RUN pip wheel -r requirements.txt -w /w\nCOPY . .\nFROM"
    )
    # the later stage's install reads no manifest from a broad COPY: nothing to split there
    assert manifest_first_fix(ctx, ctx.model.stages[1].steps[-1]) is None


def test_nothing_to_split(tmp_path: Path) -> None:
    for text in (
        "FROM python:3.11\nCOPY r.txt .\nRUN pip install -r r.txt\nCOPY . .\n",
        "FROM python:3.11\nCOPY app.py .\nRUN pip install -r requirements.txt\n",
        "FROM python:3.11\nCOPY --from=build /src /app\nRUN pip install -r /app/r.txt\n",
        "FROM python:3.11\nRUN pip install -r requirements.txt\n",
    ):
        result = split_manifest_first(context(text, make_context(tmp_path / "c", FLASK)))
        assert result.fix is None, text


def test_installs_named_on_the_command_line_move_ahead_of_the_copy(tmp_path: Path) -> None:
    text = 'FROM python:3.11\nCOPY . .\nRUN pip install --upgrade pip gunicorn\nCMD ["x"]\n'
    assert fixed(text, FLASK, tmp_path / "a") == (
        'FROM python:3.11\nRUN pip install --upgrade pip gunicorn\nCOPY . .\nCMD ["x"]\n'
    )
    # a step a rule points at moves too, when nothing in between needs the source
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
    )
    ctx = context(text, make_context(tmp_path / "b", FLASK))
    apt = ctx.model.stages[0].steps[-1]
    fix = manifest_first_fix(ctx, apt)
    assert fix is not None
    assert applied(text, fix).endswith("install -y --no-install-recommends curl\nCOPY . .\n")


def test_fix_is_labelled_unsafe(tmp_path: Path) -> None:
    text = "FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\n"
    fix = manifest_first_fix(context(text, make_context(tmp_path / "c", FLASK)))
    assert fix is not None and fix.safety == "unsafe"
    assert "requirements.txt, base.txt" in fix.description
