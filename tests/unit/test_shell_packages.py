"""Package-manager operations and script facts: layerwise.shell.packages / facts / debian."""

from __future__ import annotations

import pytest

from layerwise.shell import PackageOp, analyze, world_writable
from layerwise.shell.debian import BUILD_ONLY, RUNTIME, is_build_only, is_dev_package


def ops(script: str, **kw: object) -> list[PackageOp]:
    return analyze(script, **kw).package_ops  # type: ignore[arg-type]


def one(script: str) -> PackageOp:
    (op,) = ops(script)
    return op


def pkgs(op: PackageOp) -> list[tuple[str, str | None, str | None]]:
    return [(p.name, p.version, p.spec) for p in op.packages]


@pytest.mark.parametrize(
    ("script", "manager", "action"),
    [
        ("apt-get update", "apt-get", "update"),
        ("apt-get -qq update", "apt-get", "update"),
        ("apt install -y x", "apt", "install"),
        ("apt-get dist-upgrade -y", "apt-get", "upgrade"),
        ("apt-get purge -y --auto-remove gcc", "apt-get", "remove"),
        ("apt-get autoremove -y", "apt-get", "autoremove"),
        ("apt-get clean", "apt-get", "clean"),
        ("apk add x", "apk", "install"),
        ("apk --update add x", "apk", "install"),
        ("apk del .deps", "apk", "remove"),
        ("apk update", "apk", "update"),
        ("dnf install -y x", "dnf", "install"),
        ("yum -y install x", "yum", "install"),
        ("yum clean all", "yum", "clean"),
        ("microdnf install x", "microdnf", "install"),
        ("zypper --non-interactive in x", "zypper", "install"),
        ("zypper refresh", "zypper", "update"),
        ("pip install x", "pip", "install"),
        ("pip3 install x", "pip", "install"),
        ("pip3.11 install x", "pip", "install"),
        ("/opt/venv/bin/pip install x", "pip", "install"),
        ("python -m pip install x", "pip", "install"),
        ("python3 -m pip install x", "pip", "install"),
        ("python3.11 -u -m pip install x", "pip", "install"),
        ("/usr/local/bin/python -mpip install x", "pip", "install"),
        ("pip uninstall -y x", "pip", "remove"),
        ("pip cache purge", "pip", "clean"),
        ("pip download x", "pip", "download"),
        ("uv pip install x", "uv", "install"),
        ("uv pip sync requirements.txt", "uv", "sync"),
        ("uv sync --frozen", "uv", "sync"),
        ("uv add httpx", "uv", "add"),
        ("uv tool install ruff", "uv", "install"),
        ("python -m uv pip install x", "uv", "install"),
        ("poetry install", "poetry", "install"),
        ("poetry install --sync", "poetry", "sync"),
        ("poetry export -f requirements.txt -o r.txt", "poetry", "export"),
        ("poetry config virtualenvs.create false", "poetry", "config"),
        ("pipenv install --system --deploy", "pipenv", "install"),
        ("pipenv sync", "pipenv", "sync"),
        ("pipx install black", "pipx", "install"),
        ("conda install -y numpy", "conda", "install"),
        ("conda env create -f environment.yml", "conda", "install"),
        ("mamba install -y numpy", "mamba", "install"),
        ("micromamba install -y -n base -f env.yaml", "micromamba", "install"),
        ("conda clean -afy", "conda", "clean"),
        ("npm ci", "npm", "install"),
        ("npm i express", "npm", "install"),
        ("npm install", "npm", "install"),
        ("npm run build", "npm", "run"),
        ("npm cache clean --force", "npm", "clean"),
        ("yarn", "yarn", "install"),
        ("yarn install --frozen-lockfile", "yarn", "install"),
        ("yarn add react", "yarn", "add"),
        ("yarn build", "yarn", "run"),
        ("yarn global add serve", "yarn", "add"),
        ("pnpm install --frozen-lockfile", "pnpm", "install"),
        ("pnpm add x", "pnpm", "add"),
        ("gem install bundler", "gem", "install"),
        ("bundle install", "bundler", "install"),
        ("go install golang.org/x/tools/gopls@latest", "go", "install"),
        ("go mod download", "go", "download"),
        ("go build -o /app .", "go", "build"),
        ("dpkg -i /tmp/x.deb", "dpkg", "install"),
    ],
)
def test_manager_and_action(script: str, manager: str, action: str) -> None:
    op = one(script)
    assert (op.manager, op.action) == (manager, action)


