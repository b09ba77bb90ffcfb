"""Signed events and submissions: the fields every event has, and signing them.

A submission is ``{"event": {...}, "sig": "<base64 Ed25519 signature over JCS(event)>"}``.
This module checks the form every event shares; the meaning of each event
type (registries, custody) is checked by the modules that replay the log.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.canonical import canonical_bytes
from ledger.errors import EventFormatError, SignatureError
from ledger.keys import SIGNATURE_SIZE, PublicKey, SigningKey

Event = dict[str, Any]

GENESIS_TYPE = "log.genesis"
#: Fields that every event carries.
COMMON_FIELDS = ("type", "log", "actor", "key", "at", "nonce")
#: Event types that create the lot or transfer they name (so carry no ``after`` for it).
CREATES: Mapping[str, str] = {"lot.registered": "lot", "transfer.dispatched": "transfer"}
#: The kinds of thing an event can be about, by the field that names them.
SUBJECT_FIELDS = ("lot", "transfer")

TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: Standard base64 of a 64-byte Ed25519 signature.
SIG_RE = re.compile(r"^[A-Za-z0-9+/]{86}==$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


#: The last second :func:`utc_now` formatted, and its text.
_formatted: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The current time as RFC 3339 UTC with a ``Z`` suffix, whole seconds.

    Each second is formatted once: the sequencer asks for every batch, and
    formatting cost a lone append more than reading the clock does.
    """
    global _formatted
    second = int(time.time())
    known = _formatted
    if known[0] != second:
        known = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
        _formatted = known
    return known[1]


def check_time(value: object, field: str) -> str:
    """Return ``value`` if it is an RFC 3339 UTC timestamp ending in ``Z``."""
    if not isinstance(value, str) or not TIME_RE.match(value):
        raise EventFormatError(f"{field} must be RFC 3339 UTC like 2026-11-22T10:00:00Z")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventFormatError(f"{field} {value!r} is not a real date and time") from None
    return value


def _check_id(event: Mapping[str, Any], field: str, where: str = "") -> None:
    value = event.get(field)
    if not isinstance(value, str) or not ID_RE.match(value):
        raise EventFormatError(f"{where}{field} must be an id of 1-64 letters, digits or ._:-")


def _check_after(item: Mapping[str, Any], where: str) -> None:
    after = item.get("after")
    if not isinstance(after, str) or not HEX64_RE.match(after):
        raise EventFormatError(f"{where}after must be the 64-hex leaf hash of the latest entry")


def validate_event(event: object) -> Event:
    """Check the fields every event shares; return the event."""
    if not isinstance(event, dict):
        raise EventFormatError("event must be a JSON object")
    for field in COMMON_FIELDS:
        if field not in event:
            raise EventFormatError(f"event lacks the field {field!r}")
    etype = event["type"]
    if not isinstance(etype, str) or not TYPE_RE.match(etype):
        raise EventFormatError("type must be dotted lowercase words, like lot.registered")
    if not isinstance(event["log"], str) or not event["log"]:
        raise EventFormatError("log must name the log's origin")
    _check_id(event, "actor")
    if not isinstance(event["key"], str) or not HEX64_RE.match(event["key"]):
        raise EventFormatError("key must be the signer's key id (64 lowercase hex)")
    check_time(event["at"], "at")
    if not isinstance(event["nonce"], str) or not NONCE_RE.match(event["nonce"]):
        raise EventFormatError("nonce must be 16-64 characters of A-Z a-z 0-9 _ -")
    creates = CREATES.get(etype)
    for field in SUBJECT_FIELDS:
        if field in event:
            _check_id(event, field)
            if creates != field:
                _check_after(event, "")
    if "lots" in event:
        lots = event["lots"]
        if not isinstance(lots, list) or not lots:
            raise EventFormatError("lots must be a non-empty list")
        seen: set[str] = set()
        for i, item in enumerate(lots):
            where = f"lots[{i}]."
            if not isinstance(item, dict):
                raise EventFormatError(f"lots[{i}] must be an object")
            _check_id(item, "lot", where)
            _check_after(item, where)
            if item["lot"] in seen:
                raise EventFormatError(f"lot {item['lot']} is listed twice")
            seen.add(item["lot"])
    return event


