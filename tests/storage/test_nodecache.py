"""Stored Merkle nodes kept in memory: what is read once is not read again, within a bound."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from ledger.checkpoint import verify_checkpoint
from ledger.errors import ProofError
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
from ledger.storage.nodecache import NodeCache
from ledger.storage.reader import LogReader
from ledger.storage.sqllog import SqlLog
from tests.storage.logs import bound, registered

LEAVES = [leaf_hash(bytes([i])) for i in range(37)]


class Counting:
    """A node reader over ``LEAVES`` that remembers what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[list[Node]] = []
        self._read = reader_over_leaves(LEAVES)

    def __call__(self, nodes: Sequence[Node]) -> Sequence[bytes]:
        self.asked.append(list(nodes))
        return self._read(nodes)


def test_a_proof_read_twice_is_read_from_the_store_once() -> None:
    cache, store = NodeCache(), Counting()
    read = cache.reader(store)
    first = inclusion_proof_from_nodes(read, index=5, size=37)
    again = inclusion_proof_from_nodes(read, index=5, size=37)
    assert first == again == inclusion_proof(LEAVES, 5)
    assert len(store.asked) == 1
    assert cache.hits == cache.misses == len(store.asked[0])


def test_only_the_missing_nodes_are_read_and_the_answer_keeps_the_order_asked() -> None:
    cache, store = NodeCache(), Counting()
    read = cache.reader(store)
    inclusion_proof_from_nodes(read, index=0, size=32)
    # A neighbour shares every node but the lowest two with it.
    assert inclusion_proof_from_nodes(read, index=3, size=32) == inclusion_proof(LEAVES[:32], 3)
    assert store.asked[1] == [(0, 2), (1, 0)]
    wanted = [(3, 1), (0, 7), (2, 0), (0, 36)]
    assert read(wanted) == list(reader_over_leaves(LEAVES)(wanted))


def test_the_least_recently_used_nodes_go_first() -> None:
    cache = NodeCache(capacity=3)
    cache.keep([(0, 0), (0, 1), (0, 2)], [b"a", b"b", b"c"])
    assert cache.known([(0, 0)]) == [b"a"]  # now the most recently used
    cache.keep([(0, 3)], [b"d"])
    assert len(cache) == 3
    assert cache.known([(0, 0), (0, 1), (0, 2), (0, 3)]) == [b"a", None, b"c", b"d"]


def test_a_cache_of_no_capacity_keeps_nothing() -> None:
    cache, store = NodeCache(capacity=0), Counting()
    read = cache.reader(store)
    inclusion_proof_from_nodes(read, index=1, size=8)
    inclusion_proof_from_nodes(read, index=1, size=8)
    assert len(store.asked) == 2
    assert len(cache) == 0
    with pytest.raises(ValueError, match="negative"):
        NodeCache(capacity=-1)


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