@pytest.mark.parametrize(
    "script", ["echo pip install x", "python app.py", "python -c 'import pip'", "ls", "piping x"]
)
def test_not_package_managers(script: str) -> None:
    assert ops(script) == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "apt-get install -y curl=7.88.1-10 gcc libpq-dev:amd64 nginx/bookworm-backports",
            [
                ("curl", "7.88.1-10", "=7.88.1-10"),
                ("gcc", None, None),
                ("libpq-dev", None, None),
                ("nginx", None, "/bookworm-backports"),
            ],
        ),
        ("apt-get install -y 'python3=3.11*'", [("python3", None, "=3.11*")]),
        (
            "apk add --no-cache a=1.2-r0 b~1.2 'c>1' d@edge e",
            [
                ("a", "1.2-r0", "=1.2-r0"),
                ("b", None, "~1.2"),
                ("c", None, ">1"),
                ("d", None, "@edge"),
                ("e", None, None),
            ],
        ),
        (
            "yum install -y httpd-2.4.6-97.el7 mod_ssl",
            [("httpd", "2.4.6-97.el7", "-2.4.6-97.el7"), ("mod_ssl", None, None)],
        ),
        (
            "pip install 'django>=4,<5' flask==2.0.1 'uvicorn[standard]==0.29' requests 'x==1.*'",
            [
                ("django", None, "<5,>=4"),
                ("flask", "2.0.1", "==2.0.1"),
                ("uvicorn", "0.29", "==0.29"),
                ("requests", None, None),
                ("x", None, "==1.*"),
            ],
        ),
        (
            "conda install -y numpy=1.21 scipy==1.7.3 'pandas>=1' conda-forge::xarray",
            [
                ("numpy", "1.21", "=1.21"),
                ("scipy", "1.7.3", "==1.7.3"),
                ("pandas", None, ">=1"),
                ("xarray", None, None),
            ],
        ),
        (
            "npm install -g @angular/cli@15.2.1 typescript@^5 left-pad@latest serve",
            [
                ("@angular/cli", "15.2.1", "15.2.1"),
                ("typescript", None, "^5"),
                ("left-pad", None, "latest"),
                ("serve", None, None),
            ],
        ),
        (
            "go install github.com/x/y@v1.2.3 github.com/x/z@latest",
            [("github.com/x/y", "v1.2.3", "v1.2.3"), ("github.com/x/z", None, "latest")],
        ),
        ("gem install rails -v 7.0.4", [("rails", "7.0.4", "7.0.4")]),
        ("gem install rails:7.0.4", [("rails", "7.0.4", "7.0.4")]),
        ("zypper in -y curl=8.0", [("curl", "8.0", "=8.0")]),
    ],
)
def test_package_versions(script: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    assert pkgs(one(script)) == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (".", "path"),
        ("./lib", "path"),
        ("/tmp/x-1.0-py3-none-any.whl", "path"),
        ("dist/*.whl", "path"),
        ("git+https://github.com/a/b.git@v1", "vcs"),
        ("https://example.com/x.tar.gz", "url"),
        ("requests", "name"),
    ],
)
def test_pip_package_kinds(raw: str, kind: str) -> None:
    (p,) = one(f"pip install '{raw}'").packages
    assert p.kind == kind and p.raw == raw


def test_pip_options_are_normalized() -> None:
    op = one(
        "pip install --no-cache-dir -r requirements.txt --requirement=dev.txt -c c.txt -e ./lib "
        "-i https://idx/simple --extra-index-url https://x/simple -U --user --no-deps ."
    )
    assert op.requirements == ["requirements.txt", "dev.txt"]
    assert op.constraints == ["c.txt"]
    assert op.editables == ["./lib"]
    assert op.local_paths == ["./lib", "."]
    assert op.index_urls == ["https://idx/simple", "https://x/simple"]
    assert {"--no-cache-dir", "--upgrade", "--user", "--no-deps"} <= op.flags
    assert op.cache_disabled


def test_bundled_short_options() -> None:
    op = one("pip install -Ur requirements.txt")
    assert "--upgrade" in op.flags and op.requirements == ["requirements.txt"]
    op = one("pip install -rrequirements.txt")
    assert op.requirements == ["requirements.txt"]


