"""Stored Merkle nodes kept in memory: what is read once is not read again, within a bound."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from ledger.checkpoint import verify_checkpoint
from ledger.errors import ProofError, StorageError
from ledger.keys import SigningKey
from ledger.merkle import (
    Node,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    reader_over_leaves,
    verify_consistency,
    verify_inclusion,
)
from ledger.storage.nodecache import NodeCache, Run
from ledger.storage.reader import LogReader
from ledger.storage.sqllog import SqlLog
from tests.storage.logs import bound, registered

LEAVES = [leaf_hash(bytes([i])) for i in range(37)]


class Counting:
    """Reads runs of nodes over ``LEAVES`` and remembers which runs it was asked for."""

    def __init__(self) -> None:
        self.asked: list[list[Run]] = []
        self._read = reader_over_leaves(LEAVES)

    def __call__(self, runs: Sequence[Run]) -> dict[Node, bytes]:
        self.asked.append(list(runs))
        found: dict[Node, bytes] = {}
        for level, first, last in runs:
            for idx in range(first, last + 1):
                if (idx + 1) << level <= len(LEAVES):  # the node exists
                    found[(level, idx)] = self._read([(level, idx)])[0]
        return found


def test_a_proof_read_twice_is_read_from_the_store_once() -> None:
    cache, store = NodeCache(), Counting()
    read = cache.reader(store)
    first = inclusion_proof_from_nodes(read, index=5, size=37)
    again = inclusion_proof_from_nodes(read, index=5, size=37)
    assert first == again == inclusion_proof(LEAVES, 5)
    assert len(store.asked) == 1
    assert cache.hits == cache.misses > len(first)  # the last range takes two nodes


def test_a_node_is_read_with_its_tile_and_the_tile_serves_its_neighbours() -> None:
    cache, store = NodeCache(tile=4), Counting()
    read = cache.reader(store)
    assert read([(0, 5), (2, 1)]) == list(reader_over_leaves(LEAVES)([(0, 5), (2, 1)]))
    assert store.asked == [[(0, 4, 7), (2, 0, 3)]]
    # Level 2 holds nine nodes over 37 leaves (0 to 8): the run 0-3 brought four.
    assert len(cache) == 8
    wanted = [(0, 4), (0, 7), (2, 3), (0, 6)]
    assert read(wanted) == list(reader_over_leaves(LEAVES)(wanted))
    assert len(store.asked) == 1
    # Only what is missing is read, in tiles, and the answer keeps the order asked.
    wanted = [(3, 1), (0, 7), (0, 36), (2, 8)]
    assert read(wanted) == list(reader_over_leaves(LEAVES)(wanted))
    assert store.asked[1] == [(0, 36, 39), (2, 8, 11), (3, 0, 3)]


def test_a_node_the_store_lacks_is_an_error() -> None:
    read = NodeCache().reader(Counting())
    with pytest.raises(StorageError, match=r"lacks Merkle node \(0, 37\)"):
        read([(0, 3), (0, 37)])


def test_the_least_recently_used_nodes_go_first() -> None:
    cache = NodeCache(capacity=3)
    cache.keep([(0, 0), (0, 1), (0, 2)], [b"a", b"b", b"c"])
    assert cache.known([(0, 0)]) == [b"a"]  # now the most recently used
    cache.keep([(0, 3)], [b"d"])
    assert len(cache) == 3
    assert cache.known([(0, 0), (0, 1), (0, 2), (0, 3)]) == [b"a", None, b"c", b"d"]


def test_the_nodes_asked_for_outlast_the_neighbours_read_with_them() -> None:
    cache = NodeCache(capacity=4, tile=4)
    read = cache.reader(Counting())
    read([(0, 1)])  # brings (0, 0) to (0, 3); (0, 1) is the most recently used
    read([(1, 9)])  # brings (1, 8) to (1, 11): only the last four nodes stay
    assert cache.known([(0, 1), (1, 9)]) == [None, read([(1, 9)])[0]]
    assert len(cache) == 4


def test_a_cache_of_no_capacity_keeps_nothing() -> None:
    cache, store = NodeCache(capacity=0), Counting()
    read = cache.reader(store)
    inclusion_proof_from_nodes(read, index=1, size=8)
    inclusion_proof_from_nodes(read, index=1, size=8)
    assert len(store.asked) == 2
    assert len(cache) == 0
    with pytest.raises(ValueError, match="negative"):
        NodeCache(capacity=-1)
    with pytest.raises(ValueError, match="tile"):
        NodeCache(tile=0)


# --- a log's reader with the cache -------------------------------------------------------


@pytest.fixture
def grown(log: tuple[SqlLog, SigningKey]) -> tuple[SqlLog, SigningKey]:
    sql, authority = log
    for n in range(6):
        sql.append(registered(authority, f"org-{n}"))
        sql.append(bound(authority, SigningKey.generate(), f"org-{n}"))
    return sql, authority


@pytest.fixture
def cached(grown: tuple[SqlLog, SigningKey]) -> Iterator[LogReader]:
    reader = LogReader(grown[0].engine, hold=True, nodes=NodeCache())
    yield reader
    reader.close()


def test_proofs_from_memory_are_those_of_the_database_and_verify(
    grown: tuple[SqlLog, SigningKey], cached: LogReader
) -> None:
    sql, _ = grown
    plain = LogReader(sql.engine)
    size = cached.size()
    root = verify_checkpoint(cached.checkpoint(), sql.signer.verifier).root
    for _ in range(2):  # the second round comes from memory
        for seq in range(size):
            proof = cached.inclusion(seq=seq, size=size)
            assert proof == plain.inclusion(seq=seq, size=size)
            leaf = cached.leaf(seq)
            assert leaf is not None
            verify_inclusion(index=seq, size=size, leaf=leaf.hash, proof=proof, root=root)
    assert cached.nodes is not None
    assert cached.nodes.hits > cached.nodes.misses > 0
    old = 3
    old_root = verify_checkpoint(
        next(note for s, note, _ in cached.checkpoints(start=old, limit=1) if s == old),
        sql.signer.verifier,
    ).root
    proof = cached.consistency(first=old, second=size)
    assert proof == plain.consistency(first=old, second=size)
    verify_consistency(old_size=old, size=size, old_root=old_root, root=root, proof=proof)


@pytest.mark.parametrize("with_cache", [True, False])
def test_a_tree_larger_than_the_log_is_refused_even_when_its_nodes_exist(
    grown: tuple[SqlLog, SigningKey], with_cache: bool
) -> None:
    sql, authority = grown
    reader = LogReader(sql.engine, hold=True, nodes=NodeCache() if with_cache else None)
    size = reader.size()
    reader.inclusion(seq=0, size=size)
    # The proof of entry ``size`` in a tree one larger needs only nodes that exist.
    with pytest.raises(ProofError, match=f"log's size {size}"):
        reader.inclusion(seq=size, size=size + 1)
    with pytest.raises(ProofError, match=f"log's size {size}"):
        reader.consistency(first=1, second=size + 4)
    # Once the log has grown that far, the same proof is given.
    sql.append(registered(authority, "org-late"))
    assert reader.inclusion(seq=size, size=size + 1)
    reader.close()
