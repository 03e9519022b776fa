"""What the final filesystem holds that a production image should not: compilers and build
tools, package-manager caches, bytecode, `.git` directories, test folders, secret-looking files,
world-writable files, setuid binaries, and a root user.

Secrets are reported by path and kind only; their content is read (a few KB, to tell a private
key from a certificate) but never copied into a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from layerwise.image.fs import FileSystem, Node, subtree_totals
from layerwise.image.layer import DIR, FILE, HARDLINK_KIND, SYMLINK_KIND
from layerwise.image.packages import DebianPackage, is_build_package

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass
class Finding:
    id: str  # stable key, e.g. "build-tool:gcc" or "secret:app/.env", to compare two images
    kind: str  # build-tool | dev-package | headers | package-cache | bytecode | git | tests |
    # secret | world-writable | setuid | user
    severity: str
    title: str
    path: str | None = None  # absolute path in the image
    size: int = 0
    count: int = 1
    layer: int | None = None  # index of the layer that last wrote `path`
    # More of what it found, largest first: paths, or package names for dev-packages.
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "path": self.path,
            "size": self.size,
            "count": self.count,
            "layer": self.layer,
            "examples": self.examples,
        }


BIN_DIRS = ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin")
_TOOL = re.compile(
    r"^(?:[a-z0-9_]+-linux-gnu[a-z]*-)?"
    r"(gcc|g\+\+|cc|c\+\+|cpp|clang|clang\+\+|ld|ld\.bfd|ld\.gold|make|gmake|cmake|ninja|"
    r"gfortran|autoconf|automake|libtool|pkg-config|rustc|cargo)"
    r"(?:-\d+(?:\.\d+)*)?$"
)
_COMPILER_PARTS = re.compile(
    r"^usr/(?:local/)?lib(?:exec)?/gcc/[^/]+/[^/]+/(cc1|cc1plus|lto1|collect2)$"
)
HEADER_DIRS = ("usr/include/", "usr/local/include/")
CACHE_DIRS = {
    "var/lib/apt/lists": "apt package lists",
    "var/cache/apt": "apt package cache",
    "var/cache/apk": "apk package cache",
    "var/cache/yum": "yum package cache",
    "var/cache/dnf": "dnf package cache",
}
HOME_CACHES = {
    ".cache/pip": "pip cache",
    ".cache/uv": "uv cache",
    ".cache/pypoetry": "Poetry cache",
    ".cache/yarn": "yarn cache",
    ".npm": "npm cache",
    ".cache/go-build": "Go build cache",
    ".cargo/registry": "Cargo registry cache",
}
TEST_DIRS = frozenset({"test", "tests", "testing"})

_SSH_KEYS = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
)
_ENV_OK = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"})
_CREDENTIAL_FILES = {
    ".aws/credentials": "AWS credentials file",
    ".config/gcloud/application_default_credentials.json": "Google Cloud credentials",
    ".config/gcloud/credentials.db": "Google Cloud credentials",
    ".config/gcloud/access_tokens.db": "Google Cloud access tokens",
    ".azure/accessTokens.json": "Azure access tokens",
    ".azure/msal_token_cache.json": "Azure token cache",
    ".docker/config.json": "Docker registry credentials",
    ".kube/config": "Kubernetes credentials",
    ".git-credentials": "git credentials",
    ".netrc": "netrc credentials",
    ".pypirc": "PyPI upload credentials",
    ".npmrc": "npm token",
}
_KEY_SUFFIXES = (".pem", ".key", ".p8", ".ppk", ".asc", ".gpg")
_KEYSTORE_SUFFIXES = {
    ".p12": "PKCS#12 keystore",
    ".pfx": "PKCS#12 keystore",
    ".jks": "Java keystore",
}
_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Where installed software ships its own fixtures (test keys and the like).
_PACKAGED = ("usr/lib/", "usr/share/", "usr/local/lib/", "opt/conda/")


_CANDIDATE_SUFFIXES = _KEY_SUFFIXES + tuple(_KEYSTORE_SUFFIXES)
_CREDENTIAL_BASENAMES = frozenset(s.rpartition("/")[2] for s in _CREDENTIAL_FILES)


def _is_secret_candidate(path: str) -> bool:
    base = path.rpartition("/")[2]
    if base.endswith(_CANDIDATE_SUFFIXES) or base in _SSH_KEYS or base.startswith(".env"):
        return base == ".env" or not base.startswith(".env") or base.startswith(".env.")
    if base in _CREDENTIAL_BASENAMES:
        return any(path.endswith(suffix) for suffix in _CREDENTIAL_FILES)
    return "credential" in base.lower() and base.endswith(".json")


def wants_content(path: str) -> int | None:
    """Capture policy for the findings: a few KB of files that may hold secrets."""
    if path in ("etc/passwd", "etc/group"):
        return 1 << 20
    if _is_secret_candidate(path) and not path.startswith("etc/ssl/certs/"):
        return 16 << 10
    return None


def _secret_kind(path: str, content: bytes | None) -> str | None:
    base = path.rpartition("/")[2]
    if base in _SSH_KEYS:
        return "SSH private key"
    if base == ".env" or (base.startswith(".env.") and base not in _ENV_OK):
        return ".env file"
    for suffix, kind in _CREDENTIAL_FILES.items():
        if path.endswith(suffix):
            if suffix == ".docker/config.json" and content is not None and b'"auth' not in content:
                return None
            if suffix == ".npmrc" and content is not None and b"_auth" not in content:
                return None
            if suffix == ".pypirc" and content is not None and b"password" not in content:
                return None
            return kind
    for suffix, kind in _KEYSTORE_SUFFIXES.items():
        if base.endswith(suffix):
            return kind
    if content is not None and _PRIVATE_KEY.search(content):
        return "private key"
    if (
        "credential" in base.lower()
        and base.endswith(".json")
        and content is not None
        and b'"private_key"' in content
    ):
        return "cloud service-account key"
    return None


@dataclass
class _Aggregate:
    kind: str
    severity: str
    title: str
    size: int = 0
    count: int = 0
    examples: list[tuple[int, str, int]] = field(default_factory=list)  # (size, path, layer)

    def add(self, path: str, size: int, layer: int) -> None:
        self.size += size
        self.count += 1
        self.examples.append((size, path, layer))
        if len(self.examples) > 64:
            self.examples.sort(key=lambda e: (-e[0], e[1]))
            del self.examples[10:]

    def finding(self, key: str) -> Finding:
        self.examples.sort(key=lambda e: (-e[0], e[1]))
        top = self.examples[0] if self.examples else (0, None, None)
        return Finding(
            id=key,
            kind=self.kind,
            severity=self.severity,
            title=self.title,
            path="/" + top[1] if top[1] else None,
            size=self.size,
            count=self.count,
            layer=top[2],
            examples=["/" + e[1] for e in self.examples[:10]],
        )


def _user_finding(fs: FileSystem, config: dict[str, Any]) -> tuple[str, Finding | None]:
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    user = str((inner or {}).get("User") or "")
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        return user or "root", Finding(
            id="user:root",
            kind="user",
            severity=WARNING,
            title="the image runs as root (no USER, or USER root)",
        )
    if not name.isdigit():
        passwd = fs.content("etc/passwd")
        if passwd is not None:
            users = {
                line.split(":", 1)[0]
                for line in passwd.decode("utf-8", "replace").splitlines()
                if ":" in line
            }
            if name not in users:
                return user, Finding(
                    id=f"user:{name}",
                    kind="user",
                    severity=ERROR,
                    title=f"USER {name} is not in /etc/passwd: containers will fail to start",
                    path="/etc/passwd",
                )
    return user, None


def find_problems(
    fs: FileSystem, config: dict[str, Any], packages: list[DebianPackage]
) -> tuple[list[Finding], str]:
    """The findings in the final filesystem, and the user the image runs as."""
    findings: list[Finding] = []
    tools: dict[str, _Aggregate] = {}
    headers = _Aggregate("headers", WARNING, "C/C++ headers (only needed to compile)")
    bytecode = _Aggregate("bytecode", INFO, "Python bytecode (.pyc) files")
    tests = _Aggregate("tests", INFO, "test folders")
    writable = _Aggregate("world-writable", WARNING, "world-writable files or directories")
    setuid = _Aggregate("setuid", INFO, "setuid/setgid executables")
    test_roots: set[str] = set()
    for path, node in fs.walk():
        base = path.rpartition("/")[2]
        kind = node.kind
        if kind == DIR:
            _check_dir(fs, path, base, node, findings, tests, test_roots)
            if node.mode & 0o002 and not node.mode & 0o1000:
                writable.add(path, 0, node.layer)
            continue
        if kind == SYMLINK_KIND:
            continue
        size = node.size if kind == FILE else 0
        if kind in (FILE, HARDLINK_KIND):
            head = path.rpartition("/")[0]
            if head in BIN_DIRS:
                match = _TOOL.match(base)
                if match:
                    tool = match.group(1)
                    tools.setdefault(
                        tool, _Aggregate("build-tool", WARNING, f"build tool `{tool}`")
                    ).add(path, size, node.layer)
            match = _COMPILER_PARTS.match(path) if "/gcc/" in path else None
            if match:
                part = match.group(1)
                tools.setdefault(
                    part, _Aggregate("build-tool", WARNING, f"compiler internals `{part}`")
                ).add(path, size, node.layer)
            if path.startswith(HEADER_DIRS):
                headers.add(path, size, node.layer)
            if base.endswith((".pyc", ".pyo")):
                bytecode.add(path, size, node.layer)
            if node.mode & 0o6000 and node.mode & 0o111:
                setuid.add(path, size, node.layer)
            if node.mode & 0o002:
                writable.add(path, size, node.layer)
            if _is_secret_candidate(path):
                secret = _secret_kind(path, fs.content(path))
                if secret:
                    packaged = path.startswith(_PACKAGED) or "-packages/" in path
                    findings.append(
                        Finding(
                            id=f"secret:{path}",
                            kind="secret",
                            severity=WARNING if packaged else ERROR,
                            title=secret
                            + (" (shipped inside an installed package)" if packaged else ""),
                            path="/" + path,
                            size=size,
                            layer=node.layer,
                        )
                    )
    for tool, agg in sorted(tools.items()):
        findings.append(agg.finding(f"build-tool:{tool}"))
    dev = [p for p in packages if is_build_package(p.name)]
    if dev:
        dev.sort(key=lambda p: (-p.bytes, p.name))
        findings.append(
            Finding(
                id="dev-packages",
                kind="dev-package",
                severity=WARNING,
                title="build-only Debian packages: "
                + ", ".join(p.name for p in dev[:8])
                + (f" and {len(dev) - 8} more" if len(dev) > 8 else ""),
                size=sum(p.bytes for p in dev),
                count=len(dev),
                examples=[p.name for p in dev],
            )
        )
    for agg, key in (
        (headers, "headers"),
        (bytecode, "bytecode"),
        (tests, "tests"),
        (writable, "world-writable"),
        (setuid, "setuid"),
    ):
        if agg.count:
            findings.append(agg.finding(key))
    user, user_finding = _user_finding(fs, config)
    if user_finding:
        findings.append(user_finding)
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    findings.sort(key=lambda f: (order[f.severity], f.kind, -f.size, f.id))
    return findings, user


def _check_dir(
    fs: FileSystem,
    path: str,
    base: str,
    node: Node,
    findings: list[Finding],
    tests: _Aggregate,
    test_roots: set[str],
) -> None:
    if base == ".git":
        files, size = subtree_totals(node)
        findings.append(
            Finding(
                id=f"git:{path}",
                kind="git",
                severity=WARNING,
                title="a .git directory (history and objects the app never reads)",
                path="/" + path,
                size=size,
                count=files,
                layer=node.layer,
            )
        )
        return
    cache = CACHE_DIRS.get(path)
    if cache is None:
        for suffix, what in HOME_CACHES.items():
            if path.endswith("/" + suffix) or path == suffix:
                cache = what
                break
    if cache is not None:
        files, size = subtree_totals(node)
        if size:
            findings.append(
                Finding(
                    id=f"package-cache:{path}",
                    kind="package-cache",
                    severity=WARNING,
                    title=cache,
                    path="/" + path,
                    size=size,
                    count=files,
                    layer=node.layer,
                )
            )
        return
    if base in TEST_DIRS:
        head = path.rpartition("/")[0]
        while head:
            if head in test_roots:
                return  # inside a test folder already counted
            head = head.rpartition("/")[0]
        files, size = subtree_totals(node)
        test_roots.add(path)
        tests.size += size
        tests.count += 1
        tests.examples.append((size, path, node.layer))
        if len(tests.examples) > 64:
            tests.examples.sort(key=lambda e: (-e[0], e[1]))
            del tests.examples[10:]