@pytest.mark.parametrize(
    ("script", "yes", "no_recommends"),
    [
        ("apt-get install -y x", True, False),
        ("apt-get install --yes x", True, False),
        ("apt-get install --assume-yes x", True, False),
        ("apt-get install -qqy x", True, False),
        ("apt-get -yq install x", True, False),
        ("apt-get install x", False, False),
        ("apt-get install -y --no-install-recommends x", True, True),
        ("apt-get install -y -o APT::Install-Recommends=false x", True, True),
        ("apt-get install -o APT::Get::Assume-Yes=true x", True, False),
        ("dnf install -y --setopt=install_weak_deps=False x", True, True),
        ("microdnf install --setopt=install_weak_deps=0 x", False, True),
        ("zypper -n in --no-recommends x", True, True),
        ("conda install x", False, False),
        ("conda install -y x", True, False),
        ("pip install x", True, False),
    ],
)
def test_yes_and_recommends(script: str, yes: bool, no_recommends: bool) -> None:
    op = one(script)
    assert op.yes is yes
    assert op.no_recommends is no_recommends
    # the package list is not swallowed by the options
    assert [p.name for p in op.packages] == ["x"]


@pytest.mark.parametrize(
    ("script", "disabled"),
    [
        ("pip install x", False),
        ("pip install --no-cache-dir x", True),
        ("PIP_NO_CACHE_DIR=1 pip install x", True),
        ("PIP_NO_CACHE_DIR=off pip install x", True),  # pip disables the cache for any value
        ("export PIP_NO_CACHE_DIR=1 && pip install x", True),
        ("env PIP_NO_CACHE_DIR=1 pip install x", True),
        ("apk add x", False),
        ("apk add --no-cache x", True),
        ("uv pip install x", False),
        ("uv pip install --no-cache x", True),
        ("uv --no-cache pip install x", True),
        ("UV_NO_CACHE=1 uv sync", True),
    ],
)
def test_cache_disabled(script: str, disabled: bool) -> None:
    assert ops(script)[-1].cache_disabled is disabled


def test_cache_disabled_by_outside_env() -> None:
    assert one("pip install x").cache_disabled is False
    assert analyze("pip install x", env={"PIP_NO_CACHE_DIR": "1"}).package_ops[0].cache_disabled


@pytest.mark.parametrize(
    ("script", "locked", "dev_excluded"),
    [
        ("npm ci", True, False),
        ("npm ci --omit=dev", True, True),
        ("npm install --production", False, True),
        ("NODE_ENV=production npm ci", True, True),
        ("yarn install --frozen-lockfile --production", True, True),
        ("yarn install --immutable", True, False),
        ("yarn", False, False),
        ("pnpm install --frozen-lockfile --prod", True, True),
        ("uv sync --frozen --no-dev", True, True),
        ("uv sync --locked", True, False),
        ("uv sync", False, False),
        ("poetry install --only main", True, True),
        ("poetry install --without dev,test", True, True),
        ("poetry install --no-dev", True, True),
        ("poetry install", True, False),
        ("pipenv install --system --deploy", True, True),
        ("pipenv install --dev", False, False),
        ("pip install --require-hashes -r r.txt", True, True),
        ("bundle install --deployment --without development", True, True),
    ],
)
def test_locked_and_dev_excluded(script: str, locked: bool, dev_excluded: bool) -> None:
    op = one(script)
    assert op.locked is locked
    assert op.dev_excluded is dev_excluded


def test_dynamic_package_lists() -> None:
    a, b, c = ops("cat p | xargs apt-get install -y; pip install $PKGS; pip install x")
    assert a.dynamic and b.dynamic and not c.dynamic
    assert [p.raw for p in b.packages] == ["$PKGS"]


def test_ops_keep_their_command_and_words() -> None:
    script = "apt-get update && apt-get install -y gcc && pip install flask"
    _, install, pip = ops(script)
    assert install.command.source == "apt-get install -y gcc"
    (gcc,) = install.packages
    assert gcc.word is not None and script[gcc.word.start : gcc.word.end] == "gcc"
    assert pip.command.index == 2


def test_nested_and_wrapped_ops() -> None:
    result = analyze("sudo sh -c 'apt-get update && apt-get install -y x' && su u -c 'npm ci'")
    assert [(o.manager, o.action) for o in result.package_ops] == [
        ("apt-get", "update"),
        ("apt-get", "install"),
        ("npm", "install"),
    ]
    assert result.package_ops[1].command.wrappers == ("sudo", "sh -c")


