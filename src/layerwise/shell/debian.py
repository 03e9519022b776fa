"""Debian 12 (bookworm) package facts: which runtime library a `-dev` package builds against,
and which packages are build tools with no use at run time.

A multi-stage rewrite installs the `-dev` packages in the builder stage and only the runtime
libraries in the final stage; this table says which those are. Every entry is checked against
the real bookworm package metadata (`apt-cache depends`) in tests/integration/test_shell_docker.py:
the runtime package exists and is a dependency (direct or through one `-dev` hop) of the `-dev`
package. Names change between Debian releases (bookworm's `libssl3` is trixie's `libssl3t64`),
so the table is for bookworm-based images (python:3.x-bookworm, -slim) only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

RELEASE = "bookworm"

# -dev package -> the runtime packages a program built against it needs
_RUNTIME: dict[str, tuple[str, ...]] = {
    "libpq-dev": ("libpq5",),
    "libjpeg-dev": ("libjpeg62-turbo",),
    "libjpeg62-turbo-dev": ("libjpeg62-turbo",),
    "libxml2-dev": ("libxml2",),
    "libxslt1-dev": ("libxslt1.1",),
    "libffi-dev": ("libffi8",),
    "libssl-dev": ("libssl3",),
    "default-libmysqlclient-dev": ("libmariadb3",),
    "libmariadb-dev": ("libmariadb3",),
    "libmariadb-dev-compat": ("libmariadb3",),
    "zlib1g-dev": ("zlib1g",),
    "libpng-dev": ("libpng16-16",),
    "libfreetype-dev": ("libfreetype6",),
    "libfreetype6-dev": ("libfreetype6",),
    "libtiff-dev": ("libtiff6",),
    "libtiff5-dev": ("libtiff6",),
    "libwebp-dev": ("libwebp7", "libwebpmux3", "libwebpdemux2"),
    "liblcms2-dev": ("liblcms2-2",),
    "libopenjp2-7-dev": ("libopenjp2-7",),
    "libgeos-dev": ("libgeos-c1v5",),
    "libproj-dev": ("libproj25",),
    "libgdal-dev": ("libgdal32",),
    "libsqlite3-dev": ("libsqlite3-0",),
    "libbz2-dev": ("libbz2-1.0",),
    "liblzma-dev": ("liblzma5",),
    "libreadline-dev": ("libreadline8",),
    "libncurses-dev": ("libncursesw6", "libtinfo6"),
    "libncurses5-dev": ("libncursesw6", "libtinfo6"),
    "libncursesw5-dev": ("libncursesw6", "libtinfo6"),
    "libgdbm-dev": ("libgdbm6",),
    "libdb-dev": ("libdb5.3",),
    "libexpat1-dev": ("libexpat1",),
    "libyaml-dev": ("libyaml-0-2",),
    "libcurl4-openssl-dev": ("libcurl4",),
    "libsasl2-dev": ("libsasl2-2",),
    "libldap2-dev": ("libldap-2.5-0",),
    "libldap-dev": ("libldap-2.5-0",),
    "libkrb5-dev": ("libkrb5-3", "libgssapi-krb5-2"),
    "libsnappy-dev": ("libsnappy1v5",),
    "libzstd-dev": ("libzstd1",),
    "liblz4-dev": ("liblz4-1",),
    "libmagic-dev": ("libmagic1",),
    "libcairo2-dev": ("libcairo2",),
    "libpango1.0-dev": ("libpango-1.0-0",),
    "libgirepository1.0-dev": ("libgirepository-1.0-1",),
    "libglib2.0-dev": ("libglib2.0-0",),
    "libdbus-1-dev": ("libdbus-1-3",),
    "libsystemd-dev": ("libsystemd0",),
    "libudev-dev": ("libudev1",),
    "libusb-1.0-0-dev": ("libusb-1.0-0",),
    "libhdf5-dev": ("libhdf5-103-1",),
    "libopenblas-dev": ("libopenblas0",),
    "libblas-dev": ("libblas3",),
    "liblapack-dev": ("liblapack3",),
    "libgmp-dev": ("libgmp10",),
    "libmpfr-dev": ("libmpfr6",),
    "libpcre3-dev": ("libpcre3",),
    "libpcre2-dev": ("libpcre2-8-0",),
    "libevent-dev": ("libevent-2.1-7",),
    "uuid-dev": ("libuuid1",),
    "libacl1-dev": ("libacl1",),
    "libcap-dev": ("libcap2",),
    "libseccomp-dev": ("libseccomp2",),
    "libgpgme-dev": ("libgpgme11",),
    "libgcrypt20-dev": ("libgcrypt20",),
    "libgpg-error-dev": ("libgpg-error0",),
    "unixodbc-dev": ("libodbc2",),
    "freetds-dev": ("libsybdb5",),
    "libmemcached-dev": ("libmemcached11",),
    "libzmq3-dev": ("libzmq5",),
    "libsodium-dev": ("libsodium23",),
    "libargon2-dev": ("libargon2-1",),
    "libonig-dev": ("libonig5",),
    "libzip-dev": ("libzip4",),
    "libicu-dev": ("libicu72",),
    "libxmlsec1-dev": ("libxmlsec1", "libxmlsec1-openssl"),
    "libharfbuzz-dev": ("libharfbuzz0b",),
    "libfribidi-dev": ("libfribidi0",),
    "libxext-dev": ("libxext6",),
    "libxrender-dev": ("libxrender1",),
    "libsm-dev": ("libsm6",),
    "libx11-dev": ("libx11-6",),
    "libxcb1-dev": ("libxcb1",),
    "libgl-dev": ("libgl1",),
    "libssh2-1-dev": ("libssh2-1",),
    "libnss3-dev": ("libnss3",),
    "libpam0g-dev": ("libpam0g",),
    "libedit-dev": ("libedit2",),
    "libbsd-dev": ("libbsd0",),
    "libltdl-dev": ("libltdl7",),
    "libaio-dev": ("libaio1",),
    "libnuma-dev": ("libnuma1",),
    "libprotobuf-dev": ("libprotobuf32",),
    "libre2-dev": ("libre2-9",),
    "libspatialindex-dev": ("libspatialindex6",),
    "libavcodec-dev": ("libavcodec59",),
    "libavformat-dev": ("libavformat59",),
    "libswscale-dev": ("libswscale6",),
    "libavutil-dev": ("libavutil57",),
    "tk-dev": ("libtk8.6",),
    "tcl-dev": ("libtcl8.6",),
}

RUNTIME: Mapping[str, tuple[str, ...]] = MappingProxyType(_RUNTIME)

# Packages only needed to build: compilers, headers, build systems, VCS clients.
BUILD_ONLY: frozenset[str] = frozenset(
    {
        "build-essential",
        "gcc",
        "g++",
        "cpp",
        "gfortran",
        "clang",
        "llvm",
        "make",
        "cmake",
        "ninja-build",
        "meson",
        "autoconf",
        "automake",
        "autotools-dev",
        "libtool",
        "libtool-bin",
        "pkg-config",
        "pkgconf",
        "bison",
        "flex",
        "swig",
        "patch",
        "dpkg-dev",
        "python3-dev",
        "python3-all-dev",
        "python-dev-is-python3",
        "libpython3-dev",
        "python3-pip",
        "python3-setuptools",
        "python3-wheel",
        "cython3",
        "git",
        "mercurial",
        "subversion",
        "cargo",
        "rustc",
        "golang",
        "golang-go",
        "linux-libc-dev",
        "libc6-dev",
        "libc-dev",
    }
)


def runtime_packages(dev_package: str) -> tuple[str, ...] | None:
    """The bookworm runtime packages for a `-dev` package (None when not in the table)."""
    return RUNTIME.get(dev_package)


def is_dev_package(name: str) -> bool:
    """Headers and static libraries: `*-dev`, `*-dev-compat`, `*-headers`."""
    base = name.split(":", 1)[0]
    return base.endswith(("-dev", "-dev-compat", "-headers")) or base.startswith("linux-headers-")


def is_build_only(name: str) -> bool:
    """Needed to build software but not to run it: compilers, build systems, `-dev` packages,
    version control clients."""
    base = name.split(":", 1)[0].split("=", 1)[0]
    return base in BUILD_ONLY or is_dev_package(base) or base.startswith(("gcc-", "g++-", "clang-"))
