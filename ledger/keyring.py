"""Which key may sign for which actor at each point of the log.

The genesis entry binds the authority's keys to the authority; ``key.bound``
and ``key.revoked`` events signed by the authority add and retire
organisations' keys. An event is valid only if its key was bound to its actor,
and not revoked, at the point in the log where the event sits. The bindings
live wherever the replay keeps its state (memory or database): these rules
read them through a lookup function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.errors import EventFormatError, UnknownKeyError
from ledger.events import ID_RE, Event
from ledger.genesis import Genesis
from ledger.keys import PublicKey

KEY_BOUND = "key.bound"
KEY_REVOKED = "key.revoked"


@dataclass(frozen=True)
class Binding:
    """A key bound to an actor at ``bound_seq``, perhaps revoked at ``revoked_seq``."""

    key_id: str
    actor: str
    public_key: PublicKey
    label: str
    bound_seq: int
    revoked_seq: int | None = None
    #: An admin key may bind and revoke its organisation's other keys.
    admin: bool = False


BindingLookup = Callable[[str], Binding | None]
"""Finds the binding of a key id, as of the entries applied so far."""


@dataclass(frozen=True)
class RegistryChange:
    """What a registry event does: bind a key, or revoke one."""

    bound: Binding | None = None
    revoked: str | None = None


def authority_bindings(genesis: Genesis) -> list[Binding]:
    """The bindings the genesis entry makes: each authority key to the authority."""
    return [
        Binding(k.key_id, genesis.authority_id, k, "authority", 0, None, True)
        for k in genesis.authority_keys
    ]


def key_for(lookup: BindingLookup, actor: str, key_id: str) -> PublicKey:
    """The public key ``key_id`` if it is bound to ``actor`` and not revoked."""
    binding = lookup(key_id)
    if binding is None:
        raise UnknownKeyError(f"key {key_id} is not bound to any actor")
    if binding.actor != actor:
        raise UnknownKeyError(f"key {key_id} is bound to {binding.actor}, not {actor}")
    if binding.revoked_seq is not None:
        raise UnknownKeyError(f"key {key_id} was revoked at seq {binding.revoked_seq}")
    return binding.public_key


def registry_change(
    event: Event, seq: int, *, authority_id: str, lookup: BindingLookup
) -> RegistryChange | None:
    """Check a registry event; return what it changes (None for other events)."""
    etype = event["type"]
    if etype not in (KEY_BOUND, KEY_REVOKED):
        return None
    actor = event["actor"]
    by_admin = False
    if actor != authority_id:
        signer = lookup(event["key"])
        if signer is None or not signer.admin or signer.actor != actor:
            raise UnknownKeyError(
                f"{etype} must be signed by the authority {authority_id} "
                f"or by an admin key of the organisation concerned"
            )
        by_admin = True
    if etype == KEY_BOUND:
        org = event.get("org")
        if not isinstance(org, str) or not ID_RE.match(org):
            raise EventFormatError("key.bound needs the org the key is bound to")
        if by_admin and org != actor:
            raise UnknownKeyError(f"an admin key of {actor} cannot bind keys for {org}")
        admin = event.get("admin", False)
        if not isinstance(admin, bool):
            raise EventFormatError("key.bound admin must be true or false")
        raw = event.get("public_key")
        if not isinstance(raw, str):
            raise EventFormatError("key.bound needs public_key (base64 of 32 bytes)")
        key = PublicKey.from_base64(raw)
        if event.get("key_id") != key.key_id:
            raise EventFormatError("key.bound key_id does not match public_key")
        if not key.in_prime_order_group:
            raise EventFormatError(
                f"key.bound public_key {key.key_id} is not a key an Ed25519 signer makes"
            )
        if lookup(key.key_id) is not None:
            raise EventFormatError(f"key {key.key_id} is already bound")
        label = event.get("label")
        return RegistryChange(
            bound=Binding(key.key_id, org, key, str(label or ""), seq, None, admin)
        )
    key_id = event.get("key_id")
    binding = lookup(key_id) if isinstance(key_id, str) else None
    if binding is None:
        raise EventFormatError(f"key.revoked names an unknown key {key_id!r}")
    if binding.revoked_seq is not None:
        raise EventFormatError(f"key {key_id} is already revoked")
    if by_admin and binding.actor != actor:
        raise UnknownKeyError(f"an admin key of {actor} cannot revoke keys of {binding.actor}")
    return RegistryChange(revoked=binding.key_id)
