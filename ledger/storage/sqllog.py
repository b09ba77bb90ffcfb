"""The durable log: appends that are checked, sequenced and stored in one transaction.

One sequencer position at a time: the appending transaction takes SQLite's
write lock at once (``BEGIN IMMEDIATE``) or a PostgreSQL advisory lock that
holds across processes, then checks the submission against the stored state,
writes the entry, its Merkle nodes, the projections and a new checkpoint
proven consistent with the previous one, and commits. A caller is answered
only after that commit.

Several submissions may share one transaction (:meth:`SqlLog.append_batch`,
fed by :class:`~ledger.storage.sequencer.GroupCommitter`): one lock, one
commit and one checkpoint for the batch, which is what makes many concurrent
submitters fast on a durable store.

With a checkpoint interval (:attr:`SqlLog.checkpoint_interval`), a batch signs
a checkpoint only once the interval has passed since this process last
signed one; the entries of the batches in between are durable and answered
at once, and :meth:`SqlLog.sign_pending` (which the committer calls when they
have waited the interval) signs the checkpoint that covers them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from ledger.chain import ChainVerifier, Tip
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.custody.rules import Doc, DocKey
from ledger.entries import Entry
from ledger.errors import EventFormatError, KeyFormatError, StorageError, TizbekError
from ledger.events import Submission, utc_now
from ledger.genesis import Genesis
from ledger.keyring import Binding
from ledger.keys import PublicKey, SigningKey
from ledger.merkle import CompactRange, Node, NodeReader, consistency_proof_from_nodes
from ledger.note import NoteSigner, VerifierKey
from ledger.storage.engine import WRITE
from ledger.storage.hotpath import Driver
from ledger.storage.state import SqlState
from ledger.storage.tables import CHECKPOINTS

#: Key of the PostgreSQL advisory lock that the sequencer holds while appending.
SEQUENCER_LOCK = 0x54697A62656B  # "Tizbek"
_LOCK = f"SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})"
_ENTRY_COLUMNS = [
    ("seq", "bigint"),
    ("leaf_hash", "bytea"),
    ("data", "bytea"),
    ("signer_key", "text"),
    ("nonce", "text"),
    ("logged_at", "text"),
]
_NODE_COLUMNS = [("level", "smallint"), ("idx", "bigint"), ("hash", "bytea")]
_CHECKPOINT_COLUMNS = [
    ("size", "bigint"),
    ("root", "bytea"),
    ("note", "text"),
    ("signed_at", "text"),
]


def _locking(conn: Connection) -> list[str]:
    """The statements that take the sequencer lock as a transaction begins: PostgreSQL's
    advisory lock (SQLite's ``BEGIN IMMEDIATE`` has taken its write lock already)."""
    return [_LOCK] if conn.dialect.name == "postgresql" else []


def node_reader(conn: Connection) -> NodeReader:
    """A :data:`~ledger.merkle.NodeReader` over the stored Merkle nodes: one query per call."""
    driver = Driver(conn)

    def read(nodes: Sequence[Node]) -> list[bytes]:
        if not nodes:
            return []
        rows = driver.tree_nodes(nodes)
        found = {(level, idx): bytes(h) for level, idx, h in rows}
        try:
            return [found[n] for n in nodes]
        except KeyError as missing:
            raise StorageError(f"the database lacks Merkle node {missing.args[0]}") from None

    return read


@dataclass(frozen=True)
class Appended:
    """A submission's place in the log: its entry, and whether this append made it."""

    entry: Entry
    new: bool


@dataclass
class _Tail:
    """What this process knows of the log's end after its last commit.

    Valid for a new batch only while the stored tip is still this one: then no
    other process has appended since, and the edge of the tree, the latest
    checkpoint and the bindings read before are all current.
    """

    tip: Tip
    tree: CompactRange
    checkpoint: Checkpoint
    bindings: dict[str, Binding | None]
    #: Organisation documents (with their licences), which change rarely.
    orgs: dict[DocKey, Doc | None]


#: Bindings and organisations remembered between batches, at most.
_BINDINGS_KEPT = 10_000


class _Checker:
    """Checks a batch's submissions in turn against the log as the batch extends it."""

    def __init__(self, state: SqlState, log_key: VerifierKey, tree: CompactRange) -> None:
        self.state = state
        self.tree = tree
        self.verifier = ChainVerifier(state=state, log_key=log_key)
        #: The batch's new entries by signer key and nonce (a resend within the batch).
        self.batch: dict[tuple[str, str], Entry] = {}
        #: Each submission's answer, in order; the new entries' rows; the new tree nodes.
        self.results: list[Appended | TizbekError] = []
        self.rows: list[tuple[object, ...]] = []
        self.nodes: dict[Node, bytes] = {}

    def check(self, submissions: Sequence[Submission], now: str) -> None:
        """Check each submission; keep its answer, and for a new entry its row and nodes."""
        for submission in submissions:
            try:
                appended = self._one(submission, now)
            except TizbekError as exc:
                self.results.append(exc)
                continue
            self.results.append(appended)
            if not appended.new:
                continue
            entry = appended.entry
            self.rows.append(
                (
                    entry.seq,
                    entry.hash,
                    entry.data,
                    entry.event["key"],
                    entry.event["nonce"],
                    entry.logged_at,
                )
            )
            self.nodes.update(((lv, ix), h) for lv, ix, h in self.tree.append(entry.hash))

    def _one(self, submission: Submission, now: str) -> Appended:
        event = submission.event
        pair = (event["key"], event["nonce"])
        original = self.batch.get(pair)
        if original is None:
            stored = self.state.stored(*pair)
            original = None if stored is None else Entry.parse(stored)
        if original is not None:
            if original.submission == submission:
                return Appended(original, False)
            raise EventFormatError(f"nonce {event['nonce']} was already used by this key")
        tip = self.state.tip()
        assert tip is not None
        entry = Entry.build(
            seq=tip.seq + 1,
            prev=tip.hash,
            logged_at=max(now, tip.logged_at),
            submission=submission,
        )
        self.verifier.add(entry)
        self.batch[pair] = entry
        return Appended(entry, True)


class SqlLog:
    """A log stored in a database, appended to by one sequencer position at a time."""

    def __init__(
        self, engine: Engine, signer: NoteSigner, *, checkpoint_interval: float = 0.0
    ) -> None:
        self.engine = engine
        self.signer = signer
        #: Seconds that must pass after this process signed a checkpoint before a batch
        #: signs the next; 0: every batch signs one.
        self.checkpoint_interval = checkpoint_interval
        #: When (``time.monotonic``) this process last signed a checkpoint; None: not yet.
        self._signed_at: float | None = None
        self._genesis: Genesis | None = None
        self._public_keys: dict[str, PublicKey] = {}
        self._tail: _Tail | None = None
        self._mutex = threading.Lock()
        self._conn: Connection | None = None
        #: On SQLite, whether commits checkpoint the WAL themselves (see walcheckpoint).
        self.autocheckpoint = True

    def _connection(self) -> Connection:
        """The sequencer's own connection, kept between batches (no pool round trips)."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect().execution_options(**{WRITE: True})
            if not self.autocheckpoint and self.engine.dialect.name == "sqlite":
                raw: Any = self._conn.connection.driver_connection
                raw.execute("PRAGMA wal_autocheckpoint=0")
        return self._conn

    def close(self) -> None:
        """Give back the sequencer's connection (it is opened again when needed)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> SqlLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def known_size(self) -> int | None:
        """How many entries the log held after this process's last batch (None: none yet)."""
        return None if self._tail is None else self._tail.tip.seq + 1

    def uncovered(self) -> int:
        """How many entries after this process's last batch no signed checkpoint covers yet.

        0 also when this process has not appended yet (it does not know).
        """
        tail = self._tail
        return 0 if tail is None else tail.tip.seq + 1 - tail.checkpoint.size

    def checkpoint_due(self) -> float | None:
        """When (``time.monotonic``) the entries no checkpoint covers are to be signed for.

        None when every entry this process knows of is covered. Entries appended
        within :attr:`checkpoint_interval` of the last checkpoint this process
        signed wait until that interval has passed.
        """
        if self.uncovered() <= 0:
            return None
        return (self._signed_at or 0.0) + self.checkpoint_interval

    def _signing_due(self) -> bool:
        return (
            self.checkpoint_interval <= 0
            or self._signed_at is None
            or time.monotonic() - self._signed_at >= self.checkpoint_interval
        )

    def known_key(self, key_id: str) -> PublicKey | None:
        """The public key of ``key_id`` if a batch has seen it bound (a hint, not a permission).

        A binding's public key never changes, so a submitter may check its
        signature against this before queueing; whether the key may sign for
        the actor where the event lands is decided in the batch.
        """
        return self._public_keys.get(key_id)

    @classmethod
    def open(cls, engine: Engine, log_key_file: Path) -> SqlLog:
        """Open the log in ``engine`` with the checkpoint key in ``log_key_file``."""
        key = SigningKey.load(log_key_file)
        with engine.connect() as conn:
            genesis = SqlState(conn).genesis()
        if genesis is None:
            raise StorageError("the database holds no log; run tizbek init")
        return cls(engine, NoteSigner(genesis.origin, key))

    def append(self, submission: Submission) -> tuple[Entry, bool]:
        """Append ``submission``; return its entry and whether it is new (False: a resend)."""
        (result,) = self.append_batch([submission])
        if isinstance(result, TizbekError):
            raise result
        return result.entry, result.new

    def append_batch(
        self,
        submissions: Sequence[Submission],
        more: Callable[[], Sequence[Submission]] | None = None,
    ) -> list[Appended | TizbekError]:
        """Append several submissions in one transaction under one checkpoint.

        Each submission is checked against the log as extended by those before
        it in the batch; one that fails gets its error in its place of the
        answer and takes no seq, and the others are appended all the same. The
        answers are returned only after the transaction has committed.

        ``more``, if given, is asked for further submissions once those at hand
        are checked, until it returns none; they join the same transaction and
        their answers follow in order. On SQLite a batch thus checks its first
        arrivals while the rest are still on their way. On PostgreSQL, where
        each group's read is a round trip of its own, ``more`` is asked until it
        returns none before anything is read, and the batch is read and checked
        at once.
        """
        if not submissions:
            return []
        with self._sequencing() as conn:
            return self._append_batch(conn, submissions, more)

    @contextmanager
    def _sequencing(self) -> Iterator[Connection]:
        """This log's turn and the sequencer's connection; on any failure the tail this
        process remembered is forgotten and the connection, in an unknown state, closed."""
        with self._mutex:
            conn = self._connection()
            try:
                yield conn
            except BaseException:
                self._tail = None
                self.close()
                raise

    def _append_batch(
        self,
        conn: Connection,
        submissions: Sequence[Submission],
        more: Callable[[], Sequence[Submission]] | None,
    ) -> list[Appended | TizbekError]:
        if more is not None and conn.dialect.name == "postgresql":
            # Measured with 16 submitters (docs/performance.md, 2026-12-04): one read per
            # batch appended 12 to 15 % faster than a read per group of arrivals.
            submissions = list(submissions)
            while extra := more():
                submissions.extend(extra)
            more = None
        tail, self._tail = self._tail, None  # restored only once this batch commits
        with conn.begin():
            state = SqlState(conn, self._genesis)
            if tail is not None:
                state.remember(tail.bindings, tail.orgs)
            state.prefetch(submissions, first=_locking(conn))
            tip = self._log_tip(state)
            if tail is None or tail.tip != tip:
                if tail is not None:  # another process appended: what it remembered may be stale
                    state.forget(tail.bindings, tail.orgs)
                    state.prefetch(submissions)
                tail = self._load_tail(conn, tip)
            known = {(lv, ix): h for lv, ix, h in tail.tree.nodes()}
            checker = _Checker(state, self.signer.verifier, tail.tree)
            while submissions:
                now = utc_now()
                checker.check(submissions, now)
                submissions = more() if more is not None else ()
                if submissions:
                    state.prefetch(submissions)
            rows, nodes = checker.rows, checker.nodes
            checkpoint = tail.checkpoint
            signed: list[tuple[object, ...]] = []
            if rows and self._signing_due():
                previous = tail.checkpoint
                if previous.size < tip.seq + 1:
                    # Batches since skipped their checkpoints; another process may have
                    # signed for them (sign_pending), and this one must follow on from that.
                    previous = self._stored_checkpoint(conn)
                checkpoint = Checkpoint(self.signer.name, tail.tree.size, tail.tree.root())
                known.update(nodes)
                note = self._sign(conn, previous, checkpoint, known)
                signed.append((checkpoint.size, checkpoint.root, note, now))
            if rows:
                driver = state.driver
                with driver.pipelined(commit=True), driver.gathered():
                    driver.insert("log_entries", _ENTRY_COLUMNS, rows)
                    driver.insert(
                        "tree_nodes",
                        _NODE_COLUMNS,
                        [(lv, ix, h) for (lv, ix), h in nodes.items()],
                    )
                    state.flush()
                    if signed:
                        driver.insert("checkpoints", _CHECKPOINT_COLUMNS, signed)
        if signed:
            self._signed_at = time.monotonic()
        bindings, orgs = state.bindings(), state.docs_of("org")
        if len(bindings) + len(orgs) > _BINDINGS_KEPT:
            bindings, orgs = {}, {}
        new_tip = state.tip()
        assert new_tip is not None
        self._tail = _Tail(new_tip, tail.tree, checkpoint, bindings, orgs)
        self._public_keys.update(state.public_keys())
        return checker.results

    def _log_tip(self, state: SqlState) -> Tip:
        """The stored log's latest entry, once its genesis is known to name this log's key."""
        tip, genesis = state.tip(), state.genesis()
        if tip is None or genesis is None:
            raise StorageError("the database holds no log; run tizbek init")
        if genesis.log_key != self.signer.verifier:
            raise KeyFormatError(
                f"the genesis entry names checkpoint key {genesis.log_key}, not this log key"
            )
        self._genesis = genesis
        return tip

    def _load_tail(self, conn: Connection, tip: Tip) -> _Tail:
        """Read the edge of the tree and the latest checkpoint at ``tip``."""
        tree = CompactRange.from_reader(node_reader(conn), tip.seq + 1)
        return _Tail(tip, tree, self._stored_checkpoint(conn), {}, {})

    def _stored_checkpoint(self, conn: Connection) -> Checkpoint:
        """The latest checkpoint stored (signed by this process or another)."""
        row = conn.execute(
            select(CHECKPOINTS.c.size, CHECKPOINTS.c.root)
            .order_by(CHECKPOINTS.c.size.desc())
            .limit(1)
        ).one()
        return Checkpoint(self.signer.name, row[0], bytes(row[1]))

    def sign_pending(self) -> Checkpoint | None:
        """Sign a checkpoint over the whole log if some entries are not yet covered by one.

        Its own transaction, under the sequencer lock; the new checkpoint is
        proven consistent with the latest stored one, whoever signed that.
        Returns it, or None when the latest stored checkpoint already covers
        the log (then nothing is written).
        """
        with self._sequencing() as conn:
            return self._sign_pending(conn)

    def _sign_pending(self, conn: Connection) -> Checkpoint | None:
        tail, self._tail = self._tail, None
        with conn.begin():
            state = SqlState(conn, self._genesis)
            state.prefetch((), first=_locking(conn))
            tip = self._log_tip(state)
            if tail is None or tail.tip != tip:
                tail = self._load_tail(conn, tip)
            previous = self._stored_checkpoint(conn)
            tail.checkpoint = previous
            if previous.size >= tail.tree.size:
                self._tail = tail
                return None
            checkpoint = Checkpoint(self.signer.name, tail.tree.size, tail.tree.root())
            known = {(lv, ix): h for lv, ix, h in tail.tree.nodes()}
            note = self._sign(conn, previous, checkpoint, known)
            state.driver.insert(
                "checkpoints",
                _CHECKPOINT_COLUMNS,
                [(checkpoint.size, checkpoint.root, note, utc_now())],
            )
        self._signed_at = time.monotonic()
        tail.checkpoint = checkpoint
        self._tail = tail
        return checkpoint

    def _sign(
        self, conn: Connection, previous: Checkpoint, new: Checkpoint, known: dict[Node, bytes]
    ) -> str:
        """Sign ``new``, proven consistent with ``previous``, the latest checkpoint signed.

        When ``previous`` covers the tree as this batch found it, the proof's
        nodes are all on that edge or among those the batch created (``known``)
        and nothing is read; otherwise the older nodes come from the database.
        """
        proof: list[bytes] = []
        if previous.size > 0:
            stored = node_reader(conn)

            def read(wanted: Sequence[Node]) -> list[bytes]:
                missing = [n for n in wanted if n not in known]
                known.update(zip(missing, stored(missing), strict=True))
                return [known[n] for n in wanted]

            proof = consistency_proof_from_nodes(read, old_size=previous.size, size=new.size)
        return sign_checkpoint(self.signer, new, previous=previous, proof=proof)

    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size.desc()).limit(1)
                ).scalar_one()
            )
