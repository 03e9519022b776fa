"""Wasted bytes and image efficiency, with dive's definitions, so the figures compare.

dive (github.com/wagoodman/dive, dive/filetree/efficiency.go) looks at every leaf of every
layer's file tree. For each path it adds up the bytes of every layer's copy ("cumulative") and
keeps the smallest copy. A whiteout of a file counts 0 bytes; a whiteout of a directory counts
everything under that directory in the layers below. Then

    efficiency   = sum(smallest copy) / sum(cumulative)     over all paths (1.0 when empty)
    wasted bytes = sum(cumulative) over paths that appear in two or more layers

Its layer trees have quirks this module reproduces on purpose, because agreement with dive is
the point of these two numbers: opaque-whiteout markers (`.wh..wh..opq`) are ignored (so what
they hide is not counted as waste), a directory's parents that a layer does not list itself
carry no metadata, the first layer's whiteouts are looked up in the first layer itself, and
a whiteout of a path that is missing below stops dive's walk of that
layer (paths after it, in dive's name order, are not counted, and the missing path enters the
sums with a size of -1). Our own filesystem view
(`fs.py`) follows the OCI rules exactly; only these two figures follow dive.

The per-layer share attributes each counted copy to the layer that holds it, so the shares add
up to the image total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from layerwise.image.layer import DIR, OPAQUE, WHITEOUT, WHITEOUT_PREFIX, Entry, LayerScan

# What dive knows of a parent directory a layer does not list itself: nothing (FileInfo{}).
_IMPLICIT = Entry("", "", 0, 0, 0, 0)


class _DNode:
    __slots__ = ("children", "is_dir", "size")

    def __init__(self, size: int = 0, is_dir: bool = False) -> None:
        self.size = size
        self.is_dir = is_dir
        self.children: dict[str, _DNode] = {}


def _subtree_size(node: _DNode) -> int:
    total = 0
    stack = [node]
    while stack:
        current = stack.pop()
        total += current.size
        stack.extend(current.children.values())
    return total


@dataclass
class Inefficiency:
    path: str
    count: int  # how many layers hold (or delete) it
    size: int  # cumulative bytes across those layers


@dataclass
class Efficiency:
    score: float
    wasted_bytes: int
    size: int  # sum of layer sizes (dive's "image size")
    user_size: int  # all layers but the first
    per_layer_wasted: list[int]
    inefficiencies: list[Inefficiency] = field(default_factory=list)

    @property
    def wasted_percent(self) -> float:
        """dive's "userWastedPercent": wasted bytes over the bytes above the base layer."""
        return self.wasted_bytes / self.user_size if self.user_size else 0.0


