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

Lot states: ``held`` (at rest with its holder), ``dispatched`` (in a transfer
not yet taken over), ``in_transit`` (with a transporter), and the closed
states ``processed``, ``split``, ``merged`` and ``lost``, after which nothing
may happen to the lot.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from ledger.custody import codes
from ledger.custody.settings import Rules
from ledger.errors import TizbekError
from ledger.events import ID_RE, Event

Doc = dict[str, Any]
DocKey = tuple[str, str]

#: Lot states after which no event may touch the lot.
CLOSED = frozenset({"processed", "split", "merged", "lost"})

#: The registry events, signed by the authority.
REGISTRY_TYPES = frozenset(
    {
        "org.registered",
        "org.updated",
        "org.deregistered",
        "license.granted",
        "license.suspended",
        "license.revoked",
    }
)
#: Key registry events, checked with the bindings (see :mod:`ledger.keyring`).
KEY_TYPES = frozenset({"key.bound", "key.revoked"})


class RuleError(TizbekError):
    """An event breaks a custody or registry rule at the point of the log where it sits."""

    code = "rule_violation"

    def __init__(self, message: str, *, rule: str, subject: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.subject = subject


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


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _day(at: str) -> str:
    return at[:10]


# --- field checks ----------------------------------------------------------------------


def _need(event: Mapping[str, Any], name: str, rule: str = "format") -> Any:
    if name not in event:
        raise RuleError(f"{event['type']} needs the field {name!r}", rule=rule)
    return event[name]


def _text(event: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    if optional and name not in event:
        return None
    value = _need(event, name)
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise RuleError(f"{name} must be a non-empty text of at most 500 characters", rule="format")
    return value


def _ident(event: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    if optional and name not in event:
        return None
    value = _need(event, name)
    if not isinstance(value, str) or not ID_RE.match(value):
        raise RuleError(f"{name} must be an id of 1-64 letters, digits or ._:-", rule="format")
    return value


def _count(value: object, name: str, *, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RuleError(f"{name} must be a whole number of at least {minimum}", rule="format")
    return value


def _flag(event: Mapping[str, Any], name: str) -> bool:
    value = _need(event, name)
    if not isinstance(value, bool):
        raise RuleError(f"{name} must be true or false", rule="format")
    return value


def _waste_code(value: object, name: str = "waste_code") -> str:
    if not isinstance(value, str) or not codes.WASTE_CODE_RE.match(value):
        raise RuleError(
            f"{name} must be a List-of-Waste code like '16 02 14' or '20 01 35*'", rule="format"
        )
    return value


def _category(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in codes.CATEGORIES:
        raise RuleError("category must be a WEEE category 1-6", rule="format")
    return value


def _date(event: Mapping[str, Any], name: str) -> str:
    value = _need(event, name)
    if not isinstance(value, str) or not codes.DATE_RE.match(value):
        raise RuleError(f"{name} must be a date like 2026-11-01", rule="format")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise RuleError(f"{name} {value!r} is not a real date", rule="format") from None
    return value


def _list(event: Mapping[str, Any], name: str, *, nonempty: bool = True) -> list[Any]:
    value = _need(event, name)
    if not isinstance(value, list) or (nonempty and not value):
        raise RuleError(f"{name} must be a {'non-empty ' if nonempty else ''}list", rule="format")
    return value


def _roles(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise RuleError("roles must be a non-empty list", rule="format")
    for role in value:
        if role not in codes.ROLES:
            raise RuleError(f"role {role!r} is not one of {sorted(codes.ROLES)}", rule="format")
    if len(set(value)) != len(value):
        raise RuleError("roles are listed twice", rule="format")
    return sorted(value)


# --- the engine ------------------------------------------------------------------------


class Custody:
    """Checks one event against the documents before it; returns what it changes."""

    def __init__(self, view: DocView, *, authority_id: str, rules: Rules) -> None:
        self.view = view
        self.authority_id = authority_id
        self.rules = rules
        self._handlers: dict[str, Callable[[Event], None]] = {
            "org.registered": self._org_registered,
            "org.updated": self._org_updated,
            "org.deregistered": self._org_deregistered,
            "license.granted": self._license_granted,
            "license.suspended": self._license_suspended,
            "license.revoked": self._license_revoked,
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

    # --- reading and writing documents ---------------------------------------------

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
        drift = (_parse_time(event["at"]) - _parse_time(logged_at)).total_seconds()
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

    # --- keys --------------------------------------------------------------------------

    def _key_event(self, event: Event) -> None:
        if event["type"] == "key.bound":
            org = _ident(event, "org")
            assert org is not None
            if org != self.authority_id:
                self._org(org)
            if event["actor"] not in (self.authority_id, org):
                raise RuleError(
                    f"key.bound for {org} must be signed by the authority or {org}'s admin key",
                    rule="key-admin",
                    subject=org,
                )

    # --- registries --------------------------------------------------------------------

    def _org_registered(self, event: Event) -> None:
        ident = _ident(event, "org")
        assert ident is not None
        bin_ = _need(event, "bin")
        if not isinstance(bin_, str) or not codes.BIN_RE.match(bin_):
            raise RuleError(
                "bin must be the 12-digit business identification number", rule="format"
            )
        country = _need(event, "country")
        if not isinstance(country, str) or not codes.COUNTRY_RE.match(country):
            raise RuleError("country must be an ISO 3166 two-letter code like KZ", rule="format")
        self._create(
            "org",
            ident,
            {
                "id": ident,
                "name": _text(event, "name"),
                "bin": bin_,
                "roles": _roles(_need(event, "roles")),
                "country": country,
                "region": _text(event, "region"),
                "status": "active",
                "registered_seq": self._seq,
                "updated_seq": self._seq,
                "deregistered_seq": None,
                "licences": {},
            },
        )

    def _org_updated(self, event: Event) -> None:
        ident = _ident(event, "org")
        assert ident is not None
        org = self._org(ident, change=True)
        changed = False
        for name in ("name", "region"):
            if name in event:
                org[name] = _text(event, name)
                changed = True
        if "roles" in event:
            org["roles"] = _roles(event["roles"])
            changed = True
        if "bin" in event:
            if not isinstance(event["bin"], str) or not codes.BIN_RE.match(event["bin"]):
                raise RuleError(
                    "bin must be the 12-digit business identification number", rule="format"
                )
            org["bin"] = event["bin"]
            changed = True
        if not changed:
            raise RuleError("org.updated changes none of name, bin, roles, region", rule="format")
        org["updated_seq"] = self._seq
        self._put("org", ident, org)

    def _org_deregistered(self, event: Event) -> None:
        ident = _ident(event, "org")
        assert ident is not None
        org = self._org(ident, change=True)
        _text(event, "reason")
        org["status"] = "deregistered"
        org["deregistered_seq"] = org["updated_seq"] = self._seq
        self._put("org", ident, org)

    def _license_granted(self, event: Event) -> None:
        ident = _ident(event, "org")
        number = _ident(event, "license")
        assert ident is not None
        assert number is not None
        org = self._org(ident, change=True)
        if number in org["licences"]:
            raise RuleError(
                f"licence {number} of {ident} was already granted", rule="unique-id", subject=number
            )
        valid_from, valid_to = _date(event, "valid_from"), _date(event, "valid_to")
        if valid_to < valid_from:
            raise RuleError("valid_to is before valid_from", rule="format", subject=number)
        waste = [_waste_code(c, "waste_codes[]") for c in _list(event, "waste_codes")]
        categories = [_category(c) for c in _list(event, "categories")]
        operations = _list(event, "operations")
        for op in operations:
            if not isinstance(op, str) or not codes.OPERATION_RE.match(op):
                raise RuleError(f"operation {op!r} is not an R1-R13 or D1-D15 code", rule="format")
        capacity = event.get("capacity_kg")
        if capacity is not None:
            _count(capacity, "capacity_kg", minimum=1)
        org["licences"][number] = {
            "valid_from": valid_from,
            "valid_to": valid_to,
            "waste_codes": sorted(set(waste)),
            "categories": sorted(set(categories)),
            "operations": sorted(set(operations)),
            "capacity_kg": capacity,
            "status": "active",
            "granted_seq": self._seq,
            "updated_seq": self._seq,
        }
        self._put("org", ident, org)

    def _licence_status(self, event: Event, new: str, allowed: tuple[str, ...]) -> None:
        ident = _ident(event, "org")
        number = _ident(event, "license")
        assert ident is not None
        assert number is not None
        org = self._org(ident, change=True)
        lic = org["licences"].get(number)
        if lic is None:
            raise RuleError(
                f"{ident} holds no licence {number}", rule="licence-exists", subject=number
            )
        if lic["status"] not in allowed:
            raise RuleError(
                f"licence {number} is {lic['status']}; it cannot become {new}",
                rule="licence-state",
                subject=number,
            )
        _text(event, "reason")
        lic["status"] = new
        lic["updated_seq"] = self._seq
        self._put("org", ident, org)

    def _license_suspended(self, event: Event) -> None:
        self._licence_status(event, "suspended", ("active",))

    def _license_revoked(self, event: Event) -> None:
        self._licence_status(event, "revoked", ("active", "suspended"))

    # --- lots --------------------------------------------------------------------------

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
                "head_seq": self._seq,
                "last_at": self._at,
                "inspections": [],
            },
        )

    def _lot_registered(self, event: Event) -> None:
        org = self._actor(event, "collector")
        ident = _ident(event, "lot")
        assert ident is not None
        category = _category(_need(event, "category"))
        waste_code = _waste_code(_need(event, "waste_code"))
        hazardous = _flag(event, "hazardous")
        if hazardous != codes.is_hazardous(waste_code):
            raise RuleError(
                f"hazardous is {str(hazardous).lower()} but waste code {waste_code} says "
                f"{str(codes.is_hazardous(waste_code)).lower()}",
                rule="hazard-class",
                subject=ident,
            )
        hp_codes = _list(event, "hp_codes", nonempty=False)
        for hp in hp_codes:
            if not isinstance(hp, str) or not codes.HP_CODE_RE.match(hp):
                raise RuleError(f"hp code {hp!r} is not HP1-HP15 or C16", rule="format")
        if hazardous and not hp_codes:
            raise RuleError(
                f"hazardous lot {ident} needs its HP codes", rule="hazard-class", subject=ident
            )
        if not hazardous and hp_codes:
            raise RuleError(
                f"lot {ident} is not hazardous but lists HP codes",
                rule="hazard-class",
                subject=ident,
            )
        items = _count(_need(event, "items"), "items", minimum=1)
        weight = _count(_need(event, "weight_g"), "weight_g", minimum=1)
        _flag(event, "weight_measured")
        source = _need(event, "source")
        if source not in codes.SOURCES:
            raise RuleError(f"source must be one of {sorted(codes.SOURCES)}", rule="format")
        site = _text(event, "site")
        producer = _ident(event, "producer", optional=True)
        if producer is not None:
            prod = self._org(producer, what="producer")
            if "producer" not in prod["roles"]:
                raise RuleError(
                    f"{producer} is not registered as a producer", rule="role", subject=producer
                )
        self._new_lot(
            ident,
            event,
            holder=event["actor"],
            parent=None,
            weight_g=weight,
            items=items,
            origins={ident: weight},
            collector=event["actor"],
            category=category,
            waste_code=waste_code,
            hazardous=hazardous,
            hp_codes=sorted(hp_codes),
            source=source,
            site=site,
            producer=producer,
            region=org["region"],
        )

    def _destination_licence(self, org: Doc, lot: Doc, *, operation: str | None = None) -> None:
        if "recycler" in org["roles"]:
            self._licence(
                org,
                day=_day(self._at),
                waste_code=lot["waste_code"],
                category=lot["category"],
                operation=operation,
                lot=lot["id"],
            )

    def _dispatched(self, event: Event) -> None:
        self._actor(event)
        ident = _ident(event, "transfer")
        to = _ident(event, "to")
        assert ident is not None
        assert to is not None
        if to == event["actor"]:
            raise RuleError(
                "a transfer must go to another organisation", rule="destination", subject=ident
            )
        dest = self._org(to, what="destination")
        if not {"recycler", "collector"} & set(dest["roles"]):
            raise RuleError(
                f"destination {to} is neither a recycler nor a collection site",
                rule="destination",
                subject=to,
            )
        carriers = event.get("transporter")
        if carriers is None:
            legs: list[str] = []
        elif isinstance(carriers, str):
            legs = [carriers]
        elif isinstance(carriers, list) and carriers:
            legs = list(carriers)
        else:
            raise RuleError(
                "transporter must be an org id or a list of org ids in leg order", rule="format"
            )
        for carrier in legs:
            if not isinstance(carrier, str) or not ID_RE.match(carrier):
                raise RuleError("transporter must name organisations by id", rule="format")
            if "transporter" not in self._org(carrier, what="transporter")["roles"]:
                raise RuleError(
                    f"{carrier} is not registered as a transporter", rule="role", subject=carrier
                )
        _text(event, "vehicle", optional=True)
        follows = _ident(event, "follows", optional=True)
        if follows is not None:
            previous = self._read("transfer", follows)
            if previous is None or previous["sender"] != event["actor"]:
                raise RuleError(
                    f"follows names no transfer of {event['actor']}: {follows}",
                    rule="transfer-link",
                    subject=follows,
                )
        declared = {}
        for item in _list(event, "lots"):
            lot = self._held_by_actor(item["lot"], event)
            weight = _count(item.get("weight_g"), f"lots[{item['lot']}].weight_g", minimum=1)
            self._destination_licence(dest, lot)
            lot["state"] = "dispatched"
            lot["transfer"] = ident
            declared[lot["id"]] = weight
            self._put("lot", lot["id"], lot)
        self._create(
            "transfer",
            ident,
            {
                "id": ident,
                "sender": event["actor"],
                "to": to,
                "legs": [{"carrier": c, "taken_seq": None} for c in legs],
                "vehicle": event.get("vehicle"),
                "lots": declared,
                "state": "dispatched",
                "follows": follows,
                "created_seq": self._seq,
                "head_seq": self._seq,
                "last_at": self._at,
                "received_seq": None,
            },
        )

    def _open_transfer(self, event: Event) -> Doc:
        ident = event["transfer"]
        transfer = self._transfer(ident, event)
        if transfer["state"] not in ("dispatched", "in_transit"):
            raise RuleError(
                f"{event['type']} by {event['actor']} is not allowed on transfer {ident} "
                f"in state {transfer['state']}",
                rule="transfer-state",
                subject=ident,
            )
        return transfer

    def _taken_over(self, event: Event) -> None:
        self._actor(event, "transporter")
        transfer = self._open_transfer(event)
        pending = [leg for leg in transfer["legs"] if leg["taken_seq"] is None]
        if not pending:
            raise RuleError(
                f"every leg of transfer {transfer['id']} was already taken over",
                rule="transporter",
                subject=transfer["id"],
            )
        if pending[0]["carrier"] != event["actor"]:
            raise RuleError(
                f"the next leg of transfer {transfer['id']} is {pending[0]['carrier']}'s, "
                f"not {event['actor']}'s",
                rule="transporter",
                subject=transfer["id"],
            )
        _text(event, "vehicle", optional=True)
        pending[0]["taken_seq"] = self._seq
        transfer["state"] = "in_transit"
        for ident in transfer["lots"]:
            lot = self._get("lot", ident)
            assert lot is not None
            if lot["state"] in CLOSED:
                continue
            lot["state"] = "in_transit"
            lot["holder"] = event["actor"]
            self._put("lot", ident, lot)
        self._put("transfer", transfer["id"], transfer)

    def _received(self, event: Event) -> None:
        dest = self._actor(event)
        transfer = self._open_transfer(event)
        ident = transfer["id"]
        if transfer["to"] != event["actor"]:
            raise RuleError(
                f"transfer {ident} goes to {transfer['to']}, not {event['actor']}",
                rule="destination",
                subject=ident,
            )
        if any(leg["taken_seq"] is None for leg in transfer["legs"]):
            raise RuleError(
                f"transfer {ident} has a leg not yet taken over by its transporter",
                rule="transporter",
                subject=ident,
            )
        open_lots = {
            lot_id
            for lot_id in transfer["lots"]
            if (doc := self._read("lot", lot_id)) is not None and doc["state"] not in CLOSED
        }
        listed = {item["lot"] for item in _list(event, "lots")}
        if listed != open_lots:
            raise RuleError(
                f"receipt of transfer {ident} must list exactly its lots {sorted(open_lots)}",
                rule="receipt-lots",
                subject=ident,
            )
        states = ("dispatched", "in_transit")
        all_refused = True
        for item in event["lots"]:
            lot = self._lot(item["lot"], event, states=states)
            if lot["transfer"] != ident:
                raise RuleError(
                    f"lot {lot['id']} is not in transfer {ident}",
                    rule="receipt-lots",
                    subject=lot["id"],
                )
            measured = _count(item.get("weight_g"), f"lots[{lot['id']}].weight_g")
            outcome = item.get("outcome")
            if outcome not in codes.OUTCOMES:
                raise RuleError(f"outcome must be one of {sorted(codes.OUTCOMES)}", rule="format")
            items = item.get("items")
            if items is not None:
                _count(items, f"lots[{lot['id']}].items")
            if outcome != "refused":
                self._destination_licence(dest, lot)
            declared = transfer["lots"][lot["id"]]
            differs = abs(measured - declared) * 100 > self.rules.discrepancy_percent * declared
            if differs or (items is not None and items != lot["items"]):
                deadline = date.fromisoformat(_day(self._at)) + timedelta(
                    days=self.rules.discrepancy_days
                )
                lot["discrepancy"] = {
                    "transfer": ident,
                    "declared_g": declared,
                    "measured_g": measured,
                    "declared_items": lot["items"],
                    "counted_items": items,
                    "opened_seq": self._seq,
                    "deadline": deadline.isoformat(),
                    "status": "open",
                }
            lot["transfer"] = None
            lot["weight_g"] = measured
            if items is not None:
                lot["items"] = items
            if outcome == "accepted":
                all_refused = False
                lot["state"], lot["holder"] = "held", dest["id"]
            elif outcome == "refused":
                _text(item, "reason")
                lot["state"], lot["holder"] = "held", transfer["sender"]
            else:
                all_refused = False
                _text(item, "reason")
                refused = _count(
                    item.get("refused_weight_g"), f"lots[{lot['id']}].refused_weight_g", minimum=1
                )
                if refused >= measured:
                    raise RuleError(
                        "a partial refusal refuses less than the measured weight",
                        rule="weights",
                        subject=lot["id"],
                    )
                back = _ident(item, "return_lot")
                assert back is not None
                lot["state"], lot["holder"] = "held", dest["id"]
                lot["weight_g"] = measured - refused
                shares = _scale(lot["origins"], refused, measured)
                lot["origins"] = _scale(lot["origins"], measured - refused, measured)
                self._new_lot(
                    back,
                    event,
                    holder=transfer["sender"],
                    parent=lot,
                    weight_g=refused,
                    items=0,
                    origins=shares,
                )
            self._put("lot", lot["id"], lot)
        transfer["state"] = "refused" if all_refused else "received"
        transfer["received_seq"] = self._seq
        self._put("transfer", ident, transfer)

    def _split(self, event: Event) -> None:
        self._actor(event)
        parent = self._held_by_actor(event["lot"], event)
        children = _list(event, "children")
        total = 0
        for child in children:
            if not isinstance(child, dict):
                raise RuleError("each child is {lot, weight_g, items?}", rule="format")
            _ident(child, "lot")
            total += _count(child.get("weight_g"), "children[].weight_g", minimum=1)
        if total > parent["weight_g"]:
            raise RuleError(
                f"children of lot {parent['id']} weigh {total} g, more than its "
                f"{parent['weight_g']} g",
                rule="weights",
                subject=parent["id"],
            )
        parent["state"] = "split"
        parent["children"] = [c["lot"] for c in children]
        self._put("lot", parent["id"], parent)
        for child in children:
            items = _count(child.get("items", 0), "children[].items")
            self._new_lot(
                child["lot"],
                event,
                holder=event["actor"],
                parent=parent,
                weight_g=child["weight_g"],
                items=items,
                origins=_scale(parent["origins"], child["weight_g"], parent["weight_g"]),
            )

    def _merged(self, event: Event) -> None:
        self._actor(event)
        into = _ident(event, "into")
        assert into is not None
        inputs = [self._held_by_actor(item["lot"], event) for item in _list(event, "lots")]
        if len(inputs) < 2:
            raise RuleError("a merge takes at least two lots", rule="format", subject=into)
        categories = {lot["category"] for lot in inputs}
        if len(categories) != 1:
            raise RuleError(
                f"lots of categories {sorted(categories)} cannot share a container",
                rule="merge-category",
                subject=into,
            )
        waste_codes = {lot["waste_code"] for lot in inputs}
        if "waste_code" in event:
            waste_code = _waste_code(event["waste_code"])
        elif len(waste_codes) == 1:
            waste_code = waste_codes.pop()
        else:
            raise RuleError(
                "lots of different waste codes need the merged lot's waste_code",
                rule="format",
                subject=into,
            )
        origins: dict[str, int] = {}
        for lot in inputs:
            for origin, grams in lot["origins"].items():
                origins[origin] = origins.get(origin, 0) + grams
            lot["state"] = "merged"
            lot["merged_into"] = into
            self._put("lot", lot["id"], lot)
        first = inputs[0]
        self._new_lot(
            into,
            event,
            holder=event["actor"],
            parent=first,
            weight_g=sum(lot["weight_g"] for lot in inputs),
            items=sum(lot["items"] for lot in inputs),
            origins=origins,
            waste_code=waste_code,
            hazardous=codes.is_hazardous(waste_code),
            hp_codes=sorted({hp for lot in inputs for hp in lot["hp_codes"]}),
        )
        merged = self._changes.docs[("lot", into)]
        merged["parents"] = [lot["id"] for lot in inputs]
        merged["collector"] = (
            first["collector"] if len({lot["collector"] for lot in inputs}) == 1 else None
        )

    def _processed(self, event: Event) -> None:
        org = self._actor(event, "recycler")
        lot = self._held_by_actor(event["lot"], event)
        operation = _need(event, "operation")
        if not isinstance(operation, str) or not codes.OPERATION_RE.match(operation):
            raise RuleError("operation must be an R1-R13 or D1-D15 code", rule="format")
        self._licence(
            org,
            day=_day(self._at),
            waste_code=lot["waste_code"],
            category=lot["category"],
            operation=operation,
            lot=lot["id"],
        )
        outputs = _list(event, "outputs")
        total = 0
        for out in outputs:
            if not isinstance(out, dict):
                raise RuleError(
                    "each output is {waste_code, material, weight_g, lot?}", rule="format"
                )
            _waste_code(out.get("waste_code"), "outputs[].waste_code")
            if out.get("material") not in codes.MATERIALS:
                raise RuleError(f"material must be one of {sorted(codes.MATERIALS)}", rule="format")
            total += _count(out.get("weight_g"), "outputs[].weight_g")
        limit = lot["weight_g"] * (100 + self.rules.output_tolerance_percent) / 100
        if total > limit:
            raise RuleError(
                f"outputs of lot {lot['id']} weigh {total} g, more than its {lot['weight_g']} g "
                f"plus {self.rules.output_tolerance_percent} % tolerance",
                rule="mass-balance",
                subject=lot["id"],
            )
        lot["state"] = "processed"
        lot["operation"] = operation
        lot["processed_by"] = event["actor"]
        lot["outputs"] = [
            {k: out[k] for k in ("waste_code", "material", "weight_g", "lot") if k in out}
            for out in outputs
        ]
        self._put("lot", lot["id"], lot)
        for out in outputs:
            if "lot" in out:
                code = out["waste_code"]
                self._new_lot(
                    _ident(out, "lot") or "",
                    event,
                    holder=event["actor"],
                    parent=lot,
                    weight_g=out["weight_g"],
                    items=0,
                    origins=_scale(lot["origins"], out["weight_g"], lot["weight_g"]),
                    waste_code=code,
                    hazardous=codes.is_hazardous(code),
                    material=out["material"],
                )

    def _lost(self, event: Event) -> None:
        self._actor(event)
        lot = self._lot(event["lot"], event, states=("held", "in_transit", "dispatched"))
        if lot["holder"] != event["actor"]:
            raise RuleError(
                f"lot {lot['id']} is held by {lot['holder']}, not {event['actor']}",
                rule="holder",
                subject=lot["id"],
            )
        _text(event, "reason")
        lot["state"] = "lost"
        if lot["transfer"] is not None:  # lost on the way: the receipt will not list it
            lot["lost_in"], lot["transfer"] = lot["transfer"], None
        self._put("lot", lot["id"], lot)

    def _inspection(self, event: Event) -> None:
        if event["actor"] != self.authority_id:
            self._actor(event, "inspector")
        target = _need(event, "target")
        if not isinstance(target, dict) or target.get("kind") not in ("lot", "transfer", "org"):
            raise RuleError("target must be {kind: lot|transfer|org, id}", rule="format")
        kind, ident = target["kind"], _ident(target, "id")
        assert ident is not None
        doc = self._get(kind, ident)
        if doc is None:
            raise RuleError(
                f"{kind} {ident} does not exist", rule="inspection-target", subject=ident
            )
        finding = _text(event, "finding")
        doc.setdefault("inspections", []).append(
            {"seq": self._seq, "by": event["actor"], "finding": finding}
        )
        self._put(kind, ident, doc)

    def _discrepancy_resolved(self, event: Event) -> None:
        if event["actor"] != self.authority_id:
            self._actor(event, "inspector")
        ident = _ident(event, "subject_lot")
        assert ident is not None
        lot = self._get("lot", ident)
        if lot is None or not lot.get("discrepancy") or lot["discrepancy"]["status"] != "open":
            raise RuleError(
                f"lot {ident} has no open discrepancy", rule="discrepancy", subject=ident
            )
        lot["discrepancy"]["status"] = "resolved"
        lot["discrepancy"]["resolution"] = _text(event, "resolution")
        lot["discrepancy"]["resolved_seq"] = self._seq
        self._put("lot", ident, lot)

    # --- revisions ---------------------------------------------------------------------

    def _revision_proposed(self, event: Event) -> None:
        self._actor(event)
        ident = _ident(event, "revision")
        assert ident is not None
        target = _need(event, "entry")
        if not isinstance(target, int) or isinstance(target, bool) or not 0 < target < self._seq:
            raise RuleError("entry must be the seq of an earlier entry", rule="format")
        original = self.view.event_at(target)
        if original is None:
            raise RuleError(f"entry {target} is not in the log", rule="revision-target")
        reason = _text(event, "reason")
        changes = _list(event, "changes")
        parties = {original["actor"]}
        if original["type"] == "transfer.received":
            transfer = self._read("transfer", original["transfer"])
            assert transfer is not None
            parties |= {transfer["sender"], transfer["to"]}
        touched = {item.get("lot") for item in original.get("lots", ())} | {original.get("lot")}
        touched |= {c.get("lot") for c in original.get("children", ()) if isinstance(c, dict)}
        for change in changes:
            if not isinstance(change, dict):
                raise RuleError("each change is {lot, weight_g?, items?}", rule="format")
            lot_id = _ident(change, "lot")
            if lot_id not in touched:
                raise RuleError(
                    f"entry {target} is not about lot {lot_id}",
                    rule="revision-target",
                    subject=lot_id,
                )
            if not {"weight_g", "items"} & set(change):
                raise RuleError("a change revises weight_g or items", rule="format")
            for name in ("weight_g", "items"):
                if name in change:
                    _count(change[name], f"changes[].{name}")
            lot = self._read("lot", lot_id or "")
            assert lot is not None
            parties.add(lot["holder"])
        if event["actor"] not in parties:
            raise RuleError(
                f"{event['actor']} is not a party to entry {target}",
                rule="revision-party",
                subject=ident,
            )
        self._create(
            "revision",
            ident,
            {
                "id": ident,
                "entry": target,
                "changes": changes,
                "reason": reason,
                "parties": sorted(parties),
                "approved": [event["actor"]],
                "state": "proposed",
                "proposed_seq": self._seq,
                "applied_seq": None,
            },
        )
        self._maybe_apply(ident)

    def _revision_approved(self, event: Event) -> None:
        self._actor(event)
        ident = _ident(event, "revision")
        assert ident is not None
        revision = self._get("revision", ident)
        if revision is None:
            raise RuleError(
                f"revision {ident} does not exist", rule="revision-exists", subject=ident
            )
        if revision["state"] != "proposed":
            raise RuleError(
                f"revision {ident} is already {revision['state']}",
                rule="revision-state",
                subject=ident,
            )
        if event["actor"] not in revision["parties"]:
            raise RuleError(
                f"{event['actor']} is not a party to revision {ident}",
                rule="revision-party",
                subject=ident,
            )
        if event["actor"] in revision["approved"]:
            raise RuleError(
                f"{event['actor']} already approved revision {ident}",
                rule="revision-party",
                subject=ident,
            )
        revision["approved"].append(event["actor"])
        self._put("revision", ident, revision)
        self._maybe_apply(ident)

    def _maybe_apply(self, ident: str) -> None:
        revision = self._get("revision", ident)
        assert revision is not None
        if set(revision["approved"]) != set(revision["parties"]):
            return
        revision["state"] = "applied"
        revision["applied_seq"] = self._seq
        self._put("revision", ident, revision)
        for change in revision["changes"]:
            lot = self._get("lot", change["lot"])
            assert lot is not None
            lot.setdefault("revisions", []).append(ident)
            for name in ("weight_g", "items"):
                if name in change:
                    lot[name] = change[name]
            found = lot.get("discrepancy")
            if found and found["status"] == "open":
                found["status"] = "resolved"
                found["resolution"] = f"revision {ident}"
                found["resolved_seq"] = self._seq
            self._put("lot", lot["id"], lot)


def _scale(origins: Mapping[str, int], part: int, whole: int) -> dict[str, int]:
    """The share ``part / whole`` of each origin's grams (rounded down; never negative)."""
    if whole <= 0:
        return {k: 0 for k in origins}
    return {k: v * part // whole for k, v in origins.items()}


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
    for name in ("transfer", "follows"):
        if isinstance(event.get(name), str):
            refs.add(("transfer", event[name]))
    if isinstance(event.get("revision"), str):
        refs.add(("revision", event["revision"]))
    target = event.get("target")
    if isinstance(target, dict) and isinstance(target.get("id"), str):
        refs.add((str(target.get("kind")), target["id"]))
    return refs
