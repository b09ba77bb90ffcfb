"""The frames the API workers and the sequencer exchange (see :mod:`ledger.storage.relay`).

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
import json
import struct
from typing import Any

import orjson

from ledger import errors
from ledger.entries import Entry
from ledger.errors import StorageError, TizbekError
from ledger.events import Submission
from ledger.storage.sqllog import Appended

#: The largest frame either side accepts (a submission is at most 64 KiB; its entry a
#: little more).
MAX_FRAME = 1 << 20

_LENGTH = struct.Struct(">I")
_REQUEST = struct.Struct(">QBH")  # id, flags, len(sig)
_ANSWER = struct.Struct(">QB")  # id, kind
_ENTRY = struct.Struct(">Q32s32sH")  # seq, prev, hash, len(logged_at)
_IDENT = struct.Struct(">Q")
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
    event = orjson.loads(canonical)
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


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if size > MAX_FRAME:
        raise StorageError(f"a relay frame of {size} bytes is larger than {MAX_FRAME}")
    return await reader.readexactly(size)


def frame_ident(body: bytes) -> int:
    """The request id a frame's body (request or answer) begins with."""
    (ident,) = _IDENT.unpack_from(body)
    return int(ident)
