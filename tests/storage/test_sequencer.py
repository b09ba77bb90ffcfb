"""Batched appends and group commit, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger.demo import lot_fields
from ledger.errors import EventFormatError, SignatureError, StorageError, VerificationError
from ledger.events import Submission, make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.audit import audit_database
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import Appended, SqlLog
from ledger.storage.state import SqlState
from ledger.storage.tables import CHECKPOINTS, ENTRIES
from tests.storage.logs import ORIGIN, issued, label
from tests.storage.logs import bound as _bound
from tests.storage.logs import lot as _lot
from tests.storage.logs import registered as _registered
from tests.storage.logs import signed as _signed


def _count(sql: SqlLog, table: Any) -> int:
    with sql.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _collector(sql: SqlLog, authority: SigningKey) -> SigningKey:
    """Register ``almaty-collect``, bind it a new key and issue it labels; return the key."""
    collector = SigningKey.generate()
    sql.append(_registered(authority, "almaty-collect"))
    sql.append(_bound(authority, collector, "almaty-collect"))
    sql.append(issued(authority, "almaty-collect"))
    return collector


def _same_nonce(collector: SigningKey, earlier: Submission, n: int) -> Submission:
    """Lot ``n``'s registration, reusing the nonce of ``earlier``."""
    event = make_event(
        "lot.registered",
        log=ORIGIN,
        actor="almaty-collect",
        key=collector,
        nonce=earlier.event["nonce"],
        **lot_fields(label("almaty-collect", n)),
    )
    return sign_event(collector, event)


