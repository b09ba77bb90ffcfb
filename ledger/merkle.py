"""RFC 9162 §2.1 Merkle tree: hashes, roots, inclusion and consistency proofs.

Two ways to build a proof, one definition of it. The RFC's recursive
definitions are turned into the list of leaf ranges ``[start, end)`` whose
subtree hashes make up the proof, in the RFC's order. A range hash then comes
either from the leaf hashes themselves (:func:`inclusion_proof`,
:func:`consistency_proof`) or from stored hashes of *perfect* subtrees read
through a :data:`NodeReader` (:func:`inclusion_proof_from_nodes`,
:func:`consistency_proof_from_nodes`), which costs O(log n) node reads in one
batch. A perfect subtree is addressed as ``(level, index)``: it covers leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are leaf hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from ledger.errors import ProofError

HASH_SIZE = 32
#: Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A perfect subtree ``(level, index)``."""

NodeReader = Callable[[Sequence[Node]], Sequence[bytes]]
"""Reads the stored hashes of the given perfect subtrees, in the order asked."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf: SHA-256(0x00 ‖ data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (MTH) over the given leaf hashes."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    h = _sha256
    while len(level) > 1:
        nxt = [h(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# --- which ranges make up a proof (RFC 9162 §2.1.3.1 and §2.1.4.1) ---------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes form PATH(index, D[0:size]), in proof order."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree hashes form PROOF(old_size, D[0:size]), in proof order."""
    if not 0 < old_size <= size:
        raise ProofError(f"no consistency proof from size {old_size} to size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size, old_size, True
    while hi - lo != m:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def perfect_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees covering ``[start, end)``, left to right (largest first)."""
    nodes: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Hash of a tree-aligned range from its perfect subtrees, folded right to left."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def hashes_from_nodes(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    """The hashes of tree-aligned leaf ranges, from one batch of stored perfect nodes."""
    covers = [perfect_nodes(a, b) for a, b in ranges]
    wanted = sorted({n for cover in covers for n in cover})
    got = read(wanted)
    if len(got) != len(wanted):
        raise ProofError(f"node reader returned {len(got)} hashes for {len(wanted)} nodes")
    table = dict(zip(wanted, got, strict=True))
    return [_fold([table[n] for n in cover]) for cover in covers]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Inclusion proof for leaf ``index`` in the tree over all of ``leaf_hashes``."""
    ranges = inclusion_ranges(index, len(leaf_hashes))
    return [root_hash(leaf_hashes[a:b]) for a, b in ranges]


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Consistency proof from size ``old_size`` to the tree over all of ``leaf_hashes``."""
    ranges = consistency_ranges(old_size, len(leaf_hashes))
    return [root_hash(leaf_hashes[a:b]) for a, b in ranges]


def inclusion_proof_from_nodes(read: NodeReader, *, index: int, size: int) -> list[bytes]:
    """Inclusion proof built from stored perfect-subtree hashes (O(log n) reads)."""
    return hashes_from_nodes(inclusion_ranges(index, size), read)


def consistency_proof_from_nodes(read: NodeReader, *, old_size: int, size: int) -> list[bytes]:
    """Consistency proof built from stored perfect-subtree hashes (O(log n) reads)."""
    return hashes_from_nodes(consistency_ranges(old_size, size), read)


def root_from_nodes(read: NodeReader, size: int) -> bytes:
    """Root of the tree of ``size`` leaves from stored perfect-subtree hashes."""
    if size == 0:
        return EMPTY_ROOT
    return hashes_from_nodes([(0, size)], read)[0]


def reader_over_leaves(leaf_hashes: Sequence[bytes]) -> NodeReader:
    """A :data:`NodeReader` that computes perfect nodes from leaf hashes (tests, small trees)."""

    def read(nodes: Sequence[Node]) -> list[bytes]:
        out = []
        for level, index in nodes:
            start = index << level
            end = start + (1 << level)
            if end > len(leaf_hashes):
                raise ProofError(f"node ({level}, {index}) is beyond {len(leaf_hashes)} leaves")
            out.append(root_hash(leaf_hashes[start:end]))
        return out

    return read


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------


def _check_hashes(proof: Iterable[bytes]) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof hash {i} has {len(h)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root that an inclusion proof of ``leaf`` at ``index`` implies for ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"leaf hash has {len(leaf)} bytes, not {HASH_SIZE}")
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows ``leaf`` at ``index`` under ``root``."""
    got = root_from_inclusion_proof(index=index, size=size, leaf=leaf, proof=proof)
    if got != root:
        raise ProofError(
            f"inclusion proof for leaf {index} gives root {got.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    *, old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows ``old_size`` is a prefix of ``size``."""
    if old_size > size:
        raise ProofError(f"old size {old_size} is larger than new size {size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old_size == size:
        if proof:
            raise ProofError("sizes are equal but the proof is not empty")
        if old_root != root:
            raise ProofError("sizes are equal but the roots differ")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hashes(proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected")
    if fr != old_root:
        raise ProofError(f"consistency proof gives old root {fr.hex()}, expected {old_root.hex()}")
    if sr != root:
        raise ProofError(f"consistency proof gives new root {sr.hex()}, expected {root.hex()}")


class CompactRange:
    """The right edge of a growing tree: the perfect subtrees covering ``[0, size)``.

    Appending a leaf returns every perfect node that the leaf completes, so a
    store can keep them and later serve any proof in O(log n) reads.
    """

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ProofError(f"a compact range of size {size} has {size.bit_count()} hashes")
        self.size = size
        self._hashes = list(hashes)

    @classmethod
    def from_reader(cls, read: NodeReader, size: int) -> CompactRange:
        """Load the right edge of a stored tree of ``size`` leaves."""
        nodes = perfect_nodes(0, size)
        return cls(size, list(read(nodes)) if nodes else [])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the new perfect nodes ``(level, index, hash)``."""
        index = self.size
        created = [(0, index, leaf)]
        h, level = leaf, 0
        while index & 1:
            h = node_hash(self._hashes.pop(), h)
            level += 1
            index >>= 1
            created.append((level, index, h))
        self._hashes.append(h)
        self.size += 1
        return created

    def root(self) -> bytes:
        """Root hash of the tree of the current size."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT

    def nodes(self) -> list[tuple[int, int, bytes]]:
        """The perfect nodes of the edge, ``(level, index, hash)``, left to right."""
        return [
            (lv, ix, h)
            for (lv, ix), h in zip(perfect_nodes(0, self.size), self._hashes, strict=True)
        ]

    def copy(self) -> CompactRange:
        """An independent copy."""
        return CompactRange(self.size, self._hashes)
