"""The reader's held connection: reused, never stale, never shared, given back."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ledger.checkpoint import verify_checkpoint
from ledger.keys import SigningKey
from ledger.merkle import verify_inclusion
from ledger.storage.reader import LogReader
from ledger.storage.sqllog import SqlLog
from tests.storage.logs import bound, registered


@pytest.fixture
def reader(log: tuple[SqlLog, SigningKey]) -> Iterator[LogReader]:
    """A reader of the test's log that holds its connection, closed afterwards."""
    held = LogReader(log[0].engine, hold=True)
    yield held
    held.close()


def test_a_held_connection_serves_every_read_and_sees_each_commit(
    log: tuple[SqlLog, SigningKey], reader: LogReader
) -> None:
    sql, authority = log
    before = reader.size()
    held = reader._held
    assert held is not None
    sql.append(registered(authority, "org-a"))
    sql.append(bound(authority, SigningKey.generate(), "org-a"))
    # The same connection, and no snapshot kept from the read before the appends.
    assert reader.size() == before + 2
    assert f"\n{before + 2}\n" in reader.checkpoint()
    size = reader.size()
    proof = reader.inclusion(seq=size - 1, size=size)
    assert reader.consistency(first=before, second=size)
    assert reader._held is held
    assert not held.in_transaction()
    # What it read agrees with itself: the proof leads to the checkpoint's root.
    leaf = reader.leaf(size - 1)
    assert leaf is not None
    checkpoint = verify_checkpoint(reader.checkpoint(), sql.signer.verifier)
    verify_inclusion(index=size - 1, size=size, leaf=leaf.hash, proof=proof, root=checkpoint.root)
    reader.close()
    assert reader._held is None
    assert held.closed


def test_a_second_caller_takes_a_pooled_connection_meanwhile(reader: LogReader) -> None:
    seen: list[object] = []

    def other() -> None:
        with reader._single() as second:
            seen.append(second)
        seen.append(reader.size())

    with reader._single() as first:
        # While the held connection is in use, another thread gets one of its own.
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen[0] is not first
    assert seen[1] == reader.size()
    assert reader._held is first


def test_a_connection_that_failed_is_replaced(reader: LogReader) -> None:
    size = reader.size()
    held = reader._held
    assert held is not None
    held.invalidate()  # what a lost connection leaves behind
    assert reader.size() == size
    assert reader._held is not held
    assert reader._held is not None


def test_without_hold_nothing_is_kept(log: tuple[SqlLog, SigningKey]) -> None:
    reader = LogReader(log[0].engine)
    assert reader.size() >= 1
    assert reader._held is None
