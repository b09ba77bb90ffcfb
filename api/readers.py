"""Endpoints for token holders: entries, lots, transfers, organisations, discrepancies.

An inspector reads everything; an organisation's token reads the lots and
transfers it is or was party to (collector, holder, sender, destination,
transporter), and the registry of organisations and licences.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from api.app_types import Services
from api.auth import inspector, reader
from api.deps import services
from api.problems import ApiError
from api.public import MAX_SEQ
from ledger.custody.rules import Doc
from ledger.labels.render import qr_svg
from ledger.share import DEFAULT_MINUTES, MAX_MINUTES
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1", tags=["readers"])
Svc = Annotated[Services, Depends(services)]
Reader = Annotated[Principal, Depends(reader)]
Inspector = Annotated[Principal, Depends(inspector)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _party(who: Principal) -> str | None:
    return None if who.inspector else who.org


def _visible(doc: Doc | None, who: Principal, kind: str, ident: str) -> Doc:
    if doc is None or (not who.inspector and who.org not in doc.get("parties", ())):
        # The same answer whether the subject is missing or someone else's.
        raise ApiError(404, "not_found", "Not found", f"no {kind} {ident} you may see")
    return doc


@router.get(
    "/entries",
    responses={
        200: {
            "description": "entries as JSON, or their leaf data as JSON Lines",
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/jsonl": {"schema": {"type": "string"}},
            },
        }
    },
)
async def entries(
    svc: Svc,
    who: Inspector,
    start: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Limit = 100,
    format: Annotated[str, Query(pattern="^(json|jsonl)$")] = "json",
) -> Any:
    """Entries in seq order (inspectors). ``format=jsonl`` streams leaf data, one per line."""
    if format == "jsonl":

        def lines() -> Iterator[bytes]:
            at = start
            left = limit
            while left > 0:
                batch = svc.reader.entries(start=at, limit=min(left, 500))
                if not batch:
                    return
                for entry in batch:
                    yield entry.data + b"\n"
                at, left = batch[-1].seq + 1, left - len(batch)

        return StreamingResponse(lines(), media_type="application/jsonl")
    found = svc.reader.entries(start=start, limit=limit)
    return [{"seq": e.seq, "leaf_hash": e.hash.hex(), "entry": json.loads(e.data)} for e in found]


@router.get("/entries/{seq}")
async def entry(
    svc: Svc, who: Reader, seq: Annotated[int, Path(ge=0, le=MAX_SEQ)]
) -> dict[str, Any]:
    """One entry: inspectors any, organisations those about their lots and transfers."""
    found = svc.reader.entry(seq) if seq >= 0 else None
    if found is None:
        raise ApiError(404, "not_found", "Not found", f"no entry {seq}")
    if not who.inspector and found.event["actor"] != who.org:
        subjects = [("lot", found.event.get("lot")), ("transfer", found.event.get("transfer"))]
        subjects += [("lot", i.get("lot")) for i in found.event.get("lots", [])]
        if not any(
            isinstance(ident, str)
            and (doc := svc.reader.doc(kind, ident)) is not None
            and who.org in doc.get("parties", ())
            for kind, ident in subjects
        ):
            raise ApiError(404, "not_found", "Not found", f"no entry {seq} you may see")
    return {"seq": found.seq, "leaf_hash": found.hash.hex(), "entry": json.loads(found.data)}


@router.get("/lots")
async def lots(
    svc: Svc,
    who: Reader,
    state: str | None = None,
    holder: str | None = None,
    category: Annotated[int | None, Query(ge=1, le=6)] = None,
    region: str | None = None,
    registered_from: Annotated[dt.date | None, Query(description="first UTC day")] = None,
    registered_to: Annotated[dt.date | None, Query(description="last UTC day")] = None,
    start: str = "",
    limit: Limit = 100,
) -> list[Doc]:
    """Lots with their state, holder, weights, discrepancy and history, by id from ``start``;
    ``registered_from`` and ``registered_to`` keep those registered on those days."""
    filters = {"state": state, "holder": holder, "category": category, "region": region}
    days = (
        registered_from.isoformat() if registered_from else None,
        registered_to.isoformat() if registered_to else None,
    )
    return svc.reader.lots(
        party=_party(who), filters=filters, start=start, limit=limit, registered=days
    )


@router.get("/lots/{lot}")
async def lot(svc: Svc, who: Reader, lot: str) -> Doc:
    """One lot, with the seq of every entry that changed it."""
    return _visible(svc.reader.doc("lot", lot), who, "lot", lot)


@router.get("/lots/{lot}/bundle")
async def lot_bundle(svc: Svc, who: Reader, lot: str) -> JSONResponse:
    """The lot's offline audit bundle: `tizbek verify` checks it with no server."""
    doc = _visible(svc.reader.doc("lot", lot), who, "lot", lot)
    return JSONResponse(svc.reader.bundle(list(doc["history"])))


class ShareLink(BaseModel):
    """A link that shows a lot's full record without a token, until it expires, and its QR
    code (SVG) for a phone screen."""

    lot: str
    url: str
    expires: str
    qr_svg: str


@router.post("/lots/{lot}/share", response_model=ShareLink)
async def share_lot(
    svc: Svc,
    who: Reader,
    lot: str,
    minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = DEFAULT_MINUTES,
) -> ShareLink:
    """A share link to the lot's scan page (default 30 minutes), for whoever may see the lot."""
    _visible(svc.reader.doc("lot", lot), who, "lot", lot)
    token = svc.share.make(lot, minutes=minutes)
    expires = dt.datetime.fromtimestamp(int(token.split(".")[0]), dt.UTC)
    url = f"{svc.links.scan_url(lot)}?share={token}"
    return ShareLink(
        lot=lot, url=url, expires=expires.strftime("%Y-%m-%dT%H:%M:%SZ"), qr_svg=qr_svg(url)
    )


@router.get("/transfers")
async def transfers(svc: Svc, who: Reader, start: str = "", limit: Limit = 100) -> list[Doc]:
    """Transfers by id from ``start``."""
    return svc.reader.docs("transfer", party=_party(who), start=start, limit=limit)


@router.get("/transfers/{transfer}")
async def transfer(svc: Svc, who: Reader, transfer: str) -> Doc:
    """One transfer, its legs and lots."""
    return _visible(svc.reader.doc("transfer", transfer), who, "transfer", transfer)


@router.get("/organisations")
async def organisations(svc: Svc, who: Reader, start: str = "", limit: Limit = 100) -> list[Doc]:
    """The registry of organisations, each with its licences."""
    return svc.reader.docs("org", start=start, limit=limit)


@router.get("/licences")
async def licences(
    svc: Svc, who: Reader, start: str = "", limit: Limit = 100
) -> list[dict[str, Any]]:
    """Every licence, with its holder."""
    return [
        {"org": org["id"], "license": number, **lic}
        for org in svc.reader.docs("org", start=start, limit=limit)
        for number, lic in sorted(org["licences"].items())
    ]


@router.get("/discrepancies")
async def discrepancies(svc: Svc, who: Reader, start: str = "", limit: Limit = 100) -> list[Doc]:
    """Open discrepancies on the lots you may see, with their deadlines."""
    found = []
    for doc in svc.reader.lots(party=_party(who), start=start, limit=limit):
        d = doc.get("discrepancy")
        if d and d["status"] == "open":
            found.append({"lot": doc["id"], **d})
    return found
