"""Signing checkpoints at an interval rather than with every batch of appends.

``TIZBEK_CHECKPOINT_INTERVAL`` (seconds, 0 by default) sets the interval for
a :class:`~ledger.storage.sequencer.GroupCommitter`; with one, the
committer's :class:`Checkpointer` signs for the entries no batch has signed
for once they have waited that long (see :meth:`SqlLog.sign_pending
<ledger.storage.sqllog.SqlLog.sign_pending>`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time

from ledger.errors import StorageError
from ledger.storage.sqllog import SqlLog

#: Seconds between checkpoints: 0 (the default) signs one with every batch.
CHECKPOINT_INTERVAL_ENV = "TIZBEK_CHECKPOINT_INTERVAL"
#: The longest checkpoint interval accepted, in seconds (a day).
MAX_CHECKPOINT_INTERVAL = 86_400.0

logger = logging.getLogger("tizbek.checkpoints")


def checkpoint_interval_from_env() -> float:
    """The checkpoint interval ``TIZBEK_CHECKPOINT_INTERVAL`` sets, in seconds (0 if unset)."""
    text = os.environ.get(CHECKPOINT_INTERVAL_ENV, "").strip()
    if not text:
        return 0.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_CHECKPOINT_INTERVAL:
        raise StorageError(
            f"{CHECKPOINT_INTERVAL_ENV} must be a number of seconds from 0 to "
            f"{MAX_CHECKPOINT_INTERVAL:.0f}, not {text!r}"
        )
    return seconds


class Checkpointer:
    """Signs, in a thread of its own, the checkpoint for entries no batch has signed for.

    It waits without a deadline while every entry is covered; the committer
    wakes it (:meth:`committed`) only when a batch leaves the first uncovered
    entries, so batches in between cost it nothing. It then sleeps until the
    checkpoint is due and signs, taking the committer's turn like a batch; if
    a batch signed meanwhile, there is nothing left to do. Before the thread
    starts it signs for what a previous run left uncovered; on close, for the
    last entries.
    """

    def __init__(self, log: SqlLog, turn: threading.Lock) -> None:
        self._log = log
        #: The committer's turn, held by whoever commits a batch.
        self._turn = turn
        self._cond = threading.Condition()
        self._stopping = False
        #: Waiting with no deadline: the next uncovered entry must wake it.
        self._idle = False
        #: Checkpoints signed by this thread (not by batches).
        self.signed = 0
        self._sign()  # before any batch: what a previous run left uncovered
        self._thread = threading.Thread(target=self._run, name="tizbek-checkpoints", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """After a batch: wake the thread if it waits idle and entries are now uncovered.

        Under the thread's lock, so that a thread about to wait idle has either
        seen this batch's entries or is waiting when they are looked at here.
        """
        with self._cond:
            if self._idle and self._log.uncovered() > 0:
                self._idle = False
                self._cond.notify()

    def close(self) -> None:
        """Stop the thread, then sign for whatever is still uncovered."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()
        self._sign()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    due = self._log.checkpoint_due()
                    if due is None:
                        self._idle = True
                        self._cond.wait()
                        continue
                    self._idle = False
                    left = due - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return
            if not self._sign():
                with self._cond:  # failed: try again an interval later
                    self._cond.wait(self._log.checkpoint_interval)

    def _sign(self) -> bool:
        try:
            with self._turn:
                if self._log.sign_pending() is not None:
                    self.signed += 1
        except Exception:
            logger.exception("signing a checkpoint failed; the entries stay durable")
            return False
        return True
