"""Stored Merkle nodes kept in a reader's memory between proofs.

A stored node is the hash of a perfect subtree, written once when the subtree
is complete and never changed after (the database refuses updates, and the
audit checks every node against the leaves). So a node read once may be
served again from memory: after a while the upper levels of the tree, which
every proof needs, and the nodes near the recently appended entries, which
the entries' own submitters and verifiers ask for, are all in memory, and a
proof that finds every node it needs there reads nothing from the database.

The cache holds at most ``capacity`` nodes and forgets the least recently
used first, so the upper levels stay while the leaves of a large log pass
through. A node is about 200 bytes in memory: the default capacity of 2**17
nodes is about 25 MB, the whole tree of a log of 65,000 entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from ledger.merkle import Node, NodeReader

#: Nodes a reader keeps by default (see the module's text).
DEFAULT_CAPACITY = 1 << 17


class NodeCache:
    """The most recently used stored Merkle nodes, shared by a reader's threads."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        self.capacity = capacity
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

    def reader(self, read: NodeReader) -> NodeReader:
        """A reader that answers from memory what it can and asks ``read`` for the rest."""

        def cached(nodes: Sequence[Node]) -> list[bytes]:
            found = self.known(nodes)
            missing = [node for node, value in zip(nodes, found, strict=True) if value is None]
            if not missing:
                return [value for value in found if value is not None]
            fetched = list(read(missing))
            self.keep(missing, fetched)
            more = iter(fetched)
            return [next(more) if value is None else value for value in found]

        return cached
