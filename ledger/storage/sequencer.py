"""Group commit: many concurrent submitters, one transaction per batch.

Submitters hand their submissions to a :class:`GroupCommitter` and wait. One
thread takes whatever has queued up (while the previous batch was committing,
more arrive) and appends it with :meth:`~ledger.storage.sqllog.SqlLog.append_batch`:
one lock, one durable commit and one signed checkpoint for the whole batch.
Those who arrive while the batch's first submissions are being checked join
the same transaction, so a batch does not wait idle for its last members (on
SQLite; on PostgreSQL, where every read is a round trip, a batch first
gathers its members and is then read once).
Each submitter is answered only after that commit, with its own entry or its
own refusal. Several processes may each run a committer against one database;
the sequencer lock keeps their batches in one line.

A caller in a thread of its own that finds nobody else appending commits its
submission itself rather than waking the sequencer thread (see
:meth:`GroupCommitter.submit`); callers on an event loop always queue.

Every batch signs a checkpoint unless a checkpoint interval is set (the
``checkpoint_interval`` argument, or ``TIZBEK_CHECKPOINT_INTERVAL`` in
seconds). Then a batch signs one only when the interval has passed since the
last, and a thread of the committer signs for entries that have waited that
long with no batch after them, so that every entry is under a signed
checkpoint at most one interval after it was appended. It also signs at once
for any entries a previous run left uncovered, and closing the committer signs
for the last ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from concurrent.futures import Future

from ledger.entries import Entry
from ledger.errors import StorageError, TizbekError
from ledger.events import Submission
from ledger.storage.checkpointer import (
    MAX_CHECKPOINT_INTERVAL,
    Checkpointer,
    checkpoint_interval_from_env,
)
from ledger.storage.planner import PlannerStatistics
from ledger.storage.sqllog import Appended, SqlLog
from ledger.storage.walcheckpoint import WalCheckpointer

#: The most submissions one transaction takes.
DEFAULT_MAX_BATCH = 256
#: How long, in seconds, a batch may wait for the submitters it expects (those
#: the previous commit answered, and those who queued meanwhile) before it
#: commits. They need a moment to send their next submission; without the
#: wait they would split into two half-sized batches that each pay for a
#: commit. A lone submitter never waits.
DEFAULT_MAX_WAIT = 0.002

_Item = tuple[Submission, "Future[Appended]"]


class GroupCommitter:
    """Appends submissions from many threads in batches, each caller answered after commit."""

    def __init__(
        self,
        log: SqlLog,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait: float = DEFAULT_MAX_WAIT,
        checkpoint_interval: float | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait < 0:
            raise ValueError("max_wait must not be negative")
        if checkpoint_interval is None:
            checkpoint_interval = checkpoint_interval_from_env()
        if not 0 <= checkpoint_interval <= MAX_CHECKPOINT_INTERVAL:
            raise ValueError(f"checkpoint_interval must be from 0 to {MAX_CHECKPOINT_INTERVAL}")
        log.checkpoint_interval = checkpoint_interval
        self.log = log
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        #: Held by whoever commits a batch: the sequencer thread, or a lone caller.
        self._turn = threading.Lock()
        #: How many submitters the next batch is likely to hold (see ``_run``).
        self._expected = 1
        #: Batches committed by their lone caller's own thread (see ``submit``).
        self.inline = 0
        #: Batches committed, the submissions they held, and the seconds spent committing
        #: them (less those a batch spent waiting for its late members): with the time
        #: they were taken over, how busy the sequencer was.
        self.batches = 0
        self.submissions = 0
        self.busy = 0.0
        #: On SQLite, the thread that checkpoints the WAL off the append path.
        self.wal: WalCheckpointer | None = None
        if log.engine.dialect.name == "sqlite":
            log.close()  # reopened without automatic checkpoints
            log.autocheckpoint = False
            self.wal = WalCheckpointer(log.engine)
        #: On PostgreSQL, what keeps the planner's statistics in step with the log.
        self.planner: PlannerStatistics | None = None
        if log.engine.dialect.name == "postgresql":
            self.planner = PlannerStatistics(log.engine)
        #: With a checkpoint interval, what signs for entries no batch has signed for.
        self.checkpoints: Checkpointer | None = None
        if checkpoint_interval > 0:
            self.checkpoints = Checkpointer(log, self._turn)
        self._thread = threading.Thread(target=self._run, name="tizbek-sequencer", daemon=True)
        self._thread.start()

    def submit_future(self, submission: Submission) -> Future[Appended]:
        """Queue ``submission``; the future resolves once it is durable (or refused)."""
        future: Future[Appended] = Future()
        submission = self._prechecked(submission)
        with self._lock:
            if self._closed:
                raise StorageError("the sequencer is closed")
            self._queue.put((submission, future))
        return future

    def _prechecked(self, submission: Submission) -> Submission:
        """``submission`` with its signature checked against a key the log has seen bound.

        Done in the submitter's thread rather than in the batch; if it fails,
        the batch finds and reports what is wrong in the log's words.
        """
        hint = self.log.known_key(submission.event["key"])
        if hint is not None:
            with contextlib.suppress(TizbekError):
                return submission.checked(hint)
        return submission

    async def append(self, submission: Submission) -> Appended:
        """Append ``submission`` from an event loop; return once it is durable (or raise)."""
        return await asyncio.wrap_future(self.submit_future(submission))

    def submit(self, submission: Submission, timeout: float | None = None) -> tuple[Entry, bool]:
        """Append ``submission``; return its entry and whether it is new (False: a resend).

        A caller that finds the committer idle, with nobody else appending
        lately, commits its submission in its own thread instead of handing it
        to the sequencer thread: see :meth:`_alone`.
        """
        appended = self._alone(submission)
        if appended is None:
            appended = self.submit_future(submission).result(timeout)
        return appended.entry, appended.new

    def _alone(self, submission: Submission) -> Appended | None:
        """Commit ``submission`` in the caller's thread if it is the only submitter about.

        Handing a lone submission to the sequencer thread wakes that thread,
        mostly on the other core after it has idled, and every phase of the
        append then runs slower than in the caller's own thread (in one
        instrumented run on SQLite, 2.35 ms against 1.36 ms). So when the last batch
        held one submission, nothing is queued and no batch is being committed,
        the caller commits its own. As soon as a second submitter appears (it
        finds this batch committing and queues), batches form in the sequencer
        thread again. None: queue it as usual.
        """
        if self._expected > 1 or not self._queue.empty() or self._closed:
            return None
        if not self._turn.acquire(blocking=False):
            return None
        try:
            if not self._queue.empty() or self._closed:
                return None
            submission = self._prechecked(submission)
            start = time.perf_counter()
            (result,) = self.log.append_batch([submission])
            self._committed(1, start)
            self.inline += 1
        finally:
            self._turn.release()
        if isinstance(result, TizbekError):
            raise result
        return result

    def close(self) -> None:
        """Finish what is queued, then stop the sequencer thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()
        with self._turn:  # a lone caller's commit still running finishes first
            pass
        if self.checkpoints is not None:
            self.checkpoints.close()
        if self.planner is not None:
            self.planner.stop()
        if self.wal is not None:
            self.wal.close()
            self.log.close()
            self.log.autocheckpoint = True

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = _Batch(self, first)
            with self._turn:
                start = time.perf_counter()
                self._commit(batch)
                self._committed(len(batch.items), start + batch.waited)
            if batch.stopping:
                return

    def _committed(self, count: int, start: float) -> None:
        """After a batch of ``count`` begun at ``start``: WAL and planner bookkeeping, the
        counts, and the next batch's size."""
        self.batches += 1
        self.submissions += count
        self.busy += time.perf_counter() - start
        if self.wal is not None:
            self.wal.committed()
        size = self.log.known_size()
        if self.planner is not None and size is not None:
            self.planner.appended(size)
        self._expected = count + self._queue.qsize()
        if self.checkpoints is not None:
            self.checkpoints.committed()

    def _commit(self, batch: _Batch) -> None:
        try:
            results = self.log.append_batch(batch.take(), batch.take)
        except BaseException as exc:  # the transaction failed: every caller learns why
            for _, future in batch.items:
                future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch.items, results, strict=True):
            if isinstance(result, Appended):
                future.set_result(result)
            else:
                future.set_exception(result)


