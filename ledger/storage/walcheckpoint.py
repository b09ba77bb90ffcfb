"""Moving SQLite's write-ahead log into the database file off the append path.

By default SQLite checkpoints inside the commit that pushes the WAL past 1,000
pages, so every few hundred appends one caller's commit also copies the WAL
into the database and syncs it: a latency spike for a whole batch. A
long-running sequencer (``tizbek serve``) instead turns automatic
checkpoints off on its own connection and lets this thread run a PASSIVE
checkpoint, which never blocks writers or readers, shortly after commits. If
the thread falls behind, the WAL only grows until it catches up; nothing is
lost, because every commit is already durable in the WAL.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import Engine

#: Seconds between checkpoints while appends keep coming.
INTERVAL = 0.5


class WalCheckpointer:
    """A daemon thread checkpointing one SQLite database while commits happen."""

    def __init__(self, engine: Engine, interval: float = INTERVAL) -> None:
        self.engine = engine
        self.interval = interval
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="tizbek-wal", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Note that a commit added to the WAL."""
        self._dirty.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(timeout=1.0):
                continue
            self._dirty.clear()
            self.checkpoint()
            self._stop.wait(self.interval)

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, as far as readers allow."""
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1

    def close(self) -> None:
        """Stop the thread after a last checkpoint."""
        self._stop.set()
        self._dirty.set()
        self._thread.join()
        self.checkpoint()
