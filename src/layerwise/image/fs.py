"""The image's filesystem, built by stacking layers as an OCI runtime does: whiteouts delete a
path from the layers below, an opaque whiteout hides everything below a directory, and a
layer's own entries replace what lower layers had at the same path.

Each node remembers the layer that last wrote it, so a finding can name the layer (and through
the history, the Dockerfile line) that left a file behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from layerwise.image.layer import DIR, FILE, HARDLINK_KIND, OPAQUE, WHITEOUT, LayerScan


class Node:
    __slots__ = ("children", "gid", "kind", "layer", "link", "mode", "size", "uid")

    def __init__(
        self,
        kind: str,
        size: int,
        mode: int,
        uid: int,
        gid: int,
        layer: int,
        link: str = "",
    ) -> None:
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.layer = layer
        self.link = link
        self.children: dict[str, Node] | None = {} if kind == DIR else None


@dataclass
class LayerChanges:
    """What applying one layer did to the filesystem below it (directories not counted)."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    added_bytes: int = 0
    removed_bytes: int = 0  # bytes of lower-layer files this layer deleted or replaced


def subtree_totals(node: Node) -> tuple[int, int]:
    """(non-directory nodes, bytes) in the subtree at node."""
    if node.children is None:
        return 1, node.size
    files = size = 0
    stack = [node]
    while stack:
        current = stack.pop()
        assert current.children is not None
        for child in current.children.values():
            if child.children is None:
                files += 1
                size += child.size
            else:
                stack.append(child)
    return files, size


class FileSystem:
    def __init__(self) -> None:
        self.root = Node(DIR, 0, 0o755, 0, 0, -1)
        self.contents: dict[str, bytes] = {}

    def get(self, path: str) -> Node | None:
        node: Node | None = self.root
        if not path:
            return node
        for name in path.split("/"):
            if node is None or node.children is None:
                return None
            node = node.children.get(name)
        return node

    def _parent(self, path: str, layer: int, cache: dict[str, Node]) -> tuple[Node, str]:
        """The directory that holds `path` (created as needed), and the last name."""
        head, _, name = path.rpartition("/")
        cached = cache.get(head)
        if cached is not None:
            return cached, name
        node = self.root
        if head:
            for part in head.split("/"):
                assert node.children is not None
                child = node.children.get(part)
                if child is None or child.children is None:
                    # A missing parent (or a non-directory in the way, which a real runtime
                    # would replace) becomes a directory owned by this layer.
                    child = Node(DIR, 0, 0o755, 0, 0, layer)
                    node.children[part] = child
                node = child
        cache[head] = node
        return node, name

    def apply(self, index: int, scan: LayerScan) -> LayerChanges:
        changes = LayerChanges()
        # Whiteouts only act on the layers below (OCI image spec), so they go first.
        for e in scan.entries:
            if e.kind == WHITEOUT:
                head, _, name = e.path.rpartition("/")
                parent = self.get(head)
                if parent is not None and parent.children is not None and name in parent.children:
                    files, size = subtree_totals(parent.children.pop(name))
                    changes.removed += files
                    changes.removed_bytes += size
            elif e.kind == OPAQUE:
                target = self.get(e.path)
                if target is not None and target.children:
                    files, size = subtree_totals(target)
                    target.children = {}
                    changes.removed += files
                    changes.removed_bytes += size
        captured = scan.captured
        contents = self.contents
        # Directories looked up in this layer; valid until a directory is replaced by a file.
        cache: dict[str, Node] = {}
        for e in scan.entries:
            kind = e.kind
            if kind in (WHITEOUT, OPAQUE):
                continue
            parent, name = self._parent(e.path, index, cache)
            assert parent.children is not None
            old = parent.children.get(name)
            if old is not None and old.children is not None and kind == DIR:
                # A directory entry over a directory: new metadata, same contents.
                old.mode, old.uid, old.gid, old.layer = e.mode, e.uid, e.gid, index
                continue
            size = e.size if kind == FILE else 0
            if old is not None and old.children is not None:
                cache.clear()
            parent.children[name] = Node(kind, size, e.mode, e.uid, e.gid, index, e.link)
            if kind != DIR and (old is None or old.layer != index):
                if old is None or old.kind == DIR:
                    changes.added += 1
                else:
                    changes.changed += 1
                changes.added_bytes += size
            if old is not None and old.layer != index:
                files, old_size = subtree_totals(old)
                changes.removed_bytes += old_size
                if old.children is not None or kind == DIR:
                    changes.removed += files
            if e.path in captured:
                contents[e.path] = captured[e.path]
            elif contents:
                contents.pop(e.path, None)
        return changes

    def walk(self) -> Iterator[tuple[str, Node]]:
        """Every path below the root with its node, parents before children."""
        stack: list[tuple[str, Node]] = [("", self.root)]
        while stack:
            prefix, node = stack.pop()
            assert node.children is not None
            for name, child in node.children.items():
                path = f"{prefix}/{name}" if prefix else name
                yield path, child
                if child.children is not None:
                    stack.append((path, child))

    def content(self, path: str) -> bytes | None:
        """The captured content of a regular file that is in the final filesystem."""
        data = self.contents.get(path)
        if data is None:
            return None
        node = self.get(path)
        if node is None or node.kind != FILE:
            return None
        return data

    def file_size(self, path: str) -> int | None:
        node = self.get(path)
        if node is None:
            return None
        if node.kind == HARDLINK_KIND:
            return 0
        return node.size if node.kind == FILE else None
