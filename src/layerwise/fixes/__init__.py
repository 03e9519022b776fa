"""Fixes: edits on the lossless tree, applied together, checked by parsing the result again."""

from layerwise.fixes.engine import FixResult, apply_edits, fix_dockerfile

__all__ = ["FixResult", "apply_edits", "fix_dockerfile"]