class _Batch:
    """The submissions of one batch, taken from the queue as the batch goes.

    The batch expects as many submitters as the last one answered plus those
    who queued while it committed (they tend to come straight back). It takes
    what has queued, and while it has fewer than it expects it waits for
    more, up to the committer's ``max_wait`` after the first. What arrives
    until then, while the log checks what it has, joins the same transaction (see
    :meth:`~ledger.storage.sqllog.SqlLog.append_batch`'s ``more``), so the
    check of the first arrivals overlaps the others' coming.
    """

    def __init__(self, committer: GroupCommitter, first: _Item) -> None:
        self._queue = committer._queue
        self._max = committer.max_batch
        self._target = min(committer.max_batch, committer._expected)
        self._deadline = time.monotonic() + committer.max_wait
        self.items: list[_Item] = [first]
        self._given = 0
        #: The queue's end was reached: the committer is closing.
        self.stopping = False
        #: Seconds spent waiting for submissions after the first.
        self.waited = 0.0
        #: No more members: its wait is over, or a look at the queue found nobody new.
        self._whole = False

    def take(self) -> list[Submission]:
        """The submissions that have arrived since the last call (none: the batch is whole).

        While the batch holds fewer than it expects, this waits for the next
        arrival. Arrivals join until ``max_wait`` after the first has passed;
        what has queued by then still joins, and later ones wait for the next
        batch. So under a steady stream a batch does not keep growing while
        its first members wait for their answers.
        """
        if self._whole:
            return []
        while not self.stopping and len(self.items) < self._max:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self._whole = True  # one last look at the queue, without waiting
            expecting = len(self.items) < self._target and len(self.items) == self._given
            wait = left if expecting and not self._whole else 0.0
            began = time.perf_counter()
            try:
                item = self._queue.get(timeout=max(0.0, wait))
            except queue.Empty:
                break
            finally:
                self.waited += time.perf_counter() - began
            if item is None:
                self.stopping = True
                break
            self.items.append(item)
        fresh = self.items[self._given :]
        self._given = len(self.items)
        if not fresh:
            self._whole = True
        return [submission for submission, _ in fresh]
