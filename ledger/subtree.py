"""Subtree proofs: a contiguous, tree-aligned range of entries committed by a checkpoint.

A subtree ``[start, end)`` of a tree of ``n`` leaves is valid when
``0 <= start < end <= n`` and ``start`` is a multiple of the smallest power of
two not below ``end - start`` (draft-ietf-plants-merkle-tree-certs §4.1). A
subtree inclusion proof shows an entry is in the subtree; a subtree
consistency proof shows the subtree's hash was built from the same entries as
the whole tree's root. Tizbek uses them to hand out a range of entries (a
day's log, a batch) with one hash and two short proofs.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import ProofError
from ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    NodeReader,
    hashes_from_nodes,
    inclusion_proof,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
)


def is_valid_subtree(start: int, end: int) -> bool:
    """Whether ``[start, end)`` is a subtree: non-empty and aligned to its size."""
    if not 0 <= start < end:
        return False
    width = 1 << (end - start - 1).bit_length()  # smallest power of two >= end - start
    return start % width == 0


def _require(start: int, end: int) -> None:
    if not is_valid_subtree(start, end):
        raise ProofError(f"[{start}, {end}) is not a valid subtree")


def verify_subtree_inclusion(
    *, index: int, start: int, end: int, leaf: bytes, proof: Sequence[bytes], subtree_root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows ``leaf`` at ``index`` in the subtree."""
    _require(start, end)
    if not start <= index < end:
        raise ProofError(f"entry {index} is outside the subtree [{start}, {end})")
    got = root_from_inclusion_proof(index=index - start, size=end - start, leaf=leaf, proof=proof)
    if got != subtree_root:
        raise ProofError(f"subtree inclusion proof gives {got.hex()}, not the subtree hash")


def subtree_consistency_ranges(start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form SUBTREE_PROOF(start, end, D[0:size]), in proof order."""
    _require(start, end)
    if end > size:
        raise ProofError(f"subtree [{start}, {end}) ends beyond a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi, known = 0, size, True
    while not (start == lo and end == hi):
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two below hi - lo
        if end <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        elif lo + k <= start:
            ranges.append((lo, lo + k))
            lo = lo + k
        else:  # the subtree straddles the split, so it starts at lo
            ranges.append((lo, lo + k))
            lo, known = lo + k, False
            start = lo
    if not known:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def subtree_inclusion_proof(
    leaf_hashes: Sequence[bytes], *, index: int, start: int, end: int
) -> list[bytes]:
    """Inclusion proof of entry ``index`` in the subtree ``[start, end)``."""
    _require(start, end)
    if not start <= index < end <= len(leaf_hashes):
        raise ProofError(f"entry {index} is outside the subtree [{start}, {end})")
    return inclusion_proof(leaf_hashes[start:end], index - start)


def subtree_consistency_proof(leaf_hashes: Sequence[bytes], *, start: int, end: int) -> list[bytes]:
    """Consistency proof of the subtree ``[start, end)`` with the tree over all leaves."""
    ranges = subtree_consistency_ranges(start, end, len(leaf_hashes))
    return [root_hash(leaf_hashes[a:b]) for a, b in ranges]


def subtree_consistency_proof_from_nodes(
    read: NodeReader, *, start: int, end: int, size: int
) -> list[bytes]:
    """Subtree consistency proof from stored perfect-subtree hashes (O(log n) reads)."""
    return hashes_from_nodes(subtree_consistency_ranges(start, end, size), read)


def verify_subtree_consistency(
    *, start: int, end: int, size: int, subtree_root: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless the subtree hash and ``root`` cover the same entries.

    An empty range (``start == end <= size``) is trivially consistent with any
    tree when its hash is the empty-tree hash and the proof is empty, as the
    reference corpus expects.
    """
    if start == end and 0 <= start <= size:
        if proof or subtree_root != EMPTY_ROOT:
            raise ProofError("an empty subtree has the empty-tree hash and an empty proof")
        return
    _require(start, end)
    if end > size:
        raise ProofError(f"subtree [{start}, {end}) ends beyond a tree of size {size}")
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof hash {i} has {len(h)} bytes, not {HASH_SIZE}")
    fn, sn, tn = start, end - 1, size - 1
    if sn == tn:
        while fn != sn:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    else:
        while fn != sn and sn & 1:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    rest = list(proof)
    if fn == sn:
        fr = sr = subtree_root
    else:
        if not rest:
            raise ProofError("subtree consistency proof is empty")
        fr = sr = rest.pop(0)
    for c in rest:
        if tn == 0:
            raise ProofError("subtree consistency proof is longer than expected")
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while sn and not sn & 1:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if tn != 0:
        raise ProofError("subtree consistency proof is shorter than expected")
    if fr != subtree_root:
        raise ProofError("subtree consistency proof does not give the subtree hash")
    if sr != root:
        raise ProofError("subtree consistency proof does not give the tree's root")
