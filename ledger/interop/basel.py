"""A Basel Convention movement-document data sheet for a transfer that crosses a border.

Since 1 January 2025 every transboundary movement of e-waste needs prior
informed consent (Basel codes A1181 for hazardous e-waste, Y49 for the rest).
The movement document travels with the consignment; this sheet fills its
blocks from the custody log (exporter, importer, carriers, generators, the
waste, dates, the recovery or disposal operation) and names, for every block,
the seq of the entry it was taken from, so a competent authority can check
each against the signed log. What the log cannot know (the notification
number, packaging type, special handling) is left ``null`` for the exporter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.custody.rules import Doc
from ledger.errors import TizbekError

FORMAT = "tizbek-basel-movement/1"
#: Lookup of a custody document by kind and id.
DocLookup = Callable[[str, str], Doc | None]


class NotTransboundary(TizbekError):
    """The transfer stays within one country: it needs no movement document."""


def basel_code(waste_code: str) -> str:
    """A1181 for a hazardous e-waste code (``*``), Y49 for any other."""
    return "A1181" if waste_code.endswith("*") else "Y49"


def _party(org: Doc | None, ident: str) -> dict[str, Any]:
    if org is None:
        return {"id": ident, "name": None, "bin": None, "country": None, "region": None}
    return {
        "id": ident,
        "name": org.get("name"),
        "bin": org.get("bin"),
        "country": org.get("country"),
        "region": org.get("region"),
    }


def movement_sheet(transfer: Doc, doc: DocLookup) -> dict[str, Any]:
    """The data sheet of ``transfer``; :class:`NotTransboundary` if it crosses no border."""
    sender, dest = doc("org", transfer["sender"]), doc("org", transfer["to"])
    exporter, importer = _party(sender, transfer["sender"]), _party(dest, transfer["to"])
    if exporter["country"] == importer["country"]:
        raise NotTransboundary(
            f"transfer {transfer['id']} stays in {exporter['country']}: "
            "a Basel movement document is for a transfer between countries"
        )
    lots = []
    generators: dict[str, dict[str, Any]] = {}
    operations = set()
    for ident, declared in sorted(transfer["lots"].items()):
        lot = doc("lot", ident) or {"id": ident}
        collector = lot.get("collector")
        if collector and collector not in generators:
            generators[collector] = _party(doc("org", collector), collector)
        if lot.get("operation"):
            operations.add(lot["operation"])
        code = str(lot.get("waste_code", ""))
        lots.append(
            {
                "lot": ident,
                "waste_code": code,
                "basel_code": basel_code(code) if code else None,
                "hazardous": lot.get("hazardous"),
                "hp_codes": lot.get("hp_codes", []),
                "weee_category": lot.get("category"),
                "items": lot.get("items"),
                "declared_g": declared,
                "received_g": lot.get("received_g"),
                "registered_seq": lot.get("created_seq"),
            }
        )
    legs = [
        {
            "order": n + 1,
            **_party(doc("org", leg["carrier"]), leg["carrier"]),
            "taken_over_seq": leg["taken_seq"],
        }
        for n, leg in enumerate(transfer["legs"])
    ]
    licences = (dest or {}).get("licences", {})
    return {
        "format": FORMAT,
        "movement": {
            "document": transfer["id"],
            "notification": None,
            "state": transfer["state"],
            "dispatched_at": transfer.get("dispatched_at"),
            "dispatched_seq": transfer["created_seq"],
            "received_at": transfer.get("received_at"),
            "received_seq": transfer.get("received_seq"),
            "vehicle": transfer.get("vehicle"),
        },
        "exporter": exporter,
        "importer": {**importer, "licences": sorted(licences)},
        "generators": [generators[k] for k in sorted(generators)],
        "carriers": legs,
        "waste": {
            "basel_codes": sorted({x["basel_code"] for x in lots if x["basel_code"]}),
            "total_declared_g": sum(x["declared_g"] for x in lots),
            "total_received_g": sum(x["received_g"] or 0 for x in lots),
            "lots": lots,
            "packaging": None,
            "special_handling": None,
        },
        "operations": sorted(operations),
        "entries": list(transfer.get("history", [])),
    }
