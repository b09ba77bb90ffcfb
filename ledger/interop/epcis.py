"""GS1 EPCIS 2.0 (JSON-LD) documents of the custody log.

A partner that runs EPCIS reads a lot's custody as EPCIS events; each event
carries the leaf hash of the log entry it comes from (``eventID`` and
``tizbek:leafHash``), so any event traces back to a signed, logged entry.

Every event has ``eventTime`` = the signer's ``at``, ``eventTimeZoneOffset``
``+00:00``, ``recordTime`` = the entry's ``logged_at``, ``eventID``
``ni:///sha-256;<base64url leaf hash>?ver=CBV2.0`` (with ``#1``, ``#2``, ...
when one entry gives several events), ``readPoint`` and ``bizLocation`` = the
acting organisation ``{base}/org/{id}``, and the extensions ``tizbek:leafHash``
(hex) and ``tizbek:seq``. A lot is the EPC ``links.label_url(lot)`` (its GS1
Digital Link when the deployment has a GS1 prefix). Weights are quantities in
kilograms (``KGM``) of a waste class ``{base}/class/{code}``, the code with
dashes for spaces and ``-hazardous`` for a ``*``, e.g. ``20-01-35-hazardous``.

=========================  ==================================================
Tizbek event               EPCIS event
=========================  ==================================================
``lot.registered``         ObjectEvent ADD, ``collecting``, ``in_progress``,
                           the lot and its weight
``transfer.dispatched``    ObjectEvent OBSERVE, ``shipping``, ``in_transit``,
                           the lots and declared weights; source and
                           destination ``owning_party`` sender and ``to``
``transfer.taken_over``    ObjectEvent OBSERVE, ``transporting``,
                           ``in_transit``, the lots still in the transfer;
                           ``possessing_party`` from the previous holder to
                           the carrier
``transfer.received``      one ObjectEvent per outcome group, ``possessing_party``
                           from the last carrier (or the sender): accepted
                           and partially refused lots ``accepting``,
                           ``in_progress`` (``mismatch_quantity`` when the
                           measured weight is not the declared one) with the
                           kept weight; refused lots ``receiving``,
                           ``returned`` back to the sender; a partial
                           refusal's new return lot ADD ``receiving``,
                           ``returned`` with the refused weight
``lot.split``              TransformationEvent ``repackaging``: the parent in,
                           the children out
``lot.merged``             AggregationEvent ADD ``packing``: the container is
                           the parent, the merged lots its children
``lot.processed``          TransformationEvent ``disassembling`` (``destroying``
                           for a D operation): the lot in, one output quantity
                           per fraction of class ``{code}/{material}``, the
                           lots of fractions sent on out; ``tizbek:operation``
``lot.lost``               ObjectEvent OBSERVE, disposition
                           ``https://tizbek.kz/epcis/disposition/lost``
                           (CBV has none for a loss); ``tizbek:reason``
``inspection.recorded``    on a lot: ObjectEvent OBSERVE ``inspecting``,
                           ``tizbek:finding``; on a transfer or organisation:
                           none
=========================  ==================================================

No EPCIS event: the genesis, ``org.*``, ``license.*``, ``key.*``,
``labels.*``, ``revision.*`` (registry and paperwork, no goods move), and
``discrepancy.resolved`` (an inspector closes a case at a desk; an
``inspecting`` event would claim the goods were looked at there and then).
Any other type is an error, so a new event type cannot be left out silently.

The short CBV 2.0 names are used where the schema enumerates them; every
choice above is in its enumeration except the loss disposition.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.entries import Entry
from ledger.labels.links import Links

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
#: The JSON-LD namespace of the ``tizbek:`` extension fields.
TIZBEK_VOCAB = "https://tizbek.kz/epcis/"
#: The disposition of a lost lot: CBV 2.0 has no term for it.
LOST = f"{TIZBEK_VOCAB}disposition/lost"
KILOGRAM = "KGM"

#: Event types without EPCIS meaning, by prefix or in full.
_SKIPPED_PREFIXES = ("log.", "org.", "license.", "key.", "labels.", "revision.")
_SKIPPED_TYPES = frozenset({"discrepancy.resolved"})

EpcisEvent = dict[str, Any]


class Directory(Protocol):
    """Where the export reads the log's documents (lots, transfers)."""

    def doc(self, kind: str, ident: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class _Context:
    """The directory and links one export reads from."""

    directory: Directory
    links: Links

    def doc(self, kind: str, ident: str) -> dict[str, Any]:
        found = self.directory.doc(kind, ident)
        if found is None:
            raise LookupError(f"{kind} {ident} is not in the directory")
        return found

    def org(self, ident: str) -> str:
        return f"{self.links.base}/org/{ident}"

    def epc(self, lot: str) -> str:
        return self.links.label_url(lot)

    def waste_class(self, waste_code: str) -> str:
        return f"{self.links.base}/class/{class_name(waste_code)}"

    def lot_class(self, lot: str) -> str:
        return self.waste_class(str(self.doc("lot", lot)["waste_code"]))


def class_name(waste_code: str) -> str:
    """A waste code as a path segment: ``20 01 35*`` → ``20-01-35-hazardous``."""
    name = "-".join(waste_code.replace("*", "").split())
    return f"{name}-hazardous" if "*" in waste_code else name


def event_id(leaf_hash: bytes, part: int | None = None) -> str:
    """The ``ni:`` URI (RFC 6920) of a leaf hash, with ``#part`` for one of several events."""
    digest = base64.urlsafe_b64encode(leaf_hash).rstrip(b"=").decode("ascii")
    uri = f"ni:///sha-256;{digest}?ver=CBV2.0"
    return uri if part is None else f"{uri}#{part}"


def _kg(grams: int) -> int | float:
    return grams // 1000 if grams % 1000 == 0 else grams / 1000


def _quantities(weights: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """Quantity elements of (class URI, grams) pairs, summed per class in first-seen order."""
    totals: dict[str, int] = {}
    for epc_class, grams in weights:
        totals[epc_class] = totals.get(epc_class, 0) + grams
    return [
        {"epcClass": epc_class, "quantity": _kg(grams), "uom": KILOGRAM}
        for epc_class, grams in totals.items()
    ]


def _party(kind: str, role: str, uri: str) -> list[dict[str, str]]:
    """A one-item sourceList (role ``source``) or destinationList (role ``destination``)."""
    return [{"type": kind, role: uri}]


def _base(ctx: _Context, entry: Entry, event_type: str) -> EpcisEvent:
    """The fields every exported event shares (``eventID`` is set by the caller)."""
    actor = ctx.org(entry.event["actor"])
    return {
        "type": event_type,
        "eventTime": entry.event["at"],
        "eventTimeZoneOffset": "+00:00",
        "recordTime": entry.logged_at,
        "readPoint": {"id": actor},
        "bizLocation": {"id": actor},
        "tizbek:leafHash": entry.hash.hex(),
        "tizbek:seq": entry.seq,
    }


def _object(ctx: _Context, entry: Entry, action: str, lots: Iterable[str]) -> EpcisEvent:
    return {
        **_base(ctx, entry, "ObjectEvent"),
        "action": action,
        "epcList": [ctx.epc(lot) for lot in lots],
    }


def _registered(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    found = _object(ctx, entry, "ADD", [event["lot"]])
    found["quantityList"] = _quantities([(ctx.waste_class(event["waste_code"]), event["weight_g"])])
    found.update(bizStep="collecting", disposition="in_progress")
    return [found]


def _dispatched(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    lots = event["lots"]
    found = _object(ctx, entry, "OBSERVE", [item["lot"] for item in lots])
    found["quantityList"] = _quantities((ctx.lot_class(i["lot"]), i["weight_g"]) for i in lots)
    found.update(
        bizStep="shipping",
        disposition="in_transit",
        sourceList=_party("owning_party", "source", ctx.org(event["actor"])),
        destinationList=_party("owning_party", "destination", ctx.org(event["to"])),
    )
    found["tizbek:transfer"] = event["transfer"]
    return [found]


def _previous_holder(transfer: dict[str, Any], seq: int) -> str:
    """Who had the lots before the leg taken over at ``seq``: a carrier or the sender."""
    carriers = [leg["carrier"] for leg in transfer["legs"]]
    taken = [leg["taken_seq"] for leg in transfer["legs"]]
    index = taken.index(seq) if seq in taken else 0
    return str(carriers[index - 1]) if index > 0 else str(transfer["sender"])


def _last_holder(transfer: dict[str, Any]) -> str:
    """Who had the lots when they arrived: the last carrier, or the sender."""
    legs = transfer["legs"]
    return str(legs[-1]["carrier"]) if legs else str(transfer["sender"])


def _taken_over(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    transfer = ctx.doc("transfer", event["transfer"])
    # A lot lost before this leg stayed behind; the lots taken over list the entry.
    lots = [lot for lot in transfer["lots"] if entry.seq in ctx.doc("lot", lot)["history"]]
    found = _object(ctx, entry, "OBSERVE", lots)
    found.update(
        bizStep="transporting",
        disposition="in_transit",
        sourceList=_party(
            "possessing_party", "source", ctx.org(_previous_holder(transfer, entry.seq))
        ),
        destinationList=_party("possessing_party", "destination", ctx.org(event["actor"])),
    )
    found["tizbek:transfer"] = event["transfer"]
    return [found]


@dataclass
class _Group:
    """Lots of one receipt that share an EPCIS action, bizStep, disposition and destination."""

    action: str
    biz_step: str
    disposition: str
    destination: str
    lots: list[str]
    weights: list[tuple[str, int]]


def _receipt_groups(ctx: _Context, event: dict[str, Any], transfer: dict[str, Any]) -> list[_Group]:
    """The receipt's lots grouped by outcome, in the order their first lot is listed."""
    groups: dict[tuple[str, str, str, str], _Group] = {}

    def add(key: tuple[str, str, str, str], lot: str, epc_class: str, grams: int) -> None:
        group = groups.setdefault(key, _Group(*key, lots=[], weights=[]))
        group.lots.append(lot)
        group.weights.append((epc_class, grams))

    to, sender = event["actor"], transfer["sender"]
    for item in event["lots"]:
        lot, measured = item["lot"], item["weight_g"]
        epc_class = ctx.lot_class(lot)
        if item["outcome"] == "refused":
            add(("OBSERVE", "receiving", "returned", sender), lot, epc_class, measured)
            continue
        differs = measured != transfer["lots"][lot]
        disposition = "mismatch_quantity" if differs else "in_progress"
        refused = item.get("refused_weight_g", 0)
        add(("OBSERVE", "accepting", disposition, to), lot, epc_class, measured - refused)
        if item["outcome"] == "partially_refused":
            add(("ADD", "receiving", "returned", sender), item["return_lot"], epc_class, refused)
    return list(groups.values())


def _received(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    transfer = ctx.doc("transfer", event["transfer"])
    source = _party("possessing_party", "source", ctx.org(_last_holder(transfer)))
    found = []
    for group in _receipt_groups(ctx, event, transfer):
        one = _object(ctx, entry, group.action, group.lots)
        one.update(
            quantityList=_quantities(group.weights),
            bizStep=group.biz_step,
            disposition=group.disposition,
            sourceList=source,
            destinationList=_party("possessing_party", "destination", ctx.org(group.destination)),
        )
        one["tizbek:transfer"] = event["transfer"]
        found.append(one)
    return found


def _split(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    found = _base(ctx, entry, "TransformationEvent")
    found.update(
        inputEPCList=[ctx.epc(event["lot"])],
        outputEPCList=[ctx.epc(child["lot"]) for child in event["children"]],
        bizStep="repackaging",
    )
    return [found]


def _merged(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    found = _base(ctx, entry, "AggregationEvent")
    found.update(
        action="ADD",
        parentID=ctx.epc(event["into"]),
        childEPCs=[ctx.epc(item["lot"]) for item in event["lots"]],
        bizStep="packing",
    )
    return [found]


def _processed(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    event = entry.event
    outputs = event["outputs"]
    found = _base(ctx, entry, "TransformationEvent")
    found["inputEPCList"] = [ctx.epc(event["lot"])]
    sent_on = [ctx.epc(out["lot"]) for out in outputs if "lot" in out]
    if sent_on:
        found["outputEPCList"] = sent_on
    found["outputQuantityList"] = _quantities(
        (f"{ctx.waste_class(out['waste_code'])}/{out['material']}", out["weight_g"])
        for out in outputs
    )
    operation = str(event["operation"])
    found["bizStep"] = "destroying" if operation.startswith("D") else "disassembling"
    found["tizbek:operation"] = operation
    return [found]


def _lost(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    found = _object(ctx, entry, "OBSERVE", [entry.event["lot"]])
    found["disposition"] = LOST
    found["tizbek:reason"] = entry.event["reason"]
    return [found]


def _inspection(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    target = entry.event["target"]
    if target["kind"] != "lot":
        return []
    found = _object(ctx, entry, "OBSERVE", [target["id"]])
    found["bizStep"] = "inspecting"
    found["tizbek:finding"] = entry.event["finding"]
    return [found]


_MAPPERS: dict[str, Callable[[_Context, Entry], list[EpcisEvent]]] = {
    "lot.registered": _registered,
    "transfer.dispatched": _dispatched,
    "transfer.taken_over": _taken_over,
    "transfer.received": _received,
    "lot.split": _split,
    "lot.merged": _merged,
    "lot.processed": _processed,
    "lot.lost": _lost,
    "inspection.recorded": _inspection,
}


def _skipped(event_type: str) -> bool:
    return event_type in _SKIPPED_TYPES or event_type.startswith(_SKIPPED_PREFIXES)


def _events_of(ctx: _Context, entry: Entry) -> list[EpcisEvent]:
    """The EPCIS events of one entry, each with its ``eventID``."""
    event_type = entry.event["type"]
    mapper = _MAPPERS.get(event_type)
    if mapper is None:
        if _skipped(event_type):
            return []
        raise ValueError(f"seq {entry.seq}: no EPCIS mapping for event type {event_type!r}")
    found = mapper(ctx, entry)
    return [
        {"eventID": event_id(entry.hash, n if len(found) > 1 else None), **one}
        for n, one in enumerate(found, start=1)
    ]


def epcis_events(
    entries: Sequence[Entry], directory: Directory, links: Links
) -> list[dict[str, Any]]:
    """The EPCIS events of ``entries``, in log order; entries without EPCIS meaning give none."""
    ctx = _Context(directory, links)
    return [one for entry in entries for one in _events_of(ctx, entry)]


def epcis_document(
    entries: Sequence[Entry], directory: Directory, links: Links, *, created: str
) -> dict[str, Any]:
    """A complete EPCISDocument of ``entries``, created at ``created`` (RFC 3339)."""
    return {
        "@context": [EPCIS_CONTEXT, {"tizbek": TIZBEK_VOCAB}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisBody": {"eventList": epcis_events(entries, directory, links)},
    }