class EfficiencyCounter:
    """Feed layers in stacking order with `add`; read the result with `result`."""

    def __init__(self) -> None:
        # The layers stacked so far, as dive stacks them. A flat map (path -> size, is_dir) is
        # enough until a whiteout deletes a path that has children; then, and from then on, a
        # tree, which can size and remove whole subtrees.
        self.flat: dict[str, Entry] = {}
        self.seen_parents: set[str] = set()
        self.stack: _DNode | None = None
        # path -> [cumulative, smallest, count, first layer, first size]
        self.paths: dict[str, list[int]] = {}
        self.layer_sizes: list[int] = []
        self.wasted: list[int] = []

    def _lookup(self, path: str) -> _DNode | None:
        node = self.stack
        assert node is not None
        for name in path.split("/"):
            child = node.children.get(name)
            if child is None:
                return None
            node = child
        return node

    def _build_tree(self) -> None:
        self.stack = _DNode(is_dir=True)
        cache: dict[str, _DNode] = {}
        for path, e in self.flat.items():
            node = self._node(path, cache)
            node.size, node.is_dir = e.size, e.kind == DIR
        self.flat = {}

    @staticmethod
    def _below_in_first_layer(
        nodes: dict[str, Entry], implicit: set[str], targets: set[str]
    ) -> dict[str, int | None]:
        """dive looks up the first layer's whiteouts in that layer itself (its "layers below"
        are a copy of the first layer), so they find the layer's own paths."""
        below: dict[str, int | None] = {}
        dirs = set()
        for target in targets:
            e = nodes.get(target)
            if e is not None and e.kind == DIR:
                below[target] = e.size
                dirs.add(target)
            else:
                below[target] = 0 if e is not None or target in implicit else None
        if dirs:
            for path, e in nodes.items():
                head = path.rpartition("/")[0]
                while head:
                    if head in dirs:
                        below[head] = (below[head] or 0) + e.size
                    head = head.rpartition("/")[0]
        return below

    def _below(self, target: str) -> int | None:
        """The bytes a whiteout of `target` counts (None: nothing there to delete)."""
        if self.stack is None:
            e = self.flat.get(target)
            if e is None:
                return None
            return e.size if e.kind == DIR else 0
        node = self._lookup(target)
        if node is None:
            return None
        return _subtree_size(node) if node.is_dir else 0

    def add(self, scan: LayerScan) -> None:
        index = len(self.layer_sizes)
        self.layer_sizes.append(scan.size)
        self.wasted.append(0)
        # The layer's tree as dive builds it: its entries by path, its whiteouts by their name
        # in the tree (".wh.x") with the path they delete, and the parents it only implies.
        nodes: dict[str, Entry] = {}
        whiteouts: dict[str, str] = {}
        implicit: set[str] = set()
        for e in scan.entries:
            kind = e.kind
            if kind == WHITEOUT:
                head, _, base = e.path.rpartition("/")
                whiteouts[f"{head}/{WHITEOUT_PREFIX}{base}" if head else WHITEOUT_PREFIX + base] = (
                    e.path
                )
            elif kind == OPAQUE:
                implicit.add(e.path)  # dive creates the marker's parents, then drops the marker
            else:
                nodes[e.path] = e
        parents: set[str] = set()
        for group in (nodes, whiteouts, implicit):
            for path in group:
                head = path.rpartition("/")[0]
                while head and head not in parents:
                    parents.add(head)
                    head = head.rpartition("/")[0]
        implicit |= parents
        implicit.difference_update(nodes)

        if self.stack is None and any(t in self.seen_parents for t in whiteouts.values()):
            self._build_tree()
        below: dict[str, int | None] = {}
        if whiteouts and index == 0:
            below = self._below_in_first_layer(nodes, implicit, set(whiteouts.values()))
        elif whiteouts:
            below = {target: self._below(target) for target in whiteouts.values()}

        # A whiteout of a path missing below ends dive's walk of this layer (in name order) at
        # that leaf: only the leaves before it count.
        allowed: set[str] | None = None
        missing = [n for n, t in whiteouts.items() if n not in parents and below[t] is None]
        if missing:
            leaves = sorted(
                [p for group in (nodes, whiteouts, implicit) for p in group if p not in parents],
                key=lambda p: p.split("/"),
            )
            first = min(missing, key=lambda p: p.split("/"))
            allowed = set(leaves[: leaves.index(first)])
            # dive has already entered the path in its table (no copies, smallest size -1)
            # when the lookup fails, so it lowers the efficiency score by one byte.
            self.paths.setdefault(whiteouts[first], [0, -1, 0, index, 0])

        paths = self.paths
        wasted = self.wasted

        def count(key: str, size: int) -> None:
            data = paths.get(key)
            if data is None:
                paths[key] = [size, size, 1, index, size]
                return
            data[0] += size
            if size < data[1] or data[1] < 0:  # -1: dive's "not yet seen"
                data[1] = size
            data[2] += 1
            if data[2] == 2:
                wasted[data[3]] += data[4]
            wasted[index] += size

        for path, e in nodes.items():
            if path not in parents and (allowed is None or path in allowed):
                # Inlined `count` for the common case: a path seen for the first time.
                if path not in paths:
                    paths[path] = [e.size, e.size, 1, index, e.size]
                else:
                    count(path, e.size)
        for name, target in whiteouts.items():
            if name not in parents and (allowed is None or name in allowed):
                count(target, below[target] or 0)
        for path in implicit:
            if path not in parents and (allowed is None or path in allowed):
                count(path, 0)

        # Stack this layer onto the layers below, as dive's Stack does: deletions, then the rest.
        self.seen_parents |= parents
        if self.stack is None:
            flat = self.flat
            for target in whiteouts.values():
                flat.pop(target, None)  # a leaf: targets with children switched to the tree
            flat.update(nodes)
            for path in implicit:
                flat[path] = _IMPLICIT
            return
        for target in whiteouts.values():
            head, _, base = target.rpartition("/")
            parent = self._lookup(head) if head else self.stack
            if parent is not None:
                parent.children.pop(base, None)
        cache: dict[str, _DNode] = {}
        for path, e in nodes.items():
            node = self._node(path, cache)
            node.size, node.is_dir = e.size, e.kind == DIR
        for path in implicit:
            node = self._node(path, cache)
            node.size, node.is_dir = 0, False

    def _node(self, path: str, cache: dict[str, _DNode]) -> _DNode:
        """The stacked tree's node at `path`, created (with its parents) when missing."""
        node = cache.get(path)
        if node is not None:
            return node
        # Climb to the nearest known ancestor, then create the way down.
        missing = [path]
        head = path.rpartition("/")[0]
        parent = self.stack
        assert parent is not None
        while head:
            known = cache.get(head)
            if known is not None:
                parent = known
                break
            missing.append(head)
            head = head.rpartition("/")[0]
        for full in reversed(missing):
            name = full.rpartition("/")[2]
            child = parent.children.get(name)
            if child is None:
                child = _DNode()
                parent.children[name] = child
            cache[full] = child
            parent = child
        return parent

    def result(self, top: int = 20) -> Efficiency:
        minimum = cumulative = wasted = 0
        worst: list[Inefficiency] = []
        for path, (cum, smallest, count, _, _) in self.paths.items():
            minimum += smallest
            cumulative += cum
            if count >= 2:
                wasted += cum
                worst.append(Inefficiency("/" + path, count, cum))
        worst.sort(key=lambda i: (-i.size, i.path))
        size = sum(self.layer_sizes)
        return Efficiency(
            score=minimum / cumulative if cumulative else 1.0,
            wasted_bytes=wasted,
            size=size,
            user_size=size - (self.layer_sizes[0] if self.layer_sizes else 0),
            per_layer_wasted=list(self.wasted),
            inefficiencies=worst[:top],
        )
