"""One sequencer for several API workers, reached over a Unix socket.

With ``tizbek serve --workers N`` the serving process runs the log's only
:class:`~ledger.storage.sequencer.GroupCommitter` behind a :class:`RelayServer`,
and each worker process hands its submissions over with a :class:`RelayClient`.
The workers do what can run side by side (HTTP, parsing, the Ed25519 signature
check against the key the event names); the sequencer does what must happen
one batch at a time (the custody rules, seq, the tree, the signed checkpoint,
the durable commit). Batches grow with the number of workers instead of the
workers taking turns at the database's sequencer lock, and SQLite, which has
one writer, can be served by several workers.

The socket lives in a directory only the server's user may enter: whoever can
connect may hand over submissions whose signatures it says it checked, just as
whoever holds the database's credentials may write to it.

Wire format, both directions: frames of a 4-byte big-endian length and then
that many bytes. A request is ``id`` (8 bytes), ``flags`` (1 byte; bit 0: the
signature was verified, and the 32-byte raw public key follows), the length of
``sig`` (2 bytes), ``sig`` (ASCII) and JCS(event). An answer is ``id``, a kind
(1 byte: 0 appended, 1 appended before, 2 refused) and then, for an entry,
``seq`` (8 bytes), ``prev`` and the leaf hash (32 bytes each), the length of
``logged_at`` (2 bytes), ``logged_at`` and the leaf bytes; for a refusal, the
error as JSON (its class in :mod:`ledger.errors`, its arguments and attributes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger import errors
from ledger.entries import Entry
from ledger.errors import StorageError, TizbekError
from ledger.events import Submission
from ledger.keys import PublicKey
from ledger.storage.create import LOG_KEY_FILE
from ledger.storage.engine import make_engine
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import Appended, SqlLog

log = logging.getLogger("tizbek.relay")

#: The largest frame either side accepts (a submission is at most 64 KiB; its entry a
#: little more).
MAX_FRAME = 1 << 20
SOCKET_NAME = "sequencer.sock"

_LENGTH = struct.Struct(">I")
_REQUEST = struct.Struct(">QBH")  # id, flags, len(sig)
_ANSWER = struct.Struct(">QB")  # id, kind
_ENTRY = struct.Struct(">Q32s32sH")  # seq, prev, hash, len(logged_at)
_VERIFIED = 1
_NEW, _BEFORE, _REFUSED = 0, 1, 2


def encode_request(ident: int, submission: Submission) -> bytes:
    """The frame handing ``submission`` over, as request ``ident``."""
    sig = submission.sig.encode("ascii")
    verified = submission.verified_by
    head = _REQUEST.pack(ident, _VERIFIED if verified else 0, len(sig))
    body = head + (verified or b"") + sig + submission.signed_bytes()
    return _LENGTH.pack(len(body)) + body


def decode_request(body: bytes) -> tuple[int, Submission]:
    """``(ident, submission)`` from a request frame's body (the worker checked the event's
    form; the sequencer checks everything else)."""
    ident, flags, sig_size = _REQUEST.unpack_from(body)
    at = _REQUEST.size
    verified: bytes | None = None
    if flags & _VERIFIED:
        verified, at = body[at : at + 32], at + 32
    sig = body[at : at + sig_size].decode("ascii")
    canonical = body[at + sig_size :]
    event = json.loads(canonical)
    return ident, Submission(event, sig, canonical, verified)


def encode_answer(ident: int, outcome: Appended | BaseException) -> bytes:
    """The frame answering request ``ident``."""
    if isinstance(outcome, Appended):
        entry = outcome.entry
        at = entry.logged_at.encode("ascii")
        kind = _NEW if outcome.new else _BEFORE
        body = (
            _ANSWER.pack(ident, kind)
            + _ENTRY.pack(entry.seq, entry.prev, entry.hash, len(at))
            + at
            + entry.data
        )
    else:
        body = _ANSWER.pack(ident, _REFUSED) + json.dumps(_error_json(outcome)).encode()
    return _LENGTH.pack(len(body)) + body


def decode_answer(body: bytes, submission: Submission) -> tuple[int, Appended | TizbekError]:
    """``(ident, outcome)`` from an answer frame's body, for the ``submission`` it answers."""
    ident, kind = _ANSWER.unpack_from(body)
    at = _ANSWER.size
    if kind == _REFUSED:
        return ident, _error(json.loads(body[at:]))
    seq, prev, leaf, size = _ENTRY.unpack_from(body, at)
    at += _ENTRY.size
    logged_at = body[at : at + size].decode("ascii")
    signed = Submission(
        submission.event, submission.sig, submission.signed_bytes(), submission.verified_by
    )
    entry = Entry(seq, prev, logged_at, signed, body[at + size :], leaf)
    return ident, Appended(entry, kind == _NEW)


def _error_json(exc: BaseException) -> dict[str, Any]:
    if not isinstance(exc, TizbekError):
        # A failure of the store itself: the details stay in the sequencer's log.
        return {"class": "StorageError", "args": ["the sequencer could not append"], "attrs": {}}
    attrs = {k: v for k, v in vars(exc).items() if isinstance(v, str | int | None)}
    return {"class": type(exc).__name__, "args": [str(a) for a in exc.args], "attrs": attrs}


def _error(value: dict[str, Any]) -> TizbekError:
    cls = getattr(errors, str(value.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, TizbekError)):
        cls = StorageError
    exc = cls.__new__(cls)
    Exception.__init__(exc, *value.get("args", []))
    exc.__dict__.update(value.get("attrs", {}))
    if not hasattr(exc, "message"):
        exc.message = str(exc)
    return exc


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if size > MAX_FRAME:
        raise StorageError(f"a relay frame of {size} bytes is larger than {MAX_FRAME}")
    return await reader.readexactly(size)


