"""Stored Merkle nodes kept in a reader's memory between proofs.

A stored node is the hash of a perfect subtree, written once when the subtree
is complete and never changed after (the database refuses updates, and the
audit checks every node against the leaves). So a node read once may be
served again from memory: after a while the upper levels of the tree, which
every proof needs, and the nodes near the recently appended entries, which
the entries' own submitters and verifiers ask for, are all in memory, and a
proof that finds every node it needs there reads nothing from the database.

A node that is not held is read with its neighbours: the aligned run of
``tile`` nodes at its level that holds it, in the same query (a range of the
table's key, so about as cheap as the node alone). Proofs of nearby entries
share their lower nodes, so a tile read for one serves the next ones, and the
cache fills in a sixteenth of the queries it would take node by node.

The cache holds at most ``capacity`` nodes and forgets the least recently
used first, so the upper levels stay while the leaves of a large log pass
through. A node is about 200 bytes in memory: the default capacity of 2**17
nodes is about 25 MB, the whole tree of a log of 65,000 entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

from ledger.errors import StorageError
from ledger.merkle import Node, NodeReader

#: Nodes a reader keeps by default (see the module's text).
DEFAULT_CAPACITY = 1 << 17
#: Nodes read together: the aligned run at one level that holds a node wanted.
DEFAULT_TILE = 16

Run = tuple[int, int, int]
"""Stored nodes ``(level, first, last)``: those at ``level`` with ``first <= idx <= last``."""
RunReader = Callable[[Sequence[Run]], Mapping[Node, bytes]]
"""Reads the stored nodes in the given runs; nodes that do not exist are absent."""


class NodeCache:
    """The most recently used stored Merkle nodes, shared by a reader's threads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, *, tile: int = DEFAULT_TILE) -> None:
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        if tile < 1:
            raise ValueError("tile must be at least 1")
        self.capacity = capacity
        self.tile = tile
        self._nodes: OrderedDict[Node, bytes] = OrderedDict()
        self._lock = threading.Lock()
        #: Nodes answered from memory, and nodes that had to be read.
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._nodes)

    def known(self, nodes: Sequence[Node]) -> list[bytes | None]:
        """The hash of each node held, None for each that is not."""
        with self._lock:
            found: list[bytes | None] = []
            for node in nodes:
                value = self._nodes.get(node)
                if value is not None:
                    self._nodes.move_to_end(node)
                found.append(value)
            held = sum(value is not None for value in found)
            self.hits += held
            self.misses += len(found) - held
            return found

    def keep(self, nodes: Sequence[Node], hashes: Sequence[bytes]) -> None:
        """Hold these nodes, read from the store, forgetting the least used beyond capacity."""
        if self.capacity == 0:
            return
        with self._lock:
            for node, value in zip(nodes, hashes, strict=True):
                self._nodes[node] = value
                self._nodes.move_to_end(node)
            while len(self._nodes) > self.capacity:
                self._nodes.popitem(last=False)

    def runs(self, nodes: Sequence[Node]) -> list[Run]:
        """The aligned runs of ``tile`` nodes that hold ``nodes``, each once, in order."""
        width = self.tile
        starts = sorted({(level, idx - idx % width) for level, idx in nodes})
        return [(level, first, first + width - 1) for level, first in starts]

    def reader(self, read: RunReader) -> NodeReader:
        """A reader that answers from memory what it can and reads the rest, with the
        neighbours in their tiles, through ``read``."""

        def cached(nodes: Sequence[Node]) -> list[bytes]:
            found = self.known(nodes)
            missing = [node for node, value in zip(nodes, found, strict=True) if value is None]
            if not missing:
                return [value for value in found if value is not None]
            fetched = read(self.runs(missing))
            wanted = set(missing)
            extra = [node for node in fetched if node not in wanted]
            self.keep(extra, [fetched[node] for node in extra])
            try:
                got = [fetched[node] for node in missing]
            except KeyError as lost:
                raise StorageError(f"the database lacks Merkle node {lost.args[0]}") from None
            self.keep(missing, got)  # after the neighbours: the last to be forgotten
            more = iter(got)
            return [next(more) if value is None else value for value in found]

        return cached
