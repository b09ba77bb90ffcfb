"""The relay: API workers hand submissions to one sequencer over a Unix socket."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.demo import lot_fields
from ledger.errors import (
    EventFormatError,
    RuleError,
    SignatureError,
    StorageError,
    VerificationError,
)
from ledger.events import Submission, make_event, sign_event
from ledger.keys import PublicKey, SigningKey
from ledger.storage.audit import audit_database
from ledger.storage.reader import LogReader
from ledger.storage.relay import RelayClient, _Answers, serving_sequencer
from ledger.storage.relay_frames import (
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
)
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import Appended, SqlLog
from ledger.storage.tables import ENTRIES
from tests.storage.logs import label
from tests.storage.workers import log_with_workers

ORGS = ["org-a", "org-b"]


def _lot(log: SqlLog, key: SigningKey, org: str, n: int) -> Submission:
    event = make_event(
        "lot.registered", log=log.signer.name, actor=org, key=key, **lot_fields(label(org, n))
    )
    return sign_event(key, event)


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[tuple[SqlLog, dict[str, SigningKey]]]:
    engine, log = log_with_workers(tmp_path, database_url, ORGS)
    keys = {org: SigningKey.load(tmp_path / f"{org}.key") for org in ORGS}
    try:
        yield log, keys
    finally:
        log.close()
        engine.dispose()


def test_the_sequencer_does_not_check_again_what_a_worker_checked(
    world: tuple[SqlLog, dict[str, SigningKey]], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, keys = world
    checks: list[str] = []
    real = PublicKey.verify

    def counted(self: PublicKey, signature: bytes, message: bytes) -> None:
        checks.append(self.key_id)
        real(self, signature, message)

    worker = _lot(log, keys["org-a"], "org-a", 1).checked(keys["org-a"].public)
    _, relayed = decode_request(encode_request(1, worker)[4:])
    plain = _lot(log, keys["org-b"], "org-b", 1)
    monkeypatch.setattr(PublicKey, "verify", counted)
    with GroupCommitter(log) as committer:
        assert committer.submit_future(relayed).result(timeout=30).new
        assert checks == []  # the worker's check stands, as the relay's frame says
        assert committer.submit_future(plain).result(timeout=30).new
        assert checks == [keys["org-b"].key_id]  # checked once, before the batch
    # Checking under another key is never skipped.
    with pytest.raises(SignatureError):
        relayed.checked(keys["org-b"].public)


def test_frames_carry_submissions_entries_and_refusals(
    world: tuple[SqlLog, dict[str, SigningKey]],
) -> None:
    log, keys = world
    submission = _lot(log, keys["org-a"], "org-a", 1).checked(keys["org-a"].public)
    ident, back = decode_request(encode_request(7, submission)[4:])
    assert (ident, back) == (7, submission)
    assert back.verified_by == keys["org-a"].public.raw
    assert back.signed_bytes() == submission.signed_bytes()
    unverified = _lot(log, keys["org-b"], "org-b", 1)
    assert decode_request(encode_request(8, unverified)[4:])[1].verified_by is None

    entry, _ = log.append(submission)
    ident, answer = decode_answer(encode_answer(9, Appended(entry, True))[4:], submission)
    assert ident == 9
    assert isinstance(answer, Appended)
    assert answer.new
    assert (answer.entry.seq, answer.entry.data, answer.entry.hash) == (
        entry.seq,
        entry.data,
        entry.hash,
    )
    assert answer.entry.logged_at == entry.logged_at
    assert answer.entry.prev == entry.prev

    refusal = RuleError("lot D is not at your site", rule="holder", subject="D")
    _, back_error = decode_answer(encode_answer(10, refusal)[4:], submission)
    assert isinstance(back_error, RuleError)
    assert (back_error.message, back_error.rule, back_error.subject, back_error.code) == (
        "lot D is not at your site",
        "holder",
        "D",
        "rule_violation",
    )
    _, internal = decode_answer(encode_answer(11, RuntimeError("disk on fire"))[4:], submission)
    assert isinstance(internal, StorageError)
    assert "disk" not in internal.message  # the details stay in the sequencer's log


def test_two_workers_append_through_one_sequencer(
    world: tuple[SqlLog, dict[str, SigningKey]], tmp_path: Path, database_url: str
) -> None:
    log, keys = world
    reader = LogReader(log.engine)
    subs = {org: [_lot(log, keys[org], org, n) for n in range(1, 61)] for org in ORGS}

    async def worker(path: Path, org: str) -> list[int]:
        client = RelayClient(path, reader.public_key)
        try:
            appended = await asyncio.gather(*(client.append(s) for s in subs[org]))
            # A resend is answered with the entry it made; a reused nonce is refused.
            again = await client.append(subs[org][0])
            assert (again.entry.seq, again.new) == (appended[0].entry.seq, False)
            reuse = make_event(
                "lot.registered",
                log=log.signer.name,
                actor=org,
                key=keys[org],
                **lot_fields(label(org, 99)),
            )
            reuse["nonce"] = subs[org][1].event["nonce"]
            with pytest.raises(EventFormatError, match="already used"):
                await client.append(sign_event(keys[org], reuse))
            # A bad signature is caught (here or in the sequencer) and named.
            fresh = _lot(log, keys[org], org, 98)
            forged = Submission(fresh.event, subs[org][3].sig)
            with pytest.raises(VerificationError) as refused:
                await client.append(forged)
            assert refused.value.check == "signature"
            return [a.entry.seq for a in appended if a.new]
        finally:
            client.close()

    async def both(path: Path) -> list[list[int]]:
        return list(await asyncio.gather(*(worker(path, org) for org in ORGS)))

    log.close()  # the sequencer below opens the log itself
    frozen = gc.get_freeze_count()
    try:
        with serving_sequencer(database_url, tmp_path / "k") as path:
            mode = stat.S_IMODE(os.stat(path.parent).st_mode)
            assert mode == 0o700, oct(mode)  # only the server's user may connect
            # What the serving process built is out of the cyclic collector's way.
            assert gc.get_freeze_count() > frozen
            seqs = asyncio.run(both(path))
    finally:
        gc.unfreeze()  # this test process is not a server: let the other tests' garbage go
    assert not path.exists()
    flat = sorted(s for per in seqs for s in per)
    assert len(flat) == 120
    with log.engine.connect() as conn:
        size = conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one()
    assert flat == list(range(size - 120, size))
    assert audit_database(log.engine).entries == size


def test_a_worker_without_its_sequencer_gets_a_clear_error(tmp_path: Path) -> None:
    client = RelayClient(tmp_path / "nowhere.sock", lambda _key_id: None)
    key = SigningKey.generate()
    submission = sign_event(key, make_event("lot.registered", log="x", actor="a", key=key))
    with pytest.raises(StorageError, match="sequencer is not reachable"):
        asyncio.run(client.append(submission))


def test_a_lost_sequencer_fails_what_waits_on_it(
    world: tuple[SqlLog, dict[str, SigningKey]], tmp_path: Path, database_url: str
) -> None:
    log, keys = world
    reader = LogReader(log.engine)
    log.close()

    async def run() -> None:
        with serving_sequencer(database_url, tmp_path / "k") as path:
            client = RelayClient(path, reader.public_key)
            first = await client.append(_lot(log, keys["org-a"], "org-a", 1))
            assert first.new
        # The sequencer is gone: the open connection fails, and so does a new one.
        with pytest.raises(StorageError):
            await client.append(_lot(log, keys["org-a"], "org-a", 2))
        with pytest.raises(StorageError, match="not reachable"):
            await client.append(_lot(log, keys["org-a"], "org-a", 3))
        client.close()

    asyncio.run(run())


def test_requests_of_one_turn_go_out_in_one_write(
    world: tuple[SqlLog, dict[str, SigningKey]],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log, keys = world
    reader = LogReader(log.engine)
    subs = [_lot(log, keys["org-a"], "org-a", n) for n in range(1, 32)]
    writes: list[tuple[str, bytes]] = []
    real = asyncio.StreamWriter.write

    def counted(self: asyncio.StreamWriter, data: bytes) -> None:
        writes.append((threading.current_thread().name, bytes(data)))
        real(self, data)

    async def run(path: Path) -> list[Appended]:
        client = RelayClient(path, reader.public_key)
        try:
            await client.append(subs[0])  # connected
            writes.clear()
            return list(await asyncio.gather(*(client.append(s) for s in subs[1:])))
        finally:
            client.close()

    log.close()
    with serving_sequencer(database_url, tmp_path / "k") as path:
        monkeypatch.setattr(asyncio.StreamWriter, "write", counted)
        appended = asyncio.run(run(path))
    assert all(a.new for a in appended)
    # The worker's 30 requests left in one write (the sequencer's relay thread writes
    # the answers, in a thread of its own).
    requests = [data for thread, data in writes if thread == threading.current_thread().name]
    assert len(requests) == 1
    assert [decode_request(f)[1] for f in _frames(requests[0])] == subs[1:]


def _frames(data: bytes) -> Iterator[bytes]:
    while data:
        size = int.from_bytes(data[:4], "big")
        yield data[4 : 4 + size]
        data = data[4 + size :]


def test_answers_queued_together_are_written_together() -> None:
    async def run() -> tuple[int, bytes]:
        ours, theirs = socket.socketpair()
        reader, their_writer = await asyncio.open_connection(sock=theirs)
        _, writer = await asyncio.open_connection(sock=ours)
        writes: list[bytes] = []
        real = writer.write

        def counted(data: bytes | bytearray | memoryview) -> None:
            writes.append(bytes(data))
            real(data)

        writer.write = counted  # type: ignore[method-assign]
        answers = _Answers(asyncio.get_running_loop(), writer)

        # From another thread, as the committer answers a batch, while the loop is busy
        # (here: joining that thread): one write for all, once the loop comes to it.
        def answer_batch() -> None:
            for n in range(30):
                answers.put(b"%03d" % n)

        batch = threading.Thread(target=answer_batch)
        batch.start()
        batch.join()
        received = await reader.readexactly(90)
        writer.close()
        their_writer.close()
        return len(writes), received

    count, received = asyncio.run(run())
    assert count == 1
    assert received == b"".join(b"%03d" % n for n in range(30))
