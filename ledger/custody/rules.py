"""The custody rules: what each registry and lot event may do, given the log before it.

Every event that passes the protocol checks (form, key, signature, nonce,
``after``) comes here. :class:`Custody` reads the documents the event is about
(organisations with their licences, lots, transfers, revisions) through a
:class:`DocView`, checks the event against the state machine and the rules,
and returns the new versions of the documents it changes. It refuses with a
:class:`RuleError` that names the rule, the subject and why.

The same code runs when the log appends a submission and when an inspector
replays the log, so a log written by a buggy or dishonest server is caught by
the replay. Documents are plain JSON objects: the database keeps them as
they are, and the typed projection tables are written from them.

The rules live in :mod:`~ledger.custody.registry`, :mod:`~ledger.custody.lots`
and :mod:`~ledger.custody.revisions`, on the shared parts in
:mod:`~ledger.custody.engine`; this module puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ledger.custody.engine import CLOSED, Changes, Doc, DocKey, DocView
from ledger.custody.lots import LotRules
from ledger.custody.registry import RegistryRules
from ledger.custody.revisions import RevisionRules
from ledger.custody.settings import Rules
from ledger.errors import RuleError
from ledger.events import Event
from ledger.labels import ids

__all__ = [
    "CLOSED",
    "EVENT_TYPES",
    "Changes",
    "Custody",
    "Doc",
    "DocKey",
    "DocView",
    "RuleError",
    "references",
]

#: The registry events, signed by the authority.
REGISTRY_TYPES = frozenset(
    {
        "org.registered",
        "org.updated",
        "org.deregistered",
        "license.granted",
        "license.suspended",
        "license.revoked",
        "labels.issued",
    }
)
#: Key registry events, checked with the bindings (see :mod:`ledger.keyring`).
KEY_TYPES = frozenset({"key.bound", "key.revoked"})


class Custody(RegistryRules, LotRules, RevisionRules):
    """Checks one event against the documents before it; returns what it changes."""

    def __init__(self, view: DocView, *, authority_id: str, rules: Rules) -> None:
        super().__init__(view, authority_id=authority_id, rules=rules)
        self._handlers: dict[str, Callable[[Event], None]] = {
            "org.registered": self._org_registered,
            "org.updated": self._org_updated,
            "org.deregistered": self._org_deregistered,
            "license.granted": self._license_granted,
            "license.suspended": self._license_suspended,
            "license.revoked": self._license_revoked,
            "labels.issued": self._labels_issued,
            "lot.registered": self._lot_registered,
            "transfer.dispatched": self._dispatched,
            "transfer.taken_over": self._taken_over,
            "transfer.received": self._received,
            "lot.split": self._split,
            "lot.merged": self._merged,
            "lot.processed": self._processed,
            "lot.lost": self._lost,
            "inspection.recorded": self._inspection,
            "discrepancy.resolved": self._discrepancy_resolved,
            "revision.proposed": self._revision_proposed,
            "revision.approved": self._revision_approved,
        }

    @staticmethod
    def known_type(etype: str) -> bool:
        """Whether the rules know an event type."""
        return etype in EVENT_TYPES

    def apply(self, event: Event, *, seq: int, logged_at: str) -> Changes:
        """Check ``event`` (entry ``seq``, logged at ``logged_at``); return what it changes."""
        self._changes = Changes()
        self._seq = seq
        self._at = event["at"]
        self._actor_id = event["actor"]
        etype = event["type"]
        if etype in KEY_TYPES:
            self._key_event(event)
            return self._changes
        handler = self._handlers.get(etype)
        if handler is None:
            raise RuleError(f"unknown event type {etype!r}", rule="event-type")
        self._check_clock(event, logged_at)
        if etype in REGISTRY_TYPES and event["actor"] != self.authority_id:
            raise RuleError(
                f"{etype} must be signed by the authority {self.authority_id}, "
                f"not {event['actor']}",
                rule="authority-only",
            )
        handler(event)
        return self._changes


EVENT_TYPES = (
    REGISTRY_TYPES
    | KEY_TYPES
    | {
        "lot.registered",
        "transfer.dispatched",
        "transfer.taken_over",
        "transfer.received",
        "lot.split",
        "lot.merged",
        "lot.processed",
        "lot.lost",
        "inspection.recorded",
        "discrepancy.resolved",
        "revision.proposed",
        "revision.approved",
    }
)


def references(event: Mapping[str, Any]) -> set[DocKey]:
    """The documents checking ``event`` may read, so a store can fetch them at once."""
    refs: set[DocKey] = set()
    for name in ("actor", "org", "to", "producer"):
        value = event.get(name)
        if isinstance(value, str):
            refs.add(("org", value))
    carriers = event.get("transporter")
    for carrier in carriers if isinstance(carriers, list) else [carriers]:
        if isinstance(carrier, str):
            refs.add(("org", carrier))
    for name in ("lot", "into", "subject_lot"):
        if isinstance(event.get(name), str):
            refs.add(("lot", event[name]))
    for name in ("lots", "children", "outputs", "changes"):
        items = event.get(name)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict):
                    for key in ("lot", "return_lot"):
                        if isinstance(item.get(key), str):
                            refs.add(("lot", item[key]))
    for kind, ident in list(refs):
        if kind == "lot" and ids.is_lot_id(ident):
            refs.add(("labels", ident[: ids.BLOCK_LEN]))
    if event.get("type") == "labels.issued" and isinstance(event.get("block"), str):
        refs.add(("labels", event["block"]))
    for name in ("transfer", "follows"):
        if isinstance(event.get(name), str):
            refs.add(("transfer", event[name]))
    if isinstance(event.get("revision"), str):
        refs.add(("revision", event["revision"]))
    target = event.get("target")
    if isinstance(target, dict) and isinstance(target.get("id"), str):
        refs.add((str(target.get("kind")), target["id"]))
    return refs