# -- facts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "update", "lists", "clean"),
    [
        (
            "apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*",
            True,
            True,
            False,
        ),
        ("apt-get update && apt-get install -y x && apt-get clean", True, False, True),
        ("apt-get install -y x; rm -rf /var/lib/apt/lists", False, True, False),
        ("apt-get update; rm -r /var/lib/apt/lists/ /var/cache/apt/*", True, True, True),
        ("apt-get update && rm -rf /var/lib/apt", True, True, False),
        ("apt-get update && rm -f /var/lib/apt/lists/lock", True, False, False),
        ("apt-get update && rm -rf /var/lib/apt/lists/partial", True, False, False),
        ("sudo apt update", True, False, False),
    ],
)
def test_apt_facts(script: str, update: bool, lists: bool, clean: bool) -> None:
    facts = analyze(script).facts
    assert facts.runs_apt_update is update
    assert facts.apt_lists_removed is lists
    assert facts.apt_cache_cleaned is clean


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("apk add --no-cache x", True),
        ("apk add x", False),
        ("apk add x && rm -rf /var/cache/apk/*", True),
        ("apk add --no-cache x && apk add y", False),
    ],
)
def test_apk_cache_fact(script: str, expected: bool) -> None:
    assert analyze(script).facts.apk_cache_disabled is expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("yum install -y x && yum clean all", True),
        ("dnf install -y x && dnf clean all", True),
        ("dnf install -y x && dnf clean metadata", False),
        ("microdnf install x && rm -rf /var/cache/yum", True),
        ("yum install -y x", False),
    ],
)
def test_rpm_cache_fact(script: str, expected: bool) -> None:
    assert analyze(script).facts.rpm_cache_cleaned is expected


@pytest.mark.parametrize(
    ("script", "keeping"),
    [
        ("pip install x", 1),
        ("pip install --no-cache-dir x && pip install y", 1),
        ("pip install x && rm -rf /root/.cache/pip", 0),
        ("pip install x && pip cache purge", 0),
        ("pip install x && rm -rf ~/.cache", 0),
        ("pip install -r r.txt; pip freeze", 1),
    ],
)
def test_pip_cache_fact(script: str, keeping: int) -> None:
    facts = analyze(script).facts
    assert len(facts.pip_installs_keeping_cache) == keeping
    assert facts.pip_cache_disabled is (keeping == 0)


def test_removed_paths() -> None:
    facts = analyze(
        "rm -rf /tmp/* /root/.cache && rm -f a.txt -- -weird && rm -r --one-file-system d"
    ).facts
    assert [(r.path, r.recursive) for r in facts.removed_paths] == [
        ("/tmp/*", True),
        ("/root/.cache", True),
        ("a.txt", False),
        ("-weird", False),
        ("d", True),
    ]


@pytest.mark.parametrize(
    ("script", "pairs"),
    [
        ("curl -fsSL https://x/install.sh | sh", [("curl", "sh")]),
        ("curl -sSL https://x | sudo bash -s -- -y", [("curl", "bash")]),
        ("wget -qO- https://x | python3 -", [("wget", "python3")]),
        ("curl -L x | tee install.sh | sh", [("curl", "sh")]),
        ('sh -c "$(curl -fsSL https://x/install.sh)"', [("curl", "sh")]),
        ("bash <(curl -s https://x)", [("curl", "bash")]),
        ("curl -o x.sh https://x && sh x.sh", []),
        ("curl https://x | tar xz", []),
    ],
)
def test_download_pipes(script: str, pairs: list[tuple[str, str]]) -> None:
    facts = analyze(script).facts
    assert [(d.download.name, d.interpreter.name) for d in facts.download_pipes] == pairs


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("777", True),
        ("0777", True),
        ("1777", True),
        ("666", True),
        ("775", False),
        ("755", False),
        ("a+rwx", True),
        ("o+w", True),
        ("ugo+rwx", True),
        ("u+x", False),
        ("a=rwx", True),
        ("+w", False),
        ("g+w,o+w", True),
        ("go-w", False),
    ],
)
def test_world_writable(mode: str, expected: bool) -> None:
    assert world_writable(mode) is expected


