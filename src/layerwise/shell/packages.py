"""What package managers a script runs: which packages, with which options.

Each recognised command becomes a `PackageOp` with a canonical manager name, a canonical
action, the packages named on the command line (split into name and version constraint the
way that manager writes them), and its options normalised to one long spelling each
(`-y`, `--assume-yes` and `-qy` all give `--yes`), so a rule asks `"--yes" in op.flags`
instead of knowing every alias.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from layerwise.shell.syntax import Command, ShellWord

if TYPE_CHECKING:
    from layerwise.shell.syntax import Script

PackageKind = str  # "name" (from an index), "path" (local file or directory), "url", "vcs", "group"


@dataclass(frozen=True, slots=True)
class Package:
    """One package argument: `name`, the exact `version` when pinned to one (None when not),
    the constraint as written after the name (`spec`: "==1.2", ">=1.2", "=1.2-1", "^1.2"),
    and the argument as written (`raw`)."""

    name: str
    version: str | None
    spec: str | None
    raw: str
    kind: PackageKind = "name"
    word: ShellWord | None = field(default=None, compare=False, repr=False)

    @property
    def pinned(self) -> bool:
        """Pinned to one version (local paths, URLs and VCS references count as not pinned
        unless they name a version; use `kind` to tell them apart)."""
        return self.version is not None


@dataclass(eq=False)
class PackageOp:
    """One package-manager command (`apt-get install`, `pip install`, `npm ci`, ...)."""

    manager: str  # apt-get, apt, aptitude, apk, dnf, yum, microdnf, tdnf, zypper, dpkg, pip,
    # uv, pipx, poetry, pipenv, conda, mamba, micromamba, npm, yarn, pnpm, gem, bundler, go
    action: str  # install, add, sync, update, upgrade, remove, autoremove, clean, lock, export,
    # config, download, build, run, query, other
    subcommand: str  # as written: "ci", "i", "add", "install", "pip install", "env create"
    packages: list[Package]
    flags: frozenset[str]  # boolean options, canonical spelling: "--yes", "--no-cache-dir"
    options: dict[str, list[str]]  # options with values, canonical spelling: "--requirement"
    command: Command
    dynamic: bool = False  # some packages come from variables, substitutions or stdin (xargs)
    env: dict[str, str] = field(default_factory=dict)  # environment seen by the command

    # -- what the rules ask

    @property
    def installs(self) -> bool:
        """Installs or updates packages into the image (install, add, sync, upgrade)."""
        return self.action in ("install", "add", "sync", "upgrade")

    def has(self, *flags: str) -> bool:
        return any(f in self.flags or f in self.options for f in flags)

    def values(self, option: str) -> list[str]:
        return self.options.get(option, [])

    @property
    def requirements(self) -> list[str]:
        """Requirement/manifest files read (`pip -r`, `uv pip sync FILE`, `conda env -f`)."""
        return self.values("--requirement") + self.values("--file")

    @property
    def constraints(self) -> list[str]:
        return self.values("--constraint")

    @property
    def editables(self) -> list[str]:
        return self.values("--editable")

    @property
    def local_paths(self) -> list[str]:
        """Local directories and files installed (`pip install .`, `-e ./lib`, `x.whl`)."""
        return self.editables + [p.raw for p in self.packages if p.kind == "path"]

    @property
    def index_urls(self) -> list[str]:
        return (
            self.values("--index-url")
            + self.values("--extra-index-url")
            + self.values("--index")
            + self.values("--registry")
            + self.values("--repository")
        )

    @property
    def yes(self) -> bool:
        """Runs without prompting (`-y`, `--non-interactive`, or a manager that never asks)."""
        if self.manager in _PROMPTING:
            return "--yes" in self.flags
        if self.manager in ("conda", "mamba", "micromamba"):
            return "--yes" in self.flags or _truthy(self.env.get("CONDA_ALWAYS_YES"))
        return True

    @property
    def no_recommends(self) -> bool:
        """apt `--no-install-recommends` (or `-o APT::Install-Recommends=false`), dnf/yum
        `--setopt=install_weak_deps=False`, zypper `--no-recommends`."""
        return "--no-install-recommends" in self.flags

    @property
    def cache_disabled(self) -> bool:
        """This command itself leaves no download cache behind (`pip --no-cache-dir` or
        PIP_NO_CACHE_DIR, `apk --no-cache`, `uv --no-cache` or UV_NO_CACHE, ...). Cleaning in a
        later command of the same RUN is in `Facts`."""
        m = self.manager
        if m in ("pip", "pipx"):
            return "--no-cache-dir" in self.flags or "PIP_NO_CACHE_DIR" in self.env
        if m == "uv":
            return "--no-cache" in self.flags or _truthy(self.env.get("UV_NO_CACHE"))
        if m in ("apk", "poetry"):
            return "--no-cache" in self.flags
        if m == "pipenv":
            return "PIP_NO_CACHE_DIR" in self.env or "--no-cache-dir" in self.flags
        return False

    @property
    def locked(self) -> bool:
        """Installs exactly what a lock file says and fails when it is out of date."""
        m, f = self.manager, self.flags
        if m == "npm":
            return self.subcommand == "ci"
        if m == "yarn":
            return bool(f & {"--frozen-lockfile", "--immutable"})
        if m == "pnpm":
            return "--frozen-lockfile" in f
        if m == "uv":
            return bool(f & {"--frozen", "--locked"}) or self.subcommand == "pip sync"
        if m == "pipenv":
            return self.action == "sync" or bool(f & {"--deploy", "--ignore-pipfile"})
        if m == "poetry":
            return self.action in ("install", "sync")  # poetry.lock is always followed
        if m == "pip":
            return "--require-hashes" in f
        if m == "bundler":
            return bool(f & {"--frozen", "--deployment"})
        if m == "go":
            return self.action == "download"
        return False

    @property
    def dev_excluded(self) -> bool:
        """Development dependencies are left out (poetry `--only main`/`--without dev`/
        `--no-dev`, uv `--no-dev`, npm `--omit=dev`/`--production`, pipenv without `--dev`)."""
        m, f = self.manager, self.flags
        if m == "poetry":
            only = ",".join(self.values("--only"))
            without = ",".join(self.values("--without"))
            return "--no-dev" in f or only == "main" or "dev" in without.split(",")
        if m == "uv":
            return "--no-dev" in f or "--only-prod" in f or self.subcommand.startswith("pip")
        if m == "pipenv":
            return "--dev" not in f
        if m == "npm":
            return (
                "--production" in f
                or "dev" in self.values("--omit")
                or self.values("--only") in (["prod"], ["production"])
                or self.env.get("NODE_ENV") == "production"
            )
        if m == "yarn":
            return "--production" in f or self.env.get("NODE_ENV") == "production"
        if m == "pnpm":
            return "--prod" in f or self.env.get("NODE_ENV") == "production"
        if m == "bundler":
            return bool(self.values("--without"))
        return True

    def __repr__(self) -> str:
        names = " ".join(p.raw for p in self.packages)
        return f"<PackageOp {self.manager} {self.action} {names}>"


_PROMPTING = frozenset(
    {"apt-get", "apt", "aptitude", "dnf", "dnf5", "yum", "microdnf", "tdnf", "zypper"}
)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


# -- option tables --------------------------------------------------------------------------------
# One line per option: the canonical spelling first, then its aliases; a trailing "=" on the
# canonical name means it takes a value.


@dataclass(frozen=True)
class _Spec:
    canonical: dict[str, str]
    valued: frozenset[str]

    def __or__(self, other: _Spec) -> _Spec:
        return _Spec({**self.canonical, **other.canonical}, self.valued | other.valued)


def _spec(table: str) -> _Spec:
    canonical: dict[str, str] = {}
    valued: set[str] = set()
    for line in table.strip().splitlines():
        names = line.split()
        if not names:
            continue
        head = names[0]
        takes = head.endswith("=")
        head = head.rstrip("=")
        for alias in [head, *names[1:]]:
            canonical[alias] = head
        if takes:
            valued.add(head)
    return _Spec(canonical, frozenset(valued))


_APT = _spec(
    """
    --yes -y --assume-yes
    --quiet -q
    --no-install-recommends
    --no-install-suggests
    --option= -o
    --config-file= -c
    --target-release= -t --default-release
    --fix-broken -f
    --ignore-missing -m --fix-missing
    --download-only -d
    --simulate -s --dry-run --just-print --no-act --recon
    --allow-unauthenticated
    --allow-downgrades
    --allow-remove-essential
    --allow-change-held-packages
    --reinstall
    --purge
    --auto-remove --autoremove
    --force-yes
    --no-upgrade
    --only-upgrade
    --verbose-versions -V
    --show-upgraded -u
    --build -b
    --compile
    --print-uris
    --no-download
    --host-architecture= -a
    """
)
_APK = _spec(
    """
    --no-cache
    --update -U --update-cache
    --virtual= -t
    --repository= -X
    --quiet -q
    --verbose -v
    --no-progress
    --allow-untrusted
    --force-overwrite
    --force-broken-world
    --force-non-repository
    --no-scripts
    --root= -p
    --keys-dir=
    --repositories-file=
    --initdb
    --upgrade -u
    --latest -l
    --available -a
    --purge
    --interactive -i
    --simulate -s
    --cache-dir=
    --arch=
    --clean-protected
    --no-network
    """
)
_RPM = _spec(
    """
    --yes -y --assumeyes
    --assumeno
    --quiet -q
    --verbose -v
    --nodocs
    --best
    --nobest
    --allowerasing
    --refresh
    --nogpgcheck
    --skip-broken
    --setopt=
    --enablerepo=
    --disablerepo=
    --repo= --repoid
    --releasever=
    --installroot=
    --exclude= -x
    --config= -c
    --cacheonly -C
    --downloadonly
    --downloaddir= --destdir
    --noplugins
    --disableplugin=
    --enableplugin=
    --security
    --bugfix
    --obsoletes
    --nodeps
    --no-install-weak-deps
    --install-weak-deps
    --forcearch=
    --color=
    --debuglevel= -d
    --errorlevel= -e
    --rpmverbosity=
    --noautoremove
    --allowdowngrade
    """
)
_ZYPPER = _spec(
    """
    --yes -y --no-confirm -n --non-interactive
    --quiet -q
    --no-recommends
    --recommends
    --no-gpg-checks
    --gpg-auto-import-keys
    --force -f
    --auto-agree-with-licenses -l
    --from= -r --repo
    --type= -t
    --download-only -d
    --dry-run -D
    --oldpackage
    --clean-deps -u
    --all -a
    --root= -R
    --no-refresh
    --details
    --cache-dir= -C
    """
)
_PIP = _spec(
    """
    --requirement= -r
    --constraint= -c
    --editable= -e
    --no-cache-dir
    --cache-dir=
    --user
    --upgrade -U
    --upgrade-strategy=
    --force-reinstall
    --no-deps
    --pre
    --index-url= -i
    --extra-index-url=
    --no-index
    --find-links= -f
    --target= -t
    --prefix=
    --root=
    --require-hashes
    --no-binary=
    --only-binary=
    --prefer-binary
    --progress-bar=
    --trusted-host=
    --break-system-packages
    --compile
    --no-compile
    --no-build-isolation
    --disable-pip-version-check
    --quiet -q
    --verbose -v
    --src=
    --platform=
    --python-version=
    --implementation=
    --abi=
    --global-option=
    --config-settings= -C
    --log=
    --timeout=
    --retries=
    --proxy=
    --cert=
    --client-cert=
    --exists-action=
    --no-warn-script-location
    --no-warn-conflicts
    --ignore-installed -I
    --ignore-requires-python
    --root-user-action=
    --use-pep517
    --no-use-pep517
    --check-build-dependencies
    --isolated
    --report=
    --dry-run
    --no-clean
    --require-virtualenv
    --no-python-version-warning
    --keyring-provider=
    --use-feature=
    --use-deprecated=
    --group=
    --yes -y
    --no-color
    --no-input
    --dest= -d
    --wheel-dir= -w
    --build-option=
    """
)
_UV = _PIP | _spec(
    """
    --no-cache -n
    --cache-dir=
    --system
    --python= -p
    --frozen
    --locked
    --no-dev
    --only-dev
    --dev
    --no-install-project
    --no-install-workspace
    --no-editable
    --all-extras
    --extra=
    --group=
    --no-group=
    --only-group=
    --all-groups
    --compile-bytecode
    --inexact
    --exact
    --offline
    --link-mode=
    --directory=
    --project=
    --package=
    --all-packages
    --index=
    --default-index=
    --resolution=
    --prerelease=
    --output-file= -o
    --no-hashes
    --native-tls
    --color=
    --config-file=
    --no-config
    --preview
    --no-progress
    --with=
    --upgrade-package= -P
    --refresh
    --reinstall
    --no-sources
    """
)
_POETRY = _spec(
    """
    --no-dev
    --only=
    --without=
    --with=
    --no-root
    --no-directory
    --sync
    --no-interaction -n
    --no-ansi
    --ansi
    --extras= -E
    --all-extras
    --all-groups
    --compile
    --dry-run
    --no-cache
    --quiet -q
    --verbose -v -vv -vvv
    --format= -f
    --output= -o
    --without-hashes
    --without-urls
    --with-credentials
    --directory= -C
    --project= -P
    --group= -G
    --dev -D
    --lock
    --no-update
    --editable -e
    --optional
    --python=
    --source=
    --allow-prereleases
    --only-root
    """
)
_PIPENV = _spec(
    """
    --system
    --deploy
    --ignore-pipfile
    --dev -d
    --categories=
    --skip-lock
    --requirements= -r
    --python=
    --three
    --pre
    --keep-outdated
    --selective-upgrade
    --clear
    --verbose -v
    --quiet -q
    --site-packages
    --no-site-packages
    --extra-pip-args=
    --index= -i
    --extra-index-url=
    --editable= -e
    --constraint= -c
    --no-cache-dir
    """
)
_CONDA = _spec(
    """
    --yes -y
    --quiet -q
    --channel= -c
    --override-channels
    --name= -n
    --prefix= -p
    --file= -f
    --freeze-installed --no-update-deps
    --update-deps
    --no-deps
    --only-deps
    --force-reinstall
    --strict-channel-priority
    --all -a
    --index-cache -i
    --packages
    --tarballs -t
    --force-pkgs-dirs -f
    --tempfiles
    --logfiles
    --dry-run -d
    --json
    --verbose -v
    --offline
    --use-local
    --copy
    --no-pin
    --clobber
    --solver=
    --root-prefix= -r
    --platform=
    --insecure
    --mkdir
    --no-shortcuts
    --experimental-solver=
    --revision=
    """
)
_NPM = _spec(
    """
    --global -g
    --production --prod
    --omit=
    --include=
    --only=
    --save-dev -D
    --save -S
    --save-exact -E
    --save-optional -O
    --save-prod -P
    --no-save
    --no-audit
    --no-fund
    --no-optional
    --legacy-peer-deps
    --strict-peer-deps
    --force -f
    --unsafe-perm
    --ignore-scripts
    --loglevel=
    --registry=
    --prefer-offline
    --offline
    --no-package-lock
    --package-lock-only
    --quiet --silent -s
    --verbose
    --no-progress --progress=false
    --cache=
    --prefix=
    --workspace= -w
    --workspaces
    --install-links
    --dry-run
    --frozen-lockfile
    --immutable
    --pure-lockfile
    --non-interactive
    --network-timeout=
    --modules-folder=
    --cache-folder=
    --check-files
    --ignore-engines
    --ignore-optional
    --no-lockfile
    --prod
    --dev
    --filter=
    --recursive -r
    --shamefully-hoist
    --no-frozen-lockfile
    --prefer-frozen-lockfile
    --store-dir=
    --exact
    --tilde -T
    """
)
_GEM = _spec(
    """
    --version= -v
    --no-document -N
    --no-ri
    --no-rdoc
    --document=
    --install-dir= -i
    --bindir= -n
    --user-install
    --no-user-install
    --force -f
    --conservative
    --minimal-deps
    --source= -s
    --clear-sources
    --platform=
    --prerelease
    --quiet -q
    --verbose -V
    --no-wrappers
    --env-shebang -E
    --ignore-dependencies
    --development
    --without=
    --with=
    --deployment
    --frozen
    --path=
    --jobs= -j
    --retry=
    --local
    --system
    --binstubs=
    --no-cache
    --clean
    --full-index
    """
)
_GO = _spec(
    """
    --v -v
    --x -x
    --mod= -mod
    --tags= -tags
    --ldflags= -ldflags
    --o= -o
    --trimpath -trimpath
    --race -race
    --buildvcs= -buildvcs
    --modcacherw -modcacherw
    --u -u
    --d -d
    --t -t
    --a -a
    --p= -p
    --gcflags= -gcflags
    --C= -C
    --n -n
    --json -json
    """
)
_DPKG = _spec(
    """
    --install -i
    --remove -r
    --purge -P
    --unpack
    --configure
    --force-all
    --force-depends
    --force-overwrite
    --recursive -R
    --skip-same-version -E
    --root=
    --admindir=
    --instdir=
    """
)


@dataclass
class _Args:
    flags: set[str] = field(default_factory=set)
    options: dict[str, list[str]] = field(default_factory=dict)
    positional: list[int] = field(default_factory=list)  # indices into words


def _parse(words: list[ShellWord], start: int, spec: _Spec, *, go_style: bool = False) -> _Args:
    """Split arguments into flags, options and positionals by the manager's option table.
    Options may appear anywhere (GNU style); `--` ends them; short flags may be bundled
    (`-yq`, `-rrequirements.txt`)."""
    out = _Args()
    i = start
    n = len(words)
    canonical = spec.canonical
    valued = spec.valued
    while i < n:
        arg = words[i].value
        if arg == "--":
            out.positional.extend(range(i + 1, n))
            break
        if arg.startswith("--") or (go_style and arg.startswith("-") and len(arg) > 2):
            name, eq, value = arg.partition("=")
            canon = canonical.get(name, name if not go_style else "-" + name.lstrip("-"))
            if canon in valued:
                if eq:
                    out.options.setdefault(canon, []).append(value)
                elif i + 1 < n:
                    out.options.setdefault(canon, []).append(words[i + 1].value)
                    i += 1
            elif eq:
                out.options.setdefault(canon, []).append(value)
            else:
                out.flags.add(canon)
            i += 1
            continue
        if arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
            k = 1
            while k < len(arg):
                short = "-" + arg[k]
                canon = canonical.get(short, short)
                if canon in valued:
                    rest = arg[k + 1 :]
                    if rest:
                        out.options.setdefault(canon, []).append(rest.removeprefix("="))
                    elif i + 1 < n:
                        out.options.setdefault(canon, []).append(words[i + 1].value)
                        i += 1
                    break
                out.flags.add(canon)
                k += 1
            i += 1
            continue
        out.positional.append(i)
        i += 1
    return out


# -- package arguments ----------------------------------------------------------------------------

_LOCAL = re.compile(
    r"^(?:\.{1,2}(?:/|$)|/|~|file:)|\.(?:whl|tar\.gz|tgz|zip|tar\.bz2|deb|rpm|apk|gem)$"
)
_VCS = re.compile(r"^(?:git|hg|svn|bzr)\+|^git@|^github:|^gitlab:|^bitbucket:")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def _kind(raw: str) -> PackageKind | None:
    if _VCS.search(raw):
        return "vcs"
    if _URL.search(raw):
        return "url"
    if _LOCAL.search(raw):
        return "path"
    return None


def _python_package(word: ShellWord) -> Package:
    raw = word.value
    kind = _kind(raw)
    if kind is not None and "@" not in raw.split("://", 1)[0]:
        return Package(raw, None, None, raw, kind, word)
    try:
        req = Requirement(raw)
    except InvalidRequirement:
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$", raw)
        if m is None:
            return Package(raw, None, None, raw, kind or "name", word)
        spec = m.group(3).strip() or None
        version = spec[2:].strip() if spec and re.fullmatch(r"===?[^,;<>=!~*]+", spec) else None
        return Package(m.group(1), version, spec, raw, kind or "name", word)
    if req.url:
        return Package(req.name, None, "@ " + req.url, raw, _kind(req.url) or "url", word)
    specs = list(req.specifier)
    version = None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        version = specs[0].version
    spec_text = str(req.specifier) or None
    return Package(req.name, version, spec_text, raw, "name", word)


_APT_VERSION = re.compile(r"^([^=/:\s]+)(?::([\w-]+))?(?:(=)([^/\s]+)|(/)(\S+))?$")


def _apt_package(word: ShellWord) -> Package:
    raw = word.value
    kind = _kind(raw)
    if kind is not None:
        return Package(raw, None, None, raw, kind, word)
    m = _APT_VERSION.match(raw)
    if m is None:
        return Package(raw, None, None, raw, "name", word)
    name = m.group(1)
    if m.group(3):
        version = m.group(4)
        return Package(name, None if "*" in version else version, "=" + version, raw, "name", word)
    if m.group(5):
        return Package(name, None, "/" + m.group(6), raw, "name", word)
    return Package(name, None, None, raw, "name", word)


_APK_VERSION = re.compile(r"^([^=<>~@\s]+)(?:(=|~|>=|<=|>|<|~=)([^@\s]+))?(?:@(\S+))?$")


def _apk_package(word: ShellWord) -> Package:
    raw = word.value
    kind = _kind(raw)
    if kind is not None:
        return Package(raw, None, None, raw, kind, word)
    m = _APK_VERSION.match(raw)
    if m is None:
        return Package(raw, None, None, raw, "name", word)
    name, op, ver, tag = m.groups()
    if op:
        return Package(name, ver if op == "=" else None, op + ver, raw, "name", word)
    return Package(name, None, "@" + tag if tag else None, raw, "name", word)


_RPM_VERSION = re.compile(
    r"^(.+?)-(\d[\w.+~^]*(?:-[\w.+~^]+)?(?:\.(?:x86_64|aarch64|noarch|i686))?)$"
)


def _rpm_package(word: ShellWord) -> Package:
    raw = word.value
    kind = _kind(raw)
    if kind is not None:
        return Package(raw, None, None, raw, kind, word)
    if raw.startswith("@"):
        return Package(raw, None, None, raw, "group", word)
    m = re.match(r"^([^<>=\s]+)\s*(>=|<=|=|<|>)\s*(\S+)$", raw)
    if m:
        name, op, ver = m.groups()
        return Package(name, ver if op == "=" else None, op + ver, raw, "name", word)
    m = _RPM_VERSION.match(raw)
    if m:
        ver = m.group(2)
        return Package(m.group(1), None if "*" in ver else ver, "-" + ver, raw, "name", word)
    return Package(raw, None, None, raw, "name", word)


_CONDA_VERSION = re.compile(
    r"^(?:([\w.-]+)::)?([A-Za-z0-9_.-]+)\s*(?:(==|=|>=|<=|>|<|!=|~=)\s*(\S+))?$"
)


def _conda_package(word: ShellWord) -> Package:
    raw = word.value
    kind = _kind(raw)
    if kind is not None:
        return Package(raw, None, None, raw, kind, word)
    m = _CONDA_VERSION.match(raw.replace(" ", ""))
    if m is None:
        return Package(raw, None, None, raw, "name", word)
    _, name, op, ver = m.groups()
    if not op:
        return Package(name, None, None, raw, "name", word)
    exact = op in ("==", "=") and not re.search(r"[*,|<>]", ver)
    if op == "=" and exact and "=" not in ver:
        # conda's `pkg=1.2` means 1.2.*; pinned only as far as written
        return Package(name, ver, op + ver, raw, "name", word)
    return Package(name, ver.split("=")[0] if exact else None, op + ver, raw, "name", word)


_SEMVER_EXACT = re.compile(r"^[=v]?\d+\.\d+\.\d+(?:[-+][\w.+-]*)?$")


def _npm_package(word: ShellWord) -> Package:
    raw = word.value
    kind = _kind(raw)
    if kind is not None:
        return Package(raw, None, None, raw, kind, word)
    scoped = raw.startswith("@")
    body = raw[1:] if scoped else raw
    name, at, ver = body.partition("@")
    name = ("@" if scoped else "") + name
    if not at:
        if re.fullmatch(r"[\w.-]+/[\w.-]+(?:#\S+)?", raw) and not scoped:
            return Package(raw, None, None, raw, "vcs", word)
        return Package(name, None, None, raw, "name", word)
    exact = ver.lstrip("=v") if _SEMVER_EXACT.match(ver) else None
    return Package(name, exact, ver, raw, "name", word)


def _go_package(word: ShellWord) -> Package:
    raw = word.value
    name, at, ver = raw.partition("@")
    if not at:
        return Package(raw, None, None, raw, "path" if raw.startswith(".") else "name", word)
    exact = ver if re.fullmatch(r"v\d+\.\d+\.\d+\S*", ver) else None
    return Package(name, exact, ver, raw, "name", word)


def _gem_package(word: ShellWord) -> Package:
    raw = word.value
    if _kind(raw) is not None:
        return Package(raw, None, None, raw, _kind(raw) or "path", word)
    name, colon, ver = raw.partition(":")
    if colon and ver:
        return Package(
            name, ver if re.fullmatch(r"[\d.]+\w*", ver) else None, ver, raw, "name", word
        )
    return Package(raw, None, None, raw, "name", word)


def _plain_package(word: ShellWord) -> Package:
    raw = word.value
    return Package(raw, None, None, raw, _kind(raw) or "name", word)


# -- managers -------------------------------------------------------------------------------------

_APT_ACTIONS = {
    "install": "install", "satisfy": "install", "reinstall": "install",
    "update": "update", "upgrade": "upgrade", "dist-upgrade": "upgrade",
    "full-upgrade": "upgrade", "remove": "remove", "purge": "remove",
    "autoremove": "autoremove", "auto-remove": "autoremove", "autopurge": "autoremove",
    "clean": "clean", "autoclean": "clean", "auto-clean": "clean", "distclean": "clean",
    "build-dep": "install", "source": "download", "download": "download",
    "show": "query", "search": "query", "list": "query", "policy": "query",
    "depends": "query", "rdepends": "query", "madison": "query", "markauto": "config",
    "mark": "config", "hold": "config", "unhold": "config",
}  # fmt: skip
_APK_ACTIONS = {
    "add": "install", "del": "remove", "update": "update", "upgrade": "upgrade",
    "cache": "clean", "fix": "install", "info": "query", "search": "query", "list": "query",
    "policy": "query", "fetch": "download", "version": "query", "audit": "query",
}  # fmt: skip
_RPM_ACTIONS = {
    "install": "install", "in": "install", "reinstall": "install", "localinstall": "install",
    "groupinstall": "install", "update": "upgrade", "upgrade": "upgrade", "up": "upgrade",
    "update-minimal": "upgrade", "upgrade-minimal": "upgrade", "distro-sync": "upgrade",
    "dist-upgrade": "upgrade", "dup": "upgrade", "remove": "remove", "erase": "remove",
    "rm": "remove", "groupremove": "remove", "autoremove": "autoremove", "clean": "clean",
    "cc": "clean", "makecache": "update", "refresh": "update", "ref": "update",
    "check-update": "query", "list": "query", "info": "query", "search": "query",
    "provides": "query", "repolist": "query", "config-manager": "config",
    "addrepo": "config", "ar": "config", "download": "download", "module": "config",
    "group": "install", "builddep": "install", "swap": "install",
}  # fmt: skip
_PIP_ACTIONS = {
    "install": "install", "uninstall": "remove", "download": "download", "wheel": "build",
    "cache": "clean", "freeze": "query", "list": "query", "show": "query", "check": "query",
    "config": "config", "inspect": "query", "index": "query", "hash": "query",
    "sync": "sync", "compile": "lock", "tree": "query",
}  # fmt: skip
_UV_ACTIONS = {
    "sync": "sync", "add": "add", "remove": "remove", "lock": "lock", "export": "export",
    "venv": "other", "run": "run", "build": "build", "publish": "other", "init": "other",
    "tree": "query", "version": "query", "cache": "clean", "python": "other",
}  # fmt: skip
_POETRY_ACTIONS = {
    "install": "install", "add": "add", "remove": "remove", "update": "upgrade",
    "lock": "lock", "export": "export", "config": "config", "build": "build", "run": "run",
    "show": "query", "sync": "sync", "check": "query", "version": "query", "self": "other",
    "new": "other", "init": "other", "env": "other", "cache": "clean", "publish": "other",
    "shell": "other", "source": "config", "debug": "other",
}  # fmt: skip
_PIPENV_ACTIONS = {
    "install": "install", "sync": "sync", "uninstall": "remove", "lock": "lock",
    "update": "upgrade", "upgrade": "upgrade", "requirements": "export", "run": "run",
    "clean": "remove", "check": "query", "graph": "query", "shell": "other",
    "verify": "query", "scripts": "query", "open": "other",
}  # fmt: skip
_CONDA_ACTIONS = {
    "install": "install", "create": "install", "remove": "remove", "uninstall": "remove",
    "update": "upgrade", "upgrade": "upgrade", "clean": "clean", "config": "config",
    "run": "run", "list": "query", "search": "query", "info": "query", "init": "config",
    "activate": "other", "env": "install", "shell": "config", "self-update": "other",
}  # fmt: skip
_NPM_ACTIONS = {
    "install": "install", "i": "install", "in": "install", "ins": "install",
    "inst": "install", "insta": "install", "instal": "install", "isnt": "install",
    "isnta": "install", "isntal": "install", "isntall": "install", "add": "add",
    "ci": "install", "clean-install": "install", "install-clean": "install", "ic": "install",
    "uninstall": "remove", "un": "remove", "unlink": "remove", "remove": "remove",
    "rm": "remove", "r": "remove", "update": "upgrade", "up": "upgrade", "upgrade": "upgrade",
    "udpate": "upgrade", "cache": "clean", "prune": "remove", "dedupe": "other",
    "run": "run", "run-script": "run", "start": "run", "test": "run", "t": "run",
    "build": "build", "config": "config", "set": "config", "audit": "query", "ls": "query",
    "list": "query", "outdated": "query", "fetch": "download", "store": "clean",
    "global": "install", "exec": "run", "x": "run", "dlx": "run", "deploy": "install",
    "rebuild": "build", "link": "other", "pack": "build", "publish": "other",
    "workspaces": "install", "init": "other", "create": "other", "version": "query",
    "import": "lock", "dedupe-lockfile": "lock",
}  # fmt: skip
_GEM_ACTIONS = {
    "install": "install", "i": "install", "uninstall": "remove", "update": "upgrade",
    "cleanup": "clean", "sources": "config", "build": "build", "list": "query",
    "exec": "run", "config": "config", "check": "query", "lock": "lock", "add": "add",
    "remove": "remove", "package": "download", "cache": "download", "clean": "clean",
}  # fmt: skip

_PIP_NAME = re.compile(r"^pip(?:\d+(?:\.\d+)?)?$")
_PYTHON_NAME = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)?)?$|^py$")
_PY_OPTS_WITH_VALUE = frozenset({"-W", "-X", "-c", "--check-hash-based-pycs"})


def package_ops(script: Script) -> list[PackageOp]:
    """Every package-manager command of a script, in execution order."""
    ops: list[PackageOp] = []
    exported: dict[str, str] = dict(script.env)
    for cmd in script.commands:
        if cmd.name == "export":
            for w in cmd.words[1:]:
                key, eq, value = w.value.partition("=")
                if eq:
                    exported[key] = value
        op = parse_command(cmd, {**exported, **cmd.assignments})
        if op is not None:
            ops.append(op)
    return ops


def parse_command(cmd: Command, env: Mapping[str, str] | None = None) -> PackageOp | None:
    """The package operation of one command, or None when it is not a package manager."""
    words = list(cmd.words)
    if not words or words[0].dynamic:
        return None
    name = cmd.name
    env_d = dict(env if env is not None else cmd.assignments)
    # `python -m pip`, `python3 -m uv`, ...
    if _PYTHON_NAME.match(name):
        module_at = _python_module(words)
        if module_at is None:
            return None
        module = words[module_at].value
        if module.startswith("-m"):
            module = module[2:]
            at = words[module_at]
            words = [ShellWord(module, module, at.start, at.end), *words[module_at + 1 :]]
        else:
            words = words[module_at:]
        name = module
    if _PIP_NAME.match(name):
        return _pip(cmd, words, 1, "pip", env_d)
    handler = _MANAGERS.get(name)
    if handler is None:
        return None
    return handler(cmd, words, name, env_d)


def _python_module(words: list[ShellWord]) -> int | None:
    i = 1
    while i < len(words):
        arg = words[i].value
        if arg == "-m" and i + 1 < len(words):
            mod = words[i + 1].value
            return i + 1 if mod in _PY_MODULES else None
        if arg.startswith("-m") and len(arg) > 2:
            return i if arg[2:] in _PY_MODULES else None
        if arg in _PY_OPTS_WITH_VALUE:
            if arg == "-c":
                return None
            i += 2
            continue
        if not arg.startswith("-"):
            return None
        i += 1
    return None


_PY_MODULES = frozenset({"pip", "pip3", "uv", "poetry", "pipenv", "pipx", "conda"})


def _first_positional(args: _Args, words: list[ShellWord]) -> tuple[str, list[int]]:
    if not args.positional:
        return "", []
    return words[args.positional[0]].value, args.positional[1:]


def _make(
    cmd: Command,
    manager: str,
    action: str,
    sub: str,
    args: _Args,
    words: list[ShellWord],
    pkg_indices: Iterable[int],
    parse_pkg: object,
    env: dict[str, str],
) -> PackageOp:
    assert callable(parse_pkg)
    packages: list[Package] = []
    dynamic = "xargs" in cmd.wrappers
    for i in pkg_indices:
        w = words[i]
        if w.dynamic:
            dynamic = True
        if not w.value:
            continue
        packages.append(parse_pkg(w))
    return PackageOp(
        manager,
        action,
        sub,
        packages,
        frozenset(args.flags),
        args.options,
        cmd,
        dynamic,
        env,
    )


def _apt(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _APT)
    for opt in args.options.get("--option", []):
        key, _, value = opt.partition("=")
        if key.lower() == "apt::install-recommends" and value.lower() in ("0", "false", "no"):
            args.flags.add("--no-install-recommends")
        if key.lower() == "apt::get::assume-yes" and value.lower() in ("1", "true", "yes"):
            args.flags.add("--yes")
    if "--force-yes" in args.flags:
        args.flags.add("--yes")
    sub, rest = _first_positional(args, words)
    action = _APT_ACTIONS.get(sub, "other")
    if sub == "purge":
        args.flags.add("--purge")
    manager = name
    pkgs = rest if action in ("install", "remove", "download", "upgrade", "config") else []
    return _make(cmd, manager, action, sub, args, words, pkgs, _apt_package, env)


def _apk(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _APK)
    sub, rest = _first_positional(args, words)
    action = _APK_ACTIONS.get(sub, "other")
    if sub == "cache" and rest and words[rest[0]].value in ("download", "sync"):
        action = "download"
    pkgs = rest if action in ("install", "remove", "upgrade", "download") and sub != "cache" else []
    return _make(cmd, "apk", action, sub, args, words, pkgs, _apk_package, env)


def _rpm_like(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    spec = _ZYPPER if name == "zypper" else _RPM
    args = _parse(words, 1, spec)
    for opt in args.options.get("--setopt", []):
        key, _, value = opt.partition("=")
        if key.strip() == "install_weak_deps" and value.strip().lower() in ("0", "false", "no"):
            args.flags.add("--no-install-recommends")
    if "--no-install-weak-deps" in args.flags or "--no-recommends" in args.flags:
        args.flags.add("--no-install-recommends")
    sub, rest = _first_positional(args, words)
    action = _RPM_ACTIONS.get(sub, "other")
    if sub in ("group", "module") and rest:
        inner = words[rest[0]].value
        action = _RPM_ACTIONS.get(inner, "other") if inner != "enable" else "config"
        sub = f"{sub} {inner}"
        rest = rest[1:]
    if sub == "clean" and rest:
        sub = f"clean {' '.join(words[i].value for i in rest)}"
        rest = []
    pkgs = rest if action in ("install", "remove", "upgrade", "download") else []
    return _make(cmd, "yum" if name == "yum" else name, action, sub, args, words, pkgs,
                 _rpm_package, env)  # fmt: skip


def _dpkg(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp | None:
    args = _parse(words, 1, _DPKG)
    if "--install" in args.flags:
        action = "install"
    elif "--remove" in args.flags or "--purge" in args.flags:
        action = "remove"
    else:
        return None
    return _make(cmd, "dpkg", action, action, args, words, args.positional, _plain_package, env)


def _pip(
    cmd: Command, words: list[ShellWord], start: int, manager: str, env: dict[str, str],
    spec: _Spec = _PIP, prefix: str = "",
) -> PackageOp:  # fmt: skip
    args = _parse(words, start, spec)
    sub, rest = _first_positional(args, words)
    action = _PIP_ACTIONS.get(sub, "other")
    if sub == "cache" and rest and words[rest[0]].value not in ("purge", "remove"):
        action = "query"
    pkgs: list[int] = []
    if action in ("install", "remove", "download", "build"):
        pkgs = rest
    elif action == "sync":
        # `uv pip sync requirements.txt`: the positional arguments are requirement files
        args.options.setdefault("--requirement", []).extend(words[i].value for i in rest)
    return _make(cmd, manager, action, prefix + sub, args, words, pkgs, _python_package, env)


def _uv(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _UV)
    sub, rest = _first_positional(args, words)
    if sub == "pip" and rest:
        op = _pip(cmd, words, rest[0], "uv", env, _UV, "pip ")
        op.flags = op.flags | frozenset(args.flags)
        for k, v in args.options.items():
            op.options.setdefault(k, []).extend(x for x in v if x not in op.options.get(k, []))
        return op
    if sub == "tool" and rest:
        inner = words[rest[0]].value
        action = {"install": "install", "upgrade": "upgrade", "uninstall": "remove"}.get(
            inner, "run" if inner == "run" else "other"
        )
        pkgs = rest[1:] if action != "run" else []
        return _make(cmd, "uv", action, f"tool {inner}", args, words, pkgs, _python_package, env)
    action = _UV_ACTIONS.get(sub, "other")
    if sub == "cache" and rest and words[rest[0]].value not in ("clean", "prune"):
        action = "query"
    pkgs = rest if action in ("add", "remove") else []
    return _make(cmd, "uv", action, sub, args, words, pkgs, _python_package, env)


def _pipx(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _PIP | _spec("--pip-args=\n--include-deps\n--suffix=\n--force -f"))
    sub, rest = _first_positional(args, words)
    action = {"install": "install", "uninstall": "remove", "upgrade": "upgrade",
              "inject": "install", "run": "run", "list": "query"}.get(sub, "other")  # fmt: skip
    pkgs = rest if action in ("install", "remove", "upgrade") else []
    return _make(cmd, "pipx", action, sub, args, words, pkgs, _python_package, env)


def _poetry(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _POETRY)
    sub, rest = _first_positional(args, words)
    action = _POETRY_ACTIONS.get(sub, "other")
    if sub == "self" and rest:
        sub = f"self {words[rest[0]].value}"
        rest = rest[1:]
    if "--sync" in args.flags and action == "install":
        action = "sync"
    pkgs = rest if action in ("add", "remove") or sub == "self add" else []
    return _make(cmd, "poetry", action, sub, args, words, pkgs, _python_package, env)


def _pipenv(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _PIPENV)
    sub, rest = _first_positional(args, words)
    action = _PIPENV_ACTIONS.get(sub, "other")
    pkgs = rest if action in ("install", "remove") else []
    if sub == "install" and not pkgs and "--dev" not in args.flags:
        pass  # installs from Pipfile(.lock): nothing named
    return _make(cmd, "pipenv", action, sub, args, words, pkgs, _python_package, env)


def _conda(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _CONDA)
    sub, rest = _first_positional(args, words)
    action = _CONDA_ACTIONS.get(sub, "other")
    if sub == "env" and rest:
        inner = words[rest[0]].value
        sub = f"env {inner}"
        rest = rest[1:]
        action = _CONDA_ENV_ACTIONS.get(inner, "other")
        if not args.options.get("--file") and rest and inner in ("create", "update"):
            # `conda env create environment.yml` (mamba/micromamba accept a positional file)
            args.options["--file"] = [words[rest[0]].value]
            rest = rest[1:]
        rest = []
    if sub == "clean":
        rest = []
    pkgs = rest if action in ("install", "remove", "upgrade") else []
    return _make(cmd, name, action, sub, args, words, pkgs, _conda_package, env)


_CONDA_ENV_ACTIONS = {
    "create": "install",
    "update": "upgrade",
    "remove": "remove",
    "export": "export",
    "list": "query",
    "config": "config",
}


def _npm(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _NPM)
    sub, rest = _first_positional(args, words)
    if name == "yarn":
        if not sub:
            sub, action = "", "install"
        elif sub == "global" and rest:
            inner = words[rest[0]].value
            args.flags.add("--global")
            sub = f"global {inner}"
            action = _NPM_ACTIONS.get(inner, "other")
            rest = rest[1:]
        else:
            # anything yarn does not know is a package.json script: `yarn build`
            action = _NPM_ACTIONS.get(sub, "run")
            action = "run" if action == "build" else action
    else:
        action = _NPM_ACTIONS.get(sub, "other")
    if sub in ("cache", "store") and rest:
        inner = words[rest[0]].value
        sub = f"{sub} {inner}"
        action = "clean" if inner in ("clean", "prune") else "query"
        rest = []
    if sub == "add":
        action = "add"
    if name == "pnpm" and "--prod" in args.flags:
        args.flags.add("--production")
    pkgs = rest if action in ("install", "add", "remove", "upgrade") else []
    return _make(cmd, name, action, sub, args, words, pkgs, _npm_package, env)


def _gem(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp:
    args = _parse(words, 1, _GEM)
    sub, rest = _first_positional(args, words)
    manager = "gem" if name == "gem" else "bundler"
    action = _GEM_ACTIONS.get(sub, "other")
    if manager == "bundler":
        if not sub:
            sub, action = "", "install"
        action = {"install": "install", "update": "upgrade", "config": "config", "exec": "run",
                  "clean": "clean", "lock": "lock", "add": "add", "remove": "remove",
                  "package": "download", "cache": "download"}.get(sub, "other")  # fmt: skip
        rest = rest if action in ("add", "remove") else []
    pkgs = rest if action in ("install", "remove", "upgrade", "add") else []
    op = _make(cmd, manager, action, sub, args, words, pkgs, _gem_package, env)
    version = args.options.get("--version")
    if manager == "gem" and version and len(op.packages) == 1:
        p = op.packages[0]
        exact = version[0] if re.fullmatch(r"=?\s*[\d.]+\w*", version[0]) else None
        op.packages = [
            Package(p.name, exact and exact.lstrip("= "), version[0], p.raw, p.kind, p.word)
        ]
    return op


_GO_ACTIONS = {
    "install": "install",
    "get": "install",
    "build": "build",
    "run": "run",
    "generate": "other",
    "test": "run",
}


def _go(cmd: Command, words: list[ShellWord], name: str, env: dict[str, str]) -> PackageOp | None:
    args = _parse(words, 1, _GO, go_style=True)
    sub, rest = _first_positional(args, words)
    if sub == "mod" and rest:
        inner = words[rest[0]].value
        mod_action = "download" if inner in ("download", "vendor") else "other"
        return _make(cmd, "go", mod_action, f"mod {inner}", args, words, [], _go_package, env)
    action = _GO_ACTIONS.get(sub)
    if action is None:
        return None
    pkgs = rest if action == "install" else []
    return _make(cmd, "go", action, sub, args, words, pkgs, _go_package, env)


_MANAGERS = {
    "apt-get": _apt,
    "apt": _apt,
    "aptitude": _apt,
    "apk": _apk,
    "dnf": _rpm_like,
    "yum": _rpm_like,
    "microdnf": _rpm_like,
    "tdnf": _rpm_like,
    "dnf5": _rpm_like,
    "zypper": _rpm_like,
    "dpkg": _dpkg,
    "uv": _uv,
    "pipx": _pipx,
    "poetry": _poetry,
    "pipenv": _pipenv,
    "conda": _conda,
    "mamba": _conda,
    "micromamba": _conda,
    "npm": _npm,
    "yarn": _npm,
    "pnpm": _npm,
    "gem": _gem,
    "bundle": _gem,
    "bundler": _gem,
    "go": _go,
}
