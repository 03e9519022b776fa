"""Small, fast digests for cache keys.

Keys only need to be equal exactly when BuildKit's are; their bytes never leave this process, so
a 128-bit BLAKE2b is plenty. File sets are digested as a sum of per-entry digests modulo 2**128:
the sum does not depend on the order entries are visited in, and it can be updated in place when
one file changes (the history replay relies on that), yet a revert gives back the same digest.
"""

from __future__ import annotations

from hashlib import blake2b

MOD = 1 << 128
_SEP = "\x1f"
_NONE = "\x00"


def h(*parts: object) -> str:
    """A 32-hex-digit digest of the parts (each turned into text; None and "" differ)."""
    text = _SEP.join(_NONE if p is None else p if type(p) is str else str(p) for p in parts)
    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def term(*parts: object) -> int:
    """One entry's share of a set digest."""
    return int(h(*parts), 16)


def set_digest(total: int, count: int) -> str:
    """A set digest from the running sum of its entries' terms and their number."""
    return f"{total % MOD:032x}.{count}"