class RelayServer:
    """Serves ``committer`` on a Unix socket, from a thread of its own."""

    def __init__(self, committer: GroupCommitter, directory: Path | None = None) -> None:
        self.committer = committer
        self._dir = Path(tempfile.mkdtemp(prefix="tizbek-sequencer-", dir=directory))
        self.path = self._dir / SOCKET_NAME
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._run, name="tizbek-relay", daemon=True)

    def start(self) -> RelayServer:
        """Listen; return once the socket takes connections."""
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise StorageError(f"the sequencer cannot listen at {self.path}: {self._failed}")
        return self

    def close(self) -> None:
        """Stop listening, hang up on every worker (what they wait for fails at once, rather
        than never) and stop; the committer is the caller's to close."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._dir.rmdir()

    async def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        await asyncio.sleep(0)  # let the transports close

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_unix_server(self._serve, path=str(self.path))
            )
            self.path.chmod(0o600)
        except OSError as exc:
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()

        def answering(ident: int) -> Callable[[Future[Appended]], None]:
            def answer(future: Future[Appended]) -> None:
                # In the committer's thread, once the batch has committed.
                exc = future.exception()
                frame = encode_answer(ident, exc if exc is not None else future.result())
                with contextlib.suppress(RuntimeError):  # the relay has stopped: no one listens
                    loop.call_soon_threadsafe(writer.write, frame)

            return answer

        self._writers.add(writer)
        try:
            while True:
                ident, submission = decode_request(await _read_frame(reader))
                try:
                    future = self.committer.submit_future(submission)
                except TizbekError as exc:
                    writer.write(encode_answer(ident, exc))
                    continue
                future.add_done_callback(answering(ident))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the worker went away
        except Exception:
            log.exception("a relay connection failed; closing it")
        finally:
            self._writers.discard(writer)
            writer.close()


class _Link:
    """One connection to the sequencer and the requests waiting for its answers."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: dict[int, tuple[asyncio.Future[Appended], Submission]] = {}

    def fail(self, exc: TizbekError) -> None:
        pending, self.pending = self.pending, {}
        for future, _ in pending.values():
            if not future.done():
                future.set_exception(exc)


class RelayClient:
    """Hands submissions to the sequencer at ``path``; used by an API worker's event loop.

    ``key`` looks a key id up (the public key a binding named, or None): the
    signature is checked here against it, in the worker, and the sequencer only
    compares that key with the one bound to the actor where the event lands.
    A lost connection fails the requests waiting on it (their submissions may or
    may not have landed: sent again, they are answered with their entry) and the
    next request connects again.
    """

    def __init__(self, path: Path, key: Callable[[str], PublicKey | None]) -> None:
        self.path = path
        self._key = key
        self._keys: dict[str, PublicKey] = {}
        self._next = 0
        self._link: _Link | None = None
        self._opening: asyncio.Lock | None = None

    async def append(self, submission: Submission) -> Appended:
        """Append ``submission``; return once it is durable (or raise why it was refused)."""
        public = self._public_key(submission.event.get("key"))
        if public is not None:
            with contextlib.suppress(TizbekError):  # the sequencer says what is wrong
                submission = submission.checked(public)
        link = await self._connection()
        self._next += 1
        ident = self._next
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        link.pending[ident] = (future, submission)
        link.writer.write(encode_request(ident, submission))
        return await future

    def close(self) -> None:
        """Drop the connection; whatever is still waiting learns the worker is stopping."""
        link, self._link = self._link, None
        if link is not None:
            link.writer.close()
            link.fail(StorageError("the API worker is shutting down"))

    def _public_key(self, key_id: object) -> PublicKey | None:
        if not isinstance(key_id, str):
            return None
        public = self._keys.get(key_id)
        if public is None:
            public = self._key(key_id)
            if public is not None:  # a binding's key never changes; an unbound one may come
                self._keys[key_id] = public
        return public

    async def _connection(self) -> _Link:
        if self._link is not None:
            return self._link
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._link is None:
                try:
                    reader, writer = await asyncio.open_unix_connection(str(self.path))
                except OSError as exc:
                    raise StorageError(f"the sequencer is not reachable: {exc}") from None
                self._link = _Link(writer)
                asyncio.get_running_loop().create_task(self._answers(reader, self._link))
            return self._link

    async def _answers(self, reader: asyncio.StreamReader, link: _Link) -> None:
        try:
            while True:
                body = await _read_frame(reader)
                (ident,) = struct.unpack_from(">Q", body)
                waiting = link.pending.pop(ident, None)
                if waiting is None:
                    continue
                future, submission = waiting
                _, outcome = decode_answer(body, submission)
                if future.done():
                    continue
                if isinstance(outcome, Appended):
                    future.set_result(outcome)
                else:
                    future.set_exception(outcome)
        except (asyncio.IncompleteReadError, ConnectionError, StorageError):
            pass
        finally:
            if self._link is link:
                self._link = None
            link.writer.close()
            link.fail(StorageError("the connection to the sequencer was lost"))


@contextmanager
def serving_sequencer(url: str, keys: Path) -> Iterator[Path]:
    """Run the sequencer of the log at ``url`` (checkpoint key in ``keys``) in this process
    until the block ends; yield its socket's path for the workers."""
    engine = make_engine(url)
    log = SqlLog.open(engine, keys / LOG_KEY_FILE)
    committer = GroupCommitter(log)
    try:
        server = RelayServer(committer).start()
        try:
            yield server.path
        finally:
            server.close()
    finally:
        committer.close()
        log.close()
        engine.dispose()
