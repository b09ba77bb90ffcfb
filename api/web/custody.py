"""What the transporter's and the recycler's pages read: open transfers, their heads, names.

A transfer is open while it is ``dispatched`` or ``in_transit``. The typed
``transfers`` projection finds the open ones of a destination or a carrier
without reading every transfer an organisation ever took part in; the custody
documents give their lots and legs. Heads are the leaf hashes each next
event's ``after`` must name (``subject_heads``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.registry import all_orgs
from ledger.custody.rules import Doc
from ledger.errors import LotIdError
from ledger.labels import ids
from ledger.storage.reader import LogReader
from ledger.storage.tables import HEADS, TRANSFERS

#: Transfer states in which lots are still on the way.
OPEN = ("dispatched", "in_transit")
#: The most transfers or lots a page lists.
MAX_LISTED = 500


def lot_id(text: str | None) -> str:
    """A typed or scanned lot id in canonical form ("" if none, as typed if not an id)."""
    if not text:
        return ""
    try:
        return ids.normalise(text.strip())
    except LotIdError:
        return text.strip()


def heads(log: LogReader, kind: str, subjects: list[str]) -> dict[str, str]:
    """The leaf hash (hex) of the latest entry about each ``kind`` subject (lot or transfer)."""
    if not subjects:
        return {}
    with log.engine.connect() as conn:
        rows = conn.execute(
            select(HEADS.c.subject, HEADS.c.head_hash).where(
                HEADS.c.kind == kind, HEADS.c.subject.in_(subjects)
            )
        ).all()
    return {str(subject): bytes(head).hex() for subject, head in rows}


def next_carrier(transfer: Doc) -> str | None:
    """The transporter whose leg of ``transfer`` is next to be taken over, if any."""
    for leg in transfer["legs"]:
        if leg["taken_seq"] is None:
            return str(leg["carrier"])
    return None


def open_transfers(
    log: LogReader, *, destination: str | None = None, carrier: str | None = None
) -> list[Doc]:
    """Open transfers going to ``destination``, or with a leg for ``carrier``, by dispatch time."""
    query = select(TRANSFERS.c.transfer).where(TRANSFERS.c.state.in_(OPEN))
    if destination is not None:
        query = query.where(TRANSFERS.c.destination == destination)
    if carrier is not None:
        query = query.where(TRANSFERS.c.transporter.contains(carrier))
    with log.engine.connect() as conn:
        idents = conn.execute(query.order_by(TRANSFERS.c.transfer).limit(MAX_LISTED)).scalars()
        found = [log.doc("transfer", str(i)) for i in idents]
    docs = [d for d in found if d is not None]
    if carrier is not None:
        docs = [d for d in docs if any(leg["carrier"] == carrier for leg in d["legs"])]
    return sorted(docs, key=lambda d: (d.get("dispatched_at") or "", d["id"]))


def lots_on_the_way(log: LogReader, transfer: Doc) -> list[Doc]:
    """The lots of ``transfer`` a receipt must list: those not closed (lost) on the way."""
    docs = [log.doc("lot", ident) for ident in transfer["lots"]]
    return [d for d in docs if d is not None and d["transfer"] == transfer["id"]]


def org_names(log: LogReader) -> dict[str, str]:
    """Every registered organisation's name, by id."""
    return {str(org["id"]): str(org["name"]) for org in all_orgs(log)}


def describe(transfer: Doc, names: dict[str, str]) -> dict[str, Any]:
    """What a page shows of a transfer: its document with the parties' names."""
    return {
        **transfer,
        "sender_name": names.get(transfer["sender"], transfer["sender"]),
        "to_name": names.get(transfer["to"], transfer["to"]),
        "next_carrier": next_carrier(transfer),
        "carrier_names": [names.get(leg["carrier"], leg["carrier"]) for leg in transfer["legs"]],
    }
