"""The transporter's pages: what is in the vehicle, and taking over a transfer.

A driver scans a lot's label (or picks from the list of transfers waiting for
this transporter) and signs ``transfer.taken_over`` in the browser, naming the
transfer's latest entry as ``after``; ``api/static/app/forms.js`` builds the
event and the outbox sends it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.web import custody
from api.web.pages import PREFIX, Audience, Ctx, need_user, page, register
from api.web.translations import N_

ROLE = "transporter"
BASE = f"{PREFIX}/transporter"
router = APIRouter(prefix=BASE, include_in_schema=False)
audience = register(
    Audience(
        ROLE,
        N_("Transport"),
        (
            (N_("In my vehicle"), f"{BASE}/"),
            (N_("Take over"), f"{BASE}/take"),
        ),
    )
)


@router.get("/", response_class=HTMLResponse)
async def vehicle(ctx: Ctx) -> Response:
    """The lots this transporter carries now, with where each comes from and goes to."""
    user = need_user(ctx, ROLE)
    carried = ctx.svc.reader.lots(
        filters={"state": "in_transit", "holder": user.org}, limit=custody.MAX_LISTED
    )
    names = custody.org_names(ctx.svc.reader)
    transfers: dict[str, dict[str, Any]] = {}
    rows = []
    for doc in carried:
        ident = doc.get("transfer")
        if ident and ident not in transfers:
            found = ctx.svc.reader.doc("transfer", ident)
            if found is not None:
                transfers[ident] = custody.describe(found, names)
        rows.append((doc, transfers.get(ident or "")))
    total = sum(int(doc["weight_g"]) for doc in carried)
    return page(ctx, "transporter/vehicle.html", rows=rows, total=total, org=user.org)


@router.get("/take", response_class=HTMLResponse)
async def take(
    ctx: Ctx,
    lot: Annotated[str | None, Query(max_length=64)] = None,
    transfer: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Take over a transfer: find it by a scanned lot or pick it, then sign."""
    user = need_user(ctx, ROLE)
    reader = ctx.svc.reader
    names = custody.org_names(reader)
    waiting = [
        custody.describe(t, names)
        for t in custody.open_transfers(reader, carrier=user.org)
        if custody.next_carrier(t) == user.org
    ]
    chosen: dict[str, Any] | None = None
    problem: str | None = None
    wanted = custody.lot_id(lot)
    if wanted:
        # A lot on the way is the transfer's: its carriers see it there, not in the lot's parties.
        found = reader.doc("lot", wanted)
        ident = (found or {}).get("transfer")
        on_the_way = reader.doc("transfer", ident) if ident else None
        if on_the_way is not None and user.org in on_the_way.get("parties", ()):
            transfer = on_the_way["id"]
        else:
            problem = "not_on_the_way"
    if transfer:
        chosen = next((t for t in waiting if t["id"] == transfer), None)
        if chosen is None and problem is None:
            problem = "not_waiting"
    lots: list[dict[str, Any]] = []
    head = ""
    if chosen is not None:
        lots = custody.lots_on_the_way(reader, chosen)
        head = custody.heads(reader, "transfer", [chosen["id"]]).get(chosen["id"], "")
    return page(
        ctx,
        "transporter/take.html",
        waiting=waiting,
        chosen=chosen,
        lots=lots,
        head=head,
        lot=wanted,
        asked=transfer or "",
        problem=problem,
        org=user.org,
    )
