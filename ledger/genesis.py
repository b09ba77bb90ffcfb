"""The genesis entry (seq 0): it names the log, its checkpoint key and the authority.

The authority signs the genesis event, so the log's checkpoint verifier key is
bound to the root of trust, and the authority's keys become the first keys of
the log's key registry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ledger.custody.settings import Rules
from ledger.errors import EventFormatError, KeyFormatError
from ledger.events import GENESIS_TYPE, Event, Submission, make_event, sign_event
from ledger.keys import PublicKey, SigningKey
from ledger.note import VerifierKey


@dataclass(frozen=True)
class Genesis:
    """What entry 0 establishes."""

    origin: str
    log_key: VerifierKey
    authority_id: str
    authority_name: str
    authority_keys: tuple[PublicKey, ...]
    rules: Rules = dataclasses.field(default_factory=Rules)


def make_genesis(
    authority_key: SigningKey,
    *,
    origin: str,
    log_key: VerifierKey,
    authority_id: str,
    authority_name: str,
    more_authority_keys: tuple[PublicKey, ...] = (),
    at: str | None = None,
    rules: Rules | None = None,
) -> Submission:
    """The genesis submission, signed by the authority."""
    if log_key.name != origin:
        raise KeyFormatError(f"the log key is named {log_key.name!r}, not the origin {origin!r}")
    keys = (authority_key.public, *more_authority_keys)
    event = make_event(
        GENESIS_TYPE,
        log=origin,
        actor=authority_id,
        key=authority_key,
        at=at,
        log_key=str(log_key),
        authority={
            "id": authority_id,
            "name": authority_name,
            "keys": [{"key_id": k.key_id, "public_key": k.base64} for k in keys],
        },
        **({} if rules is None else {"rules": rules.to_json()}),
    )
    return sign_event(authority_key, event)


def read_genesis(event: Event) -> Genesis:
    """Check the genesis event's own fields and return what it establishes."""
    if event.get("type") != GENESIS_TYPE:
        raise EventFormatError(f"entry 0 must be {GENESIS_TYPE}, not {event.get('type')!r}")
    authority: Any = event.get("authority")
    if not isinstance(authority, dict) or not isinstance(authority.get("keys"), list):
        raise EventFormatError("genesis must carry authority {id, name, keys}")
    if authority.get("id") != event["actor"]:
        raise EventFormatError("genesis must be signed by the authority it names")
    name = authority.get("name")
    if not isinstance(name, str) or not name:
        raise EventFormatError("genesis authority needs a name")
    keys = []
    for item in authority["keys"]:
        if not isinstance(item, dict) or not isinstance(item.get("public_key"), str):
            raise EventFormatError("each authority key is {key_id, public_key}")
        key = PublicKey.from_base64(item["public_key"])
        if item.get("key_id") != key.key_id:
            raise EventFormatError(
                f"authority key_id {item.get('key_id')!r} does not match its key"
            )
        if not key.in_prime_order_group:
            raise EventFormatError(
                f"authority key {key.key_id} is not a key an Ed25519 signer makes"
            )
        keys.append(key)
    if not keys:
        raise EventFormatError("genesis names no authority key")
    log_key_text = event.get("log_key")
    if not isinstance(log_key_text, str):
        raise EventFormatError("genesis must carry the log's checkpoint verifier key")
    log_key = VerifierKey.parse(log_key_text)
    if log_key.name != event["log"]:
        raise EventFormatError("the log key's name must be the log's origin")
    rules = Rules.from_json(event.get("rules"))
    return Genesis(event["log"], log_key, authority["id"], name, tuple(keys), rules)
