"""The least a durable append can cost on a database: the floor under one submitter's rate.

A lone submitter waits for each answer, so its rate is one over the time of a
whole append. Part of that time no implementation of the storage issue can
avoid on a given database: parsing the submission, checking its signature,
hashing its leaf into the tree, signing a checkpoint, and committing the
entry, its new Merkle nodes and the checkpoint durably, under the sequencer
lock. :class:`AppendFloor` does exactly that and nothing more, straight on
the database driver, into the ``log_entries``, ``tree_nodes`` and
``checkpoints`` tables of an empty Tizbek database: no custody rules, no
projections, no lookups of the log's state, no check of the chain or of the
checkpoint's consistency, no SQL toolkit. Its rate bounds from above the
one-submitter rate of any append path that does what the storage issue asks
(a signed checkpoint for each acknowledged batch, the sequencer lock, a
durable commit) on that database and machine; ``bench_storage.py`` measures
it beside Tizbek's and pymerkle's, in the same rounds.

The issue also allows checkpoints at an interval rather than with each batch.
With ``checkpoints=False`` the floor leaves the checkpoint out altogether
(neither signed nor stored): the least an append costs when checkpoints come
at an interval, however long.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg
from bench_logs import ORIGIN, Org, parse, wire

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.events import utc_now
from ledger.keys import PublicKey, SigningKey
from ledger.merkle import CompactRange, leaf_hash
from ledger.note import NoteSigner
from ledger.storage.sqllog import SEQUENCER_LOCK

_ENTRY = (
    "INSERT INTO log_entries (seq, leaf_hash, data, signer_key, nonce, logged_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_NODE = "INSERT INTO tree_nodes (level, idx, hash) VALUES (?, ?, ?)"
_CHECKPOINT = "INSERT INTO checkpoints (size, root, note, signed_at) VALUES (?, ?, ?, ?)"


class AppendFloor:
    """Minimal durable appends into an empty, migrated Tizbek database at ``url``."""

    def __init__(self, url: str, log_key: SigningKey) -> None:
        self.signer = NoteSigner(ORIGIN, log_key)
        self.tree = CompactRange()
        self.postgres = url.startswith("postgresql")
        self.raw: Any
        if self.postgres:
            self.raw = psycopg.connect(url.replace("postgresql+psycopg:", "postgresql:", 1))
            self.mark = "%s"
        else:
            self.raw = sqlite3.connect(Path(url.removeprefix("sqlite:///")), isolation_level=None)
            # As the log's own connections: WAL, every commit durable. The WAL is moved into
            # the file between runs (``settle``), not inside a measured commit.
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "wal_autocheckpoint=0"):
                self.raw.execute(f"PRAGMA {pragma}")
            self.mark = "?"

    def _sql(self, text: str) -> str:
        return text.replace("?", self.mark)

    def append(self, body: bytes, public: PublicKey, *, checkpoints: bool = True) -> None:
        """Append the submission in ``body``, signed by ``public``, durably and no more.

        With ``checkpoints``, a checkpoint over the new tree is signed and stored
        in the same commit; without, none is.
        """
        submission = parse(body).checked(public)
        event = submission.event
        data = submission.signed_bytes()
        seq = self.tree.size
        hashed = leaf_hash(data)
        nodes = self.tree.append(hashed)
        now = utc_now()
        entry = (seq, hashed, data, event["key"], event["nonce"], now)
        heads: list[tuple[int, bytes, str, str]] = []
        if checkpoints:
            checkpoint = Checkpoint(ORIGIN, self.tree.size, self.tree.root())
            note = sign_checkpoint(self.signer, checkpoint, previous=None)  # no consistency check
            heads.append((checkpoint.size, checkpoint.root, note, now))
        if self.postgres:
            with self.raw.pipeline():
                self.raw.execute(f"SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})")
                cur = self.raw.cursor()
                cur.execute(self._sql(_ENTRY), entry)
                cur.executemany(self._sql(_NODE), nodes)
                if heads:
                    cur.executemany(self._sql(_CHECKPOINT), heads)
                self.raw.commit()
            return
        self.raw.execute("BEGIN IMMEDIATE")
        self.raw.execute(_ENTRY, entry)
        self.raw.executemany(_NODE, nodes)
        if heads:
            self.raw.executemany(_CHECKPOINT, heads)
        self.raw.execute("COMMIT")

    def settle(self) -> None:
        """Between runs: on SQLite, move the WAL into the file (it is reused from its start)."""
        if not self.postgres:
            self.raw.execute("PRAGMA wal_checkpoint(RESTART)")

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()


def floor_rate(floor: AppendFloor, org: Org, count: int, *, checkpoints: bool = True) -> float:
    """Appends/s of ``floor`` for one submitter sending ``count`` of ``org``'s lots
    (``checkpoints``: as :meth:`AppendFloor.append`)."""
    bodies = [wire(org, "floor") for _ in range(count)]
    start = time.perf_counter()
    for body in bodies:
        floor.append(body, org.key.public, checkpoints=checkpoints)
    elapsed = time.perf_counter() - start
    floor.settle()
    return count / elapsed
