"""Python distributions that compile C code when pip installs them, with the Debian bookworm
packages the build needs (builder stage) and the shared libraries the result links against
(runtime stage, from `layerwise.shell.debian`'s `-dev` -> runtime table).

Some distributions have no Linux wheels at all (psycopg2, mysqlclient, python-ldap, ...): they
always compile. Others ship wheels and compile only when told to (`--no-binary`), which is what
"Pillow from source" means here. A few wheels still need a system library at run time
(pyodbc needs unixODBC).
"""

from __future__ import annotations

from dataclasses import dataclass

from layerwise.generate.project import NativeBuild
from layerwise.shell.debian import runtime_packages

_CC = ("gcc", "libc6-dev")


@dataclass(frozen=True)
class _Spec:
    build: tuple[str, ...]
    always: bool  # no wheels: compiles on every install
    extra_runtime: tuple[str, ...] = ()  # runtime packages not derived from a -dev package
    wheel_runtime: tuple[str, ...] = ()  # needed even when a wheel is installed


NATIVE: dict[str, _Spec] = {
    "psycopg2": _Spec((*_CC, "libpq-dev"), always=True),
    "psycopg-c": _Spec((*_CC, "libpq-dev"), always=True),
    "mysqlclient": _Spec((*_CC, "pkg-config", "default-libmysqlclient-dev"), always=True),
    "python-ldap": _Spec((*_CC, "libldap2-dev", "libsasl2-dev"), always=True),
    "pycairo": _Spec((*_CC, "pkg-config", "libcairo2-dev"), always=True),
    "pygobject": _Spec(
        (*_CC, "pkg-config", "libgirepository1.0-dev", "libcairo2-dev"), always=True
    ),
    "uwsgi": _Spec(_CC, always=True),
    "gssapi": _Spec((*_CC, "libkrb5-dev"), always=True),
    "xmlsec": _Spec(
        (*_CC, "pkg-config", "libxmlsec1-dev", "libxml2-dev", "libxslt1-dev"), always=True
    ),
    "lxml": _Spec((*_CC, "libxml2-dev", "libxslt1-dev"), always=False),
    "pillow": _Spec((*_CC, "libjpeg62-turbo-dev", "zlib1g-dev"), always=False),
    "pyodbc": _Spec((*_CC, "g++", "unixodbc-dev"), always=False, wheel_runtime=("libodbc2",)),
    "cffi": _Spec((*_CC, "libffi-dev"), always=False),
    "psycopg2-binary": _Spec((), always=False),
}


def _runtime(build: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for package in build:
        for runtime in runtime_packages(package) or ():
            if runtime not in out:
                out.append(runtime)
    return tuple(out) + tuple(p for p in extra if p not in out)


def native_builds(
    names: frozenset[str], no_binary: frozenset[str]
) -> tuple[tuple[NativeBuild, ...], tuple[str, ...]]:
    """(the dependencies that compile, the runtime libraries needed by wheels that do not)."""
    builds: list[NativeBuild] = []
    wheel_libs: list[str] = []
    everything_from_source = ":all:" in no_binary
    for name in sorted(names):
        spec = NATIVE.get(name)
        if spec is None or not spec.build:
            continue
        forced = everything_from_source or name in no_binary
        if spec.always or forced:
            reason = (
                f"{name} has no Linux wheels: pip compiles it"
                if spec.always
                else f"{name} is built from source (--no-binary)"
            )
            builds.append(
                NativeBuild(
                    name,
                    spec.build,
                    _runtime(spec.build, spec.extra_runtime + spec.wheel_runtime),
                    reason,
                )
            )
        else:
            wheel_libs.extend(p for p in spec.wheel_runtime if p not in wheel_libs)
    return tuple(builds), tuple(wheel_libs)
