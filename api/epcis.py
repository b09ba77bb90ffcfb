"""GS1 EPCIS 2.0 documents of the custody log, for partners' traceability systems.

Each EPCIS event carries the leaf hash and seq of the ledger entry it comes
from, so a partner can fetch the entry's inclusion proof and check it against
a signed checkpoint. Mapping: see :mod:`ledger.interop.epcis`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.app_types import Services
from api.auth import inspector, reader
from api.deps import services
from api.problems import ApiError
from ledger.events import utc_now
from ledger.interop.basel import NotTransboundary, movement_sheet
from ledger.interop.epcis import epcis_document
from ledger.storage.tokens import Principal

router = APIRouter(prefix="/v1", tags=["exports"])
Svc = Annotated[Services, Depends(services)]
Reader = Annotated[Principal, Depends(reader)]
Inspector = Annotated[Principal, Depends(inspector)]
MEDIA = "application/ld+json"
#: Entries one period export reads at most; a longer period is refused, asking for less.
MAX_ENTRIES = 20_000
DOCUMENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "an EPCIS 2.0 document (JSON-LD)",
        "content": {MEDIA: {"schema": {"type": "object"}}},
    }
}
Day = Annotated[dt.date, Query(description="a UTC day, YYYY-MM-DD")]


@router.get("/lots/{lot}/epcis", response_class=JSONResponse, responses=DOCUMENT)
async def lot_epcis(svc: Svc, who: Reader, lot: str) -> JSONResponse:
    """The lot's custody history as an EPCIS 2.0 document."""
    doc = svc.reader.doc("lot", lot)
    if doc is None or not (who.inspector or who.org in doc.get("parties", ())):
        raise ApiError(404, "not_found", "Not found", f"no lot {lot} you may see")
    entries = [e for seq in doc["history"] if (e := svc.reader.entry(seq)) is not None]
    body = epcis_document(entries, svc.reader, svc.links, created=utc_now())
    return JSONResponse(body, media_type=MEDIA)


@router.get("/export/epcis", response_class=JSONResponse, responses=DOCUMENT)
async def period_epcis(
    svc: Svc,
    who: Inspector,
    start: Annotated[dt.date, Query(alias="from", description="first UTC day, YYYY-MM-DD")],
    end: Annotated[dt.date, Query(alias="to", description="last UTC day, YYYY-MM-DD")],
) -> JSONResponse:
    """Every custody event logged from the day ``from`` to the day ``to`` (inspectors);
    a ``to`` before ``from`` is an empty period."""
    first = svc.reader.seq_at(f"{start.isoformat()}T00:00:00Z")
    # Times are compared as text: "T24" sorts after every time of the day ``end``.
    stop = svc.reader.seq_at(f"{end.isoformat()}T24")
    if stop - first > MAX_ENTRIES:
        raise ApiError(
            413,
            "too_many",
            "Period too long",
            f"{stop - first} entries were logged in that period; ask for at most "
            f"{MAX_ENTRIES:,} at a time (a shorter period)",
        )
    entries = svc.reader.entries(start=first, limit=stop - first) if stop > first else []
    body = epcis_document(entries, svc.reader, svc.links, created=utc_now())
    return JSONResponse(body, media_type=MEDIA)


@router.get("/transfers/{transfer}/basel")
async def basel_sheet(svc: Svc, who: Reader, transfer: str) -> dict[str, Any]:
    """The Basel movement-document data sheet of a transfer between countries (its parties
    and inspectors): exporter, importer, generators, carriers, waste with Basel codes,
    dates and operations, each block with the seq of its entry. 409 `not_transboundary`
    for a transfer within one country."""
    doc = svc.reader.doc("transfer", transfer)
    if doc is None or (not who.inspector and who.org not in doc.get("parties", ())):
        raise ApiError(404, "not_found", "Not found", f"no transfer {transfer} you may see")
    try:
        return movement_sheet(doc, svc.reader.doc)
    except NotTransboundary as exc:
        raise ApiError(409, "not_transboundary", "Conflict", exc.message) from None