def test_one_batch_answers_each_submission_in_its_place(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = SigningKey.generate()
    stored = _registered(authority, "almaty-collect")
    sql.append(stored)
    sql.append(issued(authority, "almaty-collect"))
    registered = _lot(collector, "almaty-collect", 1)
    reused = _same_nonce(collector, registered, 2)
    stranger = _lot(SigningKey.generate(), "almaty-collect", 3)
    too_light = _lot(collector, "almaty-collect", 4, weight_g=0)
    batch = [_bound(authority, collector, "almaty-collect"), registered, registered, reused]
    batch += [stored, stranger, too_light]
    results = sql.append_batch(batch)

    bound, first, again, refused, resent, unknown, broken = results
    assert isinstance(bound, Appended)
    assert bound.entry.seq == 3
    assert bound.new
    assert isinstance(first, Appended)
    assert first.entry.seq == 4
    assert first.new
    assert isinstance(again, Appended)
    assert again == Appended(first.entry, False)
    assert isinstance(refused, EventFormatError)
    assert "nonce" in refused.message
    assert isinstance(resent, Appended)
    assert resent.entry.seq == 1
    assert not resent.new
    assert isinstance(unknown, VerificationError)
    assert unknown.check == "key"
    assert isinstance(broken, VerificationError)
    assert broken.check == "rule"
    assert "weight_g" in broken.message

    # A later entry of the same batch may name an earlier one as its ``after``.
    noted = _signed(
        collector,
        "almaty-collect",
        "lot.lost",
        lot=label("almaty-collect", 1),
        after=first.entry.hash.hex(),
        reason="x",
    )
    noted_again = _signed(
        collector,
        "almaty-collect",
        "lot.lost",
        lot=label("almaty-collect", 1),
        after=first.entry.hash.hex(),
        reason="y",
    )
    second = sql.append_batch([noted, noted_again])
    assert isinstance(second[0], Appended)
    assert second[0].entry.seq == 5
    assert isinstance(second[1], VerificationError)
    assert second[1].check == "reference"

    assert _count(sql, ENTRIES) == 6
    assert _count(sql, CHECKPOINTS) == 5  # genesis, the two single appends, and one per batch
    report = audit_database(sql.engine)
    assert (report.entries, report.checkpoints) == (6, 5)


def test_a_batch_given_in_parts_is_checked_and_answered_as_one(
    log: tuple[SqlLog, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    sql, authority = log
    collector = _collector(sql, authority)
    first = _lot(collector, "almaty-collect", 1)
    reused = _same_nonce(collector, first, 2)
    twice = _lot(collector, "almaty-collect", 1)  # the same lot, under a new nonce
    parts = [[first, _lot(collector, "almaty-collect", 3)], [first, reused], [twice], []]
    asked: list[int] = []

    def more() -> list[Submission]:
        asked.append(1)
        return parts[len(asked)]

    reads: list[int] = []
    prefetch = SqlState.prefetch

    def counted(state: SqlState, *args: Any, **kwargs: Any) -> None:
        reads.append(len(asked))
        prefetch(state, *args, **kwargs)

    monkeypatch.setattr(SqlState, "prefetch", counted)
    checkpoints = _count(sql, CHECKPOINTS)
    results = sql.append_batch(parts[0], more)
    assert len(asked) == 3  # asked until it gave none
    if sql.engine.dialect.name == "postgresql":  # all parts first, then one read
        assert reads == [3]
    else:  # each part read as it comes, the first checked while the others are asked for
        assert reads == [0, 1, 2]
    made, other, again, refused, registered_twice = results
    assert isinstance(made, Appended)
    assert made.entry.seq == 4
    assert isinstance(other, Appended)
    assert other.entry.seq == 5
    assert again == Appended(made.entry, False)  # a resend of an earlier part's submission
    assert isinstance(refused, EventFormatError)  # its nonce, taken by an earlier part
    # A later part is checked against the log as the earlier parts extend it.
    assert isinstance(registered_twice, VerificationError)
    assert registered_twice.check == "reference"  # the lot exists since the first part
    assert _count(sql, CHECKPOINTS) == checkpoints + 1  # one transaction, one checkpoint
    assert audit_database(sql.engine).entries == 6


@pytest.mark.parametrize("max_wait", [5.0, 0.0])
def test_a_batch_takes_late_arrivals_until_its_wait_is_over(
    log: tuple[SqlLog, SigningKey], max_wait: float
) -> None:
    sql, authority = log
    collector = _collector(sql, authority)
    original = sql.append_batch
    parts: list[int] = []
    late: list[Any] = []
    with GroupCommitter(sql, max_wait=max_wait) as committer:

        def watched(batch: Any, more: Any) -> Any:
            def watched_more() -> Any:
                if not late:  # queued while the batch's first part was being checked
                    late.append(committer.submit_future(_lot(collector, "almaty-collect", 2)))
                part = more()
                parts.append(len(part))
                return part

            parts.append(len(batch))
            return original(batch, watched_more)

        sql.append_batch = watched  # type: ignore[method-assign,assignment]
        checkpoints = _count(sql, CHECKPOINTS)
        started = time.perf_counter()
        first = committer.submit_future(_lot(collector, "almaty-collect", 1)).result()
        second = late[0].result()
        waited = time.perf_counter() - started
    assert (first.entry.seq, second.entry.seq) == (4, 5)
    assert waited < 5  # the batch expected one, and had it: it did not wait out its time
    if max_wait:  # it joins the batch, whose time is not over
        assert parts == [1, 1, 0]
        assert _count(sql, CHECKPOINTS) == checkpoints + 1
    else:  # a batch whose time is over leaves later arrivals to the next
        assert parts == [1, 0, 1, 0]
        assert _count(sql, CHECKPOINTS) == checkpoints + 2


def test_a_batch_waiting_for_members_is_not_counted_as_busy(
    log: tuple[SqlLog, SigningKey],
) -> None:
    sql, authority = log
    collector = _collector(sql, authority)
    with GroupCommitter(sql, max_wait=0.5) as committer:
        with committer._turn:  # both queued before the first batch starts: one batch of two
            pair = [committer.submit_future(_lot(collector, "almaty-collect", n)) for n in (1, 2)]
        for future in pair:
            future.result()
        assert (committer.batches, committer.submissions) == (1, 2)
        # The next batch expects two again and waits the full half second for the second.
        started = time.perf_counter()
        committer.submit_future(_lot(collector, "almaty-collect", 3)).result()
        assert time.perf_counter() - started >= 0.5
        assert committer.batches == 2
        assert committer.busy < 0.5  # the two commits, without the wait


def test_a_failed_batch_fails_those_who_joined_it_late(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _collector(sql, authority)
    original = sql.append_batch
    late: list[Any] = []
    with GroupCommitter(sql, max_wait=0) as committer:

        def watched(batch: Any, more: Any) -> Any:
            def failing_more() -> Any:
                late.append(committer.submit_future(_lot(collector, "almaty-collect", 2)))
                more()
                raise StorageError("the disk is full")

            return original(batch, failing_more)

        sql.append_batch = watched  # type: ignore[method-assign,assignment]
        entries = _count(sql, ENTRIES)
        first = committer.submit_future(_lot(collector, "almaty-collect", 1))
        with pytest.raises(StorageError, match="disk is full"):
            first.result()
        with pytest.raises(StorageError, match="disk is full"):
            late[0].result()
    assert _count(sql, ENTRIES) == entries  # nothing of the batch was written


def test_a_batch_of_refusals_writes_nothing(log: tuple[SqlLog, SigningKey]) -> None:
    sql, _ = log
    results = sql.append_batch([_lot(SigningKey.generate(), "nobody", 1)])
    assert isinstance(results[0], VerificationError)
    assert (_count(sql, ENTRIES), _count(sql, CHECKPOINTS)) == (1, 1)
    assert sql.append_batch([]) == []


def test_group_commit_serves_many_threads(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    threads, each = 16, 25
    keys = [SigningKey.generate() for _ in range(threads)]
    for i, key in enumerate(keys):
        sql.append(_registered(authority, f"org-{i}"))
        sql.append(_bound(authority, key, f"org-{i}"))
        sql.append(issued(authority, f"org-{i}"))
    answers: list[list[int]] = [[] for _ in range(threads)]
    with GroupCommitter(sql, max_batch=64) as committer:

        def submitter(i: int) -> None:
            for n in range(each):
                entry, new = committer.submit(_lot(keys[i], f"org-{i}", n))
                assert new
                answers[i].append(entry.seq)

        workers = [threading.Thread(target=submitter, args=(i,)) for i in range(threads)]
        started = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        # What the sequencer did, counted: every submission in some batch, most batches
        # holding several, and the time spent committing within the run's.
        assert committer.submissions == threads * each
        assert committer.batches < committer.submissions
        assert 0 < committer.busy <= elapsed
        refused = committer.submit_future(_lot(keys[0], "org-1", 9_999))
        with pytest.raises(VerificationError):
            refused.result()
        batched = committer.inline
        assert committer.submissions == threads * each + 1  # a refusal was in a batch too
    assert batched < threads  # a lone caller commits alone only until others appear
    seqs = sorted(s for a in answers for s in a)
    assert seqs == list(range(3 * threads + 1, 3 * threads + 1 + threads * each))
    assert all(a == sorted(a) for a in answers)  # each submitter's entries in its own order
    report = audit_database(sql.engine)
    assert report.entries == 1 + 3 * threads + threads * each
    assert report.checkpoints <= report.entries
    with pytest.raises(StorageError):
        committer.submit(_lot(keys[0], "org-0", 9_998))


def test_a_lone_submitter_commits_in_its_own_thread(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _collector(sql, authority)
    with GroupCommitter(sql) as committer:
        # Kept from the sequencer thread: every lone commit must happen in the caller's.
        sequencer = committer._thread.ident
        threads: set[int | None] = set()
        original = sql.append_batch

        def watched(batch: Any) -> Any:
            threads.add(threading.get_ident())
            return original(batch)

        sql.append_batch = watched  # type: ignore[method-assign,assignment]
        lots = [_lot(collector, "almaty-collect", n) for n in range(1, 6)]
        entries = [committer.submit(sub) for sub in lots]
        assert [e.seq for e, _ in entries] == [4, 5, 6, 7, 8]
        assert committer.submit(lots[0]) == (entries[0][0], False)  # a resend, answered alike
        with pytest.raises(VerificationError):  # a refusal reaches the caller as it would
            committer.submit(_lot(SigningKey.generate(), "almaty-collect", 7))
        assert committer.inline == committer.batches == committer.submissions == 7
        assert threads == {threading.get_ident()}
        assert sequencer not in threads
    assert audit_database(sql.engine).entries == 9


def test_a_second_submitter_sends_batches_back_to_the_sequencer(
    log: tuple[SqlLog, SigningKey],
) -> None:
    sql, authority = log
    keys = [SigningKey.generate(), SigningKey.generate()]
    for i, key in enumerate(keys):
        sql.append(_registered(authority, f"org-{i}"))
        sql.append(_bound(authority, key, f"org-{i}"))
        sql.append(issued(authority, f"org-{i}"))
    with GroupCommitter(sql) as committer:
        committer.submit(_lot(keys[0], "org-0", 1))
        assert committer.inline == 1
        # While a batch commits (here: the turn held, as a lone caller's commit holds it),
        # a second submitter queues rather than waiting for a turn of its own ...
        with committer._turn:
            queued = committer.submit_future(_lot(keys[1], "org-1", 1))
            behind = threading.Thread(target=committer.submit, args=(_lot(keys[0], "org-0", 2),))
            behind.start()
            time.sleep(0.1)
            assert not queued.done()
            assert committer.inline == 1
        # ... and the sequencer thread commits what queued, in its own batches.
        assert queued.result(timeout=10).entry.seq in (8, 9)
        behind.join(timeout=10)
        assert not behind.is_alive()
        assert committer.inline == 1
    assert audit_database(sql.engine).entries == 10


def test_closing_waits_for_a_lone_callers_commit(log: tuple[SqlLog, SigningKey]) -> None:
    sql, _ = log
    committer = GroupCommitter(sql)
    committer._turn.acquire()  # as a lone caller holds it while its batch commits
    closing = threading.Thread(target=committer.close)
    closing.start()
    time.sleep(0.2)
    assert closing.is_alive()  # the log's connection is not closed under that commit
    committer._turn.release()
    closing.join(timeout=10)
    assert not closing.is_alive()
    with pytest.raises(StorageError):
        committer.submit(_lot(SigningKey.generate(), "almaty-collect", 1))


def test_two_logs_on_one_database_take_turns(log: tuple[SqlLog, SigningKey]) -> None:
    """A log object's memory of the tail is dropped when another one appended meanwhile."""
    sql, authority = log
    other = SqlLog(sql.engine, sql.signer)
    collector = _collector(sql, authority)
    for n in range(6):
        writer = (sql, other)[n % 2]
        entry, _ = writer.append(_lot(collector, "almaty-collect", n))
        assert entry.seq == n + 4
    report = audit_database(sql.engine)
    assert (report.entries, report.checkpoints) == (10, 10)
    other.close()


def test_a_presigned_check_binds_the_key_it_was_made_with() -> None:
    key, stranger = SigningKey.generate(), SigningKey.generate()
    sub = _lot(key, "almaty-collect", 1).checked(key.public)
    sub.verify(key.public)
    with pytest.raises(SignatureError):
        sub.verify(stranger.public)
    forged = Submission(sub.event, _lot(stranger, "x", 1).sig)
    with pytest.raises(SignatureError):
        forged.checked(key.public)


def _sqlite_log_with_collector(log: tuple[SqlLog, SigningKey]) -> tuple[SqlLog, SigningKey]:
    sql, authority = log
    if sql.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite write-ahead log")
    return sql, _collector(sql, authority)


def test_sqlite_checkpoints_its_wal_off_the_append_path(log: tuple[SqlLog, SigningKey]) -> None:
    sql, collector = _sqlite_log_with_collector(log)
    with GroupCommitter(sql) as committer:
        assert committer.wal is not None
        for n in range(20):
            committer.submit(_lot(collector, "almaty-collect", n))
        raw: Any = sql._connection().connection.driver_connection
        assert raw.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        waited = 0.0
        while committer.wal.checkpoints == 0 and waited < 10:  # it runs shortly after commits
            time.sleep(0.05)
            waited += 0.05
        assert committer.wal.checkpoints >= 1
    # Closed: the log's own connection checkpoints by itself again.
    raw = sql._connection().connection.driver_connection
    assert raw.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    assert audit_database(sql.engine).entries == 24


def test_sqlite_wal_starts_again_under_steady_appends(log: tuple[SqlLog, SigningKey]) -> None:
    """Appends without a pause would grow the WAL for ever if checkpoints were only PASSIVE."""
    sql, collector = _sqlite_log_with_collector(log)
    wal = Path(str(sql.engine.url.database) + "-wal")
    threads, each = 4, 200
    with GroupCommitter(sql) as committer:
        assert committer.wal is not None
        committer.wal.interval = 0.01
        committer.wal.restart_frames = 64

        def submitter(i: int) -> None:
            for n in range(each):
                committer.submit(_lot(collector, "almaty-collect", i * 1000 + n))

        workers = [threading.Thread(target=submitter, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        largest = 0
        while any(w.is_alive() for w in workers):
            largest = max(largest, wal.stat().st_size)
            time.sleep(0.005)
        for w in workers:
            w.join()
        assert committer.wal.restarts >= 1
    written = _count(sql, ENTRIES) * 10 * 4096  # ten pages or more per entry, batched or not
    assert largest < written / 2, (largest, written)
    assert audit_database(sql.engine).entries == 4 + threads * each


def test_sqlite_wal_restart_never_holds_appends_behind_a_long_reader(
    log: tuple[SqlLog, SigningKey],
) -> None:
    """A reader keeping an old snapshot (a long export) makes the RESTART give up, not wait."""
    sql, collector = _sqlite_log_with_collector(log)
    reader = sqlite3.connect(str(sql.engine.url.database), isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM log_entries").fetchone()  # holds its snapshot
    try:
        with GroupCommitter(sql) as committer:
            assert committer.wal is not None
            committer.wal.interval = 0.01
            committer.wal.restart_frames = 1
            slowest = 0.0
            appended = 0
            # Until the checkpointer has tried (and given up on) the restart at least twice,
            # however fast the appends come on this machine.
            while committer.wal.checkpoints < 2 or appended < 40:
                start = time.perf_counter()
                committer.submit(_lot(collector, "almaty-collect", appended), timeout=10)
                slowest = max(slowest, time.perf_counter() - start)
                appended += 1
                assert appended < 5_000, "the WAL checkpointer never ran twice"
            assert committer.wal.restarts == 0  # the reader's snapshot still needs the WAL
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert slowest < 2.0  # not the 30 s busy timeout
    assert audit_database(sql.engine).entries == 4 + appended
