"""Reading a stored log for its clients: size, checkpoints, entries and proofs.

Everything here is read-only and answers from one short transaction, so any
number of API workers can serve readers while the sequencer appends.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from ledger.entries import Entry
from ledger.errors import ProofError, StorageError
from ledger.genesis import Genesis
from ledger.merkle import consistency_proof_from_nodes, inclusion_proof_from_nodes
from ledger.storage.sqllog import node_reader
from ledger.storage.state import SqlState
from ledger.storage.tables import CHECKPOINTS, ENTRIES


class LogReader:
    """Read access to the log in ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._genesis: Genesis | None = None

    def genesis(self) -> Genesis:
        """What entry 0 established."""
        if self._genesis is None:
            with self.engine.connect() as conn:
                self._genesis = SqlState(conn).genesis()
            if self._genesis is None:
                raise StorageError("the database holds no log; run tizbek init")
        return self._genesis

    def size(self) -> int:
        """How many entries the log holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one())

    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""
        with self.engine.connect() as conn:
            note = conn.execute(
                select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size.desc()).limit(1)
            ).scalar_one_or_none()
        if note is None:
            raise StorageError("the log has no checkpoint yet")
        return str(note)

    def checkpoints(self, *, start: int, limit: int) -> list[tuple[int, str, str]]:
        """Signed checkpoints from size ``start`` on: (size, note, signed_at)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(CHECKPOINTS.c.size, CHECKPOINTS.c.note, CHECKPOINTS.c.signed_at)
                .where(CHECKPOINTS.c.size >= start)
                .order_by(CHECKPOINTS.c.size)
                .limit(limit)
            ).all()
        return [(int(size), str(note), str(at)) for size, note, at in rows]

    def entry(self, seq: int) -> Entry | None:
        """The entry at ``seq``."""
        with self.engine.connect() as conn:
            data = conn.execute(
                select(ENTRIES.c.data).where(ENTRIES.c.seq == seq)
            ).scalar_one_or_none()
        return None if data is None else Entry.parse(bytes(data))

    def _check_size(self, size: int) -> None:
        have = self.size()
        if not 0 < size <= have:
            raise ProofError(f"size must be between 1 and the log's size {have}")

    def inclusion(self, *, seq: int, size: int) -> list[bytes]:
        """The inclusion proof of entry ``seq`` in the tree of ``size`` entries."""
        self._check_size(size)
        if not 0 <= seq < size:
            raise ProofError(f"seq {seq} is not in a tree of {size} entries")
        with self.engine.connect() as conn:
            return inclusion_proof_from_nodes(node_reader(conn), index=seq, size=size)

    def consistency(self, *, first: int, second: int) -> list[bytes]:
        """The consistency proof from the tree of ``first`` entries to that of ``second``."""
        self._check_size(second)
        if not 0 < first <= second:
            raise ProofError("first must be between 1 and second")
        with self.engine.connect() as conn:
            return consistency_proof_from_nodes(node_reader(conn), old_size=first, size=second)
