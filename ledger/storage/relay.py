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

The frames they exchange are :mod:`ledger.storage.relay_frames`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from ledger.errors import StorageError, TizbekError
from ledger.events import Submission
from ledger.heap import freeze_startup_heap
from ledger.keys import PublicKey
from ledger.storage.create import LOG_KEY_FILE
from ledger.storage.engine import make_engine
from ledger.storage.relay_frames import (
    decode_answer,
    decode_request,
    encode_answer,
    encode_request,
    frame_ident,
    read_frame,
)
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import Appended, SqlLog

log = logging.getLogger("tizbek.relay")

SOCKET_NAME = "sequencer.sock"


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
        answers = _Answers(asyncio.get_running_loop(), writer)

        def answering(ident: int) -> Callable[[Future[Appended]], None]:
            def answer(future: Future[Appended]) -> None:
                # In the committer's thread, once the batch has committed.
                exc = future.exception()
                answers.put(encode_answer(ident, exc if exc is not None else future.result()))

            return answer

        self._writers.add(writer)
        try:
            while True:
                ident, submission = decode_request(await read_frame(reader))
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


class _Answers:
    """The answers for one worker, handed from the committer's thread to the relay's loop.

    A batch answers many submissions at once. The first answer not yet
    written wakes the loop; those that follow before it runs join it, and the
    loop writes them all at once: one wake-up and one write per batch, not per
    answer, on the sequencer's critical path.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, writer: asyncio.StreamWriter) -> None:
        self._loop = loop
        self._writer = writer
        self._lock = threading.Lock()
        self._frames: list[bytes] = []

    def put(self, frame: bytes) -> None:
        """Queue ``frame`` for writing (from any thread)."""
        with self._lock:
            self._frames.append(frame)
            if len(self._frames) > 1:
                return  # a write is already due
        with contextlib.suppress(RuntimeError):  # the relay has stopped: no one listens
            self._loop.call_soon_threadsafe(self._write)

    def _write(self) -> None:
        with self._lock:
            frames, self._frames = self._frames, []
        if not self._writer.is_closing():
            self._writer.write(b"".join(frames))


class _Link:
    """One connection to the sequencer and the requests waiting for its answers.

    Requests made in the same turn of the worker's event loop (several HTTP
    requests are often parsed in one) go out in one write.
    """

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: dict[int, tuple[asyncio.Future[Appended], Submission]] = {}
        self._frames: list[bytes] = []

    def send(self, frame: bytes) -> None:
        """Write ``frame`` at the end of this turn of the loop, with any others sent in it."""
        self._frames.append(frame)
        if len(self._frames) == 1:
            asyncio.get_running_loop().call_soon(self._write)

    def _write(self) -> None:
        frames, self._frames = self._frames, []
        if not self.writer.is_closing():
            self.writer.write(b"".join(frames))

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
        link.send(encode_request(ident, submission))
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
                body = await read_frame(reader)
                waiting = link.pending.pop(frame_ident(body), None)
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
        # A full collection here would stop the sequencer, and every worker's appends.
        freeze_startup_heap()
        try:
            yield server.path
        finally:
            server.close()
    finally:
        committer.close()
        log.close()
        engine.dispose()
