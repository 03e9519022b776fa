"""Secret-looking files in a build context, found by name and by content signature.

A secret sent in the context can end up in an image layer (`COPY . .`) or in the build cache.
Findings carry the path, the kind, and for a content match the line number: never the value, and
nothing derived from it. Content is scanned only in files small enough to be credentials
(`MAX_SCAN_BYTES`) and not in binary files. Nothing inside directories that are junk anyway
(`.git`, `node_modules`, virtual environments) is reported: the junk line drops it all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from layerwise.context.walk import ContextSnapshot

MAX_SCAN_BYTES = 256 * 1024
_HEAD = 64 * 1024  # a signature is looked for in the first 64 KiB only

# Names that hold secrets whatever their content: kind, and the .dockerignore line that drops them.
_BASENAMES: dict[str, tuple[str, str]] = {
    ".env": ("dotenv", "**/.env"),
    "id_rsa": ("private-key", "**/id_rsa"),
    "id_dsa": ("private-key", "**/id_dsa"),
    "id_ecdsa": ("private-key", "**/id_ecdsa"),
    "id_ed25519": ("private-key", "**/id_ed25519"),
    "kubeconfig": ("kubeconfig", "**/kubeconfig"),
    ".npmrc": ("package-credentials", "**/.npmrc"),
    ".pypirc": ("package-credentials", "**/.pypirc"),
    ".netrc": ("netrc", "**/.netrc"),
    ".git-credentials": ("git-credentials", "**/.git-credentials"),
    ".htpasswd": ("htpasswd", "**/.htpasswd"),
    "application_default_credentials.json": (
        "cloud-credentials",
        "**/application_default_credentials.json",
    ),
}
_EXTENSIONS: dict[str, tuple[str, str]] = {
    ".env": ("dotenv", "**/*.env"),
    ".pem": ("private-key", "**/*.pem"),
    ".key": ("private-key", "**/*.key"),
    ".p12": ("keystore", "**/*.p12"),
    ".pfx": ("keystore", "**/*.pfx"),
    ".jks": ("keystore", "**/*.jks"),
    ".keystore": ("keystore", "**/*.keystore"),
    ".tfstate": ("terraform-state", "**/*.tfstate"),
    ".tfvars": ("terraform-vars", "**/*.tfvars"),
}
_PATH_SUFFIXES: dict[str, tuple[str, str]] = {
    ".aws/credentials": ("cloud-credentials", "**/.aws/credentials"),
    ".kube/config": ("kubeconfig", "**/.kube/config"),
    ".docker/config.json": ("registry-credentials", "**/.docker/config.json"),
    "gcloud/credentials.db": ("cloud-credentials", "**/gcloud/credentials.db"),
    ".tfstate.backup": ("terraform-state", "**/*.tfstate.backup"),
}
_DIRS: dict[str, tuple[str, str]] = {".azure": ("cloud-credentials", "**/.azure")}

# Names that look like secrets but are templates by convention.
_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults")
_PUBLIC = (".pub", ".pub.pem")

CONTENT_SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("private-key", rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY"),
    ("aws-access-key", rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("aws-secret-key", rb"(?i:aws_secret_access_key)\s*[=:]"),
    ("gcp-service-account", rb'"type"\s*:\s*"service_account"'),
    ("github-token", rb"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,})\b"),
    ("gitlab-token", rb"\bglpat-[A-Za-z0-9_-]{20}\b"),
    ("slack-token", rb"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("google-api-key", rb"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("stripe-key", rb"\b[sr]k_live_[0-9A-Za-z]{20,}"),
    ("npm-token", rb"_authToken\s*=\s*\S"),
    ("pypi-token", rb"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
)
# Cheap literal anchors of the signatures above: most files have none, and this finds that out
# five times faster than the full expression.
_PREFILTER = re.compile(
    rb"-----BEGIN|AKIA|ASIA|(?i:aws_secret)|service_account|gh[pousr]_|github_pat_|glpat-|xox"
    rb"|AIza|[sr]k_live_|_authToken|pypi-"
)
_SIGNATURE = re.compile(
    b"|".join(b"(?P<s%d>%s)" % (i, rx) for i, (_, rx) in enumerate(CONTENT_SIGNATURES))
)

# Directories whose content is not scanned (they are reported as junk instead).
_SKIP_SCAN_DIRS = frozenset((".git", "node_modules", ".venv", "venv", "site-packages", ".tox"))


@dataclass(frozen=True)
class Secret:
    """A secret-looking file: where and what kind. Never the value."""

    path: str
    kind: str
    line: int | None = None  # for a content match: the line where the signature starts
    by: str = "name"  # "name" or "content"


def name_rule(path: str) -> tuple[str, str] | None:
    """(kind, .dockerignore line) if the file's name or place says it holds a secret."""
    name = path.rpartition("/")[2]
    if _is_template(path):
        return None
    hit = _BASENAMES.get(name)
    if hit is not None:
        return hit
    if name.startswith(".env."):
        return ("dotenv", "**/.env.*")
    for suffix, rule in _PATH_SUFFIXES.items():
        if (
            path == suffix
            or path.endswith("/" + suffix)
            or (suffix.startswith(".") and "/" not in suffix and name.endswith(suffix))
        ):
            return rule
    dot = name.rfind(".")
    if dot > 0:
        hit = _EXTENSIONS.get(name[dot:])
        if hit is not None:
            return hit
    for part in path.split("/")[:-1]:
        hit = _DIRS.get(part)
        if hit is not None:
            return hit
    return None


def _skip_scan(path: str) -> bool:
    return any(part in _SKIP_SCAN_DIRS for part in path.split("/")[:-1])


def _is_template(path: str) -> bool:
    name = path.rpartition("/")[2].lower()
    return name.endswith(_TEMPLATE_SUFFIXES) or name.endswith(_PUBLIC)


def scan_content(data: bytes) -> tuple[str, int] | None:
    """The first signature in `data` (kind, 1-based line), or None. Binary data is skipped."""
    head = data[:_HEAD]
    if b"\0" in head[:8192]:
        return None
    if _PREFILTER.search(head) is None:
        return None
    m = _SIGNATURE.search(head)
    if m is None:
        return None
    assert m.lastgroup is not None
    kind = CONTENT_SIGNATURES[int(m.lastgroup[1:])][0]
    return kind, head.count(b"\n", 0, m.start()) + 1


def find_secrets(
    snapshot: ContextSnapshot, paths: Iterable[str] | None = None, *, content: bool = True
) -> list[Secret]:
    """Secret-looking files among the context's files (or among `paths`), sorted by path."""
    entries = snapshot.entries
    root = str(snapshot.root)
    candidates = sorted(paths) if paths is not None else sorted(entries)
    found: list[Secret] = []
    for path in candidates:
        entry = entries.get(path)
        if entry is None or entry.kind not in ("file", "symlink"):
            continue
        if _skip_scan(path):
            continue  # inside .git, node_modules, a virtualenv: reported (and dropped) as junk
        named = name_rule(path)
        if named is not None:
            found.append(Secret(path, named[0]))
            continue
        if not content or entry.kind != "file" or entry.size == 0 or entry.size > MAX_SCAN_BYTES:
            continue
        try:
            fd = os.open(f"{root}/{path}", os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            data = os.read(fd, _HEAD)
        except OSError:
            continue
        finally:
            os.close(fd)
        hit = scan_content(data)
        if hit is not None:
            found.append(Secret(path, hit[0], hit[1], "content"))
    return found
