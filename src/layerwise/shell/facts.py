"""Facts about a script that many rules ask, computed once from its commands.

Every fact keeps the commands it comes from, so a finding can point at the exact command and
a fix can edit it. Facts describe what the script does, not whether that is good: the rules
decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from layerwise.shell.syntax import Command, ShellWord

if TYPE_CHECKING:
    from layerwise.shell.packages import PackageOp
    from layerwise.shell.syntax import Script

APT_MANAGERS = frozenset({"apt-get", "apt", "aptitude"})
RPM_MANAGERS = frozenset({"dnf", "dnf5", "yum", "microdnf", "tdnf"})
DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c", "http", "https", "xh"})
INTERPRETERS = frozenset(
    {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox", "python", "python2", "python3",
     "perl", "ruby", "node", "php"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RemovedPath:
    """One path argument of `rm` (as written, globs kept)."""

    path: str
    recursive: bool
    command: Command
    word: ShellWord


@dataclass(frozen=True, slots=True)
class DownloadPipe:
    """A download fed straight into an interpreter (`curl ... | sh`, `sh -c "$(curl ...)"`,
    `bash <(wget -O- ...)`)."""

    download: Command
    interpreter: Command


@dataclass(frozen=True, slots=True)
class UserOp:
    """`useradd`/`adduser`/`groupadd`/`addgroup`: who is created, with which ids."""

    kind: str  # the program: useradd, adduser, groupadd, addgroup
    name: str | None
    uid: str | None  # for groupadd/addgroup: the gid
    gid: str | None
    system: bool
    no_log_init: bool  # useradd -l: no huge sparse /var/log/lastlog for a large uid
    create_home: bool | None  # None when the program's default applies
    command: Command


@dataclass(frozen=True, slots=True)
class PathOp:
    """`mkdir`, `chown` or `chmod` on some paths."""

    command: Command
    paths: tuple[str, ...]
    recursive: bool  # -p for mkdir, -R for chown/chmod
    value: str | None  # owner for chown, mode for chmod, None for mkdir


class Facts:
    """What a script does that the rules ask about, computed on first use."""

    def __init__(self, script: Script) -> None:
        self.script = script

    @property
    def commands(self) -> list[Command]:
        return self.script.commands

    @cached_property
    def ops(self) -> list[PackageOp]:
        return self.script.package_ops

    def _ops(self, managers: frozenset[str], *actions: str) -> list[PackageOp]:
        return [
            o for o in self.ops if o.manager in managers and (not actions or o.action in actions)
        ]

    # -- apt

    @cached_property
    def apt_updates(self) -> list[PackageOp]:
        return self._ops(APT_MANAGERS, "update")

    @property
    def runs_apt_update(self) -> bool:
        return bool(self.apt_updates)

    @cached_property
    def apt_installs(self) -> list[PackageOp]:
        return self._ops(APT_MANAGERS, "install", "upgrade")

    @cached_property
    def apt_lists_removed(self) -> bool:
        """`rm -rf /var/lib/apt/lists/*` (or the directory, or a parent of it)."""
        return any(_covers(r.path, "/var/lib/apt/lists") for r in self.removed_paths if r.recursive)

    @cached_property
    def apt_cache_cleaned(self) -> bool:
        """`apt-get clean` or `rm -rf /var/cache/apt/*` (Debian's docker images also clean
        after each install through an apt hook; this fact is only about the script)."""
        if self._ops(APT_MANAGERS, "clean"):
            return True
        return any(_covers(r.path, "/var/cache/apt") for r in self.removed_paths if r.recursive)

    # -- other system package managers

    @cached_property
    def apk_cache_disabled(self) -> bool:
        """Every `apk add` uses `--no-cache`, or the cache is removed (`rm -rf /var/cache/apk/*`,
        `apk cache clean`)."""
        adds = self._ops(frozenset({"apk"}), "install", "upgrade")
        if all("--no-cache" in o.flags for o in adds):
            return True
        if self._ops(frozenset({"apk"}), "clean"):
            return True
        return any(_covers(r.path, "/var/cache/apk") for r in self.removed_paths if r.recursive)

    @cached_property
    def rpm_cache_cleaned(self) -> bool:
        """`dnf/yum/microdnf clean all` or the cache directory removed."""
        for o in self._ops(RPM_MANAGERS | {"zypper"}, "clean"):
            if o.manager == "zypper" or "all" in o.subcommand.split() or "packages" in o.subcommand:
                return True
        return any(
            _covers(r.path, d)
            for r in self.removed_paths
            if r.recursive
            for d in ("/var/cache/yum", "/var/cache/dnf", "/var/cache/zypp", "/var/cache/tdnf")
        )

    # -- pip and friends

    @cached_property
    def pip_cache_purged(self) -> bool:
        """`pip cache purge` or the pip cache directory removed later in the script."""
        if any(o.manager == "pip" and o.action == "clean" for o in self.ops):
            return True
        return any(_is_pip_cache(r.path) for r in self.removed_paths if r.recursive)

    @cached_property
    def pip_installs_keeping_cache(self) -> list[PackageOp]:
        """pip (or pipenv) installs whose download cache stays in the layer: neither
        `--no-cache-dir` nor PIP_NO_CACHE_DIR, nor purged afterwards."""
        if self.pip_cache_purged:
            return []
        return [
            o
            for o in self.ops
            if o.manager in ("pip", "pipenv", "pipx") and o.installs and not o.cache_disabled
        ]

    @property
    def pip_cache_disabled(self) -> bool:
        return not self.pip_installs_keeping_cache

    # -- deleting, downloading

    @cached_property
    def removed_paths(self) -> list[RemovedPath]:
        out: list[RemovedPath] = []
        for cmd in self.commands:
            if cmd.name != "rm":
                continue
            recursive = False
            paths: list[ShellWord] = []
            ended = False
            for w in cmd.words[1:]:
                v = w.value
                if not ended and v == "--":
                    ended = True
                elif not ended and v.startswith("--"):
                    recursive = recursive or v == "--recursive"
                elif not ended and v.startswith("-") and len(v) > 1:
                    recursive = recursive or "r" in v or "R" in v
                else:
                    paths.append(w)
            out.extend(RemovedPath(w.value, recursive, cmd, w) for w in paths)
        return out

    @cached_property
    def download_pipes(self) -> list[DownloadPipe]:
        cmds = self.commands
        out: list[DownloadPipe] = []
        for cmd in cmds:
            if cmd.name not in INTERPRETERS:
                continue
            # piped: walk upstream through `tee`, `cat`, `gunzip`... to a downloader
            src = cmd.pipe_from
            hops = 0
            while src is not None and hops < 5:
                up = cmds[src]
                if up.name in DOWNLOADERS:
                    out.append(DownloadPipe(up, cmd))
                    break
                src = up.pipe_from
                hops += 1
            # `sh -c "$(curl ...)"`, `bash <(curl ...)`: substitutions just before the command
            if src is None or hops >= 5:
                for w in cmd.words[1:]:
                    if w.dynamic and re.search(r"(?:\$\(|<\(|`)\s*(?:curl|wget)\b", w.value):
                        down = _substitution_before(cmds, cmd)
                        if down is not None:
                            out.append(DownloadPipe(down, cmd))
                        break
        return out

    @cached_property
    def wget_without_progress(self) -> list[Command]:
        """`wget` that prints its default progress bar (huge build logs): no `--progress`,
        `-q`/`--quiet`, `-nv`/`--no-verbose`, or `-o`/`-a` log file."""
        out = []
        for cmd in self.named("wget"):
            args = cmd.args
            quiet = any(
                a.startswith(("--progress", "--output-file=", "--append-output="))
                or a in ("--quiet", "--no-verbose", "-nv", "--output-file", "--append-output")
                or (a != "-nv" and bool(_short(a) & set("qoa")))
                for a in args
            )
            if not quiet:
                out.append(cmd)
        return out

    # -- privileges and permissions

    @cached_property
    def sudo(self) -> list[Command]:
        return [c for c in self.commands if "sudo" in c.wrappers or c.name == "sudo"]

    @cached_property
    def chmods(self) -> list[PathOp]:
        out = []
        for cmd in self.named("chmod"):
            mode = None
            recursive = False
            paths: list[str] = []
            for a in cmd.args:
                if a in ("-R", "--recursive") or (a.startswith("-") and "R" in a and len(a) < 6):
                    recursive = True
                elif a.startswith("--"):
                    continue
                elif mode is None and (not a.startswith("-") or _MODE.fullmatch(a)):
                    mode = a
                elif not a.startswith("-"):
                    paths.append(a)
            out.append(PathOp(cmd, tuple(paths), recursive, mode))
        return out

    @cached_property
    def world_writable_chmods(self) -> list[PathOp]:
        """`chmod 777`, `chmod -R a+rwx`, `chmod o+w`: anyone may write."""
        return [op for op in self.chmods if op.value is not None and world_writable(op.value)]

    # -- working directory

    @cached_property
    def cds(self) -> list[Command]:
        return [c for c in self.commands if c.name == "cd"]

    @property
    def first_command_is_cd(self) -> bool:
        top = [c for c in self.commands if not c.substitution]
        return bool(top) and top[0].name == "cd"

    # -- users, directories, ownership

    @cached_property
    def user_ops(self) -> list[UserOp]:
        out = []
        for cmd in self.commands:
            if cmd.name in ("useradd", "adduser", "groupadd", "addgroup"):
                out.append(_user_op(cmd))
        return out

    @cached_property
    def mkdirs(self) -> list[PathOp]:
        out = []
        for cmd in self.named("mkdir"):
            parents = any(a == "--parents" or "p" in _short(a) for a in cmd.args)
            paths = _positional(cmd.args, {"-m", "--mode", "-Z", "--context"})
            out.append(PathOp(cmd, tuple(paths), parents, None))
        return out

    @cached_property
    def chowns(self) -> list[PathOp]:
        out = []
        for cmd in self.named("chown"):
            recursive = any(a == "--recursive" or "R" in _short(a) for a in cmd.args)
            pos = _positional(cmd.args, set())
            owner = pos[0] if pos else None
            out.append(PathOp(cmd, tuple(pos[1:]), recursive, owner))
        return out

    # -- pipes

    @cached_property
    def unprotected_pipes(self) -> list[Command]:
        """Commands piped into another while pipefail is off: a failure on the left of `|`
        is hidden (`curl ... | tar x` succeeds when curl fails)."""
        return [c for c in self.commands if c.pipe_to is not None and not c.pipefail]

    def named(self, *names: str) -> list[Command]:
        return self.script.named(*names)


# -- helpers ---------------------------------------------------------------------------------------

_MODE = re.compile(r"[0-7]{3,4}|[ugoa]*[-+=][rwxXstugo]*(?:,[ugoa]*[-+=][rwxXstugo]*)*")


def world_writable(mode: str) -> bool:
    """Whether a chmod mode gives write permission to others (`777`, `o+w`, `a+rwx`, `+w`
    is not: it respects the umask)."""
    if re.fullmatch(r"[0-7]{3,4}", mode):
        return int(mode[-1]) & 2 == 2
    for clause in mode.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXstugo]*)", clause)
        if m is None:
            continue
        who, op, perms = m.groups()
        if op in "+=" and "w" in perms and ("o" in who or "a" in who):
            return True
    return False


def _short(arg: str) -> set[str]:
    """The letters of a bundle of short options (`-rf` -> {r, f}); empty for anything else."""
    if len(arg) < 2 or arg[0] != "-" or arg[1] == "-":
        return set()
    return set(arg[1:])


def _covers(path: str, directory: str) -> bool:
    """Whether removing `path` removes the contents of `directory`."""
    p = path.rstrip("/")
    if p.endswith(("/*", "/**")):
        p = p.rsplit("/", 1)[0]
    if p == directory:
        return True
    return bool(p) and directory.startswith(p + "/") and "*" not in p


def _is_pip_cache(path: str) -> bool:
    p = path.rstrip("/").removesuffix("/*")
    return p in ("~/.cache/pip", "/root/.cache/pip", "$HOME/.cache/pip", "${HOME}/.cache/pip",
                 "~/.cache", "/root/.cache", "$HOME/.cache", "${HOME}/.cache") or p.endswith(
        "/.cache/pip"
    )  # fmt: skip


def _substitution_before(cmds: list[Command], cmd: Command) -> Command | None:
    i = cmd.index - 1
    while i >= 0 and cmds[i].substitution and cmds[i].end <= cmd.end:
        if cmds[i].name in DOWNLOADERS:
            return cmds[i]
        i -= 1
    return None


def _positional(args: list[str], valued: set[str]) -> list[str]:
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in valued:
            skip = True
            continue
        if a.startswith("-") and len(a) > 1:
            continue
        out.append(a)
    return out


_USERADD_VALUED = {
    "-u": "uid", "--uid": "uid", "-g": "gid", "--gid": "gid", "-G": None, "--groups": None,
    "-s": None, "--shell": None, "-d": None, "--home-dir": None, "--home": None,
    "-c": None, "--comment": None, "--gecos": None, "-k": None, "--skel": None, "-K": None,
    "--key": None, "-e": None, "--expiredate": None, "-f": None, "--inactive": None,
    "-p": None, "--password": None, "-b": None, "--base-dir": None, "-Z": None,
    "--selinux-user": None, "--ingroup": None, "-h": None, "--firstuid": None,
    "--lastuid": None, "--firstgid": None, "--lastgid": None, "--conf": None,
    "--extrausers": None, "--comment=": None, "--add_extra_groups": None,
}  # fmt: skip


def _user_op(cmd: Command) -> UserOp:
    kind = cmd.name
    busybox_style = kind in ("adduser", "addgroup") and any(
        bool(_short(a)) and _short(a) <= set("SDH") for a in cmd.args
    )
    uid = gid = None
    system = no_log_init = False
    create_home: bool | None = None
    names: list[str] = []
    args = cmd.args
    i = 0
    while i < len(args):
        a = args[i]
        key, eq, val = a.partition("=")
        if busybox_style and kind in ("adduser", "addgroup"):
            valued = {"-u": "uid", "-G": None, "-g": "gecos", "-h": None, "-s": None, "-k": None}
            if kind == "addgroup":
                valued = {"-g": "gid"}
        else:
            valued = _USERADD_VALUED
        if key in valued or (len(a) > 2 and a[:2] in valued and not a.startswith("--")):
            if key in valued:
                target = valued[key]
                value = val if eq else (args[i + 1] if i + 1 < len(args) else None)
                i += 1 if eq else 2
            else:
                target = valued[a[:2]]
                value = a[2:]
                i += 1
            if target == "uid":
                if kind in ("groupadd", "addgroup"):
                    gid = value
                else:
                    uid = value
            elif target == "gid":
                gid = value
            continue
        if a in ("-r", "--system", "-S"):
            system = True
        elif a in ("-l", "--no-log-init"):
            no_log_init = True
        elif a in ("-m", "--create-home"):
            create_home = True
        elif a in ("-M", "--no-create-home", "-H"):
            create_home = False
        elif a.startswith("-") and not a.startswith("--") and len(a) > 2 and kind == "useradd":
            # bundled short flags such as -rm, -lm
            flags = set(a[1:])
            system = system or "r" in flags
            no_log_init = no_log_init or "l" in flags
            if "m" in flags:
                create_home = True
            if "M" in flags:
                create_home = False
        elif busybox_style and a.startswith("-") and not a.startswith("--"):
            flags = set(a[1:])
            system = system or "S" in flags
            if "H" in flags:
                create_home = False
        elif not a.startswith("-"):
            names.append(a)
        i += 1
    name = names[0] if names else None
    return UserOp(kind, name, uid, gid, system, no_log_init, create_home, cmd)
