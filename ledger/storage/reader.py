"""Reading a stored log for its clients: size, checkpoints, entries and proofs.

Everything here is read-only and answers from one short transaction, so any
number of API workers can serve readers while the sequencer appends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from ledger.bundle import Leaf, make_bundle, with_dependencies
from ledger.checkpoint import verify_checkpoint
from ledger.custody.rules import Doc
from ledger.entries import Entry
from ledger.errors import ProofError, StorageError, TizbekError
from ledger.genesis import Genesis
from ledger.keys import PublicKey
from ledger.merkle import (
    Node,
    NodeReader,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    leaf_hash,
)
from ledger.storage.hotpath import Driver
from ledger.storage.nodecache import NodeCache, Run
from ledger.storage.sqllog import node_reader
from ledger.storage.state import SqlState
from ledger.storage.tables import CHECKPOINTS, DOCS, ENTRIES, KEYS, LOTS, PARTIES


@dataclass(frozen=True)
class StoredLeaf:
    """An entry's leaf data as the database holds it."""

    seq: int
    data: bytes

    @property
    def hash(self) -> bytes:
        """The leaf hash of what is stored (a damaged entry's differs from the tree's)."""
        return leaf_hash(self.data)


def _autocommit(conn: Connection) -> Connection:
    """``conn`` in autocommit on PostgreSQL. SQLite's driver connections already run each
    statement sent to them directly in its own transaction (see the engine)."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def _size(driver: Driver) -> int:
    """How many entries the log holds (its largest seq plus one)."""
    ((last,),) = driver.rows("SELECT max(seq) FROM log_entries")
    return 0 if last is None else int(last) + 1


class LogReader:
    """Read access to the log in ``engine``.

    With ``hold`` (a server), the reads that need no snapshot of their own (proofs,
    the checkpoint, the size) keep one connection between calls instead of taking
    one from the pool and giving it back each time, which cost a tenth of a
    proof; :meth:`close` gives it back.

    Proofs keep the stored Merkle nodes they read in ``nodes`` (see
    :mod:`ledger.storage.nodecache`), so a proof whose nodes were all read
    before reads nothing; ``nodes=None`` turns that off.
    """

    def __init__(
        self, engine: Engine, *, hold: bool = False, nodes: NodeCache | None = None
    ) -> None:
        self.engine = engine
        self._genesis: Genesis | None = None
        self._hold = hold
        self._held: Connection | None = None
        self._held_lock = threading.Lock()
        self.nodes = nodes
        #: A size the log is known to have reached (it never shrinks).
        self._reached = 0

    def close(self) -> None:
        """Give back the held connection, if any (it is taken again when needed)."""
        with self._held_lock:
            held, self._held = self._held, None
        if held is not None:
            held.close()

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
        with self._single() as conn:
            return _size(Driver(conn))

    def public_key(self, key_id: str) -> PublicKey | None:
        """The public key a binding of ``key_id`` named, revoked or not; None if never bound."""
        with self.engine.connect() as conn:
            text = conn.execute(
                select(KEYS.c.public_key).where(KEYS.c.key_id == key_id)
            ).scalar_one_or_none()
        return None if text is None else PublicKey.from_base64(str(text))

    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""
        with self._single() as conn:
            rows = Driver(conn).rows("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
        if not rows:
            raise StorageError("the log has no checkpoint yet")
        return str(rows[0][0])

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
        stored = self.leaf(seq)
        return None if stored is None else Entry.parse(stored.data)

    def leaf(self, seq: int) -> StoredLeaf | None:
        """The leaf data at ``seq`` as stored, even if it no longer parses (a damaged log)."""
        with self.engine.connect() as conn:
            data = conn.execute(
                select(ENTRIES.c.data).where(ENTRIES.c.seq == seq)
            ).scalar_one_or_none()
        return None if data is None else StoredLeaf(seq, bytes(data))

    def _check_size(self, conn: Connection, size: int) -> None:
        have = _size(Driver(conn))
        self._reached = max(self._reached, have)
        if not 0 < size <= have:
            raise ProofError(f"size must be between 1 and the log's size {have}")

    @contextmanager
    def _single(self) -> Iterator[Connection]:
        """A connection for reads that need no snapshot of their own: each statement reads
        what is committed when it runs. On PostgreSQL it runs in autocommit, so a proof is
        one statement, not a BEGIN, the statement and a ROLLBACK.

        A held connection serves one caller at a time; a caller that finds it busy (a
        second thread) takes one from the pool as before. One that failed is not reused.
        """
        if not (self._hold and self._held_lock.acquire(blocking=False)):
            with self.engine.connect() as conn:
                yield _autocommit(conn)
            return
        try:
            held = self._held
            if held is None or held.closed or held.invalidated:
                if held is not None:
                    held.close()
                held = self._held = _autocommit(self.engine.connect())
            try:
                yield held
            finally:
                if not (held.closed or held.invalidated):
                    held.rollback()  # ends a transaction the toolkit began, if it did
        finally:
            self._held_lock.release()

    def inclusion(self, *, seq: int, size: int) -> list[bytes]:
        """The inclusion proof of entry ``seq`` in the tree of ``size`` entries."""
        if not 0 <= seq < size:
            raise ProofError(f"seq {seq} is not in a tree of {size} entries")
        return self._proof(
            size, lambda read: inclusion_proof_from_nodes(read, index=seq, size=size)
        )

    def consistency(self, *, first: int, second: int) -> list[bytes]:
        """The consistency proof from the tree of ``first`` entries to that of ``second``."""
        if not 0 < first <= second:
            raise ProofError("first must be between 1 and second")
        return self._proof(
            second, lambda read: consistency_proof_from_nodes(read, old_size=first, size=second)
        )

    def _proof(self, size: int, build: Callable[[NodeReader], list[bytes]]) -> list[bytes]:
        """A proof in the tree of ``size`` entries, from the node cache and the database.

        A tree larger than the log is refused. Most such trees need a node that
        does not exist yet, but not all (the last entry's proof in a tree one
        larger needs only older nodes), so the size is checked against what
        the log is known to have reached, read again only when it is exceeded.
        """
        if size > self._reached:
            with self._single() as conn:
                self._check_size(conn, size)
        if self.nodes is not None:
            return build(self.nodes.reader(self._runs))
        with self._single() as conn:
            return build(node_reader(conn))

    def _runs(self, runs: Sequence[Run]) -> dict[Node, bytes]:
        """The stored nodes in ``runs``, for the node cache."""
        with self._single() as conn:
            rows = Driver(conn).tree_runs(runs)
        return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}

    def doc(self, kind: str, ident: str) -> Doc | None:
        """The custody document of an organisation, lot, transfer or revision."""
        with self.engine.connect() as conn:
            text = conn.execute(
                select(DOCS.c.doc).where(DOCS.c.kind == kind, DOCS.c.subject == ident)
            ).scalar_one_or_none()
        return None if text is None else dict(json.loads(text))

    def docs(
        self,
        kind: str,
        *,
        party: str | None = None,
        start: str = "",
        limit: int = 100,
        after: str | None = None,
    ) -> list[Doc]:
        """Documents of one kind in id order from ``start`` (or strictly ``after`` an id),
        those ``party`` had a part in."""
        query = select(DOCS.c.doc).where(DOCS.c.kind == kind, DOCS.c.subject >= start)
        if after is not None:
            query = query.where(DOCS.c.subject > after)
        if party is not None:
            query = query.join(
                PARTIES,
                (PARTIES.c.kind == DOCS.c.kind) & (PARTIES.c.subject == DOCS.c.subject),
            ).where(PARTIES.c.org == party)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(DOCS.c.subject).limit(limit)).scalars().all()
        return [dict(json.loads(r)) for r in rows]

    def lots(
        self,
        *,
        party: str | None = None,
        filters: dict[str, Any] | None = None,
        start: str = "",
        limit: int = 100,
        after: str | None = None,
        registered: tuple[str | None, str | None] = (None, None),
    ) -> list[Doc]:
        """Lots in id order from ``start`` (or strictly ``after`` an id), filtered by the
        typed projection's columns and by the UTC days ``registered`` (first, last) between
        which they were registered."""
        query = (
            select(DOCS.c.doc)
            .join(LOTS, (DOCS.c.kind == "lot") & (DOCS.c.subject == LOTS.c.lot))
            .where(LOTS.c.lot >= start)
        )
        if after is not None:
            query = query.where(LOTS.c.lot > after)
        first, last = registered
        if first is not None:
            query = query.where(LOTS.c.created_at >= first)
        if last is not None:
            # Times compare as text: "T24" sorts after every time of the day ``last``.
            query = query.where(LOTS.c.created_at < f"{last}T24")
        for name, value in (filters or {}).items():
            if value is not None:
                query = query.where(LOTS.c[name] == value)
        if party is not None:
            query = query.join(
                PARTIES, (PARTIES.c.kind == "lot") & (PARTIES.c.subject == LOTS.c.lot)
            ).where(PARTIES.c.org == party)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(LOTS.c.lot).limit(limit)).scalars().all()
        return [dict(json.loads(r)) for r in rows]

    def seq_at(self, time: str) -> int:
        """The first seq logged at or after ``time`` (ISO 8601 UTC); the size if none.

        ``logged_at`` never goes back along the log, so a binary search over
        seq finds it in about twenty point reads at a million entries.
        """
        with self.engine.connect() as conn:
            driver = Driver(conn)
            low, high = 0, _size(driver)
            while low < high:
                middle = (low + high) // 2
                ((logged,),) = driver.rows(
                    "SELECT logged_at FROM log_entries WHERE seq = ?", [middle]
                )
                if str(logged) < time:
                    low = middle + 1
                else:
                    high = middle
            return low

    def entries(self, *, start: int, limit: int) -> list[Entry]:
        """Entries from ``start`` in seq order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ENTRIES.c.data)
                .where(ENTRIES.c.seq >= start)
                .order_by(ENTRIES.c.seq)
                .limit(limit)
            ).scalars()
            return [Entry.parse(bytes(r)) for r in rows]

    def bundle(self, seqs: list[int]) -> dict[str, Any]:
        """An offline audit bundle of ``seqs`` and what they depend on, at the latest checkpoint.

        Entry 0 and the ``key.bound`` entry of every signer come along, so
        ``tizbek verify`` checks the bundle with no server.
        """
        note = self.checkpoint()
        genesis = self.genesis()
        size = verify_checkpoint(note, genesis.log_key).size
        with self.engine.connect() as conn:
            entries: dict[int, Leaf] = {}

            def key_of(seq: int) -> str:
                data = conn.execute(select(ENTRIES.c.data).where(ENTRIES.c.seq == seq)).scalar_one()
                try:
                    entry = Entry.parse(bytes(data))
                except TizbekError:
                    # Damaged: it goes in as stored, and any verifier names it.
                    entries[seq] = StoredLeaf(seq, bytes(data))
                    return ""
                entries[seq] = entry
                return str(entry.event["key"])

            def bound_at(key_id: str) -> int | None:
                found = conn.execute(
                    select(KEYS.c.bound_seq).where(KEYS.c.key_id == key_id)
                ).scalar_one_or_none()
                return None if found is None else int(found)

            ordered = with_dependencies(
                [s for s in seqs if s < size], key_of=key_of, bound_at=bound_at
            )
            read = node_reader(conn)
            proofs = [inclusion_proof_from_nodes(read, index=s, size=size) for s in ordered]
        return make_bundle(
            kind="entries",
            log_key=genesis.log_key,
            checkpoint=note,
            entries=[entries[s] for s in ordered],
            proofs=proofs,
        )