def test_chmod_facts() -> None:
    facts = analyze("chmod -R 777 /app && chmod +x /entry.sh && chmod a+rwx /x /y").facts
    assert [(c.value, c.paths, c.recursive) for c in facts.world_writable_chmods] == [
        ("777", ("/app",), True),
        ("a+rwx", ("/x", "/y"), False),
    ]
    assert len(facts.chmods) == 3


def test_sudo_cd_mkdir_chown_facts() -> None:
    facts = analyze(
        "cd /app && sudo make install && mkdir -p /a/b /c && chown -R app:app /a && (cd /x; make)"
    ).facts
    assert [c.argv for c in facts.sudo] == [["make", "install"]]
    assert [c.argv for c in facts.cds] == [["cd", "/app"], ["cd", "/x"]]
    assert facts.first_command_is_cd
    assert facts.cds[1].subshell
    assert [(m.paths, m.recursive) for m in facts.mkdirs] == [(("/a/b", "/c"), True)]
    assert [(c.value, c.paths, c.recursive) for c in facts.chowns] == [("app:app", ("/a",), True)]
    assert not analyze("make && cd /x").facts.first_command_is_cd


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "useradd -r -l -u 1001 -g app -m app",
            ("useradd", "app", "1001", "app", True, True, True),
        ),
        (
            "useradd --uid=2000 --no-log-init --create-home bob",
            ("useradd", "bob", "2000", None, False, True, True),
        ),
        ("useradd -rlm worker", ("useradd", "worker", None, None, True, True, True)),
        (
            "adduser --system --uid 999 --no-create-home svc",
            ("adduser", "svc", "999", None, True, False, False),
        ),
        ("adduser -D -H -u 1000 -G grp bob", ("adduser", "bob", "1000", None, False, False, False)),
        ("adduser -S app", ("adduser", "app", None, None, True, False, None)),
        ("groupadd -g 1001 -r app", ("groupadd", "app", None, "1001", True, False, None)),
        ("addgroup -g 1000 -S grp", ("addgroup", "grp", None, "1000", True, False, None)),
    ],
)
def test_user_ops(script: str, expected: tuple[object, ...]) -> None:
    (u,) = analyze(script).facts.user_ops
    assert (u.kind, u.name, u.uid, u.gid, u.system, u.no_log_init, u.create_home) == expected


@pytest.mark.parametrize(
    ("script", "flagged"),
    [
        ("wget https://x/a.tgz", True),
        ("wget --progress=dot:giga https://x", False),
        ("wget -q https://x", False),
        ("wget -qO- https://x", False),
        ("wget -nv https://x", False),
        ("wget -O /tmp/x https://x", True),
        ("wget -o log https://x", False),
    ],
)
def test_wget_progress(script: str, flagged: bool) -> None:
    assert bool(analyze(script).facts.wget_without_progress) is flagged


def test_unprotected_pipes() -> None:
    assert [c.name for c in analyze("curl x | tar x").facts.unprotected_pipes] == ["curl"]
    assert analyze("set -o pipefail && curl x | tar x").facts.unprotected_pipes == []
    bash = ("/bin/bash", "-o", "pipefail", "-c")
    assert analyze("curl x | tar x", shell=bash).facts.unprotected_pipes == []


# -- Debian table ------------------------------------------------------------------------------


def test_debian_table_shape() -> None:
    assert RUNTIME["libpq-dev"] == ("libpq5",)
    assert RUNTIME["libjpeg-dev"] == ("libjpeg62-turbo",)
    assert RUNTIME["default-libmysqlclient-dev"] == ("libmariadb3",)
    for dev, runtime in RUNTIME.items():
        assert is_dev_package(dev), dev
        assert runtime and all(not is_dev_package(r) for r in runtime), dev
    assert {
        "gcc",
        "g++",
        "make",
        "build-essential",
        "python3-dev",
        "pkg-config",
        "git",
    } <= BUILD_ONLY


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gcc", True),
        ("gcc-12", True),
        ("libpq-dev", True),
        ("linux-headers-amd64", True),
        ("libmariadb-dev-compat", True),
        ("libpq5", False),
        ("curl", False),
        ("python3", False),
        ("build-essential", True),
        ("git", True),
        ("ca-certificates", False),
    ],
)
def test_is_build_only(name: str, expected: bool) -> None:
    assert is_build_only(name) is expected
