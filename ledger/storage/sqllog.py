"""The durable log: appends that are checked, sequenced and stored in one transaction.

One sequencer position at a time: the appending transaction takes SQLite's
write lock at once (``BEGIN IMMEDIATE``) or a PostgreSQL advisory lock that
holds across processes, then checks the submission against the stored state,
writes the entry, its Merkle nodes, the projections and a new checkpoint
proven consistent with the previous one, and commits. A caller is answered
only after that commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select

from ledger.chain import ChainVerifier
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entries import Entry
from ledger.errors import EventFormatError, KeyFormatError
from ledger.events import Submission, utc_now
from ledger.keys import SigningKey
from ledger.merkle import CompactRange, Node, NodeReader, consistency_proof_from_nodes
from ledger.note import NoteSigner
from ledger.storage.engine import WRITE
from ledger.storage.state import SqlState
from ledger.storage.tables import CHECKPOINTS, ENTRIES, NODES

#: Key of the PostgreSQL advisory lock that the sequencer holds while appending.
SEQUENCER_LOCK = 0x54697A62656B  # "Tizbek"


def node_reader(conn: Connection) -> NodeReader:
    """A :data:`~ledger.merkle.NodeReader` over the stored Merkle nodes."""

    def read(nodes: Sequence[Node]) -> list[bytes]:
        if not nodes:
            return []
        levels = {level for level, _ in nodes}
        rows = conn.execute(
            select(NODES.c.level, NODES.c.idx, NODES.c.hash).where(
                NODES.c.level.in_(levels), NODES.c.idx.in_({idx for _, idx in nodes})
            )
        )
        found = {(level, idx): bytes(h) for level, idx, h in rows}
        return [found[n] for n in nodes]

    return read


class SqlLog:
    """A log stored in a database, appended to by one sequencer position at a time."""

    def __init__(self, engine: Engine, signer: NoteSigner) -> None:
        self.engine = engine
        self.signer = signer

    @classmethod
    def open(cls, engine: Engine, log_key_file: Path) -> SqlLog:
        """Open the log in ``engine`` with the checkpoint key in ``log_key_file``."""
        key = SigningKey.load(log_key_file)
        with engine.connect() as conn:
            genesis = SqlState(conn).genesis()
        if genesis is None:
            raise EventFormatError("the database holds no log; run tizbek init")
        return cls(engine, NoteSigner(genesis.origin, key))

    def append(self, submission: Submission) -> tuple[Entry, bool]:
        """Append ``submission``; return its entry and whether it is new (False: a resend)."""
        with self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})")
            event = submission.event
            stored = conn.execute(
                select(ENTRIES.c.data).where(
                    ENTRIES.c.signer_key == event["key"], ENTRIES.c.nonce == event["nonce"]
                )
            ).scalar_one_or_none()
            if stored is not None:
                original = Entry.parse(bytes(stored))
                if original.submission == submission:
                    return original, False
                raise EventFormatError(f"nonce {event['nonce']} was already used by this key")
            state = SqlState(conn)
            tip, genesis = state.tip(), state.genesis()
            if tip is None or genesis is None:
                raise EventFormatError("the database holds no log; run tizbek init")
            if str(genesis.log_key) != str(self.signer.verifier):
                raise KeyFormatError(
                    f"the genesis entry names checkpoint key {genesis.log_key}, not this log key"
                )
            entry = Entry.build(
                seq=tip.seq + 1,
                prev=tip.hash,
                logged_at=max(utc_now(), tip.logged_at),
                submission=submission,
            )
            ChainVerifier(state=state, log_key=self.signer.verifier).add(entry)
            conn.execute(
                insert(ENTRIES).values(
                    seq=entry.seq,
                    leaf_hash=entry.hash,
                    data=entry.data,
                    signer_key=event["key"],
                    nonce=event["nonce"],
                    logged_at=entry.logged_at,
                )
            )
            read = node_reader(conn)
            tree = CompactRange.from_reader(read, entry.seq)
            conn.execute(
                insert(NODES),
                [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in tree.append(entry.hash)],
            )
            self._checkpoint(conn, Checkpoint(self.signer.name, tree.size, tree.root()))
        return entry, True

    def _checkpoint(self, conn: Connection, new: Checkpoint) -> None:
        row = conn.execute(
            select(CHECKPOINTS.c.size, CHECKPOINTS.c.root)
            .order_by(CHECKPOINTS.c.size.desc())
            .limit(1)
        ).first()
        previous = None if row is None else Checkpoint(self.signer.name, row[0], bytes(row[1]))
        proof = (
            consistency_proof_from_nodes(node_reader(conn), old_size=previous.size, size=new.size)
            if previous is not None and previous.size > 0
            else []
        )
        note = sign_checkpoint(self.signer, new, previous=previous, proof=proof)
        conn.execute(
            insert(CHECKPOINTS).values(size=new.size, root=new.root, note=note, signed_at=utc_now())
        )

    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size.desc()).limit(1)
                ).scalar_one()
            )
