"""Log entries: the leaf data of the Merkle tree and the links of the hash chain.

Leaf data is JCS of ``{"v": 1, "seq", "prev", "logged_at", "event", "sig"}``;
its leaf hash SHA-256(0x00 ‖ data) is both the tree leaf and the next entry's
``prev``, so the chain and the tree share one hash per entry.

JCS sorts the keys as ``event, logged_at, prev, seq, sig, v``, and every value
but the event is a plain ASCII string or a small integer whose JCS form is
itself, so the leaf data is ``{"event":`` + JCS(event) + a fixed tail. Entries
are assembled and checked that way, which encodes each event once; the tests
hold the result equal to JCS of the whole entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.canonical import canonical_bytes_of_parsed, parse_for_comparison
from ledger.errors import CanonicalEncodingError, EventFormatError
from ledger.events import HEX64_RE, SIG_RE, Event, Submission, check_time, validate_event
from ledger.merkle import leaf_hash

ENTRY_VERSION = 1
#: ``prev`` of entry 0.
ZERO_HASH = bytes(32)
_FIELDS = {"v", "seq", "prev", "logged_at", "event", "sig"}
_HEAD = b'{"event":'


def _tail(*, seq: int, prev: bytes, logged_at: str, sig: str) -> bytes:
    """The leaf bytes after the event (values already checked to need no escaping)."""
    return (
        f',"logged_at":"{logged_at}","prev":"{prev.hex()}","seq":{seq},'
        f'"sig":"{sig}","v":{ENTRY_VERSION}}}'
    ).encode("ascii")


@dataclass(frozen=True)
class Entry:
    """One log entry with its exact leaf bytes and leaf hash."""

    seq: int
    prev: bytes
    logged_at: str
    submission: Submission
    data: bytes
    hash: bytes

    @property
    def event(self) -> Event:
        """The signed event."""
        return self.submission.event

    @classmethod
    def build(cls, *, seq: int, prev: bytes, logged_at: str, submission: Submission) -> Entry:
        """Assemble the entry a sequencer appends at ``seq`` after ``prev``."""
        if seq < 0:
            raise EventFormatError("seq must not be negative")
        if len(prev) != 32:
            raise EventFormatError("prev must be a 32-byte hash")
        check_time(logged_at, "logged_at")
        if not SIG_RE.match(submission.sig):
            raise EventFormatError("sig must be standard base64 of a 64-byte signature")
        event_bytes = submission.signed_bytes()
        data = (
            _HEAD + event_bytes + _tail(seq=seq, prev=prev, logged_at=logged_at, sig=submission.sig)
        )
        signed = Submission(submission.event, submission.sig, event_bytes, submission.verified_by)
        return cls(seq, prev, logged_at, signed, data, leaf_hash(data))

    @classmethod
    def parse(cls, data: bytes) -> Entry:
        """Parse leaf data, which must be canonical and well formed."""
        body = parse_for_comparison(data)  # compared with its JCS below
        if not isinstance(body, dict) or set(body) != _FIELDS:
            raise EventFormatError(f"an entry has exactly the fields {sorted(_FIELDS)}")
        if body["v"] != ENTRY_VERSION or isinstance(body["v"], bool):
            raise EventFormatError(f"entry version {body['v']!r} is not {ENTRY_VERSION}")
        seq = body["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise EventFormatError("seq must be a non-negative integer")
        prev = body["prev"]
        if not isinstance(prev, str) or not HEX64_RE.match(prev):
            raise EventFormatError("prev must be 64 lowercase hex")
        logged_at = check_time(body["logged_at"], "logged_at")
        sig = body["sig"]
        if not isinstance(sig, str) or not SIG_RE.match(sig):
            raise EventFormatError("sig must be standard base64 of a 64-byte signature")
        event = validate_event(body["event"])
        event_bytes = canonical_bytes_of_parsed(event, data)
        prev_hash = bytes.fromhex(prev)
        tail = _tail(seq=seq, prev=prev_hash, logged_at=logged_at, sig=sig)
        if data != _HEAD + event_bytes + tail:
            raise CanonicalEncodingError("entry bytes are not in RFC 8785 canonical form")
        submission = Submission(event, sig, event_bytes)
        return cls(seq, prev_hash, logged_at, submission, data, leaf_hash(data))

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (for display; the leaf bytes are :attr:`data`)."""
        return {
            "v": ENTRY_VERSION,
            "seq": self.seq,
            "prev": self.prev.hex(),
            "logged_at": self.logged_at,
            "event": self.event,
            "sig": self.submission.sig,
        }


def parse_entry_text(text: str) -> Entry:
    """Parse leaf data given as text (as in bundles and exports)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalEncodingError("entry text is not valid UTF-8") from None
    return Entry.parse(data)
