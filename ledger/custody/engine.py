"""The rulebook's working parts: reading and writing documents, and checks every rule shares.

:class:`Rulebook` holds one event's view of the log (the documents before it
and the changes it makes so far); the registry, lot and revision rules build
on it, and :class:`~ledger.custody.rules.Custody` puts them together.

Lot states: ``held`` (at rest with its holder), ``dispatched`` (in a transfer
not yet taken over), ``in_transit`` (with a transporter), and the closed
states ``processed``, ``split``, ``merged`` and ``lost``, after which nothing
may happen to the lot.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger.custody import fields as f
from ledger.custody.settings import Rules
from ledger.errors import LotIdError, RuleError
from ledger.events import Event
from ledger.labels import ids

Doc = dict[str, Any]
DocKey = tuple[str, str]

#: Lot states after which no event may touch the lot.
CLOSED = frozenset({"processed", "split", "merged", "lost"})


class DocView(Protocol):
    """Read access to the documents and entries before the event being checked."""

    def doc(self, kind: str, ident: str) -> Doc | None:
        """The document of an organisation, lot, transfer or revision, if it exists."""

    def event_at(self, seq: int) -> Event | None:
        """The event of an earlier entry."""


@dataclass
class Changes:
    """What an event changes: new document versions, and subjects it creates."""

    docs: dict[DocKey, Doc] = field(default_factory=dict)
    created: list[DocKey] = field(default_factory=list)


class Rulebook:
    """One event's view of the log, and the checks every rule uses."""

    def __init__(self, view: DocView, *, authority_id: str, rules: Rules) -> None:
        self.view = view
        self.authority_id = authority_id
        self.rules = rules
        self._changes = Changes()
        self._seq = 0
        self._at = ""
        self._actor_id = ""

    def _get(self, kind: str, ident: str) -> Doc | None:
        changed = self._changes.docs.get((kind, ident))
        if changed is not None:
            return changed
        found = self.view.doc(kind, ident)
        return None if found is None else copy.deepcopy(found)

    def _put(self, kind: str, ident: str, doc: Doc) -> None:
        if kind in ("lot", "transfer"):
            # Every entry that changed the subject, and everyone who had a part in it:
            # what the API shows a party, and whom it lets see the subject.
            history = doc.setdefault("history", [])
            if not history or history[-1] != self._seq:
                history.append(self._seq)
            parties = doc.setdefault("parties", [])
            for org in self._parties_now(kind, doc):
                if org and org not in parties:
                    parties.append(org)
        self._changes.docs[(kind, ident)] = doc

    def _parties_now(self, kind: str, doc: Doc) -> list[str]:
        if kind == "lot":
            return [doc.get("collector") or "", doc["holder"], self._actor_id]
        return [doc["sender"], doc["to"], *(leg["carrier"] for leg in doc["legs"])]

    def _create(self, kind: str, ident: str, doc: Doc) -> None:
        if self._get(kind, ident) is not None:
            raise RuleError(f"{kind} {ident} already exists", rule="unique-id", subject=ident)
        self._put(kind, ident, doc)
        self._changes.created.append((kind, ident))

    def _read(self, kind: str, ident: str) -> Doc | None:
        """A document to look at, not to change (no copy is made)."""
        changed = self._changes.docs.get((kind, ident))
        return changed if changed is not None else self.view.doc(kind, ident)

    def _org(self, ident: str, *, what: str = "organisation", change: bool = False) -> Doc:
        doc = self._get("org", ident) if change else self._read("org", ident)
        if doc is None:
            raise RuleError(
                f"{what} {ident} is not registered", rule="registered-org", subject=ident
            )
        if doc["status"] != "active":
            raise RuleError(f"{what} {ident} is deregistered", rule="registered-org", subject=ident)
        return doc

    def _actor(self, event: Event, role: str | None = None) -> Doc:
        org = self._org(event["actor"], what="actor")
        if role is not None and role not in org["roles"]:
            raise RuleError(
                f"{event['actor']} does not have the {role} role needed for {event['type']}",
                rule="role",
                subject=event["actor"],
            )
        return org

    def _lot(self, ident: str, event: Event, *, states: Iterable[str]) -> Doc:
        lot = self._get("lot", ident)
        if lot is None:
            raise RuleError(f"lot {ident} does not exist", rule="lot-exists", subject=ident)
        allowed = tuple(states)
        if lot["state"] not in allowed:
            raise RuleError(
                f"{event['type']} by {event['actor']} is not allowed on lot {ident} "
                f"in state {lot['state']} (allowed: {', '.join(allowed)})",
                rule="lot-state",
                subject=ident,
            )
        self._advance(lot, "lot", ident)
        return lot

    def _held_by_actor(self, ident: str, event: Event) -> Doc:
        lot = self._lot(ident, event, states=("held",))
        if lot["holder"] != event["actor"]:
            raise RuleError(
                f"lot {ident} is held by {lot['holder']}, not {event['actor']}",
                rule="holder",
                subject=ident,
            )
        return lot

    def _transfer(self, ident: str, event: Event) -> Doc:
        transfer = self._get("transfer", ident)
        if transfer is None:
            raise RuleError(
                f"transfer {ident} does not exist", rule="transfer-exists", subject=ident
            )
        self._advance(transfer, "transfer", ident)
        return transfer

    def _advance(self, doc: Doc, kind: str, ident: str) -> None:
        """Move a subject's latest signer time and entry to this event, never backwards."""
        if self._at < doc["last_at"]:
            raise RuleError(
                f"at {self._at} is before the {kind}'s latest event at {doc['last_at']}",
                rule="time-order",
                subject=ident,
            )
        doc["last_at"] = self._at
        doc["head_seq"] = self._seq

    def _check_clock(self, event: Event, logged_at: str) -> None:
        drift = (f.parse_time(event["at"]) - f.parse_time(logged_at)).total_seconds()
        if drift > self.rules.max_future_seconds:
            raise RuleError(
                f"at {event['at']} is {drift:.0f} s ahead of the log's clock "
                f"(at most {self.rules.max_future_seconds} s)",
                rule="clock-skew",
            )
        if -drift > self.rules.max_past_seconds:
            raise RuleError(
                f"at {event['at']} is {-drift:.0f} s behind the log's clock "
                f"(at most {self.rules.max_past_seconds} s)",
                rule="clock-skew",
            )

    def _licence(
        self,
        org: Doc,
        *,
        day: str,
        waste_code: str,
        category: int,
        operation: str | None = None,
        lot: str | None = None,
    ) -> None:
        reasons = []
        for number, lic in sorted(org["licences"].items()):
            if lic["status"] != "active":
                reasons.append(f"{number} is {lic['status']}")
            elif not lic["valid_from"] <= day <= lic["valid_to"]:
                reasons.append(f"{number} is valid {lic['valid_from']} to {lic['valid_to']}")
            elif waste_code not in lic["waste_codes"]:
                reasons.append(f"{number} does not cover waste code {waste_code}")
            elif category not in lic["categories"]:
                reasons.append(f"{number} does not cover category {category}")
            elif operation is not None and operation not in lic["operations"]:
                reasons.append(f"{number} does not cover operation {operation}")
            else:
                return
        detail = "; ".join(reasons) if reasons else "it holds no licence"
        raise RuleError(
            f"{org['id']} has no licence valid on {day} for lot {lot} "
            f"({waste_code}, category {category}"
            + (f", operation {operation}" if operation else "")
            + f"): {detail}",
            rule="licence",
            subject=org["id"],
        )

    def _destination_licence(self, org: Doc, lot: Doc, *, operation: str | None = None) -> None:
        if "recycler" in org["roles"]:
            self._licence(
                org,
                day=f.day(self._at),
                waste_code=lot["waste_code"],
                category=lot["category"],
                operation=operation,
                lot=lot["id"],
            )

    def _check_label(self, ident: str, *, required: bool) -> None:
        """A new lot's id in the label format must be one issued to the actor.

        A registered lot must carry a label id; lots made by splits and merges
        may instead take an id of their own, as long as it is not one that
        looks like a label.
        """
        try:
            canonical = ids.normalise(ident)
        except LotIdError as exc:
            if required:
                raise RuleError(str(exc), rule="lot-id", subject=ident) from None
            return
        if canonical != ident:
            raise RuleError(
                f"lot id {ident!r} must be written in its canonical form {canonical!r}",
                rule="lot-id",
                subject=ident,
            )
        block, serial = ids.split(ident)
        issued = self._read("labels", block)
        if issued is None or issued["org"] != self._actor_id or serial >= issued["count"]:
            raise RuleError(
                f"lot id {ident} was not issued to {self._actor_id}",
                rule="lot-id",
                subject=ident,
            )

    def _new_lot(
        self,
        ident: str,
        event: Event,
        *,
        holder: str,
        parent: Doc | None,
        weight_g: int,
        items: int,
        origins: dict[str, int],
        **fields: Any,
    ) -> None:
        base = (
            {}
            if parent is None
            else {
                k: parent[k]
                for k in (
                    "collector",
                    "category",
                    "waste_code",
                    "hazardous",
                    "hp_codes",
                    "source",
                    "site",
                    "producer",
                    "region",
                )
            }
        )
        base.update(fields)
        self._check_label(ident, required=parent is None and event["type"] == "lot.registered")
        self._create(
            "lot",
            ident,
            {
                "id": ident,
                **base,
                "holder": holder,
                "state": "held",
                "items": items,
                "weight_g": weight_g,
                "origins": origins,
                "parents": [] if parent is None else [parent["id"]],
                "transfer": None,
                "discrepancy": None,
                "created_seq": self._seq,
                "created_at": self._at,
                "registered_g": weight_g,
                "first_dispatch_seq": None,
                "received_g": None,
                "carrier": None,
                "head_seq": self._seq,
                "last_at": self._at,
                "inspections": [],
            },
        )
