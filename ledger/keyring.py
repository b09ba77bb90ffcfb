"""Which key may sign for which actor at each point of the log.

The genesis entry makes the authority's keys known; ``key.bound`` and
``key.revoked`` events signed by the authority add and retire organisations'
keys. An event is valid only if its key was bound to its actor, and not
revoked, at the point in the log where the event sits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import EventFormatError, UnknownKeyError
from ledger.events import ID_RE, Event
from ledger.genesis import Genesis
from ledger.keys import PublicKey

KEY_BOUND = "key.bound"
KEY_REVOKED = "key.revoked"


@dataclass
class _Binding:
    actor: str
    key: PublicKey
    bound_at: int
    revoked_at: int | None = None


class KeyRing:
    """The key registry as of the entries applied so far."""

    def __init__(self, genesis: Genesis) -> None:
        self.authority_id = genesis.authority_id
        self._keys: dict[str, _Binding] = {
            k.key_id: _Binding(genesis.authority_id, k, 0) for k in genesis.authority_keys
        }

    def key_for(self, actor: str, key_id: str) -> PublicKey:
        """The public key ``key_id`` if it is bound to ``actor`` and not revoked."""
        binding = self._keys.get(key_id)
        if binding is None:
            raise UnknownKeyError(f"key {key_id} is not bound to any actor")
        if binding.actor != actor:
            raise UnknownKeyError(f"key {key_id} is bound to {binding.actor}, not {actor}")
        if binding.revoked_at is not None:
            raise UnknownKeyError(f"key {key_id} was revoked at seq {binding.revoked_at}")
        return binding.key

    def check(self, event: Event) -> None:
        """Raise unless a registry event is well formed and allowed for its signer."""
        etype = event["type"]
        if etype not in (KEY_BOUND, KEY_REVOKED):
            return
        if event["actor"] != self.authority_id:
            raise UnknownKeyError(f"{etype} must be signed by the authority {self.authority_id}")
        if etype == KEY_BOUND:
            org = event.get("org")
            if not isinstance(org, str) or not ID_RE.match(org):
                raise EventFormatError("key.bound needs the org the key is bound to")
            raw = event.get("public_key")
            if not isinstance(raw, str):
                raise EventFormatError("key.bound needs public_key (base64 of 32 bytes)")
            key = PublicKey.from_base64(raw)
            if event.get("key_id") != key.key_id:
                raise EventFormatError("key.bound key_id does not match public_key")
            if key.key_id in self._keys:
                raise EventFormatError(f"key {key.key_id} is already bound")
        else:
            key_id = event.get("key_id")
            binding = self._keys.get(key_id) if isinstance(key_id, str) else None
            if binding is None:
                raise EventFormatError(f"key.revoked names an unknown key {key_id!r}")
            if binding.revoked_at is not None:
                raise EventFormatError(f"key {key_id} is already revoked")

    def apply(self, seq: int, event: Event) -> None:
        """Update the registry with an event at ``seq`` that passed :meth:`check`."""
        if event["type"] == KEY_BOUND:
            key = PublicKey.from_base64(event["public_key"])
            self._keys[key.key_id] = _Binding(event["org"], key, seq)
        elif event["type"] == KEY_REVOKED:
            self._keys[event["key_id"]].revoked_at = seq