def subjects(event: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """Each ``(kind, id, after)`` the event is about; ``after`` is None where it creates it."""
    for field in SUBJECT_FIELDS:
        if field in event:
            yield field, event[field], event.get("after")
    for item in event.get("lots", ()):
        yield "lot", item["lot"], item["after"]


@dataclass(frozen=True)
class Submission:
    """A signed event as a client sends it. Treat ``event`` as read-only.

    ``canonical`` carries JCS(event) when :class:`~ledger.entries.Entry` or
    :meth:`checked` has just computed it from the event, so it is not computed
    twice; ``verified_by`` holds the raw public key that :meth:`checked` found
    the signature valid under, so checking it again is free. Nothing else sets
    either, but the sequencer's end of the relay
    (:mod:`ledger.storage.relay_frames`), for a submission an API worker checked.
    """

    event: Event
    sig: str
    canonical: bytes | None = dataclasses.field(default=None, compare=False, repr=False)
    verified_by: bytes | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def signature(self) -> bytes:
        """The raw 64-byte signature."""
        try:
            raw = base64.b64decode(self.sig.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise SignatureError("sig is not standard base64") from None
        if len(raw) != SIGNATURE_SIZE:
            raise SignatureError(f"sig has {len(raw)} bytes, not {SIGNATURE_SIZE}")
        return raw

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers: JCS(event)."""
        return self.canonical if self.canonical is not None else canonical_bytes(self.event)

    def verify(self, public: PublicKey) -> None:
        """Raise :class:`SignatureError` unless the signature is ``public``'s over the event."""
        if public.key_id != self.event.get("key"):
            raise SignatureError("the event's key field does not name the verifying key")
        if self.verified_by is not None and self.verified_by == public.raw:
            return
        public.verify(self.signature, self.signed_bytes())

    def checked(self, public: PublicKey) -> Submission:
        """This submission, its signature verified under ``public`` and remembered as such.

        Whether ``public`` may sign for the event's actor is the log's to decide
        where the event lands; this only moves the signature check out of the
        sequencer's critical section. One already checked under ``public`` (by an
        earlier call, or by the API worker that relayed it) is not checked again.
        """
        if self.canonical is not None and self.verified_by == public.raw:
            self.verify(public)  # only compares the key ids
            return self
        canonical = self.signed_bytes()
        done = Submission(self.event, self.sig, canonical, self.verified_by)
        done.verify(public)
        return Submission(self.event, self.sig, canonical, public.raw)

    def to_json(self) -> dict[str, Any]:
        """The submission as a JSON object."""
        return {"event": self.event, "sig": self.sig}

    @classmethod
    def from_json(cls, value: object) -> Submission:
        """Parse ``{"event": {...}, "sig": "..."}`` and check the event's common fields."""
        if not isinstance(value, dict) or set(value) != {"event", "sig"}:
            raise EventFormatError('a submission is exactly {"event": {...}, "sig": "..."}')
        if not isinstance(value["sig"], str) or not SIG_RE.match(value["sig"]):
            raise EventFormatError("sig must be standard base64 of a 64-byte signature")
        return cls(validate_event(value["event"]), value["sig"])


def new_nonce() -> str:
    """A fresh random nonce (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


def make_event(
    etype: str, *, log: str, actor: str, key: SigningKey, at: str | None = None, **fields: Any
) -> Event:
    """An event with its common fields filled in (a fresh nonce, now as ``at``)."""
    event: Event = {
        "type": etype,
        "log": log,
        "actor": actor,
        "key": key.key_id,
        "at": at or utc_now(),
        "nonce": new_nonce(),
    }
    event.update(fields)
    return event


def sign_event(key: SigningKey, event: Event) -> Submission:
    """Validate and sign an event with ``key``."""
    validate_event(event)
    if event["key"] != key.key_id:
        raise EventFormatError("the event's key field must be the signing key's id")
    sig = base64.b64encode(key.sign(canonical_bytes(event))).decode("ascii")
    return Submission(event, sig)
